"""The emulator's Responses API: the chat route's deterministic answers in its shapes.

Served on ``POST /v1/responses``, ``/openai/v1/responses`` and
``/openai/responses?api-version=...``. A request is checked as the services check it (OpenAI's
error bodies: an unknown or a chat-only parameter, a bad ``text.format``, an unknown
``previous_response_id``, an item that was never stored, encrypted reasoning the emulator did
not write), turned into a chat body (`chat_body`),
answered by the chat route's answer functions (the same text, tool calls and structured output),
and written back as a response (`response_payload`) or as the recordings' event sequence
(`response_events`): ``response.created``, ``response.in_progress``, then per item
``output_item.added``, its parts and deltas, ``output_item.done``, and ``response.completed``
(``response.incomplete`` when ``max_output_tokens`` cut the answer).

A reasoning model (``ModelSpec.reasoning == "reasoning_content"``) puts a ``reasoning`` item
first: its ``summary`` (one part per sentence) when ``reasoning={"summary": ...}`` asks for
one, its ``encrypted_content`` when ``include=["reasoning.encrypted_content"]`` does. A model
whose reasoning is written as ``<think>`` (as DeepSeek-R1), or with ``"responses"`` in
``ModelSpec.unsupported``, refuses the route: "This model is not supported by the Responses
API", as Foundry answers for such models.

Stored answers (``store`` is true by default) are kept in memory, the newest
`MAX_STORED_RESPONSES`, for ``previous_response_id`` and ``item_reference``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from .answers import ChatAnswer
from .refusals import Refusal, openai_error

__all__ = [
    "MAX_STORED_RESPONSES",
    "ResponseStore",
    "chat_body",
    "check_responses_body",
    "response_events",
    "response_payload",
    "sse_events",
    "unsupported_model",
]

MAX_STORED_RESPONSES = 1000
"""How many stored answers the emulator keeps for ``previous_response_id`` (oldest dropped)."""

RESPONSES_FIELDS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tool_calls",
        "text",
        "reasoning",
        "include",
        "previous_response_id",
        "store",
        "max_output_tokens",
        "temperature",
        "top_p",
        "top_logprobs",
        "truncation",
        "user",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "metadata",
        "service_tier",
        "stream",
        "stream_options",
        "background",
    }
)
_MOVED = {
    "messages": "input",
    "max_tokens": "max_output_tokens",
    "max_completion_tokens": "max_output_tokens",
    "response_format": "text.format",
    "reasoning_effort": "reasoning.effort",
}
_INCLUDABLE = frozenset(
    {
        "reasoning.encrypted_content",
        "message.output_text.logprobs",
        "message.input_image.image_url",
        "file_search_call.results",
        "web_search_call.action.sources",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
    }
)
_ENCRYPTED_PREFIX = "gAAAAAB"
_PIECES = re.compile(r"\s*\S+|\s+$")
_SENTENCES = re.compile(r"[^.!?]+[.!?]?")


def _bad(message: str, param: str | None, code: str | None = "invalid_value") -> Refusal:
    return openai_error(400, message, code=code, param=param)


def unsupported_model(name: str) -> Refusal:
    """The 400 of a model without the Responses API (DeepSeek-R1 and others on Foundry)."""
    return openai_error(
        400,
        f"This model is not supported by the Responses API. Use the chat completions API for "
        f"the model '{name}'.",
        code="unsupported_model",
        param="model",
    )


class ResponseStore:
    """The stored answers: for each id, the conversation as chat messages and the items."""

    def __init__(self, limit: int = MAX_STORED_RESPONSES) -> None:
        self.limit = limit
        self._answers: OrderedDict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = OrderedDict()
        self._items: dict[str, dict[str, Any]] = {}

    def put(self, response_id: str, messages: list[dict[str, Any]], output: list[Any]) -> None:
        """Keep a stored answer (its conversation and output items), dropping the oldest."""
        items = {i["id"]: i for i in output if isinstance(i, dict) and "id" in i}
        self._answers[response_id] = (messages, items)
        self._items.update(items)
        while len(self._answers) > self.limit:
            _, (_, dropped) = self._answers.popitem(last=False)
            for item_id in dropped:
                self._items.pop(item_id, None)

    def conversation(self, response_id: str) -> list[dict[str, Any]] | None:
        """The chat messages up to and including the answer ``response_id``."""
        found = self._answers.get(response_id)
        return list(found[0]) if found is not None else None

    def item(self, item_id: str) -> dict[str, Any] | None:
        """A stored output item."""
        return self._items.get(item_id)

    def clear(self) -> None:
        """Forget everything."""
        self._answers.clear()
        self._items.clear()


# ---- checking ---------------------------------------------------------------------------------


def check_responses_body(body: Mapping[str, Any]) -> None:
    """Refuse what the Responses API refuses, with OpenAI's bodies.

    Raises:
        Refusal: 400 naming the parameter.
    """
    for name in sorted(body):
        if name in _MOVED:
            raise _bad(
                f"Unsupported parameter: '{name}'. In the Responses API, this parameter has "
                f"moved to '{_MOVED[name]}'.",
                name,
                "unsupported_parameter",
            )
        if name not in RESPONSES_FIELDS:
            raise _bad(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    given = body.get("input")
    if given is None and not body.get("previous_response_id"):
        raise _bad("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if given is not None and not isinstance(given, (str, list)):
        raise _bad("Invalid type for 'input': expected a string or an array.", "input")
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        value = body.get(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= high
        ):
            raise _bad(f"Invalid '{name}': expected a number from {low} to {high}.", name)
    limit = body.get("max_output_tokens")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _bad("Invalid 'max_output_tokens': expected a positive integer.", "max_output_tokens")
    for name in ("store", "parallel_tool_calls", "stream", "background"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise _bad(f"Invalid type for '{name}': expected a boolean.", name)
    if body.get("background"):
        raise _bad(
            "background is not supported by the emulator.", "background", "unsupported_parameter"
        )
    include = body.get("include")
    if include is not None:
        if not isinstance(include, list):
            raise _bad("Invalid type for 'include': expected an array of strings.", "include")
        for i, entry in enumerate(include):
            if entry not in _INCLUDABLE:
                raise _bad(
                    f"Invalid value: '{entry}'. Supported values are: "
                    + ", ".join(f"'{v}'" for v in sorted(_INCLUDABLE))
                    + ".",
                    f"include[{i}]",
                )
    _check_format(body.get("text"))
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, Mapping) else None
            raise _bad(
                f"Tool type '{kind}' is not supported by the emulator (function tools only).",
                f"tools[{i}].type",
                "unsupported_value",
            )
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise _bad(
                f"Missing required parameter: 'tools[{i}].name'.",
                f"tools[{i}].name",
                "missing_required_parameter",
            )
        if "function" in tool:
            raise _bad(
                f"Unknown parameter: 'tools[{i}].function'.",
                f"tools[{i}].function",
                "unknown_parameter",
            )


def _check_format(text: Any) -> None:
    if text is None:
        return
    if not isinstance(text, Mapping):
        raise _bad("Invalid type for 'text': expected an object.", "text")
    fmt = text.get("format")
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise _bad(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object' and "
            "'json_schema'.",
            "text.format.type",
        )
    if kind == "json_schema":
        for key in ("name", "schema"):
            if not fmt.get(key):
                raise _bad(
                    f"Missing required parameter: 'text.format.{key}'.",
                    f"text.format.{key}",
                    "missing_required_parameter",
                )


# ---- a Responses request as a chat body --------------------------------------------------------


def _part(part: Any, where: str) -> dict[str, Any]:
    if not isinstance(part, Mapping):
        raise _bad(f"Invalid type for '{where}': expected an object.", where)
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal", ""))}
    if kind == "input_image":
        return {
            "type": "image_url",
            "image_url": {"url": part.get("image_url"), "detail": part.get("detail")},
        }
    if kind == "input_file":
        return {"type": "text", "text": f"[file {part.get('filename') or part.get('file_id')}]"}
    raise _bad(f"Invalid value: '{kind}'.", f"{where}.type")


def _content(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return [_part(p, f"{where}[{j}]") for j, p in enumerate(content)]
    raise _bad(f"Invalid type for '{where}': expected a string or an array.", where)


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return " ".join(str(p.get("text", "")) for p in output if isinstance(p, Mapping))
    return json.dumps(output)


def decode_reasoning(encrypted: Any) -> str | None:
    """The reasoning the emulator wrote into ``encrypted_content``; None if it did not."""
    if not isinstance(encrypted, str) or not encrypted.startswith(_ENCRYPTED_PREFIX):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(encrypted[len(_ENCRYPTED_PREFIX) :]))
    except (ValueError, binascii.Error):
        return None
    return data.get("r") if isinstance(data, dict) else None


def _encrypt(reasoning: str) -> str:
    blob = json.dumps({"v": 1, "r": reasoning}).encode()
    return _ENCRYPTED_PREFIX + base64.urlsafe_b64encode(blob).decode()


def chat_body(
    body: Mapping[str, Any], history: list[dict[str, Any]], store: ResponseStore
) -> dict[str, Any]:
    """The chat request a Responses request amounts to (after ``history``, the earlier turns).

    Raises:
        Refusal: An input item the API would refuse (an unknown type, an item or encrypted
            reasoning that cannot be found or verified).
    """
    messages = list(history)
    if body.get("instructions"):
        messages.insert(0, {"role": "system", "content": str(body["instructions"])})
    given = body.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given or []
    for i, item in enumerate(items):
        where = f"input[{i}]"
        if not isinstance(item, Mapping):
            raise _bad(f"Invalid type for '{where}': expected an object.", where)
        kind = item.get("type", "message")
        if kind == "item_reference":
            found = store.item(str(item.get("id")))
            if found is None:
                raise _not_found(str(item.get("id")))
            item, kind = found, found.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise _bad(f"Invalid value: '{role}'.", f"{where}.role")
            content = _content(item.get("content"), f"{where}.content")
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments", "")},
            }
            last = messages[-1] if messages else None
            if last is not None and last.get("role") == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": _output_text(item.get("output")),
                }
            )
        elif kind == "reasoning":
            _check_reasoning_item(item, store)
        else:
            raise _bad(f"Invalid value: '{kind}'.", f"{where}.type")
    return _chat_params(body, messages)


def _not_found(item_id: str) -> Refusal:
    return openai_error(
        404,
        f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to "
        "false. Try again with `store` set to true, or remove this item from your input.",
        param="input",
    )


def _check_reasoning_item(item: Mapping[str, Any], store: ResponseStore) -> None:
    encrypted = item.get("encrypted_content")
    if encrypted is not None:
        if decode_reasoning(encrypted) is None:
            raise _bad(
                f"The encrypted content for item {item.get('id')} could not be verified.",
                None,
                "invalid_encrypted_content",
            )
        return
    if store.item(str(item.get("id"))) is None:
        raise _not_found(str(item.get("id")))


def _chat_params(body: Mapping[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    chat: dict[str, Any] = {"messages": messages}
    tools = body.get("tools")
    if tools:
        chat["tools"] = [
            {
                "type": "function",
                "function": {k: v for k, v in t.items() if k != "type" and v is not None},
            }
            for t in tools
        ]
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif choice is not None:
        chat["tool_choice"] = choice
    if body.get("parallel_tool_calls") is not None:
        chat["parallel_tool_calls"] = body["parallel_tool_calls"]
    fmt = (body.get("text") or {}).get("format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        chat["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None:
        chat["reasoning_effort"] = effort
    return chat


# ---- the answer --------------------------------------------------------------------------------


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def _flat_tools(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "description": t.get("description"),
            "name": t["name"],
            "parameters": t.get("parameters"),
            "strict": t.get("strict", True),
        }
        for t in body.get("tools") or []
    ]


def response_payload(
    answer: ChatAnswer,
    model: str,
    body: Mapping[str, Any],
    reasoning: str | None,
) -> dict[str, Any]:
    """The whole response object of an answer (``reasoning``: the model's, or None)."""
    output: list[dict[str, Any]] = []
    reasoning_tokens = 0
    if reasoning is not None:
        asked = body.get("reasoning") or {}
        item: dict[str, Any] = {"id": _new_id("rs"), "type": "reasoning", "summary": []}
        if asked.get("summary"):
            item["summary"] = [
                {"type": "summary_text", "text": s.strip()}
                for s in _SENTENCES.findall(reasoning)
                if s.strip()
            ]
        if "reasoning.encrypted_content" in (body.get("include") or ()):
            item["encrypted_content"] = _encrypt(reasoning)
        output.append(item)
        reasoning_tokens = getattr(answer, "reasoning_tokens", None) or len(reasoning.split())
    incomplete = answer.finish_reason == "length"
    if answer.content is not None and (answer.content or not answer.tool_calls):
        output.append(
            {
                "id": _new_id("msg"),
                "type": "message",
                "status": "incomplete" if incomplete else "completed",
                "content": [
                    {
                        "type": "output_text",
                        "annotations": [],
                        "logprobs": [],
                        "text": answer.content,
                    }
                ],
                "role": "assistant",
            }
        )
    for call in answer.tool_calls:
        output.append(
            {
                "id": _new_id("fc"),
                "type": "function_call",
                "status": "completed",
                "arguments": call["function"]["arguments"],
                "call_id": call["id"],
                "name": call["function"]["name"],
            }
        )
    fmt = (body.get("text") or {}).get("format") or {"type": "text"}
    asked_reasoning = body.get("reasoning") or {}
    return {
        "id": _new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {
            "effort": asked_reasoning.get("effort", "medium" if reasoning is not None else None),
            "summary": asked_reasoning.get("summary"),
        },
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _flat_tools(body),
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": answer.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": answer.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _chunks(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _obfuscation() -> str:
    return secrets.token_urlsafe(9)


def response_events(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a streamed answer, in the recordings' order (``sequence_number`` added)."""
    start = {**payload, "status": "in_progress", "output": [], "usage": None}
    start["incomplete_details"] = None
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
    ]
    for index, item in enumerate(payload["output"]):
        events.extend(_item_events(index, item))
    terminal = "response.incomplete" if payload["status"] == "incomplete" else "response.completed"
    events.append({"type": terminal, "response": payload})
    return [{"type": e["type"], "sequence_number": n, **e} for n, e in enumerate(events)]


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    at = {"item_id": item["id"], "output_index": index}
    kind = item["type"]
    out: list[dict[str, Any]] = []
    if kind == "message":
        opened = {**item, "status": "in_progress", "content": []}
        out.append({"type": "response.output_item.added", "output_index": index, "item": opened})
        for j, part in enumerate(item["content"]):
            empty = {**part, "text": ""}
            out.append(
                {"type": "response.content_part.added", **at, "content_index": j, "part": empty}
            )
            for piece in _PIECES.findall(part["text"]):
                out.append(
                    {
                        "type": "response.output_text.delta",
                        **at,
                        "content_index": j,
                        "delta": piece,
                        "logprobs": [],
                        "obfuscation": _obfuscation(),
                    }
                )
            out.append(
                {
                    "type": "response.output_text.done",
                    **at,
                    "content_index": j,
                    "text": part["text"],
                    "logprobs": [],
                }
            )
            out.append(
                {"type": "response.content_part.done", **at, "content_index": j, "part": part}
            )
    elif kind == "function_call":
        opened = {**item, "status": "in_progress", "arguments": ""}
        out.append({"type": "response.output_item.added", "output_index": index, "item": opened})
        for piece in _chunks(item["arguments"]):
            out.append(
                {
                    "type": "response.function_call_arguments.delta",
                    **at,
                    "delta": piece,
                    "obfuscation": _obfuscation(),
                }
            )
        out.append(
            {
                "type": "response.function_call_arguments.done",
                **at,
                "arguments": item["arguments"],
            }
        )
    elif kind == "reasoning":
        opened = {k: v for k, v in item.items() if k != "encrypted_content"}
        opened["summary"] = []
        out.append({"type": "response.output_item.added", "output_index": index, "item": opened})
        for j, part in enumerate(item["summary"]):
            out.append(
                {
                    "type": "response.reasoning_summary_part.added",
                    **at,
                    "summary_index": j,
                    "part": {"type": "summary_text", "text": ""},
                }
            )
            for piece in _PIECES.findall(part["text"]):
                out.append(
                    {
                        "type": "response.reasoning_summary_text.delta",
                        **at,
                        "summary_index": j,
                        "delta": piece,
                        "obfuscation": _obfuscation(),
                    }
                )
            out.append(
                {
                    "type": "response.reasoning_summary_text.done",
                    **at,
                    "summary_index": j,
                    "text": part["text"],
                }
            )
            out.append(
                {
                    "type": "response.reasoning_summary_part.done",
                    **at,
                    "summary_index": j,
                    "part": part,
                }
            )
    out.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return out


async def sse_events(events: Sequence[dict[str, Any]], limit: int | None = None) -> Any:
    """``event: <type>`` / ``data: <json>`` per event, no ``[DONE]`` (as OpenAI and Azure send).

    Stops the connection after ``limit`` events when set (a dropped stream).
    """
    import asyncio

    for sent, event in enumerate(events):
        if limit is not None and sent >= limit:
            raise ConnectionAbortedError("emulator fault: stream dropped")
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
        await asyncio.sleep(0)
