"""LlamaIndex <-> the Responses API: pure functions, no I/O.

`to_responses_input` turns `ChatMessage` objects into the ``input`` the core takes (chat wire
messages, with each assistant message's reasoning put back as ``reasoning`` items before it);
`message_from_items` turns a Responses answer's output items (or a stream's items so far) into an
assistant `ChatMessage`: a `ThinkingBlock` per reasoning item (its summary, or its raw reasoning
text, as ``content``; the item itself, ``id`` and opaque ``encrypted_content``, in
``additional_information``, which is how it goes back next turn), a `TextBlock` per message, a
`ToolCallBlock` per function call, in the answer's order. `response_kwargs` gives what a
`ChatResponse` reports in ``additional_kwargs``: token usage as the chat path names it (plus
cached and reasoning tokens), the response id, why an incomplete answer stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    MessageRole,
    TextBlock,
    ThinkingBlock,
)

from azureinference.responses_api import (
    FunctionCallItem,
    MessageItem,
    OutputItem,
    ReasoningItem,
    Response,
    ResponseUsage,
)

from ._convert import _tool_block, _tool_calls_kwargs, to_wire_messages, usage_kwargs

__all__ = [
    "message_from_items",
    "new_turns",
    "reasoning_item",
    "response_kwargs",
    "to_responses_input",
    "usage_kwargs_of",
]


def reasoning_item(block: ThinkingBlock, *, store: bool | None) -> dict[str, Any] | None:
    """The ``reasoning`` input item a thinking block carries, or None when it cannot go back.

    It goes back with its ``encrypted_content`` (asked with
    ``include=["reasoning.encrypted_content"]``: works with ``store=False``), or by its ``id``
    alone where answers are stored (``store`` not False). A block that did not come from the
    Responses API (chat's ``reasoning_content``, a ``<think>`` block) has no item: not sent.
    """
    info = block.additional_information or {}
    if info.get("type") != "reasoning" or not info.get("id"):
        return None
    if not info.get("encrypted_content") and store is False:
        return None
    item = {k: v for k, v in info.items() if v is not None and k != "status"}
    item.setdefault("summary", [])
    return item


def to_responses_input(
    messages: Sequence[ChatMessage], *, store: bool | None = None
) -> list[dict[str, Any]]:
    """The Responses ``input`` for LlamaIndex chat messages.

    Chat wire messages (the core turns them into input items: an assistant's tool calls into
    ``function_call`` items, a tool message into a ``function_call_output``), with the
    ``reasoning`` items of an assistant message's thinking blocks just before it (see
    `reasoning_item`).

    Raises:
        ConfigurationError: A block the API cannot take, or a tool message without its
            ``tool_call_id`` (see `to_wire_messages`).
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == MessageRole.ASSISTANT:
            for block in message.blocks:
                if isinstance(block, ThinkingBlock):
                    item = reasoning_item(block, store=store)
                    if item is not None:
                        out.append(item)
        out.extend(to_wire_messages([message]))
    return out


def new_turns(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages after the last assistant message: what a ``previous_response_id`` lacks."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == MessageRole.ASSISTANT:
            return list(messages[i + 1 :])
    return list(messages)


def _thinking(item: ReasoningItem, tokens: int | None) -> ThinkingBlock:
    info = item.model_dump(exclude_none=True, exclude={"summary", "content"})
    info["summary"] = [part.model_dump(exclude_none=True) for part in item.summary]
    return ThinkingBlock(
        content=item.summary_text or item.text or None,
        num_tokens=tokens,
        additional_information=info,
    )


def message_from_items(
    items: Sequence[OutputItem], *, partial: bool = False, reasoning_tokens: int | None = None
) -> ChatMessage:
    """An assistant `ChatMessage` for a Responses answer's output items, in their order.

    ``partial`` (mid-stream): function-call arguments are parsed as far as they go.
    ``reasoning_tokens`` goes on the thinking block when there is one. A refusal goes in
    ``additional_kwargs["refusal"]``; items of other types (built-in tool calls) as dicts in
    ``additional_kwargs["built_in_tool_calls"]``.
    """
    blocks: list[Any] = []
    calls: list[tuple[Any, Any, str]] = []
    refusals: list[str] = []
    others: list[dict[str, Any]] = []
    reasoning = [i for i in items if isinstance(i, ReasoningItem)]
    tokens = reasoning_tokens if len(reasoning) == 1 and reasoning_tokens else None
    for item in items:
        if isinstance(item, ReasoningItem):
            blocks.append(_thinking(item, tokens))
        elif isinstance(item, MessageItem):
            if item.text:
                blocks.append(TextBlock(text=item.text))
            if item.refusal is not None:
                refusals.append(item.refusal)
        elif isinstance(item, FunctionCallItem):
            calls.append((item.call_id, item.name, item.arguments))
            blocks.append(_tool_block(item.call_id, item.name, item.arguments, partial=partial))
        else:
            others.append(item.model_dump(exclude_none=True))
    message = ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, **_tool_calls_kwargs(calls))
    if refusals:
        message.additional_kwargs["refusal"] = "".join(refusals)
    if others:
        message.additional_kwargs["built_in_tool_calls"] = others
    return message


def usage_kwargs_of(usage: ResponseUsage | None) -> dict[str, int]:
    """Token counts in the chat path's names, plus ``cached_tokens`` and ``reasoning_tokens``."""
    if usage is None:
        return {}
    out = usage_kwargs(usage.to_completion_usage())
    out["cached_tokens"] = usage.cached_tokens
    out["reasoning_tokens"] = usage.reasoning_tokens
    return out


def response_kwargs(response: Response) -> dict[str, Any]:
    """A response's ``additional_kwargs``: usage, ``response_id``, ``incomplete_reason``."""
    out: dict[str, Any] = usage_kwargs_of(response.usage)
    if response.id:
        out["response_id"] = response.id
    if response.incomplete_reason:
        out["incomplete_reason"] = response.incomplete_reason
    return out
