"""LlamaIndex <-> wire: pure functions, no I/O.

``to_wire_messages`` turns `ChatMessage` objects (text, images, tool calls, tool results) into the
API's message dicts; ``from_wire_message`` (an answer) and ``message_from_state`` (a stream so far,
from the core's `ChatStreamState`) turn answers back into `ChatMessage` objects whose tool calls
are `ToolCallBlock` and whose reasoning is a `ThinkingBlock`, so they stay JSON-serializable for
chat stores. The wire itself (spellings of reasoning, content lists, repeated tool-call deltas)
is read by the core, once for every layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic_core
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from pydantic import BaseModel

from azureinference import (
    ChatCompletion,
    CompletionUsage,
    ConfigurationError,
)
from azureinference.adapters import ChatResponseMessage, ChoiceState

__all__ = [
    "RawAnswer",
    "filter_kwargs",
    "from_wire_message",
    "image_to_url",
    "message_from_state",
    "to_logprobs",
    "to_wire_messages",
    "to_wire_tool",
    "tool_selections",
    "usage_kwargs",
]

_ROLES = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "developer",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}


def image_to_url(block: ImageBlock) -> str:
    """An ``image_url`` URL for an image block: its URL, or a data URL of its bytes or file.

    Raises:
        ConfigurationError: The block has no image, URL or path.
    """
    if block.url is not None and block.image is None and block.path is None:
        return str(block.url)
    if block.image is None and block.path is None:
        raise ConfigurationError("An ImageBlock needs image bytes, a path or a url.")
    data = block.resolve_image(as_base64=True).read()
    mimetype = block.image_mimetype or _guess_mimetype(block)
    return f"data:{mimetype};base64,{data.decode('ascii')}"


def _guess_mimetype(block: ImageBlock) -> str:
    raw = block.resolve_image(as_base64=False).read(16)
    for magic, kind in (
        (b"\x89PNG", "image/png"),
        (b"\xff\xd8", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"RIFF", "image/webp"),
    ):
        if raw.startswith(magic):
            return kind
    return "application/octet-stream"


def _content(message: ChatMessage, role: str) -> str | list[dict[str, Any]] | None:
    parts: list[dict[str, Any]] = []
    has_image = False
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            if role != "user":
                raise ConfigurationError(
                    f"An image in a {role} message cannot be sent: the API takes images in user "
                    "messages only."
                )
            has_image = True
            image_url: dict[str, Any] = {"url": image_to_url(block)}
            if block.detail:
                image_url["detail"] = block.detail
            parts.append({"type": "image_url", "image_url": image_url})
        elif isinstance(block, (ToolCallBlock, ThinkingBlock)):
            continue  # sent as tool_calls / not sent back
        elif isinstance(block, (AudioBlock, DocumentBlock)):
            raise ConfigurationError(
                f"A {type(block).__name__} cannot be sent: the chat API takes text and images."
            )
        else:
            raise ConfigurationError(f"Unsupported content block {type(block).__name__}.")
    if has_image:
        return parts
    if not parts:
        return None
    return "".join(p["text"] for p in parts)


def _wire_tool_calls(message: ChatMessage) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            args = block.tool_kwargs
            calls.append(
                {
                    "id": block.tool_call_id,
                    "type": "function",
                    "function": {
                        "name": block.tool_name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
            )
    if not calls:  # messages built the way llama-index-llms-openai keeps them
        for call in message.additional_kwargs.get("tool_calls") or ():
            raw = call.model_dump() if hasattr(call, "model_dump") else dict(call)
            fn = raw.get("function") or {}
            raw_args = fn.get("arguments")
            calls.append(
                {
                    "id": raw.get("id"),
                    "type": "function",
                    "function": {
                        "name": fn.get("name"),
                        "arguments": raw_args
                        if isinstance(raw_args, str)
                        else json.dumps(raw_args or {}),
                    },
                }
            )
    return calls


def to_wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """The API's messages for LlamaIndex chat messages.

    Raises:
        ConfigurationError: A block the API cannot take (audio, documents, images outside user
            messages), or a tool message without its ``tool_call_id``.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        role = _ROLES.get(message.role, str(message.role.value))
        wire: dict[str, Any] = {"role": role}
        content = _content(message, role)
        if role == "tool":
            call_id = message.additional_kwargs.get("tool_call_id")
            if not call_id:
                raise ConfigurationError(
                    "A tool message needs additional_kwargs['tool_call_id'] naming the call it "
                    "answers."
                )
            wire["tool_call_id"] = call_id
            wire["content"] = content if content is not None else ""
        elif role == "assistant":
            calls = _wire_tool_calls(message)
            wire["content"] = content
            if calls:
                wire["tool_calls"] = calls
        else:
            wire["content"] = content if content is not None else ""
        out.append(wire)
    return out


