"""Reasoning models of the emulator through the adapters: agents, tools, structured output,
and a real ``<think>`` stream cut at every byte."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from azureinference.emulator import Emulator
from azureinference.sse import SSEDecoder
from azureinference.streaming import ChatStreamState
from langchain_azureinference import AzureAIChatCompletionsModel
from langchain_azureinference._convert import from_wire_delta
from llamaindex_azureinference import AzureAICompletionsModel


def _v1(emu: Emulator) -> str:
    return emu.url + "/openai/v1"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


# llama-index's workflows inspect the agent's members, touching pydantic's deprecated __fields__.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_llamaindex_function_agent_on_the_reasoning_deployment(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    # Defaults only, and max_tokens: the reasoner refuses max_tokens and any temperature.
    llm = AzureAICompletionsModel(
        endpoint=_v1(emu), credential=emu.key, model_name="emulator-reasoner", max_tokens=500
    )
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(add)], llm=llm, system_prompt="Use the tools."
    )
    # Warnings are errors in this suite: nothing the user set was dropped.
    handler = agent.run(user_msg="Use add: what is 2 plus 3?")
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    answer = await handler
    assert [(r.tool_name, r.tool_output.raw_output) for r in results] == [("add", 5)]
    assert "The tool returned: 5" in str(answer)
    bodies = [r.json for r in emu.requests]
    assert bodies[0]["max_tokens"] == 500  # refused once...
    assert all("max_tokens" not in b for b in bodies[1:])  # ...then max_completion_tokens
    assert all(b["max_completion_tokens"] == 500 for b in bodies[1:])
    assert all("temperature" not in b for b in bodies)


async def test_langchain_tools_and_structured_output_on_both_reasoning_models(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator

    class Person(BaseModel):
        name: str
        age: int

    for model in ("emulator-reasoner", "emulator-thinker"):
        llm = AzureAIChatCompletionsModel(endpoint=_v1(emu), credential=emu.key, model=model)
        call = llm.bind_tools([add], tool_choice="add").invoke("Add 2 and 3.")
        assert call.tool_calls[0]["name"] == "add"
        assert call.additional_kwargs["reasoning_content"].startswith("The user wrote to me")
        assert "<think>" not in str(call.content)
        person = await llm.with_structured_output(Person).ainvoke("Ada Lovelace, 36")
        assert isinstance(person, Person)
        streamed = [
            c async for c in llm.bind_tools([add], tool_choice="add").astream("Add 2 and 3.")
        ]
        assert sum(streamed[1:], streamed[0]).tool_calls[0]["name"] == "add"


def test_llamaindex_structured_predict_after_think(azure_inference_emulator: Emulator) -> None:
    from llama_index.core.prompts import PromptTemplate

    class Person(BaseModel):
        name: str
        age: int

    emu = azure_inference_emulator
    llm = AzureAICompletionsModel(
        endpoint=_v1(emu), credential=emu.key, model_name="emulator-thinker"
    )
    assert isinstance(llm.structured_predict(Person, PromptTemplate("Ada Lovelace, 36")), Person)


@pytest.mark.parametrize("stream", [False, True])
def test_a_block_never_closed_stays_reasoning(
    azure_inference_emulator: Emulator, stream: bool
) -> None:
    emu = azure_inference_emulator
    lc = AzureAIChatCompletionsModel(
        endpoint=_v1(emu), credential=emu.key, model="emulator-thinker", max_tokens=4
    )
    if stream:
        chunks = list(lc.stream("Hi"))
        message: Any = sum(chunks[1:], chunks[0])
    else:
        message = lc.invoke("Hi")
    assert message.content == ""
    assert message.additional_kwargs["reasoning_content"] == "The user wrote to"
    assert message.response_metadata["finish_reason"] == "length"
    li = AzureAICompletionsModel(
        endpoint=_v1(emu), credential=emu.key, model_name="emulator-thinker", max_tokens=4
    )
    messages = [ChatMessage(role="user", content="Hi")]
    response = list(li.stream_chat(messages))[-1] if stream else li.chat(messages)
    assert [type(b) for b in response.message.blocks] == [ThinkingBlock]
    assert response.message.additional_kwargs["finish_reason"] == "length"


def test_a_real_think_stream_cut_at_every_byte(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    body = {
        "model": "emulator-thinker",
        "messages": [{"role": "user", "content": "Héllo"}],
        "stream": True,
    }
    raw = httpx.post(
        _v1(emu) + "/chat/completions", json=body, headers={"api-key": emu.key}
    ).content
    assert b"<think>" in raw
    expected: tuple[str, str] | None = None
    for cut in range(len(raw) + 1):
        state = ChatStreamState()
        decoder = SSEDecoder()
        text = reasoning = ""
        for piece in (raw[:cut], raw[cut:]):
            for event in decoder.feed(piece):
                chunk = state.handle_event(event)
                generation = from_wire_delta(state.delta(0)) if chunk is not None else None
                if generation is not None:
                    text += str(generation.message.content)
                    reasoning += generation.message.additional_kwargs.get("reasoning_content", "")
        for event in decoder.flush():
            state.handle_event(event)
        state.check_complete()
        message = state.final().choices[0].message  # type: ignore[index]
        got = (message.text or "", message.reasoning_text or "")
        assert (text, reasoning) == got, cut  # LangChain's chunks add up to the final answer
        expected = expected or got
        assert got == expected, cut
    assert expected[0] == "You said: Héllo"
    assert expected[1].startswith("The user wrote to me")
    assert "<think>" not in expected[0] + expected[1]
    json.dumps(expected)


def test_the_model_inference_route_learns_from_its_422(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-reasoner", max_tokens=300
    )
    assert llm.invoke("Hi").content == "You said: Hi"
    assert [
        ("max_tokens" in r.json, r.json.get("max_completion_tokens")) for r in emu.requests
    ] == [
        (True, None),
        (False, 300),
    ]
