"""AzureAICompletionsModel against the emulator: what a LlamaIndex user relies on."""

from __future__ import annotations

import asyncio
import logging
import pickle
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from azureinference import AuthenticationError, ConfigurationError, UnsupportedParameterError
from azureinference.emulator import (
    Emulator,
    EmulatorConfig,
    ModelSpec,
    ScriptedReply,
    default_models,
    running_emulator,
)
from llamaindex_azureinference import AzureAICompletionsModel

USER = [ChatMessage(role="user", content="Hello there")]


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"sunny in {city}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


WEATHER = FunctionTool.from_defaults(fn=get_weather)
ADD = FunctionTool.from_defaults(fn=add)


def last_body(emu: Emulator) -> dict[str, Any]:
    body = emu.requests[-1].json
    assert isinstance(body, dict)
    return body


# --- construction ----------------------------------------------------------------------------


def test_peer_constructor_arguments(emu: Emulator) -> None:
    llm = AzureAICompletionsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_name="emulator-chat",
        api_version="2024-05-01-preview",
        temperature=0,
        max_tokens=50,
        model_kwargs={"top_p": 0.5},
        client_kwargs={"headers": {"x-team": "a"}},
    )
    llm.chat(USER)
    body = last_body(emu)
    assert (body["temperature"], body["max_tokens"], body["top_p"]) == (0, 50, 0.5)
    assert emu.requests[-1].query["api-version"] == "2024-05-01-preview"
    assert emu.requests[-1].headers["x-team"] == "a"


def test_environment_variables(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    assert AzureAICompletionsModel().complete("hi").text == "You said: hi"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"temprature": 0.5}, "temprature"),
        ({"endpoint": None}, "AZURE_INFERENCE_ENDPOINT"),
    ],
)
def test_bad_arguments_are_named(
    emu: Emulator, kwargs: dict[str, Any], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_INFERENCE_ENDPOINT", raising=False)
    options: dict[str, Any] = {"endpoint": emu.endpoint, "credential": emu.key, **kwargs}
    with pytest.raises(ConfigurationError, match=needle):
        AzureAICompletionsModel(**options)


def test_value_ranges(emu: Emulator) -> None:
    assert AzureAICompletionsModel(endpoint=emu.endpoint, temperature=2.0).temperature == 2.0
    with pytest.raises(ValueError, match="temperature"):
        AzureAICompletionsModel(endpoint=emu.endpoint, temperature=2.5)
    with pytest.raises(ValueError, match="seed"):
        AzureAICompletionsModel(endpoint=emu.endpoint, seed="abc")


def test_secret_never_shown(
    llm: AzureAICompletionsModel, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        llm.chat(USER)
    shown = [repr(llm), str(llm.to_dict()), llm.to_json(), llm.model_dump_json(), caplog.text]
    assert not [s for s in shown if emu.key in s]


def test_metadata_never_calls_the_endpoint(llm: AzureAICompletionsModel, emu: Emulator) -> None:
    before = len(emu.requests)
    meta = llm.metadata
    assert len(emu.requests) == before
    assert (meta.model_name, meta.is_chat_model, meta.is_function_calling_model) == (
        "emulator-chat",
        True,
        True,
    )
    tuned = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, context_window=128000, num_output=2048
    )
    assert (tuned.metadata.context_window, tuned.metadata.num_output) == (128000, 2048)
    assert tuned.metadata.model_name == "unknown"
    info = tuned.get_model_info()
    assert info is not None
    assert tuned.metadata.model_name == "emulator-chat"
    tuned.get_model_info()
    assert sum(r.path.endswith("/info") for r in emu.requests) == 1  # fetched once


# --- chat, complete, streams -----------------------------------------------------------------


def test_chat_reports_usage(llm: AzureAICompletionsModel) -> None:
    response = llm.chat(USER)
    assert response.message.content == "You said: Hello there"
    assert response.additional_kwargs == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }
    assert response.raw.usage.total_tokens == 7


def test_complete_and_stream_complete(llm: AzureAICompletionsModel) -> None:
    assert llm.complete("hi").text == "You said: hi"
    chunks = list(llm.stream_complete("count to 4"))
    assert "".join(c.delta or "" for c in chunks) == "1 2 3 4"
    assert chunks[-1].text == "1 2 3 4"
    assert chunks[-1].additional_kwargs["completion_tokens"] == 4


def test_stream_chat_usage_at_the_end(llm: AzureAICompletionsModel) -> None:
    responses = list(llm.stream_chat([ChatMessage(role="user", content="count to 5")]))
    assert "".join(r.delta or "" for r in responses) == "1 2 3 4 5"
    assert responses[-1].message.content == "1 2 3 4 5"
    assert responses[-1].additional_kwargs["total_tokens"] == 9


