"""The chat stream state machine and the stream drivers (over ``httpx2.MockTransport``)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from azureinference import (
    APIStatusError,
    APITimeoutError,
    AsyncChatStream,
    ChatCompletionChunk,
    ChatStream,
    ChatStreamState,
    IncompleteStreamError,
    MalformedResponseError,
    ServerError,
    ServerSentEvent,
    iter_events,
)

from .core_support import (
    COMPLETION,
    KEY,
    SERVERLESS,
    chunk,
    collect,
    make_client,
    maybe_await,
    reply,
    sse,
)

HI = [{"role": "user", "content": "Hi"}]
USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}


def run(*events: dict[str, Any] | str | ServerSentEvent) -> ChatStreamState:
    state = ChatStreamState()
    for e in events:
        if isinstance(e, ServerSentEvent):
            state.handle_event(e)
        else:
            state.handle_event(
                ServerSentEvent((e if isinstance(e, str) else json.dumps(e)).encode())
            )
    return state


def tool(
    index: int | None = None,
    id: str | None = None,
    name: str | None = None,
    args: str | None = None,
) -> dict[str, Any]:
    call: dict[str, Any] = {}
    if index is not None:
        call["index"] = index
    if id is not None:
        call["id"] = id
        call["type"] = "function"
    fn: dict[str, Any] = {}
    if name is not None:
        fn["name"] = name
    if args is not None:
        fn["arguments"] = args
    if fn:
        call["function"] = fn
    return call


def calls(state: ChatStreamState) -> list[tuple[str | None, str | None, str | None]]:
    message = state.final().choices[0].message
    return [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]


# ---- the state machine ----


def test_text_stream_is_assembled() -> None:
    state = run(
        chunk("", role="assistant"),
        chunk("Hel"),
        chunk("lo"),
        chunk(finish_reason="stop"),
        chunk(choices=False, usage=USAGE),
        "[DONE]",
    )
    final = state.final()
    assert final.choices[0].message.content == "Hello"
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.total_tokens == 16
    assert (final.id, final.model, final.object) == ("chunk-1", "m", "chat.completion")
    assert state.finished
    assert state.done
    assert state.chunk_count == 5
    state.check_complete()


def test_usage_only_final_chunk_with_empty_choices() -> None:
    state = run(chunk("x", finish_reason="stop"), chunk(choices=False, usage=USAGE))
    assert state.usage is not None
    assert state.usage.prompt_tokens == 12
    assert len(state.final().choices or []) == 1


def test_tool_deltas_with_index() -> None:
    """OpenAI style: the first delta has the id and name, the rest only ``index`` and arguments."""
    state = run(
        chunk(role="assistant", tool_calls=[tool(0, "call_1", "get_weather", "")]),
        chunk(tool_calls=[tool(0, args='{"city": ')]),
        chunk(tool_calls=[tool(1, "call_2", "get_time", '{"tz"')]),
        chunk(tool_calls=[tool(0, args='"Paris"}')]),
        chunk(tool_calls=[tool(1, args=': "CET"}')]),
        chunk(finish_reason="tool_calls"),
    )
    assert calls(state) == [
        ("call_1", "get_weather", '{"city": "Paris"}'),
        ("call_2", "get_time", '{"tz": "CET"}'),
    ]
    assert state.final().choices[0].finish_reason == "tool_calls"


def test_tool_deltas_without_index_are_keyed_by_id() -> None:
    """The spec's ``StreamingChatResponseToolCallUpdate`` has ``id`` and ``function``, no index."""
    state = run(
        chunk(tool_calls=[tool(None, "call_a", "f", '{"x"')]),
        chunk(tool_calls=[tool(None, "call_b", "g", "{}")]),
        chunk(tool_calls=[tool(None, "call_a", None, ": 1}")]),
        chunk(finish_reason="tool_calls"),
    )
    assert calls(state) == [("call_a", "f", '{"x": 1}'), ("call_b", "g", "{}")]


