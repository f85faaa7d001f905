"""``AzureAIChatCompletionsModel`` in Responses mode: real answers, the requests sent, the fallback.

Every Responses recording (``../shared/realwire/responses``) is served from a local server as the
service sent it and read through LangChain (``invoke``, ``stream``, ``ainvoke``, ``astream``);
what the message says (text, refusal, reasoning summary and raw reasoning, encrypted reasoning,
function calls with parsed arguments, incomplete reason, usage with details, the response id) is
compared with what the recorded body says, read independently by ``responses_wire.expected``.
Then the requests LangChain sends (earlier turns as items, encrypted reasoning passed back,
``use_previous_response_id``, ``max_tokens``, tools, structured output) and the chat fallback of
issue 23 item 4 against the emulator.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from pydantic import BaseModel

from azureinference import APIStatusError, ConfigurationError, RateLimitError, ServerError
from azureinference.emulator import Emulator, EmulatorConfig, ModelSpec, running_emulator
from langchain_azureinference import AzureAIChatCompletionsModel
from tests.core.responses_wire import (
    RECORDINGS,
    Answer,
    Said,
    answer_of,
    body_bytes,
    events,
    expected,
    final_json,
    is_stream,
    serve,
)

KEY = "test-key-not-a-secret"
WAYS = pytest.mark.parametrize("way", ["invoke", "stream", "ainvoke", "astream"])
HAS_REASONING = "reasoning" in {f.name for f in dataclasses.fields(ModelSpec)}
CHAT_ONLY = "emulator-chat-only"
REASONER = "emulator-reasoner"

needs_recordings = pytest.mark.skipif(
    not RECORDINGS,
    reason="The Responses recordings (../shared/realwire/responses) are not beside the checkout.",
)


def _llm(endpoint: str, **kwargs: Any) -> AzureAIChatCompletionsModel:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("use_responses_api", True)
    return AzureAIChatCompletionsModel(endpoint=endpoint, credential=KEY, max_retries=0, **kwargs)


def _call(llm: Any, way: str, input: Any, **kwargs: Any) -> Any:
    """One call, the four ways; a stream's chunks added up (and the chunks checked on the way)."""

    async def astream() -> Any:
        total = None
        async for chunk in llm.astream(input, **kwargs):
            total = chunk if total is None else total + chunk
        return total

    if way == "invoke":
        return llm.invoke(input, **kwargs)
    if way == "ainvoke":
        return asyncio.run(llm.ainvoke(input, **kwargs))
    if way == "stream":
        total = None
        for chunk in llm.stream(input, **kwargs):
            assert isinstance(chunk, AIMessageChunk)
            total = chunk if total is None else total + chunk
        return total
    return asyncio.run(astream())


def said(message: AIMessage) -> Said:
    """What a LangChain message says, in `responses_wire.Said`'s shape."""
    blocks = [b for b in message.content if isinstance(b, dict)]
    reasoning = [b for b in blocks if b.get("type") == "reasoning"]
    refusals = [b["refusal"] for b in blocks if b.get("type") == "refusal"]
    usage = message.usage_metadata
    return Said(
        message.response_metadata.get("id"),
        message.response_metadata.get("status"),
        message.text,
        "".join(refusals) if refusals else None,
        [(c["id"], c["name"], c["args"]) for c in message.tool_calls],
        [p["text"] for r in reasoning for p in r.get("summary") or []],
        "".join(p["text"] for r in reasoning for p in r.get("content") or []),
        [r.get("encrypted_content") for r in reasoning],
        (message.response_metadata.get("incomplete_details") or {}).get("reason"),
        (
            usage["input_tokens"],
            usage["output_tokens"],
            usage["total_tokens"],
            usage.get("input_token_details", {}).get("cache_read", 0),
            usage.get("output_token_details", {}).get("reasoning", 0),
        )
        if usage is not None
        else None,
    )


def _served(rec: dict[str, Any]) -> Any:
    def responder(path: str, body: Any) -> Answer:
        return answer_of(rec)

    return serve(responder)