async def test_async_four(llm: AzureAICompletionsModel) -> None:
    assert (await llm.achat(USER)).message.content == "You said: Hello there"
    assert (await llm.acomplete("hi")).text == "You said: hi"
    stream = await llm.astream_chat([ChatMessage(role="user", content="count to 3")])
    last = [r async for r in stream][-1]
    assert (last.message.content, last.additional_kwargs["completion_tokens"]) == ("1 2 3", 3)
    completions = [c async for c in await llm.astream_complete("count to 2")]
    assert completions[-1].text == "1 2"


def test_async_across_repeated_asyncio_run(llm: AzureAICompletionsModel) -> None:
    for _ in range(2):
        assert asyncio.run(llm.acomplete("again")).text == "You said: again"


def test_parameters_defaults_overrides_and_none(
    llm: AzureAICompletionsModel, emu: Emulator
) -> None:
    llm.seed = 0
    llm.stop = ["END"]
    llm.chat(USER, temperature=0.7, max_tokens=20)
    body = last_body(emu)
    assert (body["seed"], body["stop"], body["temperature"], body["max_tokens"]) == (
        0,
        ["END"],
        0.7,
        20,
    )
    assert "top_p" not in body
    assert "presence_penalty" not in body


def test_model_extras_and_unknown_model_kwargs(emu: Emulator) -> None:
    llm = AzureAICompletionsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_kwargs={"safe_mode": True, "top_p": 0.9},
        model_extras={"logprobs_level": 2},
    )
    llm.chat(USER)
    seen = emu.requests[-1]
    assert seen.headers["extra-parameters"] == "pass-through"
    assert (seen.json["safe_mode"], seen.json["logprobs_level"], seen.json["top_p"]) == (
        True,
        2,
        0.9,
    )
    llm.chat(USER, model_extras={"other": 1})
    assert last_body(emu)["other"] == 1


def test_json_mode(llm: AzureAICompletionsModel, emu: Emulator) -> None:
    import json

    response = llm.chat(USER, response_format={"type": "json_object"})
    assert json.loads(response.message.content or "")
    assert last_body(emu)["response_format"] == {"type": "json_object"}


def test_unknown_call_keyword_is_an_error(llm: AzureAICompletionsModel) -> None:
    with pytest.raises(ConfigurationError, match="temprature"):
        llm.chat(USER, temprature=0.1)


def test_images(llm: AzureAICompletionsModel, tmp_path: Path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 92)
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="Describe"), ImageBlock(path=path, detail="low")],
    )
    text = llm.chat([message]).message.content or ""
    assert "image/png image of 100 bytes, detail low" in text


def test_reasoning_becomes_a_thinking_block(llm: AzureAICompletionsModel, emu: Emulator) -> None:
    emu.script(ScriptedReply(content="42", reasoning_content="Six times seven."))
    response = llm.chat(USER)
    thinking = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking[0].content == "Six times seven."
    assert response.message.content == "42"


# --- tools -----------------------------------------------------------------------------------


def test_chat_with_tools_required(llm: AzureAICompletionsModel, emu: Emulator) -> None:
    history = [ChatMessage(role="system", content="Use tools.")]
    response = llm.chat_with_tools(
        [WEATHER], user_msg="Weather in Paris?", chat_history=history, tool_required=True
    )
    assert len(history) == 1  # the caller's history is untouched
    body = last_body(emu)
    # One tool required is that tool, named (llama-cpp-python ignores "required").
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["tools"][0]["function"]["name"] == "get_weather"
    calls = llm.get_tool_calls_from_response(response)
    assert (calls[0].tool_name, calls[0].tool_kwargs) == ("get_weather", {"city": "Paris"})
    assert WEATHER(**calls[0].tool_kwargs).content == "sunny in Paris"


def test_tools_required_among_several_is_required(
    llm: AzureAICompletionsModel, emu: Emulator
) -> None:
    llm.chat_with_tools([WEATHER, ADD], user_msg="Weather in Paris?", tool_required=True)
    assert last_body(emu)["tool_choice"] == "required"


def test_function_calling_structured_output_names_its_tool(
    llm: AzureAICompletionsModel, emu: Emulator
) -> None:
    llm.structured_output_method = "function_calling"
    person = llm.structured_predict(Person, PromptTemplate("Ada Lovelace was 36."))
    assert person == Person(name="Ada Lovelace", age=36)
    assert last_body(emu)["tool_choice"] == {"type": "function", "function": {"name": "Person"}}


