"""The SSE decoder: the standard's edge cases, the SDK's failures, and re-chunking fuzzed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azureinference import ServerSentEvent, SSEDecoder, aiter_events, iter_events

from .core_support import split


def events(data: bytes | list[bytes]) -> list[ServerSentEvent]:
    return list(iter_events([data] if isinstance(data, bytes) else data))


def datas(data: bytes | list[bytes]) -> list[str]:
    return [e.data for e in events(data)]


# ---- anthropic tests/test_streaming.py's list, and the standard ----


def test_basic() -> None:
    assert datas(b'data: {"a": 1}\n\ndata: [DONE]\n\n') == ['{"a": 1}', "[DONE]"]


def test_event_name_id_and_retry() -> None:
    (event,) = events(b"event: completion\nid: 7\nretry: 3000\ndata: x\n\n")
    assert (event.event, event.id, event.retry, event.data) == ("completion", "7", 3000, "x")


def test_missing_event_name() -> None:
    (event,) = events(b"data: x\n\n")
    assert event.event is None


def test_event_without_data_is_not_dispatched() -> None:
    assert events(b"event: ping\n\nevent: completion\ndata: x\n\n") == [
        ServerSentEvent(b"x", "completion")
    ]


def test_event_name_does_not_leak_into_the_next_event() -> None:
    got = events(b"event: a\ndata: 1\n\ndata: 2\n\n")
    assert [(e.event, e.data) for e in got] == [("a", "1"), (None, "2")]


def test_multi_line_data() -> None:
    assert datas(b"data: line one\ndata: line two\ndata:\n\n") == ["line one\nline two\n"]


def test_escaped_newlines_stay_escaped() -> None:
    assert datas(b'data: {"t": "a\\nb"}\n\n') == ['{"t": "a\\nb"}']


def test_only_one_leading_space_is_removed() -> None:
    assert datas(b"data:  two spaces\n\ndata:none\n\n") == [" two spaces", "none"]


def test_field_without_colon_and_unknown_fields_are_ignored() -> None:
    assert datas(b"foo: bar\ndata: x\nweird line\n\n") == ["x"]
    # "data" alone is a data field with an empty value: one empty event.
    (event,) = events(b"data\n\n")
    assert event.raw == b""


def test_comments_are_ignored() -> None:
    assert datas(b": keep-alive\n\n:another\ndata: x\n\n") == ["x"]


def test_id_with_nul_is_ignored_and_id_persists() -> None:
    got = events(b"id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\n")
    assert [e.id for e in got] == ["1", "1"]


def test_bad_retry_is_ignored() -> None:
    (event,) = events(b"retry: soon\ndata: x\n\n")
    assert event.retry is None


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_line_endings(eol: bytes) -> None:
    body = b"event: m" + eol + b"data: 1" + eol + eol + b"data: 2" + eol + b"data: 3" + eol + eol
    got = events(body)
    assert [(e.event, e.data) for e in got] == [("m", "1"), (None, "2\n3")]
    # ...and split at every byte, including between \r and \n.
    assert events(split(body, 1)) == got


def test_mixed_line_endings() -> None:
    assert datas(b"data: a\r\n\ndata: b\n\r\ndata: c\r\r") == ["a", "b", "c"]


def test_multibyte_characters_split_across_chunks() -> None:
    body = 'data: {"t": "wörld 你好 🎉"}\n\n'.encode()
    for size in (1, 2, 3, 5, 7):
        assert datas(split(body, size)) == ['{"t": "wörld 你好 🎉"}']


def test_last_event_without_a_blank_line() -> None:
    assert datas(b"data: a\n\ndata: b") == ["a", "b"]
    assert datas(b"data: a\n\ndata: b\n") == ["a", "b"]
    assert datas(b"data: a\n\ndata: b\r") == ["a", "b"]


def test_empty_and_blank_streams() -> None:
    assert events(b"") == []
    assert events([]) == []
    assert events(b"\n\n\r\n\r\n") == []


def test_decoder_feed_returns_events_as_soon_as_they_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent(b"a")]
    assert decoder.feed(b"data: b") == []
    assert decoder.flush() == [ServerSentEvent(b"b")]
    assert decoder.flush() == []


def test_event_repr_and_equality() -> None:
    event = ServerSentEvent(b"x", "m", "1")
    assert "m" in repr(event)
    assert event == ServerSentEvent(b"x", "m", "1")
    assert event != ServerSentEvent(b"y", "m", "1")
    assert event != "x"


async def test_async_driver() -> None:
    body = b"event: m\ndata: 1\n\ndata: 2\n\n"

    async def pieces() -> AsyncIterator[bytes]:
        for piece in split(body, 3):
            yield piece

    got = [e async for e in aiter_events(pieces())]
    assert got == events(body)


# ---- what the reference SDK rejects (tests/data/sdk_wire_capture.json) ----


@pytest.mark.parametrize(
    "name",
    [
        "chat_streaming_crlf",
        "chat_streaming_event_lines",
        "chat_streaming_no_space",
        "chat_streaming_comment_line",
    ],
)
def test_streams_the_sdk_rejects_decode_here(sdk_scenarios: dict[str, Any], name: str) -> None:
    """Better than the SDK: CRLF, ``event:`` lines, ``data:`` without a space and ``:`` comments.

    The SDK raised ``ValueError("SSE event not supported ...")`` on each of these streams.
    """
    scenario = sdk_scenarios[name]
    assert scenario["sdk_exception"]["type"] == "builtins.ValueError"
    body = scenario["responses_served"][0]["sse"].encode()
    got = events(body)
    assert got, "no events"
    assert got[-1].data == "[DONE]"
    assert all(e.data.startswith("{") for e in got[:-1])
    assert events(split(body, 7)) == got


def test_split_bytes_scenario(sdk_scenarios: dict[str, Any]) -> None:
    body = sdk_scenarios["chat_streaming_split_bytes"]["responses_served"][0]["sse"].encode()
    assert events(split(body, 7)) == events(body)
    assert len(events(body)) == 6


# ---- fuzzing ----

_line = st.one_of(
    st.builds(
        lambda v: b"data: " + v,
        st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20).map(
            str.encode
        ),
    ),
    st.builds(lambda v: b"data:" + v, st.text(alphabet='ab{}": ', max_size=10).map(str.encode)),
    st.builds(lambda v: b"event: " + v, st.sampled_from([b"message", b"messages", b"error", b""])),
    st.builds(lambda v: b": " + v, st.text(alphabet="xyz ", max_size=8).map(str.encode)),
    st.builds(lambda v: b"id: " + v, st.text(alphabet="0123456789", max_size=4).map(str.encode)),
    st.just(b"retry: 100"),
    st.just(b""),
    st.just(b"data"),
)


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_line, max_size=25))
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    body = eol.join(lines)
    if draw(st.booleans()):
        body += eol + eol
    return body


@st.composite
def cuts(draw: st.DrawFn, data: bytes) -> list[bytes]:
    points = sorted(draw(st.sets(st.integers(min_value=0, max_value=len(data)), max_size=12)))
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rechunking_anywhere_gives_the_same_events(data: st.DataObject) -> None:
    body = data.draw(sse_bodies())
    pieces = data.draw(cuts(body))
    assert b"".join(pieces) == body
    assert events(pieces) == events(body)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_async_driver_matches_the_sync_one(data: st.DataObject) -> None:
    body = data.draw(sse_bodies())
    pieces = data.draw(cuts(body))

    async def run() -> list[ServerSentEvent]:
        async def gen() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

        return [e async for e in aiter_events(gen())]

    assert asyncio.run(run()) == events(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_garbage_never_crashes_the_decoder(pieces: list[bytes]) -> None:
    got = events(pieces)
    assert all(isinstance(e.raw, bytes) for e in got)
    assert all(isinstance(e.data, str) for e in got)
    assert got == events(b"".join(pieces))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(st.characters(codec="utf-8"), max_size=30), min_size=1, max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_data_round_trips(payloads: list[str], eol: str) -> None:
    """Any text without line breaks sent as ``data:`` lines comes back unchanged."""
    clean = [p.replace("\r", "").replace("\n", "") for p in payloads]
    body = "".join(f"data: {p}{eol}{eol}" for p in clean).encode()
    assert datas(split(body, 3)) == clean


def test_lines_that_are_not_events_are_kept_for_the_error_but_bounded() -> None:
    decoder = SSEDecoder()
    page = b"<html>" + b"x" * 10_000 + b"</html>\n"
    assert decoder.feed(b"retry: 10\n: a comment\n" + page + b"data: 1\n\n")[0].data == "1"
    assert decoder.stray.startswith(b"<html>xxx")  # comments and known fields are not stray
    assert len(decoder.stray) == SSEDecoder.STRAY_LIMIT