def _failure_message(rec: dict[str, Any], final: dict[str, Any]) -> str:
    if is_stream(rec):
        errors = [e for e in events(rec) if e["type"] == "error"]
        if errors:
            return str(errors[0]["error"]["message"])
    return str((final.get("error") or {})["message"])


@needs_recordings
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
@pytest.mark.parametrize("rec_id", sorted(RECORDINGS))
def test_recording_through_langchain(rec_id: str, sync: bool) -> None:
    """A streamed recording is read with ``stream`` / ``astream``, the others with ``invoke``."""
    rec = RECORDINGS[rec_id]
    status = rec["response"]["status"]
    final = final_json(rec)
    way = ("" if sync else "a") + ("stream" if is_stream(rec) else "invoke")
    with _served(rec) as (url, seen):
        model = rec["request"].get("model") or "gpt-4o"
        llm = _llm(url + (rec["endpoint_path"] or ""), model=model)
        try:
            message = _call(llm, way, "Hi")
        except APIStatusError as err:
            error: APIStatusError | None = err
        else:
            error = None
    assert seen[0][0].split("?")[0] == (rec["endpoint_path"] or "") + "/responses"
    if status >= 400:
        body = json.loads(body_bytes(rec))["error"]
        assert error is not None
        assert (error.status_code, error.code) == (status, body["code"])
        assert body["message"] in error.message
        return
    assert final is not None
    if final["status"] == "failed":
        assert isinstance(error, (RateLimitError, ServerError))
        assert _failure_message(rec, final) in error.message
        return
    assert error is None, error
    assert said(message) == expected(final)
    assert message.id == final["id"]
    assert message.response_metadata["model_provider"] == "openai"
    # LangChain's own reading of the blocks (its OpenAI translator) sees the same answer.
    standard = message.content_blocks
    assert "".join(b.get("text", "") for b in standard if b["type"] == "text") == message.text
    summaries = [
        b["reasoning"] for b in standard if b["type"] == "reasoning" and b.get("reasoning")
    ]
    assert [s for s in summaries if s] == [s for s in expected(final).summaries if s]


# ---- what is sent ------------------------------------------------------------------------------


@contextmanager
def _answering(*rec_ids: str) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """A local server giving the recordings' answers in turn; yields (URL, requests seen)."""
    answers = [answer_of(RECORDINGS[r]) for r in rec_ids]

    def responder(path: str, body: Any) -> Answer:
        return answers.pop(0)

    with serve(responder) as served:
        yield served


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