def to_wire_tool(tool: Any, *, strict: bool = False) -> dict[str, Any]:
    """The API's tool definition for a LlamaIndex tool (its metadata's name and schema).

    ``strict``: sent with ``strict: true`` and ``additionalProperties: false`` (OpenAI's strict
    function calling, as llama-index's OpenAI class sends it).
    """
    metadata = tool.metadata
    function: dict[str, Any] = {
        "name": metadata.get_name(),
        "description": metadata.description,
        "parameters": metadata.get_parameters_dict(),
    }
    if strict:
        function["strict"] = True
        function["parameters"] = {**function["parameters"], "additionalProperties": False}
    return {"type": "function", "function": function}


def _tool_block(
    call_id: str | None, name: str | None, arguments: str, *, partial: bool = False
) -> ToolCallBlock:
    """A tool-call block; ``partial`` arguments (mid-stream) are parsed as far as they go."""
    try:
        if partial:
            kwargs: Any = (
                pydantic_core.from_json(arguments, allow_partial=True) if arguments else {}
            )
        else:
            kwargs = json.loads(arguments) if arguments else {}
    except ValueError:
        kwargs = {} if partial else arguments  # a complete but broken call: tool_selections says so
    return ToolCallBlock(tool_call_id=call_id, tool_name=name or "", tool_kwargs=kwargs)


def _assistant_message(
    reasoning: str | None,
    text: str | None,
    calls: list[tuple[Any, Any, str]],
    refusal: str | None,
    *,
    partial: bool = False,
) -> ChatMessage:
    blocks: list[Any] = []
    if reasoning:
        blocks.append(ThinkingBlock(content=reasoning))
    if text:
        blocks.append(TextBlock(text=text))
    for call_id, name, arguments in calls:
        blocks.append(_tool_block(call_id, name, arguments, partial=partial))
    message = ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, **_tool_calls_kwargs(calls))
    if refusal:
        message.additional_kwargs["refusal"] = refusal
    return message


def from_wire_message(message: ChatResponseMessage) -> ChatMessage:
    """A `ChatMessage` for the answer's message: thinking, text and tool-call blocks.

    The core reads the wire (reasoning in any spelling, the text parts of a content list); a
    refusal goes in ``additional_kwargs["refusal"]``.
    """
    calls = [(c.id, c.function.name, c.function.arguments or "") for c in message.tool_calls or ()]
    return _assistant_message(message.reasoning_text, message.text, calls, message.refusal)


def message_from_state(choice: ChoiceState | None, *, finished: bool) -> ChatMessage:
    """The message a stream has given so far (the core's state of its first choice).

    Tool arguments are parsed as far as they go until the stream has ``finished``.
    """
    if choice is None:
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[])
    calls = [(c["id"], c["name"], "".join(c["arguments"])) for c in choice.tool_calls]
    return _assistant_message(
        choice.reasoning, choice.text, calls, choice.refusal, partial=not finished
    )


def _tool_calls_kwargs(calls: list[tuple[Any, Any, str]]) -> dict[str, Any]:
    """``additional_kwargs={"tool_calls": [...]}`` in wire form, beside the ToolCallBlocks.

    LlamaIndex's own streaming structured output (``process_streaming_objects``) looks for tool
    calls there, as llama-index-llms-openai puts them; plain dicts keep the message
    JSON-serializable. Messages sent back use the blocks (see `to_wire_messages`).
    """
    if not calls:
        return {}
    wire = [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        for call_id, name, arguments in calls
    ]
    return {"additional_kwargs": {"tool_calls": wire}}


