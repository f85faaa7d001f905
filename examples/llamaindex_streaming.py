"""Streaming with LlamaIndex: tokens as they come, token usage at the end; sync and async.

python examples/llamaindex_streaming.py
"""

from __future__ import annotations

import asyncio

from _endpoint import llamaindex_models
from llama_index.core.llms import ChatMessage

from llamaindex_azureinference import AzureAICompletionsModel


async def astream_demo(llm: AzureAICompletionsModel) -> None:
    async for response in await llm.astream_complete("Count from one to five in words."):
        print(response.delta or "", end="", flush=True)
    print()


def main() -> None:
    with llamaindex_models(temperature=0) as (llm, _):
        last = None
        for last in llm.stream_chat(
            [ChatMessage(role="user", content="Write a haiku about the sea.")]
        ):
            print(last.delta or "", end="", flush=True)
        print()
        if last is not None:
            print("usage:", last.additional_kwargs)
        asyncio.run(astream_demo(llm))


if __name__ == "__main__":
    main()