@needs_recordings
@pytest.mark.parametrize("way", ["invoke", "ainvoke"])
def test_encrypted_reasoning_goes_back_with_the_tool_result(way: str) -> None:
    recorded = final_json(RECORDINGS["openai_reasoning_encrypted_tool"])
    assert recorded is not None
    reasoning, call = (i for i in recorded["output"] if i["type"] in ("reasoning", "function_call"))
    with _answering("openai_reasoning_encrypted_tool", "openai_tool_result_answer") as (url, seen):
        llm = _llm(
            url + "/v1",
            model="gpt-5.5",
            include=["reasoning.encrypted_content"],
            store=False,
            reasoning={"effort": "low"},
        )
        history: list[BaseMessage] = [HumanMessage("Weather in Paris?")]
        first = _call(llm, way, history)
        assert [c["id"] for c in first.tool_calls] == [call["call_id"]]
        history += [first, ToolMessage("Sunny, 21 C", tool_call_id=call["call_id"])]
        second = _call(llm, way, history)
    assert second.text == expected(final_json(RECORDINGS["openai_tool_result_answer"])).text
    body = seen[1][1]
    assert (body["store"], body["include"]) == (False, ["reasoning.encrypted_content"])
    assert body["reasoning"] == {"effort": "low"}
    # The turn goes back whole: the reasoning with its encrypted content, the call, its output.
    assert body["input"] == [
        _user("Weather in Paris?"),
        {
            "type": "reasoning",
            "id": reasoning["id"],
            "summary": [],
            "encrypted_content": reasoning["encrypted_content"],
        },
        {
            "type": "function_call",
            "call_id": call["call_id"],
            "name": call["name"],
            "arguments": call["arguments"],
            "id": call["id"],
            **({"status": call["status"]} if "status" in call else {}),
        },
        {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 21 C"},
    ]


@needs_recordings
@pytest.mark.parametrize("way", ["stream", "astream"])
def test_a_summarised_reasoning_answer_goes_back_as_items(way: str) -> None:
    rec_id = "openai_reasoning_encrypted_stream"
    final = final_json(RECORDINGS[rec_id])
    assert final is not None
    reasoning = next(i for i in final["output"] if i["type"] == "reasoning")
    message = next(i for i in final["output"] if i["type"] == "message")
    with _answering(rec_id, "openai_text_stream") as (url, seen):
        llm = _llm(url + "/v1", model="o4-mini", reasoning={"summary": "auto"})
        first = _call(llm, way, "Hi")
        _call(llm, way, [HumanMessage("Hi"), first, HumanMessage("And then?")])
    sent = seen[1][1]["input"]
    assert sent[1] == {
        "type": "reasoning",
        "id": reasoning["id"],
        "summary": [{"type": "summary_text", "text": p["text"]} for p in reasoning["summary"]],
        "encrypted_content": reasoning["encrypted_content"],
    }
    assert sent[2] == {
        "type": "message",
        "role": "assistant",
        "id": message["id"],
        "content": [
            {"type": "output_text", "text": expected(final).text, "annotations": []},
        ],
    }
    assert sent[3] == _user("And then?")


@needs_recordings
def test_use_previous_response_id_sends_only_the_new_turns() -> None:
    with _answering("openai_text", "openai_text") as (url, seen):
        llm = _llm(url + "/v1", use_previous_response_id=True)
        first = llm.invoke("Hi")
        llm.invoke([HumanMessage("Hi"), first, HumanMessage("More?")])
    assert "previous_response_id" not in seen[0][1]
    assert seen[1][1]["previous_response_id"] == first.response_metadata["id"]
    assert seen[1][1]["input"] == [_user("More?")]


class Person(BaseModel):
    name: str
    age: int


@needs_recordings
def test_parameters_in_the_responses_shape() -> None:
    def weather(city: str) -> str:
        """Weather of a city."""
        return city

    with _answering("openai_tool_single", "openai_json_schema", "openai_text") as (url, seen):
        llm = _llm(url + "/v1", max_tokens=50, temperature=0.5, reasoning_effort="low")
        llm.bind_tools([weather], tool_choice="weather").invoke("Paris?")
        llm.with_structured_output(Person, include_raw=True).invoke("Alice is 31.")
        llm.bind_tools([weather], tool_choice="any").bind(response_format={"type": "json_object"})
        llm.invoke("JSON please", response_format={"type": "json_object"})
    tools_body, schema_body, json_body = (body for _, body in seen)
    assert tools_body["max_output_tokens"] == 50
    assert "max_tokens" not in tools_body
    assert tools_body["reasoning"] == {"effort": "low"}
    assert tools_body["tools"][0]["type"] == "function"
    assert tools_body["tools"][0]["name"] == "weather"
    assert tools_body["tool_choice"] == {"type": "function", "name": "weather"}
    assert schema_body["text"]["format"]["type"] == "json_schema"
    assert schema_body["text"]["format"]["name"] == "Person"
    assert set(schema_body["text"]["format"]["schema"]["properties"]) == {"name", "age"}
    assert "tools" not in schema_body  # the chat mode's fallback tool is not sent here
    assert json_body["text"] == {"format": {"type": "json_object"}}


@needs_recordings
def test_structured_output_is_parsed_from_the_answer() -> None:
    final = final_json(RECORDINGS["openai_json_schema"])
    assert final is not None
    with _answering("openai_json_schema", "openai_json_schema") as (url, _):
        llm = _llm(url + "/v1")
        schema = json.loads(expected(final).text)
        parsed = llm.with_structured_output(
            method="json_schema",
            schema={
                "title": "Answer",
                "type": "object",
                "properties": {k: {} for k in schema},
            },
        ).invoke("Hi")
        assert parsed == schema
        refused = final_json(RECORDINGS["openai_refusal"])
        assert refused is not None


@needs_recordings
def test_a_refusal_is_an_output_parser_error() -> None:
    from langchain_core.exceptions import OutputParserException

    with _answering("openai_refusal") as (url, _), pytest.raises(OutputParserException):
        _llm(url + "/v1").with_structured_output(Person).invoke("Hi")


def test_chat_only_parameters_are_named_before_any_request() -> None:
    llm = _llm("http://127.0.0.1:9/v1")
    with pytest.raises(ConfigurationError, match="stop"):
        llm.invoke("Hi", stop=["x"])
    with pytest.raises(ConfigurationError, match="seed"):
        llm.invoke("Hi", seed=3)


def test_responses_only_parameters_with_chat_completions_are_refused() -> None:
    llm = _llm("http://127.0.0.1:9/v1", use_responses_api=False, reasoning={"summary": "auto"})
    with pytest.raises(ConfigurationError, match="reasoning summaries"):
        llm.invoke("Hi")


@needs_recordings
@pytest.mark.parametrize(
    ("kwargs", "route"),
    [
        ({}, "/v1/chat/completions"),
        ({"reasoning": {"summary": "auto"}}, "/v1/responses"),
        ({"include": ["reasoning.encrypted_content"]}, "/v1/responses"),
        ({"use_previous_response_id": True}, "/v1/responses"),
    ],
)
def test_the_responses_api_is_chosen_for_what_only_it_has(
    kwargs: dict[str, Any], route: str
) -> None:
    chat = json.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hi"},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()

    def responder(path: str, body: Any) -> Answer:
        if path.endswith("/responses"):
            return answer_of(RECORDINGS["openai_text"])
        return 200, {"content-type": "application/json"}, chat, None

    with serve(responder) as (url, seen):
        llm = AzureAIChatCompletionsModel(
            endpoint=url + "/v1", credential=KEY, model="gpt-5", max_retries=0, **kwargs
        )
        llm.invoke("Hi")
    assert [path for path, _ in seen] == [route]


# ---- the chat fallback (emulator) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    config = EmulatorConfig()
    config.models.append(ModelSpec(CHAT_ONLY, unsupported=frozenset({"responses"})))
    if HAS_REASONING:
        config.models.append(ModelSpec(REASONER, reasoning="reasoning_content"))  # type: ignore[call-arg]
    with running_emulator(config) as emulator:
        yield emulator


def _paths(emu: Emulator) -> list[str]:
    return [r.path.split("?")[0] for r in emu.requests]


@WAYS
def test_a_model_without_the_responses_api_falls_back_once(emu: Emulator, way: str) -> None:
    emu.reset()
    llm = _llm(emu.url + "/openai/v1", model=CHAT_ONLY)
    llm.endpoint = emu.url + "/openai/v1"
    llm.credential = emu.key
    with pytest.warns(UserWarning, match=f"Using chat completions for model '{CHAT_ONLY}'"):
        first = _call(llm, way, "Hello there")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = _call(llm, way, "Hello there")
    assert first.text == second.text == "You said: Hello there"
    assert _paths(emu) == [
        "/openai/v1/responses",
        "/openai/v1/chat/completions",
        "/openai/v1/chat/completions",
    ]
    # What only the Responses API gives is refused for this model, naming both, without a request.
    with pytest.raises(ConfigurationError, match=f"{CHAT_ONLY}.*reasoning summaries"):
        _call(llm, way, "Hi", reasoning={"summary": "auto"})
    assert len(emu.requests) == 3


@pytest.mark.parametrize("way", ["invoke", "astream"])
def test_an_endpoint_without_the_route_falls_back(emu: Emulator, way: str) -> None:
    emu.reset()
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.url, credential=emu.key, model="emulator-chat", use_responses_api=True
    )
    with pytest.warns(UserWarning, match="the endpoint has no Responses route"):
        answer = _call(llm, way, "Hello there")
    assert answer.text == "You said: Hello there"
    # The core knows a serverless-style root has no Responses route: nothing is sent there.
    assert _paths(emu) == ["/chat/completions"]


