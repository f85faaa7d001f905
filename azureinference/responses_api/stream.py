"""Responses streams: one state object assembles the events into the answer; thin drivers.

`ResponsesStreamState.handle_event` takes a server-sent event and returns it parsed
(`ResponseStreamEvent`, the wire's field names), after applying it to the answer so far: items
are keyed by ``output_index`` (falling back to ``item_id``), never by the order of events, as
OpenRouter interleaves items. Text, refusal, function-call argument, reasoning summary and raw
reasoning deltas are appended to their item; ``output_item.done`` replaces the item with the
service's whole one; the terminal event's ``response`` (``response.completed`` /
``response.incomplete``) is the answer (`final`). An ``error`` event or ``response.failed``
raises the service's error (`error_from_failure`). A stream that ends without a terminal event
raises `IncompleteStreamError` (`check_complete`): never a short answer.

Reading along, an adapter asks `ResponsesStreamState.item` for the item an event belongs to
(the function call's ``call_id`` and ``name`` for an arguments delta, say).

`ResponseStream` / `AsyncResponseStream` drive it over an open HTTP response, like `ChatStream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

from azureinference.errors import (
    APIError,
    IncompleteStreamError,
    MalformedResponseError,
    request_id_from,
)
from azureinference.responses import parse_stream_error
from azureinference.sse import ServerSentEvent, SSEDecoder
from azureinference.streaming import (
    _abytes_or_failure,
    _bytes_or_failure,
    _explain_stray,
    _warn_unclosed,
)
from azureinference.telemetry import NO_OPERATION
from azureinference.types import ChatCompletion, CompletionUsage

from .parse import error_from_failure, parse_response_event
from .types import (
    FunctionCallItem,
    MessageItem,
    OutputItem,
    OutputText,
    ReasoningItem,
    ReasoningText,
    Refusal,
    Response,
    ResponseStreamEvent,
    SummaryText,
)

__all__ = ["AsyncResponseStream", "ResponseStream", "ResponsesStreamState"]

_DONE = b"[DONE]"
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete"})
_LIFECYCLE_EVENTS = frozenset(
    {"response.created", "response.in_progress", "response.queued", *TERMINAL_EVENTS}
)


class ResponsesStreamState:
    """Accumulates a Responses stream. Pure: feed it events, ask for the answer.

    Attributes:
        response: The latest lifecycle snapshot (``response.created`` ... the terminal event's
            whole answer), or None before the first.
        terminal: The terminal event's type once it came (``response.completed`` or
            ``response.incomplete``).
        chunk_count: Events taken so far.
    """

    def __init__(self) -> None:
        self.response: Response | None = None
        self.terminal: str | None = None
        self.done = False
        self.chunk_count = 0
        self._items: dict[int, OutputItem] = {}
        self._ids: dict[str, int] = {}

    # ---- reading along ----

    @property
    def id(self) -> str | None:
        """The response id, once ``response.created`` came."""
        return self.response.id if self.response is not None else None

    @property
    def usage(self) -> Any:
        """The usage, once the terminal event came (a `ResponseUsage`)."""
        return self.response.usage if self.response is not None else None

    def item(
        self, output_index: int | None = None, item_id: str | None = None
    ) -> OutputItem | None:
        """The output item as assembled so far, by ``output_index`` (or ``item_id``)."""
        if output_index is None and item_id is not None:
            output_index = self._ids.get(item_id)
        return self._items.get(output_index) if output_index is not None else None

    @property
    def items(self) -> list[OutputItem]:
        """The output items so far, by ``output_index``."""
        return [self._items[i] for i in sorted(self._items)]

    # ---- taking events ----

    def handle_event(self, event: ServerSentEvent) -> ResponseStreamEvent | None:
        """Take one server-sent event; return it parsed, or None for ``[DONE]`` and empty ones.

        Raises:
            APIStatusError: An ``error`` event, or ``response.failed``.
            MalformedResponseError: The event's data is not an event object.
        """
        raw = event.raw
        if not raw or raw.isspace():
            return None
        if raw.strip() == _DONE:
            self.done = True
            return None
        if event.event == "error" and b'"type"' not in raw:
            raise parse_stream_error(raw)
        return self.handle(parse_response_event(raw))

    def handle(self, event: ResponseStreamEvent) -> ResponseStreamEvent:
        """Apply one parsed event to the answer so far and return it.

        Raises:
            APIStatusError: An ``error`` event, or ``response.failed``.
        """
        self.chunk_count += 1
        kind = event.type
        if kind in _LIFECYCLE_EVENTS:
            if event.response is not None:
                self.response = event.response
            if kind in TERMINAL_EVENTS:
                self.terminal = kind
        elif kind == "response.failed":
            failed = event.response
            if failed is not None:
                self.response = failed
            error = failed.error.model_dump() if failed is not None and failed.error else None
            raise error_from_failure(error, where="The response failed in the stream")
        elif kind == "error":
            extra = event.model_extra or {}
            error = extra.get("error", extra)
            raise error_from_failure(error, where="The stream carried an error event")
        elif kind == "response.output_item.added" or kind == "response.output_item.done":
            if event.item is not None and event.output_index is not None:
                self._put(event.output_index, event.item.model_copy(deep=True))
        elif kind.endswith(".delta"):
            self._delta(kind, event)
        elif kind in ("response.content_part.added", "response.reasoning_summary_part.added"):
            self._part_added(kind, event)
        return event

    def _put(self, index: int, item: OutputItem) -> None:
        self._items[index] = item
        if item.id:
            self._ids[item.id] = index

    def _target(self, event: ResponseStreamEvent) -> OutputItem | None:
        index = event.output_index
        if index is None and event.item_id is not None:
            index = self._ids.get(event.item_id)
        return self._items.get(index) if index is not None else None

    def _part_added(self, kind: str, event: ResponseStreamEvent) -> None:
        item = self._target(event)
        part = event.part or {}
        if kind == "response.content_part.added" and isinstance(item, MessageItem):
            index = event.content_index or 0
            while len(item.content) <= index:
                item.content.append(OutputText())
            if part.get("type") == "refusal":
                item.content[index] = Refusal()
            elif part.get("type") == "output_text":
                item.content[index] = OutputText()
        elif kind == "response.content_part.added" and isinstance(item, ReasoningItem):
            content = item.content if item.content is not None else []
            item.content = content
            while len(content) <= (event.content_index or 0):
                content.append(ReasoningText())
        elif isinstance(item, ReasoningItem):
            while len(item.summary) <= (event.summary_index or 0):
                item.summary.append(SummaryText())

    def _delta(self, kind: str, event: ResponseStreamEvent) -> None:
        delta = event.delta
        if not isinstance(delta, str) or not delta:
            return
        item = self._target(event)
        if item is None:
            return
        if kind == "response.output_text.delta" and isinstance(item, MessageItem):
            part = _part(item, event.content_index, OutputText)
            if isinstance(part, OutputText):
                part.text += delta
        elif kind == "response.refusal.delta" and isinstance(item, MessageItem):
            part = _part(item, event.content_index, Refusal)
            if isinstance(part, Refusal):
                part.refusal += delta
        elif kind == "response.function_call_arguments.delta" and isinstance(
            item, FunctionCallItem
        ):
            item.arguments += delta
        elif kind == "response.reasoning_summary_text.delta" and isinstance(item, ReasoningItem):
            index = event.summary_index or 0
            while len(item.summary) <= index:
                item.summary.append(SummaryText())
            item.summary[index].text += delta
        elif kind == "response.reasoning_text.delta" and isinstance(item, ReasoningItem):
            content = item.content if item.content is not None else []
            item.content = content
            index = event.content_index or 0
            while len(content) <= index:
                content.append(ReasoningText())
            content[index].text += delta

    # ---- the end ----

    @property
    def finished(self) -> bool:
        """True once a terminal event came."""
        return self.terminal is not None

    def check_complete(self, stray: bytes = b"", headers: Any = None) -> None:
        """Raise if the stream ended before its terminal event.

        Raises:
            IncompleteStreamError: No ``response.completed`` / ``response.incomplete``.
            APIStatusError: No event came, and the body was a JSON error.
            MalformedResponseError: No event came, and the body was something else.
        """
        if self.finished:
            return
        if self.chunk_count == 0 and stray.strip():
            _explain_stray(stray, headers or {})
        raise IncompleteStreamError(
            f"The Responses stream ended after {self.chunk_count} event(s) without "
            "response.completed or response.incomplete: the answer is incomplete (the connection "
            "may have dropped)."
        )

    def final(self) -> Response:
        """The answer: the terminal event's, or the one assembled so far (status as it stands).

        Where the terminal event's ``output`` is empty but items came (a gateway that does not
        repeat them), the assembled items are used.
        """
        items = self.items
        if self.response is None:
            return Response(object="response", status="in_progress", output=items)
        response = self.response
        if self.terminal is None or (not response.output and items):
            response = response.model_copy(update={"output": items})
        return response


def _part(item: MessageItem, index: int | None, cls: type[Any]) -> Any:
    index = index or 0
    while len(item.content) <= index:
        item.content.append(cls())
    return item.content[index]


class _TelemetryView:
    """What the telemetry operation reads of a stream, in chat's shapes."""

    __slots__ = ("_state",)

    def __init__(self, state: ResponsesStreamState) -> None:
        self._state = state

    @property
    def chunk_count(self) -> int:
        return self._state.chunk_count

    @property
    def usage(self) -> CompletionUsage | None:
        usage = self._state.usage
        return usage.to_completion_usage() if usage is not None else None

    def final(self) -> ChatCompletion:
        return self._state.final().to_chat_completion()


