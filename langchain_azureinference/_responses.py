"""LangChain <-> Responses API conversions, all pure functions (and one stream reader).

The shapes are those of ``ChatOpenAI``'s Responses mode (``output_version="responses/v1"``), so
code written against it reads our messages:

- An answer is an ``AIMessage`` whose ``content`` is a list of blocks, one per output part, in
  order: ``{"type": "reasoning", "id", "summary": [{"type": "summary_text", "text"}],
  "encrypted_content"?}``, ``{"type": "text", "text", "annotations", "id"}``,
  ``{"type": "refusal", "refusal", "id"}``, ``{"type": "function_call", "call_id", "name",
  "arguments", "id"}`` and other items as the service sent them; the calls are also in
  ``tool_calls`` (arguments parsed). ``response_metadata`` holds the response ``id`` (what
  ``use_previous_response_id`` finds), ``status``, ``model_name``, ``finish_reason`` (chat's
  words) and ``incomplete_details``; ``model_provider`` is ``"openai"``, the format of the
  content, so ``message.content_blocks`` reads it with langchain-core's OpenAI translator.
- `ResponsesChunks` turns a stream's events into chunks that add up to the same message: blocks
  carry an ``index`` per output part, function calls come as ``tool_call_chunks``, and the last
  chunk (``chunk_position="last"``) holds usage and metadata.
- `to_responses_input` turns a conversation into ``input`` items: an ``AIMessage`` from this mode
  goes back item by item (reasoning with its ``encrypted_content``, the message with its id,
  function calls); reasoning without ``encrypted_content`` is left out when ``store`` is False
  (the service kept nothing it could refer to).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from azureinference.responses_api import (
    RESPONSES_FIELDS,
    FunctionCallItem,
    MessageItem,
    OutputText,
    ReasoningItem,
    Refusal,
    Response,
    ResponseStreamEvent,
    ResponseUsage,
)

from ._convert import to_wire_message, to_wire_tool_call

__all__ = [
    "RESPONSES_PROVIDER",
    "ResponsesChunks",
    "from_response",
    "last_turns",
    "responses_call",
    "to_responses_input",
    "usage_from_response",
]

RESPONSES_PROVIDER = "openai"
"""``response_metadata["model_provider"]`` of Responses answers: the format of their content."""

# Output items kept whole as content blocks, and sent back whole as input items.
_PASSED_ITEMS = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "computer_call",
        "code_interpreter_call",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "image_generation_call",
        "custom_tool_call",
        "local_shell_call",
        "compaction",
    }
)
# Blocks of an assistant's own output that travel another way (tool_calls) or not at all.
_SKIPPED_BLOCKS = frozenset(
    {
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "tool_use",
        "server_tool_call",
        "server_tool_result",
        "thinking",
        "redacted_thinking",
        "reasoning_content",
    }
)
_METADATA_KEYS = ("created_at", "object", "status", "model", "service_tier", "metadata", "user")


# ---- requests ---------------------------------------------------------------------------------


def last_turns(messages: Sequence[BaseMessage]) -> tuple[list[BaseMessage], str | None]:
    """The messages after the last ``AIMessage`` with a response id, and that id.

    The whole conversation and None when no ``AIMessage`` has one (``resp_...`` in
    ``response_metadata["id"]``, as this mode's answers have).
    """
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if isinstance(message, AIMessage):
            response_id = message.response_metadata.get("id")
            if isinstance(response_id, str) and response_id.startswith("resp_"):
                return list(messages[i + 1 :]), response_id
    return list(messages), None


def responses_call(
    messages: Sequence[BaseMessage],
    chat_params: Mapping[str, Any],
    *,
    use_previous_response_id: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``input`` and parameters of a Responses call, from a chat call's parameters.

    ``max_tokens`` (``max_completion_tokens``) is sent as ``max_output_tokens``, ``verbosity`` as
    ``text.verbosity``; Responses fields that came in ``model_extras`` (``truncation``,
    ``text``...) are sent as such. With
    ``use_previous_response_id``, only the turns after the last answer with a response id are
    sent, with ``previous_response_id``. Chat-only parameters (``stop``, ``seed``...) are left for
    the core to refuse, naming them.

    Raises:
        ValueError: A message this API cannot carry.
    """
    params = dict(chat_params)
    for name in ("max_tokens", "max_completion_tokens"):
        if name in params:
            params["max_output_tokens"] = params.pop(name)
    extras = params.pop("model_extras", None)
    if extras:
        rest = {}
        for key, value in extras.items():
            if key in RESPONSES_FIELDS:
                params[key] = value
            elif key == "verbosity":  # chat's top-level field is text.verbosity here
                params["text"] = {**(params.get("text") or {}), "verbosity": value}
            else:
                rest[key] = value
        if rest:
            params["model_extras"] = rest
    turns = list(messages)
    if use_previous_response_id and not params.get("previous_response_id"):
        turns, response_id = last_turns(messages)
        if response_id is not None:
            params["previous_response_id"] = response_id
    return to_responses_input(turns, store=params.get("store")), params


def to_responses_input(
    messages: Sequence[BaseMessage], *, store: bool | None = None
) -> list[dict[str, Any]]:
    """Convert LangChain messages to Responses ``input``: chat messages and items.

    User, system and tool messages go as chat wire messages (the core turns them into input
    messages and ``function_call_output`` items); an ``AIMessage`` becomes its items
    (`_assistant_items`).

    Raises:
        ValueError: A message or block this API cannot carry.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, AIMessage):
            out.extend(_assistant_items(message, store))
        else:
            wire = to_wire_message(message)
            wire.pop("name", None)  # the Responses API has no message names
            out.append(wire)
    return out


def _without_index(block: Mapping[str, Any]) -> dict[str, Any]:
    """A streamed block as an item: LangChain's aggregation ``index`` keys removed."""
    item = {k: v for k, v in block.items() if k != "index"}
    for key in ("summary", "content"):
        parts = item.get(key)
        if isinstance(parts, list):
            item[key] = [
                {k: v for k, v in p.items() if k != "index"} if isinstance(p, Mapping) else p
                for p in parts
            ]
    return item


def _assistant_items(message: AIMessage, store: bool | None) -> list[dict[str, Any]]:
    """An earlier answer as input items: its reasoning, messages and function calls in order.

    Text and refusal blocks sharing an id make one message item (the id sent where the service
    stored it); reasoning goes back whole (with ``encrypted_content``, so a reasoning model
    goes on from it), except reasoning the service cannot find (``store=False`` and nothing
    encrypted); ``tool_calls`` not already in the content become ``function_call`` items.

    Raises:
        ValueError: A block an assistant message cannot carry (an image...).
    """
    items: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None  # the message item text without an id goes into
    content = message.content
    blocks: list[Any] = [content] if isinstance(content, str) else list(content)
    for block in blocks:
        if isinstance(block, str):
            block = {"type": "text", "text": block}
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind in ("text", "output_text", "refusal"):
            if kind == "refusal":
                part: dict[str, Any] = {"type": "refusal", "refusal": block.get("refusal", "")}
            else:
                text = block.get("text")
                if not isinstance(text, str) or not text:
                    continue
                annotations = block.get("annotations") or []
                part = {"type": "output_text", "text": text, "annotations": list(annotations)}
            block_id = block.get("id")
            if isinstance(block_id, str) and block_id in by_id:
                by_id[block_id]["content"].append(part)
                continue
            if not isinstance(block_id, str) and current is not None:
                current["content"].append(part)
                continue
            item: dict[str, Any] = {"type": "message", "role": "assistant", "content": [part]}
            if isinstance(block_id, str) and block_id.startswith("msg_") and store is not False:
                item["id"] = block_id
            if block.get("phase") is not None:
                item["phase"] = block["phase"]
            items.append(item)
            if isinstance(block_id, str):
                by_id[block_id] = item
                current = None
            else:
                current = item
        elif kind == "reasoning":
            if store is not False or block.get("encrypted_content"):
                items.append(_without_index(block))
            current = None
        elif kind == "function_call" or kind in _PASSED_ITEMS:
            items.append(_without_index(block))
            current = None
        elif kind in _SKIPPED_BLOCKS:
            continue
        else:
            raise ValueError(
                f"An AIMessage sent to the Responses API cannot carry a {kind!r} block (it takes "
                "text, refusal, reasoning and function_call blocks)."
            )
    calls = ("function_call", "custom_tool_call")
    sent = {i.get("call_id") for i in items if i.get("type") in calls}
    for call in message.tool_calls:
        if call.get("id") not in sent:
            wire = to_wire_tool_call(call)
            items.append(
                {
                    "type": "function_call",
                    "call_id": call["id"],
                    "name": wire["function"]["name"],
                    "arguments": wire["function"]["arguments"],
                }
            )
    for bad in message.invalid_tool_calls:
        if bad.get("id") not in sent:
            items.append(
                {
                    "type": "function_call",
                    "call_id": bad.get("id"),
                    "name": bad.get("name") or "",
                    "arguments": bad.get("args") or "",
                }
            )
    return items


# ---- answers ----------------------------------------------------------------------------------


def usage_from_response(usage: ResponseUsage) -> UsageMetadata:
    """Token counts with their details: ``cache_read`` (``cache_creation``), ``reasoning``."""
    total = usage.total_tokens or usage.input_tokens + usage.output_tokens
    result = UsageMetadata(
        input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, total_tokens=total
    )
    details = usage.input_tokens_details
    if details is not None:
        input_details = InputTokenDetails(cache_read=details.cached_tokens)
        written = (details.model_extra or {}).get("cache_write_tokens")
        if isinstance(written, int):
            input_details["cache_creation"] = written
        result["input_token_details"] = input_details
    if usage.output_tokens_details is not None:
        result["output_token_details"] = OutputTokenDetails(
            reasoning=usage.output_tokens_details.reasoning_tokens
        )
    return result


def _usage_dict(usage: ResponseUsage) -> dict[str, Any]:
    """``token_usage`` of ``llm_output``: the Responses names and chat's, as the chat mode has."""
    out = usage.model_dump(exclude_none=True)
    out.update(
        prompt_tokens=usage.input_tokens,
        completion_tokens=usage.output_tokens,
    )
    return out


def _metadata(response: Response, model: str | None) -> dict[str, Any]:
    """``response_metadata`` of an answer (and of a stream's last chunk, without ``id``)."""
    metadata: dict[str, Any] = {}
    if response.id:
        metadata["id"] = response.id
    dumped = response.model_dump(exclude_none=True, mode="json", include=set(_METADATA_KEYS))
    metadata.update(dumped)
    extra = response.model_extra or {}
    for key in ("service_tier", "metadata", "user"):
        if extra.get(key) is not None:
            metadata[key] = extra[key]
    if response.incomplete_details is not None:
        metadata["incomplete_details"] = response.incomplete_details.model_dump(exclude_none=True)
    name = response.model or model
    metadata["model"] = name
    metadata["model_name"] = name
    metadata["model_provider"] = RESPONSES_PROVIDER
    metadata["finish_reason"] = response.finish_reason
    return metadata


def _calls(response: Response) -> tuple[list[Any], list[Any]]:
    calls: list[Any] = []
    invalid: list[Any] = []
    for item in response.function_calls:
        text = item.arguments
        try:
            # strict=False: models put raw newlines inside JSON strings.
            args = json.loads(text, strict=False) if text and not text.isspace() else {}
        except ValueError as exc:
            error: str | None = f"Arguments are not JSON: {exc}"
        else:
            error = None if isinstance(args, dict) else "Arguments are not a JSON object"
        if error is None and item.name:
            calls.append(tool_call(name=item.name, args=args, id=item.call_id))
        else:
            invalid.append(
                invalid_tool_call(
                    name=item.name, args=text, id=item.call_id, error=error or "No function name"
                )
            )
    return calls, invalid


def _content_blocks(response: Response) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for item in response.output:
        if isinstance(item, MessageItem):
            phase = (item.model_extra or {}).get("phase")
            for part in item.content:
                if isinstance(part, OutputText):
                    block: dict[str, Any] = {
                        "type": "text",
                        "text": part.text,
                        "annotations": list(part.annotations),
                        "id": item.id,
                    }
                elif isinstance(part, Refusal):
                    block = {"type": "refusal", "refusal": part.refusal, "id": item.id}
                else:
                    block = part.model_dump(exclude_none=True, mode="json")
                if phase is not None:
                    block["phase"] = phase
                blocks.append(block)
        else:
            blocks.append(item.model_dump(exclude_none=True, mode="json"))
    return blocks


def from_response(response: Response, *, model: str | None = None) -> ChatResult:
    """Convert a Responses answer to a ``ChatResult`` (one generation).

    Args:
        response: The parsed answer (a failed one was raised by the core).
        model: The model asked for, used as ``model_name`` when the answer names none.
    """
    calls, invalid = _calls(response)
    additional: dict[str, Any] = {}
    if response.refusal is not None:
        additional["refusal"] = response.refusal  # where the structured-output parser looks
    usage = response.usage
    message = AIMessage(
        content=_content_blocks(response),  # type: ignore[arg-type]
        tool_calls=calls,
        invalid_tool_calls=invalid,
        additional_kwargs=additional,
        response_metadata=_metadata(response, model),
        usage_metadata=usage_from_response(usage) if usage is not None else None,
        id=response.id,
    )
    name = response.model or model
    llm_output: dict[str, Any] = {"model_name": name, "model": name}
    if usage is not None:
        llm_output["token_usage"] = _usage_dict(usage)
    info = {"finish_reason": response.finish_reason}
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=info)],
        llm_output=llm_output,
    )