@WAYS
def test_include_response_headers_in_responses_mode(emu: Emulator, way: str) -> None:
    # As with chat completions (and ChatOpenAI): the answer's headers, never a credential.
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.url + "/openai/v1",
        credential=emu.key,
        model="emulator-chat",
        use_responses_api=True,
        include_response_headers=True,
    )
    answer = _call(llm, way, "Hello")
    headers = answer.response_metadata["headers"]
    assert headers["x-request-id"]
    assert headers["content-type"].startswith("text/event-stream" if "stream" in way else "app")
    assert emu.key not in json.dumps(headers)
    plain = AzureAIChatCompletionsModel(
        endpoint=emu.url + "/openai/v1",
        credential=emu.key,
        model="emulator-chat",
        use_responses_api=True,
    )
    assert "headers" not in _call(plain, way, "Hello").response_metadata


@WAYS
def test_a_tool_loop_on_the_emulator(emu: Emulator, way: str) -> None:
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "Sun"

    llm = AzureAIChatCompletionsModel(
        endpoint=emu.url + "/openai/v1",
        credential=emu.key,
        model="emulator-chat",
        use_responses_api=True,
        store=False,
    ).bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage("What is the weather in Paris?")]
    first = _call(llm, way, history)
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    history += [first, ToolMessage("Sun", tool_call_id=first.tool_calls[0]["id"])]
    second = _call(llm, way, history)
    assert second.text == "The tool returned: Sun"
    assert second.usage_metadata["total_tokens"] > 0


