"""The Responses API's JSON as pydantic models: the answer, its output items, usage, stream events.

Read leniently, as the chat types are (``extra="allow"``: nothing a service adds is lost; missing
optional fields have defaults). Output items and message parts are told apart by ``type``; a type
we do not model (``web_search_call``, ``mcp_call``, ``code_interpreter_call``...) is kept whole
as an `OtherItem` / `OtherPart`, never dropped.

Convenience reads on `Response`: `Response.output_text`, `Response.refusal`,
`Response.function_calls`, `Response.reasoning_items`, `Response.reasoning_summary`,
`Response.incomplete_reason`, `Response.finish_reason` (the chat spelling of why it stopped) and
`Response.to_chat_completion` (the same answer as a chat completion, for telemetry and for code
written against chat answers). `ReasoningItem.encrypted_content` is opaque: kept as sent, never
shown in a repr, sent back as is (`ReasoningItem.to_input`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag

from azureinference.types import (
    ChatChoice,
    ChatCompletion,
    ChatResponseMessage,
    CompletionUsage,
    FunctionCall,
    ToolCall,
)

__all__ = [
    "FunctionCallItem",
    "IncompleteDetails",
    "InputTokensDetails",
    "MessageItem",
    "OtherItem",
    "OtherPart",
    "OutputItem",
    "OutputText",
    "OutputTokensDetails",
    "ReasoningItem",
    "ReasoningText",
    "Refusal",
    "Response",
    "ResponseError",
    "ResponseStreamEvent",
    "ResponseUsage",
    "SummaryText",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())


# ---- usage ---------------------------------------------------------------------------------


class InputTokensDetails(_Wire):
    """``usage.input_tokens_details``: ``cached_tokens`` (``cache_write_tokens`` as an extra)."""

    cached_tokens: int = Field(0, ge=0)


class OutputTokensDetails(_Wire):
    """``usage.output_tokens_details``: ``reasoning_tokens``."""

    reasoning_tokens: int = Field(0, ge=0)


class ResponseUsage(_Wire):
    """Token counts of an answer (never negative), with their cached and reasoning details."""

    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    total_tokens: int = Field(0, ge=0)
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None

    @property
    def cached_tokens(self) -> int:
        """Input tokens read from the prompt cache (0 when the service said nothing)."""
        details = self.input_tokens_details
        return details.cached_tokens if details is not None else 0

    @property
    def reasoning_tokens(self) -> int:
        """Output tokens spent reasoning (0 when the service said nothing)."""
        details = self.output_tokens_details
        return details.reasoning_tokens if details is not None else 0

    def to_completion_usage(self) -> CompletionUsage:
        """The same counts in chat's names, details as ``prompt_tokens_details`` and so on."""
        details: dict[str, Any] = {}
        if self.input_tokens_details is not None:
            details["prompt_tokens_details"] = self.input_tokens_details.model_dump()
        if self.output_tokens_details is not None:
            details["completion_tokens_details"] = self.output_tokens_details.model_dump()
        return CompletionUsage(
            prompt_tokens=self.input_tokens,
            completion_tokens=self.output_tokens,
            total_tokens=self.total_tokens,
            **details,
        )


# ---- message parts ---------------------------------------------------------------------------


class OutputText(_Wire):
    """``{"type": "output_text", "text", "annotations"}`` (annotations as sent: citations)."""

    type: Literal["output_text"] = "output_text"
    text: str = ""
    annotations: list[Any] = Field(default_factory=list)


class Refusal(_Wire):
    """``{"type": "refusal", "refusal"}``: the model declined (structured output)."""

    type: Literal["refusal"] = "refusal"
    refusal: str = ""


class OtherPart(_Wire):
    """A message part of a type not modelled here, kept as sent."""

    type: str


def _part_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("output_text", "refusal") else "other"


ContentPart = Annotated[
    Annotated[OutputText, Tag("output_text")]
    | Annotated[Refusal, Tag("refusal")]
    | Annotated[OtherPart, Tag("other")],
    Discriminator(_part_tag),
]


# ---- output items ----------------------------------------------------------------------------