def test_tool_delta_without_index_or_id_continues_the_last_call() -> None:
    state = run(
        chunk(tool_calls=[tool(None, "c1", "f", "")]),
        chunk(tool_calls=[tool(None, None, None, '{"a":')]),
        chunk(tool_calls=[tool(None, None, None, " 2}")]),
        chunk(finish_reason="tool_calls"),
    )
    assert calls(state) == [("c1", "f", '{"a": 2}')]


def test_first_tool_delta_without_index_or_id() -> None:
    state = run(chunk(tool_calls=[tool(None, None, "f", "{}")]), chunk(finish_reason="tool_calls"))
    assert calls(state) == [(None, "f", "{}")]


def test_same_index_with_a_new_id_is_a_new_call() -> None:
    """Some gateways send every complete call with ``index: 0``; a new id means a new call."""
    state = run(
        chunk(tool_calls=[tool(0, "call_1", "f", '{"a": 1}')]),
        chunk(tool_calls=[tool(0, "call_2", "g", '{"b": 2}')]),
        chunk(finish_reason="tool_calls"),
    )
    assert calls(state) == [("call_1", "f", '{"a": 1}'), ("call_2", "g", '{"b": 2}')]


def test_repeated_id_on_every_delta_is_one_call(sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``chat_streaming_tool_calls`` repeats ``index`` and ``id`` on every delta."""
    body = sdk_scenarios["chat_streaming_tool_calls"]["responses_served"][0]["sse"].encode()
    state = ChatStreamState()
    for event in iter_events([body]):
        state.handle_event(event)
    assert calls(state) == [("call_abc", "get_weather", '{"city": "Seattle"}')]
    state.check_complete()


def test_chunks_stay_as_sent_and_the_state_gives_normalised_deltas() -> None:
    state = ChatStreamState()
    first = state.handle_event(
        ServerSentEvent(json.dumps(chunk(tool_calls=[tool(None, "a", "f", "")])).encode())
    )
    first_delta = state.delta(0)
    second = state.handle_event(
        ServerSentEvent(json.dumps(chunk(tool_calls=[tool(None, "b", "g", "")])).encode())
    )
    second_delta = state.delta(0)
    assert first is not None
    assert second is not None
    # The chunks are as the service sent them (no index)...
    assert first.choices[0].delta.tool_calls[0].index is None
    assert second.choices[0].delta.tool_calls[0].index is None
    # ...and the state says which call each piece belongs to.
    assert first_delta is not None
    assert second_delta is not None
    assert [(p.position, p.id, p.name) for p in first_delta.tool_calls] == [(0, "a", "f")]
    assert [(p.position, p.id, p.name) for p in second_delta.tool_calls] == [(1, "b", "g")]


def test_an_id_and_name_repeated_in_every_delta_are_given_once() -> None:
    state = ChatStreamState()
    pieces = []
    for args in ('{"a"', ": 1}"):
        state.handle_chunk(
            ChatCompletionChunk.model_validate(chunk(tool_calls=[tool(0, "c1", "f", args)]))
        )
        delta = state.delta(0)
        assert delta is not None
        pieces.extend((p.position, p.id, p.name, p.arguments) for p in delta.tool_calls)
    assert pieces == [(0, "c1", "f", '{"a"'), (0, None, None, ": 1}")]
    assert calls(state) == [("c1", "f", '{"a": 1}')]


def test_deltas_say_text_reasoning_and_finish_whatever_the_wire_shape() -> None:
    state = ChatStreamState()
    state.handle_chunk(
        ChatCompletionChunk.model_validate(
            {"choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "Hi"}]}}]}
        )
    )
    delta = state.delta(0)
    assert delta is not None
    assert (delta.text, delta.is_empty) == ("Hi", False)
    assert not state.finished
    state.handle_chunk(
        ChatCompletionChunk.model_validate(
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        )
    )
    delta = state.delta(0)
    assert delta is not None
    assert (delta.finish_reason, delta.is_empty) == ("stop", True)
    assert state.finished
    assert state.delta(1) is None


def test_reasoning_content_deltas() -> None:
    state = run(
        chunk(reasoning="Let me "),
        chunk(reasoning="think."),
        chunk("42"),
        chunk(finish_reason="stop"),
    )
    message = state.final().choices[0].message
    assert (message.reasoning_content, message.content) == ("Let me think.", "42")


def test_several_choices() -> None:
    state = run(
        chunk("a", index=0),
        chunk("b", index=1),
        chunk(finish_reason="stop", index=0),
    )
    assert not state.finished  # choice 1 has no finish_reason yet
    state.handle_event(ServerSentEvent(json.dumps(chunk(finish_reason="length", index=1)).encode()))
    assert state.finished
    assert [c.message.content for c in state.final().choices or []] == ["a", "b"]


def test_envelope_chunks_with_event_messages() -> None:
    """Seed 001: a gateway streams ``event:messages``, maybe in ``{code, msg, data}`` envelopes."""
    usage = {"prompt_tokens": 16, "completion_tokens": 1, "total_tokens": 17}
    body = (
        "event:messages\n"
        f"data:{json.dumps(chunk('Hi', role='assistant', usage=usage))}\n\n"
        "event:messages\n"
        f"data:{json.dumps({'code': 200, 'msg': 'ok', 'data': chunk('!')})}\n\n"
        "event:messages\n"
        f"data:{json.dumps({'code': 0, 'msg': 'ok', 'data': chunk(finish_reason='stop')})}\n\n"
    ).encode()
    state = ChatStreamState()
    for event in iter_events([body]):
        assert event.event == "messages"
        state.handle_event(event)
    assert state.final().choices[0].message.content == "Hi!"
    assert state.usage is not None
    assert state.usage.total_tokens == 17
    state.check_complete()


def test_envelope_carrying_an_error() -> None:
    with pytest.raises(APIStatusError, match="quota exceeded"):
        run({"code": 429, "msg": "quota exceeded", "data": None})


def test_error_event_is_raised(sdk_scenarios: dict[str, Any]) -> None:
    """Better than the SDK: an ``{"error": ...}`` event raises.

    In scenario ``chat_streaming_error_event`` the SDK silently dropped the error object (it has
    no choices and no usage) and returned the partial text as if the stream had succeeded.
    """
    scenario = sdk_scenarios["chat_streaming_error_event"]
    assert len(scenario["sdk_result"]) == 1
    body = scenario["responses_served"][0]["sse"].encode()
    state = ChatStreamState()
    events = list(iter_events([body]))
    assert state.handle_event(events[0]) is not None
    with pytest.raises(ServerError) as info:
        state.handle_event(events[1])
    assert info.value.code == "server_error"
    assert "boom" in str(info.value)
    assert "stream" in str(info.value)


def test_error_event_with_status() -> None:
    with pytest.raises(APIStatusError) as info:
        run({"error": {"code": "content_filter", "message": "filtered", "status": 400}})
    assert info.value.status_code == 400


@pytest.mark.parametrize(
    "data",
    [b'{"message": "overloaded"}', b"overloaded", b'{"error": {"message": "overloaded"}}'],
)
def test_named_error_event_is_raised(data: bytes) -> None:
    """An SSE ``event: error`` is an error whatever its data looks like."""
    state = ChatStreamState()
    state.handle_event(ServerSentEvent(json.dumps(chunk("partial")).encode()))
    with pytest.raises(APIStatusError, match="overloaded"):
        state.handle_event(ServerSentEvent(data, "error"))


def test_incomplete_stream_raises() -> None:
    state = run(chunk("", role="assistant"), chunk("Hel"))
    assert not state.finished
    with pytest.raises(IncompleteStreamError, match="2 chunk"):
        state.check_complete()
    assert state.final().choices[0].message.content == "Hel"


def test_empty_stream_is_incomplete() -> None:
    with pytest.raises(IncompleteStreamError):
        ChatStreamState().check_complete()


def test_finish_reason_without_done_is_complete(sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``chat_streaming_no_done``: a finish_reason is enough; the SDK agrees."""
    body = sdk_scenarios["chat_streaming_no_done"]["responses_served"][0]["sse"].encode()
    state = ChatStreamState()
    for event in iter_events([body]):
        state.handle_event(event)
    assert not state.done
    state.check_complete()


def test_done_without_finish_reason_is_complete() -> None:
    run(chunk("x"), "[DONE]").check_complete()


def test_blank_and_done_variants() -> None:
    state = run(
        chunk("x"), ServerSentEvent(b""), ServerSentEvent(b"  "), ServerSentEvent(b" [DONE] ")
    )
    assert state.done
    assert state.chunk_count == 1


def test_garbage_event_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="stream event"):
        run("not json at all")


