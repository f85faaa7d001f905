"""LlamaIndex <-> wire: pure functions, no I/O.

``to_wire_messages`` turns `ChatMessage` objects (text, images, tool calls, tool results) into the
API's message dicts; ``from_wire_message`` and ``StreamAccumulator`` turn answers and stream chunks
back into `ChatMessage` objects whose tool calls are `ToolCallBlock` and whose reasoning is a
`ThinkingBlock`, so they stay JSON-serializable for chat stores.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pydantic_core
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection

from azureinference import ConfigurationError
from azureinference.types import ChatCompletion, ChatResponseMessage, CompletionUsage

__all__ = [
    "StreamAccumulator",
    "from_wire_message",
    "image_to_url",
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


def to_wire_tool(tool: Any) -> dict[str, Any]:
    """The API's tool definition for a LlamaIndex tool (its metadata's name and schema)."""
    metadata = tool.metadata
    return {
        "type": "function",
        "function": {
            "name": metadata.get_name(),
            "description": metadata.description,
            "parameters": metadata.get_parameters_dict(),
        },
    }


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


def from_wire_message(message: ChatResponseMessage) -> ChatMessage:
    """A `ChatMessage` for the answer's message: thinking, text and tool-call blocks."""
    blocks: list[Any] = []
    if message.reasoning_content:
        blocks.append(ThinkingBlock(content=message.reasoning_content))
    if message.content:
        blocks.append(TextBlock(text=message.content))
    calls = [(c.id, c.function.name, c.function.arguments or "") for c in message.tool_calls or ()]
    for call_id, name, arguments in calls:
        blocks.append(_tool_block(call_id, name, arguments))
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, **_tool_calls_kwargs(calls))


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


def usage_kwargs(usage: CompletionUsage | None) -> dict[str, int]:
    """Token counts as llama-index-llms-openai reports them in ``additional_kwargs``."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


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
    """The first choice's message (an empty one when the answer has no choices)."""
    choices = completion.choices
    return choices[0].message if choices else ChatResponseMessage()


class StreamAccumulator:
    """Builds the message so far from stream chunks (the core gives each call a stable index)."""

    def __init__(self) -> None:
        # Strings grown in place, not lists joined per chunk: each response carries the whole
        # text so far, and joining every piece again made a long stream quadratic.
        self.text = ""
        self.reasoning = ""
        self.calls: list[list[Any]] = []  # [id, name, [argument pieces]]
        self.finished = False

    def add(self, delta: Any, finish_reason: str | None = None) -> str:
        """Take a chunk's delta; return its text."""
        if finish_reason:
            self.finished = True
        if delta.reasoning_content:
            self.reasoning += delta.reasoning_content
        for call in delta.tool_calls or ():
            index = call.index or 0
            while len(self.calls) <= index:
                self.calls.append([None, None, []])
            entry = self.calls[index]
            if call.id:
                entry[0] = call.id
            if call.function is not None:
                if call.function.name:
                    entry[1] = call.function.name
                if call.function.arguments:
                    entry[2].append(call.function.arguments)
        text = delta.content or ""
        if text:
            self.text += text
        return text

    def message(self) -> ChatMessage:
        """The message so far (tool arguments parsed as far as they go until the stream ends)."""
        blocks: list[Any] = []
        if self.reasoning:
            blocks.append(ThinkingBlock(content=self.reasoning))
        if self.text:
            blocks.append(TextBlock(text=self.text))
        calls = [(call_id, name, "".join(pieces)) for call_id, name, pieces in self.calls]
        for call_id, name, arguments in calls:
            blocks.append(_tool_block(call_id, name, arguments, partial=not self.finished))
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, **_tool_calls_kwargs(calls))


def decode_data_url(url: str) -> bytes:
    """The bytes of a base64 data URL."""
    return base64.b64decode(url.partition(",")[2])