class _ResponseStreamBase:
    def __init__(
        self,
        response: httpx2.Response,
        *,
        telemetry: Any = NO_OPERATION,
        owner: object = None,
    ) -> None:
        self.response = response
        self._owner = owner  # the client (and its pool) lives as long as the stream
        self.state = ResponsesStreamState()
        self._decoder = SSEDecoder()
        self._telemetry = telemetry
        self._view = _TelemetryView(self.state)
        if telemetry.active:
            telemetry.watch_stream(self, self._view)

    @property
    def request_id(self) -> str | None:
        """The service's request id."""
        return request_id_from(self.response.headers)

    def _tag(self, err: APIError) -> None:
        request_id = self.request_id
        if request_id and err.request_id is None:
            err.request_id = request_id
            err.message = f"{err.message} (request id: {request_id})"
            err.args = (err.message,)

    def _events(self, chunk: bytes) -> list[ResponseStreamEvent]:
        out = []
        handle = self.state.handle_event
        for sse in self._decoder.feed(chunk):
            parsed = handle(sse)
            if parsed is not None:
                out.append(parsed)
        if out:
            self._telemetry.first_chunk()
        return out

    def _flush(self) -> list[ResponseStreamEvent]:
        out = []
        for sse in self._decoder.flush():
            try:
                parsed = self.state.handle_event(sse)
            except MalformedResponseError as exc:
                raise IncompleteStreamError(
                    f"The Responses stream ended inside an event after {self.state.chunk_count} "
                    "event(s): the answer is incomplete (the connection may have dropped)."
                ) from exc
            if parsed is not None:
                out.append(parsed)
        return out

    def _end(self, err: APIError | None = None) -> None:
        self._telemetry.end_stream(self._view, err)


