"""The Responses API core, pure: request building, answers and streams of real recordings.

Every recording in ``../shared/realwire/responses/`` is read by `parse_response` (answers) or by
`ResponsesStreamState` (streams, fed one event per piece as the service sent them), and what it
makes of it is compared with what the recorded JSON says (`responses_wire.expected`). Errors
come out as the core's error classes with the service's code, message and parameter.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from azureinference import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    IncompleteStreamError,
    NotFoundError,
    RateLimitError,
    ServerError,
    parse_endpoint,
)
from azureinference.responses_api import (
    FunctionCallItem,
    ReasoningItem,
    Response,
    ResponsesNotSupportedError,
    ResponsesStreamState,
    build_responses_body,
    build_responses_request,
    is_responses_refusal,
    parse_response,
    responses_only_features,
    responses_url,
    to_input_items,
)
from azureinference.sse import SSEDecoder

from .responses_wire import (
    RECORDINGS,
    body_bytes,
    events,
    expected,
    final_json,
    got,
    is_stream,
    pieces,
)

if not RECORDINGS:
    pytest.skip(
        "The Responses recordings (../shared/realwire/responses) are not beside the checkout.",
        allow_module_level=True,
    )

ANSWERS = sorted(
    r for r, rec in RECORDINGS.items() if rec["response"]["status"] == 200 and not is_stream(rec)
)
STREAMS = sorted(r for r, rec in RECORDINGS.items() if is_stream(rec))
ERRORS = sorted(r for r, rec in RECORDINGS.items() if rec["response"]["status"] >= 400)

# What each error recording must raise (the class by status and the service's code).
ERROR_CLASSES = {
    "aoai_content_filter_400": ContentFilterError,
    "deepseek_err_400": BadRequestError,
    "openai_err_400_context_length": BadRequestError,
    "openai_err_400_model_not_found": BadRequestError,
    "openai_err_400_param": BadRequestError,
    "openai_err_401": AuthenticationError,
    "openai_err_404_model": NotFoundError,
    "openai_err_429_quota": RateLimitError,
}


def _headers(rec: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in rec["response"]["headers"].items() if k != "content-encoding"}


def _stream_state(rec: dict[str, Any], drop: frozenset[str] = frozenset()) -> ResponsesStreamState:
    state = ResponsesStreamState()
    decoder = SSEDecoder()
    for piece in pieces(rec):
        for sse in decoder.feed(piece):
            if drop and any(f'"type":"{t}"' in sse.data.replace(" ", "") for t in drop):
                continue
            state.handle_event(sse)
    for sse in decoder.flush():
        state.handle_event(sse)
    return state


def test_every_recording_is_covered() -> None:
    assert len(ANSWERS) + len(STREAMS) + len(ERRORS) == len(RECORDINGS) == 49
    assert set(ERRORS) == set(ERROR_CLASSES)


@pytest.mark.parametrize("rec_id", ANSWERS)
def test_answer(rec_id: str) -> None:
    rec = RECORDINGS[rec_id]
    answer = json.loads(body_bytes(rec))
    if answer["status"] == "failed":
        with pytest.raises(ServerError) as info:
            parse_response(200, _headers(rec), body_bytes(rec))
        assert info.value.code == answer["error"]["code"]
        assert answer["error"]["message"] in info.value.message
        return
    response = parse_response(200, _headers(rec), body_bytes(rec))
    assert got(response) == expected(answer)


@pytest.mark.parametrize("rec_id", STREAMS)
def test_stream(rec_id: str) -> None:
    rec = RECORDINGS[rec_id]
    final = final_json(rec)
    if final is not None and final["status"] == "failed":
        with pytest.raises(RateLimitError) as info:
            _stream_state(rec)
        error = next(e for e in events(rec) if e["type"] == "error")["error"]
        assert info.value.code == error["code"]
        assert error["message"] in info.value.message
        return
    state = _stream_state(rec)
    state.check_complete()
    assert final is not None
    assert got(state.final()) == expected(final)


@pytest.mark.parametrize("rec_id", STREAMS)
def test_stream_deltas_assemble_the_answer(rec_id: str) -> None:
    """Without the items' done events and the terminal event, the deltas alone make the answer.

    (What a reader has while it streams; the stream then counts as cut short.)
    """
    rec = RECORDINGS[rec_id]
    final = final_json(rec)
    if final is None or final["status"] == "failed":
        return
    state = _stream_state(
        rec,
        drop=frozenset({"response.output_item.done", "response.completed", "response.incomplete"}),
    )
    with pytest.raises(IncompleteStreamError):
        state.check_complete()
    want = expected(final)
    have = got(state.final())
    assert have.text == want.text
    assert have.refusal == want.refusal
    assert have.calls == want.calls
    assert have.summaries == want.summaries
    assert have.reasoning_text == want.reasoning_text


@pytest.mark.parametrize("rec_id", ERRORS)
def test_error(rec_id: str) -> None:
    rec = RECORDINGS[rec_id]
    body = json.loads(body_bytes(rec))
    with pytest.raises(ERROR_CLASSES[rec_id]) as info:
        parse_response(rec["response"]["status"], _headers(rec), body_bytes(rec))
    err = info.value
    assert err.status_code == rec["response"]["status"]
    assert err.code == body["error"]["code"]
    assert err.param == body["error"]["param"]
    assert body["error"]["message"] in err.message


def test_refused_and_missing_route_mean_chat() -> None:
    refusal = parse_response_error(
        400,
        {
            "error": {
                "code": "invalid_request_error",
                "message": "This model is not supported by the Responses API.",
            }
        },
    )
    assert is_responses_refusal(refusal) == "refused"
    assert is_responses_refusal(parse_response_error(404, {"detail": "Not Found"})) == "no_route"
    assert is_responses_refusal(parse_response_error(405, {"error": "Method Not Allowed"}))
    # A missing model or deployment, or another 400, is an error of its own.
    model_404 = json.loads(body_bytes(RECORDINGS["openai_err_404_model"]))
    assert is_responses_refusal(parse_response_error(404, model_404)) is None
    deployment = {"error": {"code": "DeploymentNotFound", "message": "The API deployment ..."}}
    assert is_responses_refusal(parse_response_error(404, deployment)) is None
    param = json.loads(body_bytes(RECORDINGS["openai_err_400_param"]))
    assert is_responses_refusal(parse_response_error(400, param)) is None
    wrapped = ResponsesNotSupportedError.from_refusal(refusal, "DeepSeek-R1", "refused")
    assert (wrapped.status_code, wrapped.model, wrapped.reason, wrapped.learned) == (
        400,
        "DeepSeek-R1",
        "refused",
        True,
    )
    assert "DeepSeek-R1" in str(wrapped)
    assert "not supported by the Responses API" in str(wrapped)
    assert wrapped.again().learned is False
    assert "chat completions for model 'DeepSeek-R1'" in wrapped.fallback_warning
    error = wrapped.feature_error(["include", "previous_response_id"])
    assert isinstance(error, ConfigurationError)
    assert "'DeepSeek-R1'" in str(error)
    assert "include, previous_response_id" in str(error)


def parse_response_error(status: int, body: Any) -> Any:
    with pytest.raises(Exception) as info:
        parse_response(status, {}, json.dumps(body).encode())
    return info.value


# ---- request building ---------------------------------------------------------------------------


def test_chat_messages_become_input_items() -> None:
    items = to_input_items(
        [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"x": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
        ]
    )
    assert items == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is this?"},
                {
                    "type": "input_image",
                    "image_url": "data:image/png;base64,AA",
                    "detail": "auto",
                },
            ],
        },
        {"role": "assistant", "content": "Let me look."},
        {"type": "function_call", "call_id": "call_1", "name": "look", "arguments": '{"x": 1}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "a cat"},
    ]


def test_encrypted_reasoning_goes_back_as_it_came() -> None:
    """The reasoning item and function call of a real answer, sent back in the next request."""
    rec = RECORDINGS["openai_reasoning_encrypted_tool"]
    answer = parse_response(200, {}, body_bytes(rec))
    reasoning = answer.reasoning_items[0]
    assert reasoning.encrypted_content
    assert reasoning.encrypted_content.startswith("gAAAAA")
    assert reasoning.encrypted_content not in repr(reasoning)
    call = answer.function_calls[0]
    body = build_responses_body(
        [
            {"role": "user", "content": "Hi"},
            *answer.output,
            {"role": "tool", "tool_call_id": call.call_id, "content": "42"},
        ],
        model="gpt-5.5",
        store=False,
        include=["reasoning.encrypted_content"],
    )
    raw = json.loads(body_bytes(rec))["output"]
    sent_reasoning = body["input"][1]
    assert sent_reasoning["encrypted_content"] == raw[0]["encrypted_content"]
    assert sent_reasoning["id"] == raw[0]["id"]
    assert sent_reasoning["type"] == "reasoning"
    assert body["input"][2]["call_id"] == raw[1]["call_id"]
    assert body["input"][3] == {
        "type": "function_call_output",
        "call_id": call.call_id,
        "output": "42",
    }
    assert (body["store"], body["include"]) == (False, ["reasoning.encrypted_content"])
    # Items as dicts (an adapter's stored blocks) pass through too.
    dict_items = to_input_items([ReasoningItem(id="rs_1", encrypted_content="gAAAAAx")])
    assert dict_items == [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAAx"}
    ]
    assert to_input_items([FunctionCallItem(call_id="c", name="f", arguments="{}")]) == [
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}
    ]


def test_tools_choice_format_and_reasoning_in_the_responses_shape() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = build_responses_body(
        "Hi",
        model="gpt-5",
        tools=[
            {
                "type": "function",
                "function": {"name": "f", "description": "d", "parameters": schema},
            },
            {"type": "web_search"},
        ],
        tool_choice={"type": "function", "function": {"name": "f"}},
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "A", "schema": schema, "strict": True},
        },
        reasoning={"effort": "low", "summary": "auto"},
        max_output_tokens=100,
        previous_response_id="resp_1",
        temperature=0,
    )
    assert body == {
        "input": "Hi",
        "model": "gpt-5",
        "max_output_tokens": 100,
        "previous_response_id": "resp_1",
        "temperature": 0,
        "tools": [
            {"type": "function", "name": "f", "description": "d", "parameters": schema},
            {"type": "web_search"},
        ],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {"format": {"type": "json_schema", "name": "A", "schema": schema, "strict": True}},
        "reasoning": {"effort": "low", "summary": "auto"},
    }
    assert build_responses_body("Hi", reasoning_effort="high")["reasoning"] == {"effort": "high"}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"max_tokens": 5}, "max_output_tokens"),
        ({"stop": ["x"]}, "stop"),
        ({"seed": 1}, "seed"),
        ({"temperature": "hot"}, "temperature"),
        ({"include": "reasoning.encrypted_content"}, "include"),
        ({"reasoning": {"summary": True}}, "reasoning['summary']"),
        ({"store": "no"}, "store"),
        ({"bogus": 1}, "bogus"),
        ({"response_format": "yaml"}, "response_format"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
    ],
)
def test_bad_parameters_are_named_before_any_request(params: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named.replace("[", r"\[").replace("]", r"\]")):
        build_responses_body("Hi", **params)


@pytest.mark.parametrize(
    ("messages", "named"),
    [
        ("not a list of messages, a dict", None),
        ([{"role": "user", "content": "x", "name": "bob"}], r"input\[0\].*name"),
        ([{"role": "tool", "content": "x"}], "tool_call_id"),
        ([{"role": "wizard", "content": "x"}], "wizard"),
        ([{"type": "banana"}], "banana"),
        ([{"role": "user", "content": [{"type": "input_audio"}]}], "input_audio"),
        (
            [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}],
            r"tool_calls\[0\].*id",
        ),
    ],
)
def test_bad_input_is_named(messages: Any, named: str | None) -> None:
    if isinstance(messages, str):
        messages = {"role": "user"}
        named = "input must be"
    with pytest.raises(ConfigurationError, match=named):
        to_input_items(messages)


def test_routes_per_endpoint_kind() -> None:
    def url(endpoint: str, **kw: Any) -> str:
        return responses_url(parse_endpoint(endpoint, **kw))

    assert url("https://r.openai.azure.com/openai/v1") == (
        "https://r.openai.azure.com/openai/v1/responses"
    )
    assert url("https://r.openai.azure.com/openai/deployments/gpt-5") == (
        "https://r.openai.azure.com/openai/responses?api-version=2025-03-01-preview"
    )
    assert url("https://r.openai.azure.com", api_version="2025-04-01-preview") == (
        "https://r.openai.azure.com/openai/responses?api-version=2025-04-01-preview"
    )
    assert url("https://r.services.ai.azure.com/models") == (
        "https://r.services.ai.azure.com/openai/v1/responses"
    )
    assert url("https://api.deepseek.com") == "https://api.deepseek.com/responses"
    assert (
        url("https://gw.example.com/v1?code=abc") == "https://gw.example.com/v1/responses?code=abc"
    )
    # The deployment of a deployment URL goes in the body, as Responses wants it.
    req = build_responses_request(
        parse_endpoint("https://r.openai.azure.com/openai/deployments/d"), "Hi"
    )
    assert req.json["model"] == "d"
    assert not req.stream
    with pytest.raises(ConfigurationError, match="deployment"):
        build_responses_request(parse_endpoint("https://r.openai.azure.com"), "Hi")


def test_what_only_responses_can_do() -> None:
    assert responses_only_features({"reasoning": {"effort": "low"}, "temperature": 0}) == []
    assert responses_only_features(
        {
            "reasoning": {"summary": "auto"},
            "include": ["reasoning.encrypted_content"],
            "previous_response_id": "resp_1",
            "tools": [{"type": "function", "name": "f"}, {"type": "web_search"}],
        }
    ) == [
        "include",
        "previous_response_id",
        "reasoning summaries (reasoning={'summary': ...})",
        "built-in tool 'web_search'",
    ]


def test_unknown_items_and_parts_are_kept() -> None:
    rec = RECORDINGS["openai_web_search"]
    answer = parse_response(200, {}, body_bytes(rec))
    raw = json.loads(body_bytes(rec))
    assert [i.type for i in answer.output] == [i["type"] for i in raw["output"]]
    assert answer.output[0].model_dump(exclude_none=True)["action"] == raw["output"][0]["action"]
    assert isinstance(answer, Response)
    assert answer.finish_reason == "stop"