def test_a_tool_choice_naming_no_tool_is_refused_before_any_request(
    llm: AzureAICompletionsModel, emu: Emulator
) -> None:
    sent = len(emu.requests)
    with pytest.raises(ConfigurationError, match="names none of the bound tools"):
        llm.chat_with_tools([WEATHER], user_msg="Hi", tool_choice="get_time")
    assert len(emu.requests) == sent


def test_stop_as_a_string_is_one_sequence(emu: Emulator) -> None:
    llm = AzureAICompletionsModel(endpoint=emu.endpoint, credential=emu.key, stop="END")
    assert llm.stop == ["END"]
    llm.chat(USER)
    assert last_body(emu)["stop"] == ["END"]


def test_no_tool_call(llm: AzureAICompletionsModel) -> None:
    response = llm.chat_with_tools([WEATHER], user_msg="Hello")
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="0 tool calls"):
        llm.get_tool_calls_from_response(response)


@pytest.mark.parametrize(("parallel", "count"), [(False, 1), (True, 2)])
def test_parallel_tool_calls(
    llm: AzureAICompletionsModel, emu: Emulator, parallel: bool, count: int
) -> None:
    emu.script(
        ScriptedReply(
            tool_calls=[
                {"name": "add", "arguments": {"a": 1, "b": 2}},
                {"name": "add", "arguments": {"a": 3, "b": 4}},
            ]
        )
    )
    response = llm.chat_with_tools([ADD], user_msg="sums", allow_parallel_tool_calls=parallel)
    assert len(llm.get_tool_calls_from_response(response)) == count


def test_streamed_tool_calls_assemble(llm: AzureAICompletionsModel) -> None:
    responses = list(
        llm.stream_chat_with_tools([WEATHER], user_msg="Weather in Oslo", tool_required=True)
    )
    calls = llm.get_tool_calls_from_response(responses[-1])
    assert (calls[0].tool_name, calls[0].tool_kwargs) == ("get_weather", {"city": "Oslo"})


async def test_async_tools(llm: AzureAICompletionsModel) -> None:
    response = await llm.achat_with_tools([WEATHER], user_msg="Weather in Rome", tool_required=True)
    assert llm.get_tool_calls_from_response(response)[0].tool_kwargs == {"city": "Rome"}
    stream = await llm.astream_chat_with_tools([WEATHER], user_msg="use get_weather in Rome")
    last = [r async for r in stream][-1]
    assert llm.get_tool_calls_from_response(last)[0].tool_kwargs == {"city": "Rome"}


def test_tool_round_trip_is_json_serializable(llm: AzureAICompletionsModel) -> None:
    response = llm.chat_with_tools([WEATHER], user_msg="Weather in Lima", tool_required=True)
    stored = ChatMessage.model_validate_json(response.message.model_dump_json())  # a chat store
    call = next(b for b in stored.blocks if isinstance(b, ToolCallBlock))
    history = [
        ChatMessage(role="user", content="Weather in Lima"),
        stored,
        ChatMessage(
            role="tool",
            content="sunny in Lima",
            additional_kwargs={"tool_call_id": call.tool_call_id},
        ),
    ]
    assert llm.chat(history).message.content == "The tool returned: sunny in Lima"


def test_predict_and_call(llm: AzureAICompletionsModel) -> None:
    output = llm.predict_and_call([ADD], user_msg="add 2 and 40")
    assert output.response == "42"


# llama-index's workflows inspect the agent's members, touching pydantic's deprecated __fields__.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_function_agent_calls_the_tool_and_answers(llm: AzureAICompletionsModel) -> None:
    from llama_index.core.agent.workflow import FunctionAgent

    agent = FunctionAgent(tools=[WEATHER], llm=llm, system_prompt="Use get_weather.")
    result = await agent.run(user_msg="What is the weather? use get_weather for Paris")
    assert str(result) == "The tool returned: sunny in Paris"
    assert [c.tool_name for c in result.tool_calls] == ["get_weather"]


# --- structured output -----------------------------------------------------------------------


def test_structured_predict_uses_json_schema(llm: AzureAICompletionsModel, emu: Emulator) -> None:
    person = llm.structured_predict(Person, PromptTemplate("{text}"), text="Ada Lovelace was 36.")
    assert person == Person(name="Ada Lovelace", age=36)
    assert last_body(emu)["response_format"]["type"] == "json_schema"


async def test_astructured_and_streams(llm: AzureAICompletionsModel) -> None:
    prompt = PromptTemplate("Alan Turing was 41.")
    assert await llm.astructured_predict(Person, prompt) == Person(name="Alan Turing", age=41)
    streamed = list(llm.stream_structured_predict(Person, prompt))
    assert streamed[-1] == Person(name="Alan Turing", age=41)
    agen = await llm.astream_structured_predict(Person, prompt)
    assert [p async for p in agen][-1] == Person(name="Alan Turing", age=41)