class ResponseStream(_ResponseStreamBase):
    """Iterate the events of a streamed Responses answer; ``.state.final()`` after the loop.

    Use as an iterator or a context manager; the connection closes when the stream ends, on an
    error, or on `close`.

    Raises:
        IncompleteStreamError: The stream stopped before its terminal event.
        APIStatusError: An ``error`` event or ``response.failed``, as the service's error.
    """

    def __iter__(self) -> Iterator[ResponseStreamEvent]:
        try:
            for raw in _bytes_or_failure(self.response.iter_bytes(), self.state):
                if isinstance(raw, APIError):
                    raise raw  # here, where the httpx2 error is not its __context__
                yield from self._events(raw)
            yield from self._flush()
            self.state.check_complete(self._decoder.stray, self.response.headers)
        except APIError as err:
            self._tag(err)
            self._end(err)
            raise
        finally:
            self.close()

    def until_done(self) -> Response:
        """Read the rest of the stream and return the answer."""
        for _ in self:
            pass
        return self.state.final()

    def close(self) -> None:
        """Close the connection."""
        self.response.close()
        self._end()

    def __enter__(self) -> ResponseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        response = self.__dict__.get("response")
        if response is not None and not response.is_closed:
            response.close()
            name = type(self).__name__
            del self
            _warn_unclosed(name)


class AsyncResponseStream(_ResponseStreamBase):
    """The async form of `ResponseStream`."""

    async def __aiter__(self) -> AsyncIterator[ResponseStreamEvent]:
        try:
            async for raw in _abytes_or_failure(self.response.aiter_bytes(), self.state):
                if isinstance(raw, APIError):
                    raise raw
                for event in self._events(raw):
                    yield event
            for event in self._flush():
                yield event
            self.state.check_complete(self._decoder.stray, self.response.headers)
        except APIError as err:
            self._tag(err)
            self._end(err)
            raise
        finally:
            await self.aclose()

    async def until_done(self) -> Response:
        """Read the rest of the stream and return the answer."""
        async for _ in self:
            pass
        return self.state.final()

    async def aclose(self) -> None:
        """Close the connection."""
        await self.response.aclose()
        self._end()

    async def __aenter__(self) -> AsyncResponseStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        response = self.__dict__.get("response")
        if response is not None and not response.is_closed:
            name = type(self).__name__
            del self
            _warn_unclosed(name)
