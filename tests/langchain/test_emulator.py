"""The adapter end to end against the local emulator: its answers, refusals and faults.

The emulator answers as the service does (error bodies, 422 refusals of a model's unsupported
parameters, ``extra-parameters`` rules, dropped streams), so these tests check what a user sees
from a real endpoint's behaviour: the error classes and messages, the automatic fallbacks, the
usage and metadata. Tests that take ``mode`` run through the sync and the async methods.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core import exceptions as lc
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from lc_support import PNG, aggregate, call_invoke, call_stream
from pydantic import BaseModel

import azureinference as core
import langchain_azureinference as adapter
from azureinference.emulator import Emulator, Fault, ScriptedReply
from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel


def chat(emu: Emulator, model: str = "emulator-chat", **kw: Any) -> AzureAIChatCompletionsModel:
    """A chat model for the emulator (no retries unless asked)."""
    return AzureAIChatCompletionsModel(
        **{"endpoint": emu.endpoint, "credential": emu.key, "model": model, "max_retries": 0, **kw}
    )


def embeddings(emu: Emulator, model: str = "emulator-embed", **kw: Any) -> AzureAIEmbeddingsModel:
    """An embeddings model for the emulator."""
    return AzureAIEmbeddingsModel(
        **{"endpoint": emu.endpoint, "credential": emu.key, "model": model, "max_retries": 0, **kw}
    )


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Person(BaseModel):
    """A person."""

    name: str
    age: int


# ---- answers ----------------------------------------------------------------------------------


async def test_invoke_and_stream(azure_inference_emulator: Emulator, mode: str) -> None:
    llm = chat(azure_inference_emulator)
    message = await call_invoke(llm, mode, "Hello there")
    assert message.content == "You said: Hello there"
    assert message.usage_metadata["total_tokens"] > 0
    assert message.response_metadata["model_name"] == "emulator-chat"
    assert message.response_metadata["finish_reason"] == "stop"
    chunks = await call_stream(llm, mode, "count to 5")
    assert len([c for c in chunks if c.content]) > 1  # token by token
    full = aggregate(chunks)
    assert full.content.split() == ["1", "2", "3", "4", "5"]
    assert full.usage_metadata["output_tokens"] == 5


async def test_tool_call_round_trip(azure_inference_emulator: Emulator, mode: str) -> None:
    bound = chat(azure_inference_emulator).bind_tools([add], tool_choice="add")
    ai = await call_invoke(bound, mode, "Use add on 2 and 3")
    assert [c["name"] for c in ai.tool_calls] == ["add"]
    tool_message = add.invoke(ai.tool_calls[0])
    answer = await call_invoke(bound, mode, [HumanMessage("Use add"), ai, tool_message])
    assert answer.content.startswith("The tool returned:")
    sent = azure_inference_emulator.requests[-1].json["messages"]
    assert sent[1]["tool_calls"][0]["id"] == ai.tool_calls[0]["id"]
    assert sent[2] == {"role": "tool", "tool_call_id": ai.tool_calls[0]["id"], "content": "5"}


async def test_streamed_tool_call(azure_inference_emulator: Emulator, mode: str) -> None:
    bound = chat(azure_inference_emulator).bind_tools([add], tool_choice="any")
    full = aggregate(await call_stream(bound, mode, "add 2 and 3"))
    assert [c["name"] for c in full.tool_calls] == ["add"]
    assert set(full.tool_calls[0]["args"]) == {"a", "b"}


async def test_scripted_malformed_arguments_and_reasoning(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    azure_inference_emulator.script(
        ScriptedReply(
            tool_calls=[{"name": "add", "arguments": '{"a": 1,', "id": "c1"}],
            reasoning_content="Adding.",
        )
    )
    message = await call_invoke(chat(azure_inference_emulator).bind_tools([add]), mode, "1+?")
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["id"] == "c1"
    assert message.additional_kwargs["reasoning_content"] == "Adding."


async def test_structured_output(azure_inference_emulator: Emulator, mode: str) -> None:
    person = await call_invoke(
        chat(azure_inference_emulator).with_structured_output(Person), mode, "Ada, 36"
    )
    assert isinstance(person, Person)
    body = azure_inference_emulator.requests[-1].json
    assert body["response_format"]["type"] == "json_schema"


async def test_images(azure_inference_emulator: Emulator, mode: str) -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "Describe"},
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ]
    )
    answer = await call_invoke(chat(azure_inference_emulator), mode, [message])
    assert "2 images" in answer.content
    assert "image/png" in answer.content
    assert "https://example.com/cat.png" in answer.content


async def test_model_extras_go_through_with_the_header(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    llm = chat(azure_inference_emulator, model_extras={"safe_prompt": True})
    await call_invoke(llm, mode, "hi")
    seen = azure_inference_emulator.requests[-1]
    assert seen.json["safe_prompt"] is True
    assert seen.headers["extra-parameters"] == "pass-through"


# ---- refusals and fallbacks -------------------------------------------------------------------


async def test_unsupported_parameter_is_named(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    llm = chat(azure_inference_emulator, model="emulator-limited", seed=7)
    with pytest.raises(adapter.AzureAIUnsupportedParameterError) as info:
        await call_invoke(llm, mode, "hi")
    assert info.value.param == "seed"
    assert "seed" in str(info.value)
    assert isinstance(info.value, lc.ModelInvalidRequestError)


async def test_json_schema_refused_falls_back_to_a_tool_and_tools_refused_is_named(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    # emulator-limited refuses json_schema, then the tool the fallback uses: the error names tools.
    structured = chat(azure_inference_emulator, model="emulator-limited").with_structured_output(
        Person
    )
    with pytest.raises(core.UnsupportedParameterError) as info:
        await call_invoke(structured, mode, "Ada, 36")
    assert info.value.param is not None
    assert "tool" in info.value.param
    sent = [r.json for r in azure_inference_emulator.requests]
    assert sent[0]["response_format"]["type"] == "json_schema"
    assert "response_format" not in sent[1]
    assert sent[1]["tool_choice"]["function"]["name"] == "Person"


async def test_embeddings_drop_what_the_model_refuses(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    emb = embeddings(azure_inference_emulator, model="emulator-embed-basic")
    docs = ["a", "b", "c"]
    vectors = emb.embed_documents(docs) if mode == "sync" else await emb.aembed_documents(docs)
    assert len(vectors) == 3
    assert len(vectors[0]) == 256
    last = azure_inference_emulator.requests[-1].json
    assert "input_type" not in last  # refused once (422), then left out
    assert "encoding_format" not in last  # base64 refused: floats


async def test_embeddings_input_types(azure_inference_emulator: Emulator, mode: str) -> None:
    emb = embeddings(azure_inference_emulator, embed_batch_size=2, dimensions=64)
    docs = ["one", "two", "three"]
    vectors = emb.embed_documents(docs) if mode == "sync" else await emb.aembed_documents(docs)
    query = emb.embed_query("one") if mode == "sync" else await emb.aembed_query("one")
    assert [len(v) for v in vectors] == [64, 64, 64]
    assert query != vectors[0]  # the same text embedded as a query differs from a document
    sent = [r.json for r in azure_inference_emulator.requests]
    assert [len(b["input"]) for b in sent[:2]] == [2, 1]
    assert [b["input_type"] for b in sent] == ["document", "document", "query"]


# ---- faults -----------------------------------------------------------------------------------


async def test_rate_limit_is_retried_then_surfaces(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    azure_inference_emulator.inject(Fault.rate_limit(retry_after=0.01))
    retrying = chat(azure_inference_emulator, max_retries=1)
    assert (await call_invoke(retrying, mode, "hi")).content == "You said: hi"
    azure_inference_emulator.inject(Fault.rate_limit(retry_after=3))
    with pytest.raises(lc.ModelRateLimitError) as info:
        await call_invoke(chat(azure_inference_emulator), mode, "hi")
    assert isinstance(info.value, core.RateLimitError)
    assert info.value.retry_after == 3


async def test_content_filter(azure_inference_emulator: Emulator, mode: str) -> None:
    azure_inference_emulator.inject(Fault.content_filter())
    with pytest.raises(adapter.AzureAIContentFilterError) as info:
        await call_invoke(chat(azure_inference_emulator), mode, "hi")
    assert isinstance(info.value, lc.ModelInvalidRequestError)
    assert info.value.status_code == 400


async def test_dropped_stream_is_an_error_not_a_short_answer(
    azure_inference_emulator: Emulator, mode: str
) -> None:
    azure_inference_emulator.inject(Fault.drop_stream(after_chunks=2))
    with pytest.raises(core.IncompleteStreamError) as info:
        await call_stream(chat(azure_inference_emulator), mode, "count to 20")
    assert isinstance(info.value, lc.ModelAPIError)


async def test_gateway_error_page(azure_inference_emulator: Emulator, mode: str) -> None:
    azure_inference_emulator.inject(Fault.server_error(502, html=True))
    with pytest.raises(core.APIError) as info:
        await call_invoke(chat(azure_inference_emulator), mode, "hi")
    assert isinstance(info.value, lc.ModelAPIError)
    assert "502" in str(info.value)


async def test_wrong_key(azure_inference_emulator: Emulator, mode: str) -> None:
    llm = AzureAIChatCompletionsModel(
        endpoint=azure_inference_emulator.endpoint, credential="wrong-key", model="emulator-chat"
    )
    with pytest.raises(adapter.AzureAIAuthenticationError) as info:
        await call_invoke(llm, mode, "hi")
    assert isinstance(info.value, lc.ModelAuthenticationError)
    assert "wrong-key" not in str(info.value)


async def test_json_schema_refused_once_is_known_to_sync_and_async_calls() -> None:
    from azureinference.emulator import EmulatorConfig, ModelSpec, default_models, running_emulator

    models = [
        ModelSpec("no-schema", unsupported=frozenset({"response_format.json_schema"})),
        *default_models(),
    ]
    with running_emulator(EmulatorConfig(models=models)) as emu:
        structured = chat(emu, model="no-schema").with_structured_output(Person)
        ada = Person(name="Ada Lovelace", age=36)
        assert await structured.ainvoke("Ada Lovelace was 36.") == ada
        # Refused by an async call, known to the sync one: it goes straight to the tool.
        assert structured.invoke("Ada Lovelace was 36.") == ada
        formats = [(r.json or {}).get("response_format") for r in emu.requests]
        assert [f["type"] for f in formats if f is not None] == ["json_schema"]
        assert len(emu.requests) == 3  # the refusal, the async fallback, the sync call
