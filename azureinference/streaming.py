"""Chat streams: one state object turns events into chunks and the final answer; thin drivers.

`ChatStreamState` takes server-sent events, returns parsed chunks (left as the service sent
them), accumulates the answer, and knows whether the stream finished (`finished`). For each chunk
it also says what the chunk added to each choice, normalised (`ChatStreamState.delta`): the text
whatever its wire shape, and each tool-call piece with the call's stable position (keyed by
``index`` when the service sends one and by ``id`` otherwise, as the spec's deltas have none) and
its id and name only where they are new. A stream that stops without a ``finish_reason`` or
``[DONE]`` raises `IncompleteStreamError`: a dropped connection never looks like a complete,
short answer.

`ChatStream` / `AsyncChatStream` drive it over an open HTTP response.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pydantic

from ._bodylog import log_event
from ._failures import stream_failure
from .errors import (
    APIError,
    IncompleteStreamError,
    MalformedResponseError,
)
from .responses import parse_chat_chunk, parse_chat_completion, parse_stream_error
from .sse import ServerSentEvent, SSEDecoder
from .telemetry import NO_OPERATION
from .think import ThinkSplitter
from .types import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatResponseMessage,
    CompletionUsage,
    FunctionCall,
    StreamingChoice,
    ToolCall,
)

__all__ = [
    "AsyncChatStream",
    "ChatStream",
    "ChatStreamState",
    "ChoiceDelta",
    "ChoiceState",
    "ToolCallPiece",
    "merge_filter_results",
]

log = logging.getLogger("azureinference")

_DONE = b"[DONE]"


class ChoiceState:
    """One choice of a stream, assembled so far (``ChatStreamState.choice(index)``).

    Attributes:
        role: The role the stream gave, if any.
        text: The text so far (``content`` strings, or the ``text`` parts of content lists).
        reasoning: The reasoning so far, in any spelling (see `Delta.reasoning_text`).
        refusal: The refusal so far (``delta.refusal`` pieces).
        finish_reason: The finish reason, once it came.
        tool_calls: The tool calls so far: ``{"id", "name", "arguments": [pieces]}`` dicts.
        content_filter_results: Azure's filter results for the answer, merged across chunks
            (per category, the most severe seen), or None when the service sent none.
    """

    __slots__ = (
        "content_filter_results",
        "finish_reason",
        "reasoning",
        "refusal",
        "role",
        "text",
        "think",
        "tool_calls",
        "tool_keys",
    )

    def __init__(self, think: ThinkSplitter | None = None) -> None:
        self.role: str | None = None
        # Strings grown in place rather than lists joined on demand: an adapter asks for the
        # text so far after every chunk, and joining all pieces each time is quadratic.
        self.text = ""
        self.reasoning = ""
        self.refusal = ""
        self.finish_reason: str | None = None
        self.tool_calls: list[dict[str, Any]] = []
        self.tool_keys: dict[Any, int] = {}
        self.content_filter_results: dict[str, Any] | None = None
        # Separates a <think> block at the start of the text (None: the text is kept as sent).
        self.think = think


@dataclass(frozen=True, slots=True)
class ToolCallPiece:
    """One piece of a streamed tool call, as `ChatStreamState` read it.

    Attributes:
        position: The call's place among its choice's tool calls (0, 1...), the same for every
            piece of one call, whatever ``index`` (or none) the service sent.
        id: The call's id where this piece brings it; None where it is absent or repeats the
            id the call already has (llama.cpp repeats it in every delta).
        name: The function name, likewise (so a consumer that concatenates pieces, as
            LangChain's chunks do, gets ``get_weather``, not ``get_weatherget_weather``).
        arguments: This piece of the arguments (a JSON fragment), or None.
    """

    position: int
    id: str | None
    name: str | None
    arguments: str | None


@dataclass(frozen=True, slots=True)
class ChoiceDelta:
    """What one chunk added to one choice, normalised (the chunk itself stays as it was sent).

    Attributes:
        index: The choice.
        text: New text (``content`` as a string or the ``text`` parts of a content list).
        reasoning: New reasoning, in any spelling (see `Delta.reasoning_text`).
        refusal: New refusal text.
        tool_calls: New tool-call pieces.
        finish_reason: The finish reason, if this chunk gave it.
        logprobs: The chunk's ``logprobs`` for this choice, if any.
    """

    index: int
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: tuple[ToolCallPiece, ...] = ()
    finish_reason: str | None = None
    logprobs: Any = None

    @property
    def is_empty(self) -> bool:
        """True when the chunk added no text, reasoning, refusal or tool-call piece."""
        return not (self.text or self.reasoning or self.refusal or self.tool_calls)


_SEVERITY = {"safe": 0, "low": 1, "medium": 2, "high": 3}


def _filter_rank(result: Any) -> tuple[int, int, int]:
    if not isinstance(result, dict):
        return (0, 0, 0)
    severity = _SEVERITY.get(str(result.get("severity")), 0)
    return (bool(result.get("filtered")), bool(result.get("detected")), severity)


def merge_filter_results(
    merged: dict[str, Any] | None, new: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Merge Azure ``content_filter_results`` of two stream chunks: the most severe per category.

    Azure rates each piece of a streamed answer; the answer as a whole is as filtered, detected
    and severe as its worst piece. Empty results (``{}``) add nothing.
    """
    if not new:
        return merged
    out = dict(merged or {})
    for category, result in new.items():
        if category not in out or _filter_rank(result) >= _filter_rank(out[category]):
            out[category] = result
    return out


class ChatStreamState:
    """Accumulates a chat stream. Pure: feed it events or chunks, ask for the result.

    Besides the final answer (`final`), it gives the answer so far: `choice` (text, reasoning,
    refusal and tool calls of a choice), `usage`, and `prompt_filter_results`.

    A ``<think>...</think>`` block at the start of a choice's text is separated from it as it
    streams (`azureinference.think.ThinkSplitter`): what each chunk added (`delta`) has the
    answer alone in ``text`` and the block's text in ``reasoning``, however the tags were cut
    (the chunks themselves stay as sent); ``keep_think_tags=True`` keeps the text as sent.

    Args:
        keep_think_tags: Keep ``<think>`` blocks in the text.
        on_model: Called once with the first model name a chunk gives.
    """

    def __init__(
        self, keep_think_tags: bool = False, on_model: Callable[[str], None] | None = None
    ) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.system_fingerprint: str | None = None
        self.usage: CompletionUsage | None = None
        self.prompt_filter_results: list[Any] | None = None
        self.done = False
        self.chunk_count = 0
        self._choices: dict[int, ChoiceState] = {}
        self._deltas: dict[int, ChoiceDelta] = {}
        self._split_think = not keep_think_tags
        self._on_model = on_model

    def choice(self, index: int = 0) -> ChoiceState | None:
        """The choice ``index`` as assembled so far (None before its first delta)."""
        return self._choices.get(index)

    def delta(self, index: int = 0) -> ChoiceDelta | None:
        """What the last chunk taken added to choice ``index`` (None: it had no such choice)."""
        return self._deltas.get(index)

    def handle_event(self, event: ServerSentEvent) -> ChatCompletionChunk | None:
        """Take one event; return its chunk, or None for ``[DONE]`` and empty events.

        Raises:
            APIStatusError: The event is an error object, or an ``event: error``.
            MalformedResponseError: The event's data is not a chunk.
        """
        raw = event.raw
        if event.event == "error":
            raise parse_stream_error(raw)
        if not raw or raw.isspace():
            self._deltas = {}
            return None
        if raw == _DONE or raw.strip() == _DONE:
            self.done = True
            self._deltas = {}
            return None
        return self.handle_chunk(parse_chat_chunk(raw))

    def handle_chunk(self, chunk: ChatCompletionChunk) -> ChatCompletionChunk:
        """Take one parsed chunk and accumulate it; return it as it was sent.

        What it added to each choice, normalised, is then `delta` (index).
        """
        self.chunk_count += 1
        self._note_answer(chunk)
        self._deltas = {}
        for choice in chunk.choices or ():
            self._deltas[choice.index] = self._take_choice(choice)
        return chunk

    def _note_answer(self, chunk: ChatCompletionChunk) -> None:
        """Keep what a chunk says about the whole answer: ids, model, usage, prompt filters."""
        if chunk.id and self.id is None:
            self.id = chunk.id
        if chunk.model and self.model is None:
            self.model = chunk.model
            if self._on_model is not None:
                self._on_model(chunk.model)
        if chunk.created and self.created is None:
            self.created = chunk.created
        if chunk.system_fingerprint:
            self.system_fingerprint = chunk.system_fingerprint
        if chunk.usage is not None:
            self.usage = chunk.usage
        extra = chunk.__pydantic_extra__
        if extra and "x_groq" in extra and chunk.usage is None:
            self._groq_usage(extra["x_groq"])
        if chunk.prompt_filter_results:
            self.prompt_filter_results = [
                *(self.prompt_filter_results or ()),
                *chunk.prompt_filter_results,
            ]

    def _take_choice(self, choice: StreamingChoice) -> ChoiceDelta:
        """Add one choice's delta to its `ChoiceState`; return it normalised."""
        state = self._choices.get(choice.index)
        if state is None:
            think = ThinkSplitter() if self._split_think else None
            state = self._choices[choice.index] = ChoiceState(think)
        delta = choice.delta
        if delta.role:
            state.role = delta.role
        content = delta.content
        text = (content if isinstance(content, str) else delta.text) if content else None
        reasoning = delta.reasoning_text
        if state.think is not None and (isinstance(content, str) or choice.finish_reason):
            text, reasoning = _split(state, text, reasoning, bool(choice.finish_reason))
        pieces = _tool_pieces(state, delta.tool_calls) if delta.tool_calls else ()
        state.text += text or ""
        state.reasoning += reasoning or ""
        state.refusal += delta.refusal or ""
        if choice.finish_reason:
            state.finish_reason = choice.finish_reason
        if choice.content_filter_results:
            state.content_filter_results = merge_filter_results(
                state.content_filter_results, choice.content_filter_results
            )
        extra = choice.model_extra
        return ChoiceDelta(
            index=choice.index,
            text=text or "",
            reasoning=reasoning or "",
            refusal=delta.refusal or "",
            tool_calls=pieces,
            finish_reason=choice.finish_reason,
            logprobs=extra.get("logprobs") if extra else None,
        )

    def _groq_usage(self, x_groq: Any) -> None:
        """Groq's usage, in ``x_groq.usage`` on the last chunk (where ``usage`` is absent)."""
        usage = x_groq.get("usage") if isinstance(x_groq, dict) else None
        if isinstance(usage, dict):
            try:
                self.usage = CompletionUsage.model_validate(usage)
            except pydantic.ValidationError as exc:
                raise MalformedResponseError(
                    f"The stream's x_groq.usage is not token counts: {exc.errors()[0]['msg']}",
                    status_code=200,
                    body=usage,
                ) from exc

    @property
    def finished(self) -> bool:
        """True when every choice has a finish_reason, or ``[DONE]`` came."""
        if self.done:
            return True
        return bool(self._choices) and all(c.finish_reason for c in self._choices.values())

    def check_complete(self, stray: bytes = b"", headers: Any = None) -> None:
        """Raise if the stream ended before the service said it was finished.

        Args:
            stray: What came that was not a server-sent event (see `SSEDecoder.stray`).
            headers: The response headers, for the error of a JSON body.

        Raises:
            IncompleteStreamError: No finish_reason and no ``[DONE]``.
            APIStatusError: No event came, and the body was a JSON error.
            MalformedResponseError: No event came, and the body was something else (a JSON
                answer that ignored ``stream``, an HTML page) sent as a stream; or the stream
                finished without a single choice (``choices: []`` throughout).
        """
        if not self.finished:
            if self.chunk_count == 0 and stray.strip():
                _explain_stray(stray, headers or {})
            raise IncompleteStreamError(
                f"The stream ended after {self.chunk_count} chunk(s) without a finish_reason or "
                "[DONE]: the answer is incomplete (the connection may have dropped)."
            )
        if not self._choices:
            raise MalformedResponseError(
                f"The stream finished after {self.chunk_count} chunk(s) without any choice "
                "(no 'choices' entry in any chunk): there is no message to read.",
                status_code=200,
            )

    def final(self) -> ChatCompletion:
        """The answer assembled so far, in the shape of a non-streamed completion."""
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            tool_calls = [
                ToolCall(
                    id=c["id"],
                    type="function",
                    function=FunctionCall(name=c["name"], arguments="".join(c["arguments"])),
                )
                for c in state.tool_calls
            ]
            text, reasoning = state.text, state.reasoning
            if state.think is not None:  # a stream ended without a finish_reason: what was held
                held_reasoning, held_text = state.think.held()
                text, reasoning = text + held_text, reasoning + held_reasoning
            choice = ChatChoice(
                index=index,
                message=ChatResponseMessage(
                    role=state.role or "assistant",
                    content=text or None,
                    tool_calls=tool_calls or None,
                    reasoning_content=reasoning or None,
                    refusal=state.refusal or None,
                ),
                finish_reason=state.finish_reason,
            )
            if state.content_filter_results is not None:
                choice.content_filter_results = state.content_filter_results
            choices.append(choice)
        completion = ChatCompletion(
            id=self.id,
            object="chat.completion",
            created=self.created,
            model=self.model,
            choices=choices,
            usage=self.usage,
            system_fingerprint=self.system_fingerprint,
        )
        if self.prompt_filter_results is not None:
            completion.prompt_filter_results = self.prompt_filter_results
        return completion


def _tool_pieces(state: ChoiceState, deltas: list[Any]) -> tuple[ToolCallPiece, ...]:
    """Add tool-call deltas to their calls in ``state``; return them as `ToolCallPiece` s."""
    pieces = []
    for delta in deltas:
        pos = _call_position(state, delta)
        call = state.tool_calls[pos]
        new_id = delta.id if delta.id and call["id"] != delta.id else None
        if delta.id:
            call["id"] = delta.id
        fn = delta.function
        name = fn.name if fn is not None else None
        new_name = name if name and call["name"] != name else None
        if name:
            call["name"] = name
        arguments = fn.arguments if fn is not None else None
        if arguments:
            call["arguments"].append(arguments)
        pieces.append(ToolCallPiece(pos, new_id, new_name, arguments))
    return tuple(pieces)


def _call_position(state: ChoiceState, delta: Any) -> int:
    """The position of the call a tool-call delta belongs to (a new call is added).

    Keyed by ``index`` when the service sends one and by ``id`` otherwise; a continuation with
    neither continues the last call; the same index with a new id (a gateway that numbers every
    call 0) is a new call.
    """
    if delta.index is not None:
        key: Any = ("index", delta.index)
    elif delta.id:
        key = ("id", delta.id)
    elif state.tool_calls:
        return len(state.tool_calls) - 1
    else:
        key = ("index", 0)
    keys = state.tool_keys
    pos = keys.get(key, -1)
    if pos == -1 and delta.id:
        pos = keys.get(("id", delta.id), -1)
    if pos != -1 and delta.id and state.tool_calls[pos]["id"] not in (None, delta.id):
        pos = keys.get(("id", delta.id), -1)
    if pos == -1:
        pos = len(state.tool_calls)
        state.tool_calls.append({"id": None, "name": None, "arguments": []})
        keys[key] = pos
    if delta.id:
        keys[("id", delta.id)] = pos
    return pos


def _split(
    state: ChoiceState, text: str | None, reasoning: str | None, last: bool
) -> tuple[str | None, str | None]:
    """A piece of text as the choice's `ThinkSplitter` reads it: ``(answer, reasoning)``.

    The ``<think>`` block's text is added to the piece's reasoning; at the choice's end, what
    the splitter held back (a partial tag) is given out. Once the rest is answer, the splitter
    is dropped (no more work per chunk).
    """
    think = state.think
    assert think is not None
    more_reasoning, answer = think.feed(text or "")
    if last:
        held_reasoning, held_answer = think.flush()
        more_reasoning += held_reasoning
        answer += held_answer
    if think.answering or last:
        state.think = None
    if more_reasoning:
        reasoning = (reasoning or "") + more_reasoning
    return answer or None, reasoning


def _explain_stray(stray: bytes, headers: Any) -> None:
    """A body with no event at all: name what it was instead of "the stream ended early"."""
    text = stray.decode("utf-8", "replace").strip()
    if text[:1] in ("{", "["):
        # An error object, or an envelope with an error code, raises its APIStatusError here;
        # a document cut at STRAY_LIMIT, or one that is no answer, is named below all the same.
        with contextlib.suppress(MalformedResponseError):
            parse_chat_completion(200, headers, stray)
        what = "a JSON document (the service may have ignored stream=true)"
    else:
        what = "text that is not server-sent events"
    raise MalformedResponseError(
        f"A streamed answer was expected, but the service sent {what} "
        f"({headers.get('content-type') or 'no content-type'}): {text[:300]!r}",
        status_code=200,
        body=text[:300],
    )


def _bytes_or_failure(chunks: Iterator[bytes], state: Any) -> Iterator[bytes | APIError]:
    """The body's chunks; a transport error ends them with our error (`stream_failure`).

    ``state`` is the stream's state object (its ``chunk_count`` goes in the message).
    """
    try:
        yield from chunks
        return
    except (httpx2.TransportError, httpx2.DecodingError) as exc:
        failure = stream_failure(exc, state.chunk_count)
    yield failure  # raised by the caller: raised here, it would chain the request as context


async def _abytes_or_failure(
    chunks: AsyncIterator[bytes], state: Any
) -> AsyncIterator[bytes | APIError]:
    """`_bytes_or_failure`, async."""
    try:
        async for chunk in chunks:
            yield chunk
        return
    except (httpx2.TransportError, httpx2.DecodingError) as exc:
        failure = stream_failure(exc, state.chunk_count)
    yield failure


def _warn_unclosed(name: str) -> None:
    # Given the class name only: a warning turned into an error (``-W error``) must not keep
    # the stream alive through its traceback, or its finalizers (the span's end) never run.
    warnings.warn(
        f"{name} dropped without being read to the end or closed; use it in a with block or "
        "call close()",
        ResourceWarning,
        stacklevel=2,
    )


class _StreamBase:
    def __init__(
        self,
        response: httpx2.Response,
        *,
        telemetry: Any = NO_OPERATION,
        owner: object = None,
        keep_think_tags: bool = False,
        on_model: Callable[[str], None] | None = None,
    ) -> None:
        self.response = response
        # What the stream reads from (the client and its pool) lives as long as the stream:
        # ``for c in Client(...).stream(m)`` keeps no other reference to the client.
        self._owner = owner
        self.state = ChatStreamState(keep_think_tags, on_model)
        self._decoder = SSEDecoder()
        # The call's span ends with the stream: at its end, on an error, on close, or when the
        # stream is garbage collected unread.
        self._telemetry = telemetry
        if telemetry.active:
            telemetry.watch_stream(self, self.state)
        # The client was built with logging_enable=True: each event goes to the DEBUG log.
        self._log_events = bool(getattr(owner, "logging_enable", False))

    @property
    def request_id(self) -> str | None:
        """The service's request id."""
        from .errors import request_id_from

        return request_id_from(self.response.headers)

    def _tag(self, err: APIError) -> None:
        """Give an error raised mid-stream the response's request id (for support cases)."""
        request_id = self.request_id
        if request_id and err.request_id is None:
            err.request_id = request_id
            err.message = f"{err.message} (request id: {request_id})"
            err.args = (err.message,)

    def _events(self, chunk: bytes) -> Iterator[ChatCompletionChunk]:
        # Each chunk is taken by the state just before it is yielded, not the whole read ahead:
        # `state.delta()` and `state.choice()` are then those of the chunk the caller holds.
        handle = self.state.handle_event
        for event in self._decoder.feed(chunk):
            if self._log_events:
                log_event(event.raw.decode("utf-8", "replace"))
            parsed = handle(event)
            if parsed is not None:
                self._telemetry.first_chunk()
                yield parsed

    def _flush(self) -> Iterator[ChatCompletionChunk]:
        for event in self._decoder.flush():
            if self._log_events:
                log_event(event.raw.decode("utf-8", "replace"))
            try:
                parsed = self.state.handle_event(event)
            except MalformedResponseError as exc:
                # The body ended inside this event (no blank line closed it): a stream cut short,
                # however cleanly the connection closed, not a malformed answer.
                raise IncompleteStreamError(
                    f"The stream ended inside an event after {self.state.chunk_count} chunk(s): "
                    "the answer is incomplete (the connection may have dropped)."
                ) from exc
            if parsed is not None:
                yield parsed


class ChatStream(_StreamBase):
    """Iterate the chunks of a streamed chat answer; ``.state.final()`` after the loop.

    Use as an iterator or a context manager; the connection closes when the stream ends, on an
    error, or on `close`.

    Raises:
        IncompleteStreamError: The stream stopped before it finished.
        APIStatusError: The stream carried an error event.
    """

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        try:
            for raw in _bytes_or_failure(self.response.iter_bytes(), self.state):
                if isinstance(raw, APIError):
                    raise raw  # here, where the httpx2 error is not its __context__
                yield from self._events(raw)
            yield from self._flush()
            self.state.check_complete(self._decoder.stray, self.response.headers)
        except APIError as err:
            self._tag(err)
            self._telemetry.end_stream(self.state, err)
            raise
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection."""
        self.response.close()
        self._telemetry.end_stream(self.state)

    def __enter__(self) -> ChatStream:
        return self

    def __del__(self) -> None:
        # Dropped unread, like a file: the connection goes back (closed), with a ResourceWarning.
        response = self.__dict__.get("response")
        if response is not None and not response.is_closed:
            response.close()
            name = type(self).__name__
            del self
            _warn_unclosed(name)

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatStream(_StreamBase):
    """The async form of `ChatStream`."""

    async def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        try:
            async for raw in _abytes_or_failure(self.response.aiter_bytes(), self.state):
                if isinstance(raw, APIError):
                    raise raw
                for chunk in self._events(raw):
                    yield chunk
            for chunk in self._flush():
                yield chunk
            self.state.check_complete(self._decoder.stray, self.response.headers)
        except APIError as err:
            self._tag(err)
            self._telemetry.end_stream(self.state, err)
            raise
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the connection."""
        await self.response.aclose()
        self._telemetry.end_stream(self.state)

    async def __aenter__(self) -> AsyncChatStream:
        return self

    def __del__(self) -> None:
        # Dropped unread: aiohttp releases the connection when its response is collected (it
        # cannot be awaited here); warn as a file would.
        response = self.__dict__.get("response")
        if response is not None and not response.is_closed:
            name = type(self).__name__
            del self
            _warn_unclosed(name)

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
