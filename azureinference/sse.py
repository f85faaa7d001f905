r"""A tolerant server-sent-events reader: a pure decoder and thin sync/async drivers.

It follows the SSE standard where the reference SDK does not: ``event:``/``id:``/``retry:`` lines,
``:`` comments, ``data:`` with or without the space, multi-line data, ``\n``, ``\r\n`` and
``\r`` line ends, bytes split anywhere (also inside a UTF-8 character), one UTF-8 byte order mark
at the very start of the stream (removed, as the standard says), and a last event that is not
followed by a blank line. Unknown fields and stray lines are ignored, as the standard says.
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


_FIELD_NAMES = (b"data:", b"event:", b"id:", b"retry:")
_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Turns bytes, fed in pieces of any size, into `ServerSentEvent`s.

    Linear in the size of what it is fed: the start of a line that has not ended yet is kept as
    pieces, joined once when its line end comes (a 32 MB line fed in 64 KB chunks is not copied
    500 times).
    """

    __slots__ = ("_data", "_event", "_head", "_id", "_parts", "_pending_cr", "_retry", "stray")

    STRAY_LIMIT = 4096
    """How much of the lines that are not server-sent events `stray` keeps."""

    RETRY_MAX_DIGITS = 18
    """A ``retry:`` value with more digits than this is ignored (the standard: not a number)."""

    def __init__(self) -> None:
        self.stray = b""
        """The start of what was not a server-sent-event line (a JSON document or an HTML page
        sent as ``text/event-stream``): kept so a stream without events can say what came."""
        self._parts: list[bytes] = []
        self._head: bytes | None = b""
        """The first bytes of the stream while they may still be a byte order mark; None after."""
        self._pending_cr = False
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Take the next bytes; return the events they complete."""
        if not chunk:
            # Before the CR check: an empty chunk between a CR and its LF changes nothing.
            return []
        if self._head is not None:
            chunk = self._strip_bom(chunk)
            if not chunk:
                return []
        if self._pending_cr:
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if cut == -1:
            self._parts.append(chunk)
            return []
        head = chunk[: cut + 1]
        if self._parts:
            self._parts.append(head)
            head = b"".join(self._parts)
            self._parts = []
        if cut + 1 < len(chunk):
            self._parts.append(chunk[cut + 1 :])
        if b"\r" in head:
            self._pending_cr = head.endswith(b"\r")
            lines = head.splitlines()
        else:
            lines = head.split(b"\n")
            lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _strip_bom(self, chunk: bytes) -> bytes:
        # The standard removes one leading U+FEFF; it may come split over the first chunks.
        assert self._head is not None
        chunk = self._head + chunk
        if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
            self._head = chunk
            return b""
        self._head = None
        return chunk[len(_BOM) :] if chunk.startswith(_BOM) else chunk

    def flush(self) -> list[ServerSentEvent]:
        """End of the byte stream: return a last event not closed by a blank line."""
        events = []
        if self._head:
            # A stream that ended inside what could have been a byte order mark: not one.
            self._parts.append(self._head)
        self._head = None
        if self._parts:
            line, self._parts = b"".join(self._parts), []
            # A body cut inside a field name ("dat") is a cut stream, not stray text.
            cut_field = any(name.startswith(line) for name in _FIELD_NAMES)
            event = None if cut_field else self._line(line)
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
        elif name == b"retry":
            # int() refuses more than 4,300 digits with a bare ValueError; no sane delay has 19.
            if value.isdigit() and len(value) <= self.RETRY_MAX_DIGITS:
                self._retry = int(value)
        elif len(self.stray) < self.STRAY_LIMIT:
            self.stray = (self.stray + line[: self.STRAY_LIMIT] + b"\n")[: self.STRAY_LIMIT]
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