class MessageItem(_Wire):
    """An assistant message: ``content`` parts (`OutputText`, `Refusal`), ``status``, ``phase``."""

    type: Literal["message"] = "message"
    id: str | None = None
    role: str = "assistant"
    status: str | None = None
    content: list[ContentPart] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The ``output_text`` parts joined."""
        return "".join(p.text for p in self.content if isinstance(p, OutputText))

    @property
    def refusal(self) -> str | None:
        """The ``refusal`` parts joined, or None when there is none."""
        parts = [p.refusal for p in self.content if isinstance(p, Refusal)]
        return "".join(parts) if parts else None


class FunctionCallItem(_Wire):
    """A function call: ``call_id``, ``name``, ``arguments`` (JSON text), and its own ``id``.

    ``call_id`` (``call_...``) is what the ``function_call_output`` sent back names; ``id``
    (``fc_...``) is the item's.
    """

    type: Literal["function_call"] = "function_call"
    id: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str = ""
    status: str | None = None

    def to_input(self) -> dict[str, Any]:
        """The item as it goes back in the next request's ``input``."""
        return self.model_dump(exclude_none=True)


class SummaryText(_Wire):
    """One part of a reasoning summary: ``{"type": "summary_text", "text"}``."""

    type: str = "summary_text"
    text: str = ""


class ReasoningText(_Wire):
    """Raw reasoning (gpt-oss, DeepSeek): ``{"type": "reasoning_text", "text"}``."""

    type: str = "reasoning_text"
    text: str = ""


class ReasoningItem(_Wire):
    """A reasoning item: ``summary`` parts, opaque ``encrypted_content``, raw ``content``.

    ``encrypted_content`` (asked with ``include=["reasoning.encrypted_content"]``) is kept exactly
    as sent and left out of the repr; pass the item back with `to_input` so a reasoning model does
    not think again from scratch in the next turn (with ``store=False`` there is no other way).
    """

    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[SummaryText] = Field(default_factory=list)
    encrypted_content: str | None = Field(None, repr=False)
    content: list[ReasoningText] | None = None
    status: str | None = None

    @property
    def summary_text(self) -> str:
        """The summary parts joined by blank lines ("" when no summary was asked)."""
        return "\n\n".join(p.text for p in self.summary if p.text)

    @property
    def text(self) -> str:
        """The raw reasoning text (``content`` parts joined; "" when there is none)."""
        return "".join(p.text for p in self.content or ())

    def to_input(self) -> dict[str, Any]:
        """The item as it goes back in the next request's ``input`` (``status`` left out)."""
        item = self.model_dump(exclude_none=True, exclude={"status"})
        item.setdefault("summary", [])
        return item


class OtherItem(_Wire):
    """An output item of a type not modelled here (built-in tool calls...), kept as sent."""

    type: str
    id: str | None = None


def _item_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("message", "function_call", "reasoning") else "other"


OutputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[OtherItem, Tag("other")],
    Discriminator(_item_tag),
]
"""One item of ``Response.output``: `MessageItem`, `FunctionCallItem`, `ReasoningItem` or
`OtherItem`."""


# ---- the answer ------------------------------------------------------------------------------


class ResponseError(_Wire):
    """``error`` of a failed answer: ``{code, message}``."""

    code: str | None = None
    message: str | None = None


class IncompleteDetails(_Wire):
    """``incomplete_details``: ``{reason}`` (``max_output_tokens``, ``content_filter``)."""

    reason: str | None = None


_FINISH_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