def test_as_structured_llm(llm: AzureAICompletionsModel) -> None:
    sllm = llm.as_structured_llm(Person)
    response = sllm.chat([ChatMessage(role="user", content="Grace Hopper was 85.")])
    assert response.raw == Person(name="Grace Hopper", age=85)


def test_falls_back_to_function_calling_where_json_schema_is_refused() -> None:
    models = [
        ModelSpec("no-schema", unsupported=frozenset({"response_format.json_schema"})),
        *default_models(),
    ]
    with running_emulator(EmulatorConfig(models=models)) as emu:
        llm = AzureAICompletionsModel(
            endpoint=emu.endpoint, credential=emu.key, model_name="no-schema"
        )
        for _ in range(2):
            person = llm.structured_predict(Person, PromptTemplate("Ada Lovelace was 36."))
            assert person == Person(name="Ada Lovelace", age=36)
        bodies = [r.json for r in emu.requests]
        assert bodies[0]["response_format"]["type"] == "json_schema"  # refused once...
        assert "tools" in bodies[1]
        assert "response_format" not in bodies[2]  # ...and remembered


async def test_async_and_streamed_structured_output_fall_back_too() -> None:
    models = [
        ModelSpec("no-schema", unsupported=frozenset({"response_format.json_schema"})),
        *default_models(),
    ]
    with running_emulator(EmulatorConfig(models=models)) as emu:
        llm = AzureAICompletionsModel(
            endpoint=emu.endpoint, credential=emu.key, model_name="no-schema"
        )
        # The streamed program leaves tool_choice "auto": the emulator calls a tool it is told of.
        prompt = PromptTemplate("Ada Lovelace was 36: a Person.")
        assert await llm.astructured_predict(Person, prompt) == Person(name="Ada Lovelace", age=36)
        # Learned by the async client, known to the sync one: no second refusal. LlamaIndex's
        # streaming program reads the calls from additional_kwargs["tool_calls"].
        *_, last = llm.stream_structured_predict(Person, prompt)
        assert last == Person(name="Ada Lovelace", age=36)
        schema_requests = [
            r for r in emu.requests if (r.json or {}).get("response_format") is not None
        ]
        assert len(schema_requests) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_streamed_structured_output_falls_back_when_its_own_request_is_refused(
    mode: str,
) -> None:
    # The first structured call of this model is streamed: the refusal comes before the first
    # object, and the stream goes on through function calling.
    models = [
        ModelSpec("no-schema", unsupported=frozenset({"response_format.json_schema"})),
        *default_models(),
    ]
    with running_emulator(EmulatorConfig(models=models)) as emu:
        llm = AzureAICompletionsModel(
            endpoint=emu.endpoint, credential=emu.key, model_name="no-schema"
        )
        prompt = PromptTemplate("Ada Lovelace was 36: a Person.")
        if mode == "sync":
            streamed = list(llm.stream_structured_predict(Person, prompt))
        else:
            streamed = [p async for p in await llm.astream_structured_predict(Person, prompt)]
        assert streamed[-1] == Person(name="Ada Lovelace", age=36)
        first, second = (r.json for r in emu.requests)
        assert first["response_format"]["type"] == "json_schema"  # refused (422)
        assert first["stream"] is True
        assert "response_format" not in second
        assert [t["function"]["name"] for t in second["tools"]] == ["Person"]
        assert second["stream"] is True


# --- errors, pickling, serialization ---------------------------------------------------------


def test_errors_surface_unchanged(emu: Emulator) -> None:
    limited = AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-limited", seed=1
    )
    with pytest.raises(UnsupportedParameterError) as info:
        limited.chat(USER)
    assert info.value.param == "seed"
    wrong = AzureAICompletionsModel(endpoint=emu.endpoint, credential="nope")
    with pytest.raises(AuthenticationError):
        wrong.chat(USER)


def test_pickles_after_async_use(llm: AzureAICompletionsModel) -> None:
    asyncio.run(llm.acomplete("warm up"))
    clone = pickle.loads(pickle.dumps(llm))
    assert clone.complete("pickled").text == "You said: pickled"
    assert asyncio.run(clone.acomplete("async")).text == "You said: async"


def test_to_dict_rebuilds_without_secrets(
    llm: AzureAICompletionsModel, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = llm.to_dict()
    assert data["class_name"] == "AzureAICompletionsModel"
    assert emu.key not in str(data)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    rebuilt = AzureAICompletionsModel.from_dict(data)
    assert (rebuilt.model_name, rebuilt.endpoint) == ("emulator-chat", emu.endpoint)
    assert rebuilt.complete("rebuilt").text == "You said: rebuilt"