# ---- streams ----------------------------------------------------------------------------------


class ResponsesChunks:
    """Turns a Responses stream's events into ``ChatGenerationChunk`` s.

    Each output part (a message's text or refusal, a function call, a reasoning item, another
    item) gets one content-block ``index``, in the order parts first appear, so LangChain adds
    the chunks up into the message `from_response` gives for the whole answer. Text a
    ``.done`` event has that no delta brought (a gateway that skips deltas) comes as one more
    piece, never twice.
    """

    def __init__(self, model: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.model = model
        self._headers = headers  # include_response_headers: on the first chunk
        self._indexes: dict[tuple[Any, ...], int] = {}
        self._sent: dict[tuple[Any, ...], str] = {}
        self._ids: set[int] = set()
        self._encrypted: dict[int | None, str] = {}

    def _index(self, *key: Any) -> int:
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = len(self._indexes)
        return index

    def _rest(self, key: tuple[Any, ...], whole: str | None) -> str:
        """What of ``whole`` was not sent yet for ``key`` (nothing when it does not extend it)."""
        sent = self._sent.get(key, "")
        if not whole or not whole.startswith(sent):
            return ""
        self._sent[key] = whole
        return whole[len(sent) :]

    def _add(self, key: tuple[Any, ...], delta: str) -> None:
        self._sent[key] = self._sent.get(key, "") + delta

    def chunk(self, event: ResponseStreamEvent) -> ChatGenerationChunk | None:
        """The chunk for one event, or None for events that add nothing to the message."""
        generation = self._chunk(event)
        if generation is not None and self._headers is not None:
            generation.message.response_metadata["headers"] = self._headers
            self._headers = None
        return generation

    def _chunk(self, event: ResponseStreamEvent) -> ChatGenerationChunk | None:
        kind = event.type
        oi = event.output_index
        if kind == "response.created" and event.response is not None:
            response_id = event.response.id
            return _chunk([], id=response_id, metadata={"id": response_id} if response_id else {})
        if kind in ("response.completed", "response.incomplete") and event.response is not None:
            return self.last(event.response)
        if kind == "response.output_text.delta":
            return self._text(event, event.delta if isinstance(event.delta, str) else "")
        if kind == "response.output_text.done":
            key = ("text", oi, event.content_index or 0)
            return self._text(event, self._rest(key, event.text), record=False)
        if kind == "response.refusal.delta":
            return self._refusal(event, event.delta if isinstance(event.delta, str) else "")
        if kind == "response.refusal.done":
            key = ("refusal", oi, event.content_index or 0)
            return self._refusal(event, self._rest(key, event.refusal), record=False)
        if kind == "response.function_call_arguments.delta":
            return self._arguments(oi, event.delta if isinstance(event.delta, str) else "")
        if kind == "response.function_call_arguments.done":
            return self._arguments(oi, self._rest(("args", oi), event.arguments), record=False)
        if kind == "response.reasoning_summary_text.delta":
            return self._summary(oi, event.summary_index or 0, event.delta)
        if kind == "response.reasoning_text.delta":
            return self._reasoning_text(oi, event.content_index or 0, event.delta)
        if kind == "response.output_text.annotation.added":
            annotation = (event.model_extra or {}).get("annotation")
            index = self._index("text", oi, event.content_index or 0)
            block = {"type": "text", "annotations": [annotation], "index": index}
            return _chunk([block])
        if kind == "response.output_item.added" and event.item is not None:
            return self._item_added(oi, event.item)
        if kind == "response.output_item.done" and event.item is not None:
            return self._item_done(oi, event.item)
        return None

    def _text(
        self, event: ResponseStreamEvent, delta: str, *, record: bool = True
    ) -> ChatGenerationChunk | None:
        if not delta:
            return None
        key = ("text", event.output_index, event.content_index or 0)
        if record:
            self._add(key, delta)
        block: dict[str, Any] = {"type": "text", "text": delta, "index": self._index(*key)}
        self._first_id(block, event.item_id)
        return _chunk([block])

    def _refusal(
        self, event: ResponseStreamEvent, delta: str, *, record: bool = True
    ) -> ChatGenerationChunk | None:
        if not delta:
            return None
        key = ("refusal", event.output_index, event.content_index or 0)
        if record:
            self._add(key, delta)
        block: dict[str, Any] = {"type": "refusal", "refusal": delta, "index": self._index(*key)}
        self._first_id(block, event.item_id)
        return _chunk([block], additional={"refusal": delta})

    def _first_id(self, block: dict[str, Any], item_id: str | None) -> None:
        """The message item's id on the first block of its part (later ones would repeat it)."""
        if item_id and block["index"] not in self._ids:
            self._ids.add(block["index"])
            block["id"] = item_id

    def _arguments(
        self, oi: int | None, delta: str, *, record: bool = True
    ) -> ChatGenerationChunk | None:
        if not delta:
            return None
        if record:
            self._add(("args", oi), delta)
        index = self._index("item", oi)
        block = {"type": "function_call", "arguments": delta, "index": index}
        return _chunk([block], calls=[tool_call_chunk(args=delta, index=index)])

    def _summary(self, oi: int | None, si: int, delta: Any) -> ChatGenerationChunk | None:
        if not isinstance(delta, str) or not delta:
            return None
        self._add(("summary", oi, si), delta)
        part = {"index": si, "type": "summary_text", "text": delta}
        return _chunk([{"type": "reasoning", "summary": [part], "index": self._index("item", oi)}])

    def _reasoning_text(self, oi: int | None, ci: int, delta: Any) -> ChatGenerationChunk | None:
        if not isinstance(delta, str) or not delta:
            return None
        self._add(("reasoning", oi, ci), delta)
        part = {"index": ci, "type": "reasoning_text", "text": delta}
        return _chunk([{"type": "reasoning", "content": [part], "index": self._index("item", oi)}])

    def _item_added(self, oi: int | None, item: Any) -> ChatGenerationChunk | None:
        if isinstance(item, FunctionCallItem):
            index = self._index("item", oi)
            self._sent[("args", oi)] = item.arguments
            block = {
                "type": "function_call",
                "name": item.name,
                "arguments": item.arguments,
                "call_id": item.call_id,
                "id": item.id,
                "index": index,
            }
            piece = tool_call_chunk(
                name=item.name, args=item.arguments, id=item.call_id, index=index
            )
            return _chunk([{k: v for k, v in block.items() if v is not None}], calls=[piece])
        if isinstance(item, ReasoningItem):
            started: dict[str, Any] = {"type": "reasoning", "summary": []}
            started["index"] = self._index("item", oi)
            if item.id:
                started["id"] = item.id
            return _chunk([started])
        return None

    def _item_done(self, oi: int | None, item: Any) -> ChatGenerationChunk | None:
        """The rest of an item no delta brought; a reasoning item's ``encrypted_content``."""
        if isinstance(item, MessageItem):
            blocks = []
            for ci, part in enumerate(item.content):
                if isinstance(part, OutputText):
                    kind, whole, name = "text", part.text, "text"
                elif isinstance(part, Refusal):
                    kind, whole, name = "refusal", part.refusal, "refusal"
                else:
                    continue
                rest = self._rest((kind, oi, ci), whole)
                if rest:
                    block: dict[str, Any] = {
                        "type": kind,
                        name: rest,
                        "index": self._index(kind, oi, ci),
                    }
                    self._first_id(block, item.id)
                    blocks.append(block)
            return _chunk(blocks) if blocks else None
        if isinstance(item, FunctionCallItem):
            return self._arguments(oi, self._rest(("args", oi), item.arguments), record=False)
        if isinstance(item, ReasoningItem):
            parts = []
            for si, summary in enumerate(item.summary):
                rest = self._rest(("summary", oi, si), summary.text)
                if rest:
                    parts.append({"index": si, "type": "summary_text", "text": rest})
            if item.encrypted_content:
                self._encrypted[oi] = item.encrypted_content  # sent with the last chunk
            if not parts:
                return None
            index = self._index("item", oi)
            return _chunk([{"type": "reasoning", "summary": parts, "index": index}])
        block = item.model_dump(exclude_none=True, mode="json")
        block["index"] = self._index("item", oi)
        return _chunk([block])

    def last(self, response: Response) -> ChatGenerationChunk:
        """The last chunk: usage, metadata (without the id: the first chunk had it).

        Encrypted reasoning comes here, as the terminal event's answer has it (a service may
        encrypt the same reasoning differently in ``output_item.done``): the message adds up to
        what ``invoke`` gives for the same answer.
        """
        metadata = _metadata(response, self.model)
        metadata.pop("id", None)
        encrypted = dict(self._encrypted)
        for oi, item in enumerate(response.output):
            if isinstance(item, ReasoningItem) and item.encrypted_content:
                encrypted[oi] = item.encrypted_content
        blocks = [
            {"type": "reasoning", "encrypted_content": text, "index": self._index("item", oi)}
            for oi, text in encrypted.items()
        ]
        usage = response.usage
        message = AIMessageChunk(
            content=blocks,
            usage_metadata=usage_from_response(usage) if usage is not None else None,
            response_metadata=metadata,
            chunk_position="last",
        )
        return ChatGenerationChunk(
            message=message, generation_info={"finish_reason": response.finish_reason}
        )


def _chunk(
    blocks: list[dict[str, Any]],
    *,
    calls: list[Any] | None = None,
    id: str | None = None,
    metadata: dict[str, Any] | None = None,
    additional: dict[str, Any] | None = None,
) -> ChatGenerationChunk:
    message = AIMessageChunk(
        content=blocks,
        tool_call_chunks=calls or [],
        response_metadata={**(metadata or {}), "model_provider": RESPONSES_PROVIDER},
        additional_kwargs=additional or {},
        id=id,
    )
    return ChatGenerationChunk(message=message)