class Response(_Wire):
    """A Responses API answer (``object: "response"``), or a stream's snapshot of one."""

    id: str | None = None
    object: str | None = None
    created_at: float | None = None
    status: str | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    model: str | None = None
    output: list[OutputItem] = Field(default_factory=list)
    usage: ResponseUsage | None = None
    previous_response_id: str | None = None
    # OpenRouter adds a top-level "output_text" (sometimes empty although the message has text):
    # kept under another name so that `output_text` is always read from the output items.
    service_output_text: str | None = Field(None, alias="output_text")
    _response_headers: dict[str, str] | None = PrivateAttr(default=None)

    @property
    def response_headers(self) -> dict[str, str]:
        """The answer's HTTP headers (names lower case); empty for a stream's snapshot."""
        return dict(self._response_headers or {})

    @property
    def messages(self) -> list[MessageItem]:
        """The message items, in order."""
        return [i for i in self.output if isinstance(i, MessageItem)]

    @property
    def output_text(self) -> str:
        """The text of every message's ``output_text`` parts, joined ("" when there is none)."""
        return "".join(m.text for m in self.messages)

    @property
    def refusal(self) -> str | None:
        """The refusal text, or None when the model did not refuse."""
        parts = [r for r in (m.refusal for m in self.messages) if r is not None]
        return "".join(parts) if parts else None

    @property
    def function_calls(self) -> list[FunctionCallItem]:
        """The function calls, in order."""
        return [i for i in self.output if isinstance(i, FunctionCallItem)]

    @property
    def reasoning_items(self) -> list[ReasoningItem]:
        """The reasoning items, in order."""
        return [i for i in self.output if isinstance(i, ReasoningItem)]

    @property
    def reasoning_summary(self) -> str | None:
        """The reasoning summaries joined by blank lines; None when there is none."""
        text = "\n\n".join(t for t in (r.summary_text for r in self.reasoning_items) if t)
        return text or None

    @property
    def reasoning_text(self) -> str | None:
        """The raw reasoning text (gpt-oss, DeepSeek); None when there is none."""
        text = "".join(r.text for r in self.reasoning_items)
        return text or None

    @property
    def incomplete_reason(self) -> str | None:
        """Why an ``incomplete`` answer stopped (``max_output_tokens``, ``content_filter``)."""
        details = self.incomplete_details
        return details.reason if details is not None else None

    @property
    def finish_reason(self) -> str | None:
        """Why the answer ended, in chat's words.

        ``tool_calls`` when it holds function calls, ``length`` / ``content_filter`` for an
        incomplete answer (another reason as the service said it), ``stop`` when completed, None
        while in progress.
        """
        if self.status == "incomplete":
            reason = self.incomplete_reason
            return _FINISH_REASONS.get(reason or "", reason or "length")
        if self.function_calls:
            return "tool_calls"
        if self.status in ("completed", None):
            return "stop"
        return None

    def to_chat_completion(self) -> ChatCompletion:
        """The answer in chat completion shape (text, refusal, tool calls, reasoning, usage)."""
        calls = [
            ToolCall(id=c.call_id, function=FunctionCall(name=c.name, arguments=c.arguments))
            for c in self.function_calls
        ]
        message = ChatResponseMessage(
            role="assistant",
            content=self.output_text or None,
            refusal=self.refusal,
            tool_calls=calls or None,
            reasoning_content=self.reasoning_summary or self.reasoning_text,
        )
        return ChatCompletion(
            id=self.id,
            object="chat.completion",
            created=int(self.created_at) if self.created_at is not None else None,
            model=self.model,
            choices=[ChatChoice(index=0, message=message, finish_reason=self.finish_reason)],
            usage=self.usage.to_completion_usage() if self.usage is not None else None,
        )


# ---- stream events ---------------------------------------------------------------------------


class ResponseStreamEvent(_Wire):
    """One event of a streamed answer, with the field names of the wire (and of openai-python).

    Which fields are set depends on ``type``: lifecycle events (``response.created``,
    ``.in_progress``, ``.completed``, ``.incomplete``, ``.failed``, ``.queued``) carry
    ``response``; ``response.output_item.added`` / ``.done`` carry ``output_index`` and ``item``;
    deltas carry ``item_id``, ``output_index``, ``content_index`` or ``summary_index`` and
    ``delta``; ``.done`` events carry ``text`` / ``refusal`` / ``arguments``; ``content_part`` and
    ``reasoning_summary_part`` events carry ``part``. Other fields stay as extras.
    """

    type: str
    sequence_number: int | None = None
    response: Response | None = None
    output_index: int | None = None
    item_id: str | None = None
    content_index: int | None = None
    summary_index: int | None = None
    item: OutputItem | None = None
    part: dict[str, Any] | None = None
    delta: Any = None
    text: str | None = None
    refusal: str | None = None
    arguments: str | None = None
    name: str | None = None
