"""Streaming with LangChain: tokens as they come, then token usage on the aggregated message.

python examples/langchain_streaming.py
"""

from __future__ import annotations

import asyncio

from _endpoint import chat_model

from langchain_azureinference import AzureAIChatCompletionsModel


async def astream_demo(llm: AzureAIChatCompletionsModel) -> None:
    async for chunk in llm.astream("Count from one to five in words."):
        print(chunk.content, end="", flush=True)
    print()
    await llm.aclose()  # the async client's connections, in this event loop


def main() -> None:
    with chat_model(temperature=0) as llm:
        full = None
        for chunk in llm.stream("Write a haiku about the sea."):
            print(chunk.content, end="", flush=True)
            full = chunk if full is None else full + chunk
        print()
        if full is not None:
            print("usage:", full.usage_metadata)
            print("finish reason:", full.response_metadata.get("finish_reason"))
        asyncio.run(astream_demo(llm))


if __name__ == "__main__":
    main()