# The token details llama-index reports beside the counts, read from the core's typed usage.
_DETAILS = (
    ("cached_tokens", "prompt_tokens_details", "cached_tokens"),
    ("cache_write_tokens", "prompt_tokens_details", "cache_write_tokens"),
    ("prompt_audio_tokens", "prompt_tokens_details", "audio_tokens"),
    ("reasoning_tokens", "completion_tokens_details", "reasoning_tokens"),
    ("completion_audio_tokens", "completion_tokens_details", "audio_tokens"),
)


def to_logprobs(logprobs: Any) -> list[list[LogProb]] | None:
    """A choice's ``logprobs`` as LlamaIndex's ``ChatResponse.logprobs``: a list per token.

    Each token's list holds its ``top_logprobs`` alternatives where asked for (as llama-index's
    OpenAI class), else the token itself (which that class leaves out). None when there are none.
    """
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    if not isinstance(content, list):
        return None
    out: list[list[LogProb]] = []
    for token in content:
        if not isinstance(token, Mapping):
            continue
        alternatives = token.get("top_logprobs") or [token]
        out.append(
            [
                LogProb(
                    token=a.get("token") or "",
                    logprob=a.get("logprob") or 0.0,
                    bytes=a.get("bytes") or [],
                )
                for a in alternatives
                if isinstance(a, Mapping)
            ]
        )
    return out or None


def usage_kwargs(usage: CompletionUsage | None) -> dict[str, int]:
    """Token counts as llama-index-llms-openai reports them in ``additional_kwargs``.

    Beside ``prompt_tokens``/``completion_tokens``/``total_tokens``, the details the service
    sent: ``cached_tokens`` (read from the prompt cache), ``cache_write_tokens`` (written to it),
    ``reasoning_tokens``, ``prompt_audio_tokens`` and ``completion_audio_tokens``.
    """
    if usage is None:
        return {}
    out = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    for key, group, field in _DETAILS:
        details = getattr(usage, group)
        value = getattr(details, field) if details is not None else None
        if value is not None:
            out[key] = value
    return out


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The tool calls of an answer as `ToolSelection` objects.

    Raises:
        ValueError: A call's arguments are not a JSON object (named, with the text received).
    """
    selections = []
    for block in message.blocks:
        if not isinstance(block, ToolCallBlock):
            continue
        kwargs = block.tool_kwargs
        if not isinstance(kwargs, dict):
            raise ValueError(
                f"The model called {block.tool_name!r} with arguments that are not a JSON "
                f"object: {str(kwargs)[:200]!r}"
            )
        selections.append(
            ToolSelection(
                tool_id=block.tool_call_id or "",
                tool_name=block.tool_name,
                tool_kwargs=kwargs,
            )
        )
    return selections


def completion_message(completion: ChatCompletion) -> ChatResponseMessage:
    """The first choice's message (the core's client checked that there is one)."""
    return (completion.choices or [])[0].message


def filter_kwargs(
    prompt_filter_results: list[Any] | None, content_filter_results: dict[str, Any] | None
) -> dict[str, Any]:
    """Azure's content filter results, for a response's ``additional_kwargs``."""
    out: dict[str, Any] = {}
    if prompt_filter_results is not None:
        out["prompt_filter_results"] = prompt_filter_results
    if content_filter_results is not None:
        out["content_filter_results"] = content_filter_results
    return out


class RawAnswer(dict[str, Any]):
    """A response's ``raw``: the answer (or chunk) as a dict, as the peer package gives it.

    Attribute access reads the core's typed model (``raw.usage.total_tokens``), as
    llama-index-llms-openai's ``raw`` (the SDK's object) allows; ``raw["usage"]`` is the dict.
    """

    __slots__ = ("_typed",)

    def __init__(self, typed: BaseModel) -> None:
        super().__init__(typed.model_dump(exclude_unset=True))
        self._typed = typed

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._typed, name)

    def __reduce__(self) -> Any:
        return (_raw_answer, (self._typed,))


def _raw_answer(typed: BaseModel) -> RawAnswer:
    return RawAnswer(typed)
