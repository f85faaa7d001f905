r"""A tolerant server-sent-events reader: a pure decoder and thin sync/async drivers.

It follows the SSE standard where the reference SDK does not: ``event:``/``id:``/``retry:`` lines,
``:`` comments, ``data:`` with or without the space, multi-line data, ``\n``, ``\r\n`` and
``\r`` line ends, bytes split anywhere (also inside a UTF-8 character), and a last event that is
not followed by a blank line. Unknown fields and stray lines are ignored, as the standard says.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

__all__ = ["SSEDecoder", "ServerSentEvent", "aiter_events", "iter_events"]


class ServerSentEvent:
    """One event: its ``event`` name, raw ``data`` bytes, ``id`` and ``retry``."""

    __slots__ = ("event", "id", "raw", "retry")

    def __init__(
        self,
        raw: bytes,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        self.raw = raw
        self.event = event
        self.id = id
        self.retry = retry

    @property
    def data(self) -> str:
        """The data as text."""
        return self.raw.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.raw, self.event, self.id, self.retry) == (
            other.raw,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


_IGNORED_FIELDS = frozenset({b"retry"})
"""Fields the standard defines that are not kept: not stray text."""


class SSEDecoder:
    """Turns bytes, fed in pieces of any size, into `ServerSentEvent`s."""

    __slots__ = ("_buf", "_data", "_event", "_id", "_pending_cr", "_retry", "stray")

    STRAY_LIMIT = 4096
    """How much of the lines that are not server-sent events `stray` keeps."""

    def __init__(self) -> None:
        self.stray = b""
        """The start of what was not a server-sent-event line (a JSON document or an HTML page
        sent as ``text/event-stream``): kept so a stream without events can say what came."""
        self._buf = b""
        self._pending_cr = False
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Take the next bytes; return the events they complete."""
        if self._pending_cr:
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        data = self._buf + chunk if self._buf else chunk
        if b"\r" in data:
            lines = data.splitlines(keepends=True)
            if lines and not lines[-1].endswith((b"\n", b"\r")):
                self._buf = lines.pop()
            else:
                self._buf = b""
            if data.endswith(b"\r"):
                self._pending_cr = True
            lines = [line.rstrip(b"\r\n") for line in lines]
        else:
            lines = data.split(b"\n")
            self._buf = lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of the byte stream: return a last event not closed by a blank line."""
        events = []
        if self._buf:
            line, self._buf = self._buf.rstrip(b"\r"), b""
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: bytes) -> ServerSentEvent | None:
        if not line:
            if not self._data:
                self._event = None
                return None
            raw = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
            event = ServerSentEvent(raw, self._event, self._id, self._retry)
            self._data = []
            self._event = None
            return event
        if line[:1] == b":":
            return None
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace") or None
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
        elif len(self.stray) < self.STRAY_LIMIT and name not in _IGNORED_FIELDS:
            self.stray = (self.stray + line + b"\n")[: self.STRAY_LIMIT]
        return None


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Yield the events of a byte stream (sync)."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


async def aiter_events(chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Yield the events of a byte stream (async)."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