@pytest.mark.skipif(not HAS_REASONING, reason="the emulator has no reasoning models yet")
@WAYS
def test_encrypted_reasoning_across_a_tool_loop_on_the_emulator(emu: Emulator, way: str) -> None:
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "Sun"

    emu.reset()
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.url + "/openai/v1",
        credential=emu.key,
        model=REASONER,
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    ).bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage("What is the weather in Paris?")]
    first = _call(llm, way, history)
    blocks = [b for b in first.content if b["type"] == "reasoning"]
    assert blocks
    assert blocks[0]["encrypted_content"]
    assert blocks[0]["summary"]
    history += [first, ToolMessage("Sun", tool_call_id=first.tool_calls[0]["id"])]
    second = _call(llm, way, history)
    assert second.text == "The tool returned: Sun"
    sent = emu.requests[-1].json["input"]
    assert [i.get("type", "message") for i in sent] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert sent[1]["encrypted_content"] == blocks[0]["encrypted_content"]


# ---- the stream reader, pure -------------------------------------------------------------------


def _events(*raw: dict[str, Any]) -> list[Any]:
    from azureinference.responses_api import ResponseStreamEvent

    return [ResponseStreamEvent.model_validate(e) for e in raw]


def test_a_stream_without_deltas_still_gives_every_part_once() -> None:
    from langchain_azureinference._responses import ResponsesChunks

    message = {
        "type": "message",
        "id": "msg_1",
        "content": [{"type": "output_text", "text": "Hello world"}],
    }
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Thought."}],
    }
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f"}
    done_call = {**call, "arguments": '{"a": 1}'}
    response = {"id": "resp_1", "status": "completed", "output": [reasoning, message, done_call]}
    added, done, text = (
        "response.output_item.added",
        "response.output_item.done",
        "response.output_text",
    )
    stream = _events(
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
        {"type": added, "output_index": 0, "item": {**reasoning, "summary": []}},
        {"type": done, "output_index": 0, "item": reasoning},
        {"type": added, "output_index": 1, "item": {**message, "content": []}},
        {"type": text + ".delta", "output_index": 1, "content_index": 0, "delta": "Hello"},
        {"type": text + ".done", "output_index": 1, "content_index": 0, "text": "Hello world"},
        {"type": done, "output_index": 1, "item": message},
        {"type": added, "output_index": 2, "item": {**call, "arguments": ""}},
        {"type": done, "output_index": 2, "item": done_call},
        {"type": "response.completed", "response": response},
    )
    reader = ResponsesChunks("m")
    chunks = [c.message for e in stream if (c := reader.chunk(e)) is not None]
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.text == "Hello world"
    assert total.tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": "call_1", "type": "tool_call"}
    ]
    assert [p["text"] for p in total.content[0]["summary"]] == ["Thought."]
    assert total.response_metadata["id"] == "resp_1"
    assert total.id == "resp_1"