# ---- drivers ----


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_stream_through_the_client(sync: bool) -> None:
    body = sse(
        chunk("", role="assistant"),
        chunk("Hello"),
        chunk(finish_reason="stop"),
        chunk(choices=False, usage=USAGE),
    )
    client, rec = make_client(
        SERVERLESS, KEY, [reply(sse_body=body, pieces=5)], asynchronous=not sync
    )
    stream = await maybe_await(client.stream(HI))
    assert isinstance(stream, ChatStream if sync else AsyncChatStream)
    chunks = await collect(stream)
    assert len(chunks) == 4
    assert stream.state.final().choices[0].message.content == "Hello"
    assert stream.response.is_closed
    assert rec.last.headers["accept"] == "text/event-stream"


async def test_the_state_delta_is_the_chunk_in_hand_when_one_read_holds_many(sync: bool) -> None:
    # The whole body arrives in one read: each chunk is still taken just before it is yielded.
    body = sse(chunk("Hel"), chunk("lo"), chunk(finish_reason="stop"))
    client, _ = make_client(SERVERLESS, KEY, [reply(sse_body=body)], asynchronous=not sync)
    stream = await maybe_await(client.stream(HI))
    texts = []
    finished = []
    if sync:
        for _chunk in stream:
            delta = stream.state.delta(0)
            texts.append(delta.text if delta else None)
            finished.append(stream.state.finished)
    else:
        async for _chunk in stream:
            delta = stream.state.delta(0)
            texts.append(delta.text if delta else None)
            finished.append(stream.state.finished)
    assert texts == ["Hel", "lo", ""]
    assert finished == [False, False, True]


