"""Issue 9, items 11-13 and the pinned "a dropped stream never looks complete".

The SSE decoder is linear in line length, ignores absurd ``retry:`` values, keeps CR LF together
across an empty chunk, and a stream that ends inside an event (cleanly or not) raises
`IncompleteStreamError`, never a short answer or `MalformedResponseError`.
"""

from __future__ import annotations

import json

import pytest

from azureinference import AsyncClient, Client, IncompleteStreamError
from azureinference.sse import ServerSentEvent, SSEDecoder, iter_events

from .core_server import LocalServer, send_sse
from .core_support import chunk, sse

# A line of 16 MB in 2 KB chunks: the old decoder copied the buffered start of the line on every
# chunk (8,192 copies of 8 MB on average, minutes); a linear one reads it once.
_BIG = 16 << 20
_PIECE = 2048


@pytest.mark.timeout(60)
def test_a_long_line_is_read_in_linear_work() -> None:
    line = b"data: " + b"x" * _BIG + b"\n\n"
    decoder = SSEDecoder()
    events = []
    for start in range(0, len(line), _PIECE):
        events += decoder.feed(line[start : start + _PIECE])
    assert len(events) == 1
    assert len(events[0].raw) == _BIG


@pytest.mark.parametrize("digits", [19, 4301, 5000])
def test_a_huge_retry_field_is_ignored(digits: int) -> None:
    body = b"retry: " + b"9" * digits + b"\ndata: x\n\n"
    assert list(iter_events([body])) == [ServerSentEvent(b"x")]


def test_a_sane_retry_field_is_kept() -> None:
    assert next(iter(iter_events([b"retry: 1500\ndata: x\n\n"]))).retry == 1500


@pytest.mark.parametrize(
    "pieces",
    [
        [b"data: a\r", b"", b"\ndata: b\r\n\r\n"],
        [b"data: a\r", b"", b"", b"\n", b"data: b\r\n", b"\r", b"", b"\n"],
        [b"data: a\r", b"\n", b"", b"data: b\r", b"", b"\n\r", b"", b"\n"],
    ],
)
def test_an_empty_chunk_between_cr_and_lf_does_not_split_an_event(pieces: list[bytes]) -> None:
    assert list(iter_events(pieces)) == [ServerSentEvent(b"a\nb")]


def _stream_body() -> bytes:
    events = [
        chunk("", role="assistant"),
        chunk('Hello "world", ünïcode'),
        chunk(" and more text"),
        chunk(finish_reason="stop"),
    ]
    return b"".join(sse(e, done=False) for e in events)


def _cut_points(body: bytes) -> list[int]:
    """Every cut that leaves the stream unfinished: before the finish_reason event has ended."""
    last = body.rindex(b"data: ")
    return list(range(0, last + len(b"data: {")))


def test_a_stream_closed_cleanly_mid_event_is_incomplete(local_server: LocalServer) -> None:
    body = _stream_body()
    cuts = _cut_points(body)[::3]  # ~200 cut points: every third byte of the unfinished part
    assert 100 < len(cuts) < 400
    errors = {}
    with Client(local_server.url, "k") as client:
        for cut in cuts:
            local_server.then(send_sse([body[:cut]] if cut else []))
            try:
                list(client.stream([{"role": "user", "content": "hi"}]))
            except IncompleteStreamError:
                continue
            except Exception as exc:  # what the issue saw: MalformedResponseError
                errors[cut] = repr(exc)
            else:
                errors[cut] = "looked complete"
    assert errors == {}


def test_a_stream_cut_at_any_byte_never_looks_complete(local_server: LocalServer) -> None:
    body = _stream_body()
    with Client(local_server.url, "k") as client:
        for cut in _cut_points(body)[::7]:
            local_server.then(send_sse([body[:cut]], drop=True))
            with pytest.raises(IncompleteStreamError):
                list(client.stream([{"role": "user", "content": "hi"}]))


def test_a_stream_ending_after_its_finish_reason_without_a_blank_line_is_complete(
    local_server: LocalServer,
) -> None:
    body = _stream_body().rstrip(b"\n")
    local_server.then(send_sse([body]))
    with Client(local_server.url, "k") as client:
        chunks = list(client.stream([{"role": "user", "content": "hi"}]))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert json.loads(body.split(b"data: ")[-1])["choices"][0]["finish_reason"] == "stop"


async def test_an_async_stream_closed_cleanly_mid_event_is_incomplete(
    local_server: LocalServer,
) -> None:
    body = _stream_body()
    cuts = _cut_points(body)[1::11]
    client = AsyncClient(local_server.url, "k")
    for cut in cuts:
        local_server.then(send_sse([body[:cut]]))
        stream = await client.stream([{"role": "user", "content": "hi"}])
        with pytest.raises(IncompleteStreamError):
            async for _ in stream:
                pass
    await client.aclose()


# ---- issue 21 item 2: a stream that starts with a UTF-8 byte order mark ----

_BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("cut", range(6))
def test_one_leading_byte_order_mark_is_removed_wherever_the_chunks_split(cut: int) -> None:
    body = _BOM + b"data: Hello\n\ndata: x\n\n"
    assert [e.data for e in iter_events([body[:cut], body[cut:]])] == ["Hello", "x"]
    assert [e.data for e in iter_events([body[i : i + 1] for i in range(len(body))])] == [
        "Hello",
        "x",
    ]


def test_only_the_first_byte_order_mark_is_removed() -> None:
    # A second BOM is part of the first line: the field name is then not "data", as in browsers.
    assert list(iter_events([_BOM + _BOM + b"data: a\n\ndata: b\n\n"])) == [ServerSentEvent(b"b")]
    # A BOM later in the stream is data, not removed.
    assert [e.raw for e in iter_events([b"data: a\n\ndata: " + _BOM + b"b\n\n"])] == [
        b"a",
        _BOM + b"b",
    ]


def test_a_stream_that_is_only_part_of_a_byte_order_mark_has_no_events() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(_BOM[:2]) == []
    assert decoder.flush() == []
    assert decoder.stray == _BOM[:2] + b"\n"


def test_a_streamed_answer_starting_with_a_byte_order_mark_keeps_its_first_chunk(
    local_server: LocalServer,
) -> None:
    body = _stream_body()
    local_server.then(send_sse([_BOM[:1], _BOM[1:] + body[:5], body[5:]]))
    with Client(local_server.url, "k") as client:
        chunks = list(client.stream([{"role": "user", "content": "hi"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == 'Hello "world", ünïcode and more text'


async def test_an_async_streamed_answer_starting_with_a_byte_order_mark_keeps_its_first_chunk(
    local_server: LocalServer,
) -> None:
    body = _stream_body()
    local_server.then(send_sse([_BOM[:1], _BOM[1:] + body[:5], body[5:]]))
    async with AsyncClient(local_server.url, "k") as client:
        stream = await client.stream([{"role": "user", "content": "hi"}])
        chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == 'Hello "world", ünïcode and more text'
