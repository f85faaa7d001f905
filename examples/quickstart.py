"""Quickstart: every feature once, in LangChain and in LlamaIndex.

Runs against your endpoint when ``AZURE_INFERENCE_ENDPOINT`` (such as
``https://<resource>.services.ai.azure.com/openai/v1``) and ``AZURE_INFERENCE_CREDENTIAL`` are
set, with ``AZURE_INFERENCE_MODEL`` / ``AZURE_INFERENCE_EMBEDDINGS_MODEL`` naming the models
where the endpoint serves several. Otherwise it starts the bundled emulator on a free local port:
no credentials, no network (see ``_endpoint.py``).

    python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import sys

from _endpoint import connection
from pydantic import BaseModel, Field


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="The person's full name")
    age: int = Field(description="The person's age in years")


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def section(title: str) -> None:
    print(f"\n=== {title}")


def langchain_demo(url: str, key: str, model: str | None, embed_model: str | None) -> None:
    from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
    from langchain_core.tools import tool

    from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel

    llm = AzureAIChatCompletionsModel(endpoint=url, credential=key, model=model, temperature=0)

    section("LangChain: invoke")
    answer = llm.invoke("Say hello to the quickstart.")
    print(answer.content)
    print("usage:", answer.usage_metadata)

    section("LangChain: stream (token usage on the aggregated message)")
    full = None
    for chunk in llm.stream("Stream a short greeting, please."):
        print(chunk.content, end="|", flush=True)
        full = chunk if full is None else full + chunk
    print("\nusage:", full.usage_metadata if full is not None else None)

    section("LangChain: tool call, then the answer")
    weather = tool(get_weather)
    with_tools = llm.bind_tools([weather])
    messages: list[BaseMessage] = [HumanMessage("Use get_weather: what is the weather in Paris?")]
    ai = with_tools.invoke(messages)
    print("tool calls:", ai.tool_calls)
    messages.append(ai)
    for call in ai.tool_calls:
        messages.append(ToolMessage(weather.invoke(call["args"]), tool_call_id=call["id"]))
    print("answer:", with_tools.invoke(messages).content)

    section("LangChain: structured output")
    print(llm.with_structured_output(Person).invoke("Ada Lovelace was 36."))

    section("LangChain: async")
    print(asyncio.run(llm.ainvoke("Hello from asyncio.")).content)

    section("LangChain: embeddings")
    emb = AzureAIEmbeddingsModel(endpoint=url, credential=key, model=embed_model)
    vectors = emb.embed_documents(["the first text", "the second text"])
    print(f"{len(vectors)} vectors of {len(vectors[0])} dimensions; query vector:", end=" ")
    print(len(emb.embed_query("a question")), "dimensions")


def llamaindex_demo(url: str, key: str, model: str | None, embed_model: str | None) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.tools import FunctionTool

    from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

    llm = AzureAICompletionsModel(endpoint=url, credential=key, model_name=model, temperature=0)

    section("LlamaIndex: complete")
    print(llm.complete("Say hello to LlamaIndex.").text)

    section("LlamaIndex: stream_chat")
    last = None
    for last in llm.stream_chat([ChatMessage(role="user", content="Stream a greeting.")]):
        if last.delta:
            print(last.delta, end="|", flush=True)
    print("\nusage:", last.additional_kwargs if last else None)

    section("LlamaIndex: tool call")
    tool = FunctionTool.from_defaults(fn=get_weather)
    response = llm.chat_with_tools([tool], user_msg="Use get_weather for Rome.")
    for call in llm.get_tool_calls_from_response(response, error_on_no_tool_call=False):
        print(call.tool_name, call.tool_kwargs, "->", tool(**call.tool_kwargs).content)

    section("LlamaIndex: structured output")
    print(llm.structured_predict(Person, PromptTemplate("Alan Turing was 41.")))

    section("LlamaIndex: embeddings")
    embed = AzureAIEmbeddingsModel(endpoint=url, credential=key, model_name=embed_model)
    vectors = embed.get_text_embedding_batch(["one", "two", "three"])
    print(f"{len(vectors)} vectors of {len(vectors[0])} dimensions")


def main() -> int:
    with connection() as (url, key, model, embed_model):
        langchain_demo(url, key, model, embed_model)
        llamaindex_demo(url, key, model, embed_model)
    print("\nAll features ran.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