async def test_dropped_stream_raises_incomplete(sync: bool) -> None:
    body = sse(chunk("", role="assistant"), chunk("Hel"), done=False)
    broken = reply(
        sse_body=body, pieces=7, error=httpx2.RemoteProtocolError("peer closed connection")
    )
    client, rec = make_client(SERVERLESS, KEY, [broken, reply()], asynchronous=not sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError, match="2 chunk"):
        await collect(stream)
    assert len(rec.requests) == 1  # never retried after the first byte
    assert stream.response.is_closed


async def test_stream_that_ends_early_without_an_error(sync: bool) -> None:
    body = sse(chunk("", role="assistant"), chunk("Hel"), done=False)
    client, _ = make_client(SERVERLESS, KEY, [reply(sse_body=body)], asynchronous=not sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError):
        await collect(stream)


async def test_read_timeout_mid_stream(sync: bool) -> None:
    broken = reply(sse_body=sse(chunk("a"), done=False), error=httpx2.ReadTimeout("slow"))
    client, rec = make_client(SERVERLESS, KEY, [broken], asynchronous=not sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(APITimeoutError, match="1 chunk"):
        await collect(stream)
    assert len(rec.requests) == 1


async def test_error_event_through_the_client(sync: bool, sdk_scenarios: dict[str, Any]) -> None:
    body = sdk_scenarios["chat_streaming_error_event"]["responses_served"][0]["sse"].encode()
    client, _ = make_client(SERVERLESS, KEY, [reply(sse_body=body)], asynchronous=not sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(ServerError, match="boom"):
        await collect(stream)
    assert stream.response.is_closed


async def test_service_ignoring_stream_true(sync: bool) -> None:
    """A JSON answer to a stream request is named as such, not parsed as events."""
    client, _ = make_client(SERVERLESS, KEY, [reply()], asynchronous=not sync)
    with pytest.raises(MalformedResponseError, match="text/event-stream"):
        await maybe_await(client.stream(HI))


async def test_json_error_with_200_on_a_stream_request(sync: bool) -> None:
    client, _ = make_client(
        SERVERLESS,
        KEY,
        [reply(200, {"code": 500, "msg": "internal", "data": None})],
        asynchronous=not sync,
    )
    with pytest.raises(ServerError, match="internal"):
        await maybe_await(client.stream(HI))


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        # A whole completion labelled as a stream (or not labelled at all): named, not "dropped".
        (json.dumps(COMPLETION).encode(), MalformedResponseError, "ignored stream=true"),
        # An error object or an error envelope labelled as a stream: the service's own error.
        (b'{"error": {"code": "Overloaded", "message": "try later"}}', ServerError, "try later"),
        (b'{"code": 500, "msg": "internal", "data": null}', ServerError, "internal"),
        # A gateway's HTML page labelled as a stream.
        (b"<html><body>502 Bad Gateway</body></html>", MalformedResponseError, "502 Bad Gateway"),
    ],
    ids=["completion", "error-object", "error-envelope", "html"],
)
@pytest.mark.parametrize("content_type", ["text/event-stream", None])
async def test_a_body_with_no_event_says_what_it_was(
    sync: bool, body: bytes, error: type[Exception], match: str, content_type: str | None
) -> None:
    """The reference SDK (and a bare SSE reader) sees no event and reports an empty stream."""
    headers = {"content-type": content_type} if content_type else {}
    client, _ = make_client(
        SERVERLESS, KEY, [reply(raw=body, headers=headers, pieces=3)], asynchronous=not sync
    )
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(error, match=match):
        await collect(stream)


async def test_stray_lines_beside_events_do_not_hide_a_dropped_stream(sync: bool) -> None:
    body = b"hello there\n" + sse(chunk("", role="assistant"), chunk("Hel"), done=False)
    client, _ = make_client(SERVERLESS, KEY, [reply(sse_body=body)], asynchronous=not sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError, match="2 chunk"):
        await collect(stream)


async def test_closing_a_stream_early(sync: bool) -> None:
    body = sse(chunk("a"), chunk("b"), chunk(finish_reason="stop"))
    client, _ = make_client(
        SERVERLESS, KEY, [reply(sse_body=body, pieces=10)], asynchronous=not sync
    )
    stream = await maybe_await(client.stream(HI))
    if sync:
        with stream:
            first = next(iter(stream))
    else:
        async with stream:
            first = await stream.__aiter__().__anext__()
    assert first.choices[0].delta.content == "a"
    assert stream.response.is_closed


async def test_stream_request_id(sync: bool) -> None:
    body = sse(chunk("a", finish_reason="stop"))
    client, _ = make_client(
        SERVERLESS,
        KEY,
        [reply(sse_body=body, headers={"x-request-id": "rid-1"})],
        asynchronous=not sync,
    )
    stream = await maybe_await(client.stream(HI))
    assert stream.request_id == "rid-1"
    await collect(stream)


async def test_errors_raised_mid_stream_carry_the_request_id(sync: bool) -> None:
    dropped = reply(
        sse_body=sse(chunk("a"), done=False),
        headers={"apim-request-id": "rid-9"},
        error=httpx2.RemoteProtocolError("closed"),
    )
    error_event = reply(
        sse_body=sse(chunk("a"), {"error": {"code": "server_error", "message": "boom"}}),
        headers={"x-request-id": "rid-10"},
    )
    for answer, rid, cls in [
        (dropped, "rid-9", IncompleteStreamError),
        (error_event, "rid-10", ServerError),
    ]:
        client, _ = make_client(SERVERLESS, KEY, [answer], asynchronous=not sync)
        stream = await maybe_await(client.stream(HI))
        with pytest.raises(cls) as info:
            await collect(stream)
        assert info.value.request_id == rid
        assert f"request id: {rid}" in str(info.value)
