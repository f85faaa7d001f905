"""Pure request building for ``POST .../responses``: parameters in, a ready `PreparedRequest`.

- `to_input_items` turns chat wire messages (the dicts `Client.complete` takes: ``system``,
  ``developer``, ``user``, ``assistant`` with ``tool_calls``, ``tool``) into Responses input
  items; Responses items given as they are (``{"type": "reasoning", ...}``,
  ``{"type": "function_call", ...}``, ``{"type": "function_call_output", ...}``,
  ``{"type": "item_reference", ...}``, a `ReasoningItem` or `FunctionCallItem`) pass through, so
  an adapter mixes both to send encrypted reasoning back.
- `to_responses_tool` flattens chat tools (``{"type": "function", "function": {...}}`` becomes
  ``{"type": "function", "name", "description", "parameters", "strict"}``); built-in tools
  (``web_search``, ``file_search``, ``mcp``...) pass through.
- `to_responses_tool_choice` and `to_text_format` do the same for ``tool_choice`` and chat's
  ``response_format`` (which becomes ``text.format``).
- `responses_url` is where an endpoint's Responses route is (see its docstring).

Rules as for chat: ``None`` is never sent, falsy values are; a parameter the Responses API does
not define is an error naming it (``max_tokens``: use ``max_output_tokens``), or goes through
``model_extras``; nothing is silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

from azureinference.endpoints import Endpoint, EndpointKind
from azureinference.errors import ConfigurationError
from azureinference.requests import (
    PreparedRequest,
    _check_headers,
    _format_dict,
    _merge_extras,
    _to_json,
)

__all__ = [
    "RESPONSES_API_VERSION",
    "RESPONSES_FIELDS",
    "RESPONSES_ONLY_PARAMS",
    "build_responses_body",
    "build_responses_request",
    "responses_only_features",
    "responses_url",
    "to_input_items",
    "to_responses_tool",
    "to_responses_tool_choice",
    "to_text_format",
]

RESPONSES_API_VERSION = "2025-03-01-preview"
"""The api-version sent to Azure OpenAI's ``/openai/responses`` route when the endpoint's own is
older (the deployment routes default to ``2024-10-21``, which has no Responses API)."""

RESPONSES_FIELDS = frozenset(
    {
        "input",
        "model",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tool_calls",
        "text",
        "reasoning",
        "include",
        "previous_response_id",
        "conversation",
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
        "background",
        "stream",
        "stream_options",
        "prompt",
    }
)
"""The body fields of the Responses API."""

RESPONSES_ONLY_PARAMS = frozenset(
    {"reasoning", "include", "previous_response_id", "conversation", "store", "background"}
)
"""Parameters chat completions has no equivalent of (see `responses_only_features`)."""

# Chat spellings that have another name here, for the error message.
_RENAMED = {
    "max_tokens": "max_output_tokens",
    "max_completion_tokens": "max_output_tokens",
    "response_format": "text={'format': ...} (or response_format= to build_responses_body)",
    "reasoning_effort": "reasoning={'effort': ...}",
    "logprobs": "include=['message.output_text.logprobs'] (with top_logprobs)",
}
_NOT_IN_RESPONSES = ("stop", "seed", "presence_penalty", "frequency_penalty", "n", "logit_bias")

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_SSE_HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}

_ITEM_TYPES = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "item_reference",
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
        "computer_call",
        "computer_call_output",
        "local_shell_call",
        "local_shell_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "image_generation_call",
    }
)
_INPUT_ROLES = frozenset({"system", "developer", "user"})
_TOOL_CHOICE_STRINGS = frozenset({"auto", "none", "required"})


def _type_name(value: Any) -> str:
    return type(value).__name__


# ---- input -----------------------------------------------------------------------------------


def _input_part(part: Any, where: str, role: str) -> dict[str, Any]:
    """One chat content part as a Responses input part."""
    if isinstance(part, str):
        part = {"type": "text", "text": part}
    if not isinstance(part, Mapping):
        raise ConfigurationError(f"{where} must be a content part dict, not {_type_name(part)}.")
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise ConfigurationError(f"{where} is a text part without a 'text' string.")
        return {"type": "output_text" if role == "assistant" else "input_text", "text": text}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if not isinstance(url, str):
            raise ConfigurationError(f"{where} is an image_url part without a 'url'.")
        out = {"type": "input_image", "image_url": url}
        detail = image.get("detail") if isinstance(image, Mapping) else None
        out["detail"] = detail if isinstance(detail, str) else "auto"
        return out
    if kind == "file":
        file = part.get("file")
        if not isinstance(file, Mapping):
            raise ConfigurationError(f"{where} is a file part without a 'file' dict.")
        return {"type": "input_file", **{k: v for k, v in file.items() if v is not None}}
    if kind in ("input_text", "input_image", "input_file", "output_text", "refusal"):
        return dict(part)
    raise ConfigurationError(
        f"{where} has type {kind!r}, which the Responses API does not take as input (it takes "
        "text, image_url and file parts, or input_text, input_image and input_file)."
    )


def _content(content: Any, where: str, role: str) -> Any:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, (bytes, bytearray)):
        return [_input_part(p, f"{where}[{j}]", role) for j, p in enumerate(content)]
    raise ConfigurationError(
        f"{where} must be a str or a list of content parts, not {_type_name(content)}."
    )


def _tool_output(content: Any, where: str) -> Any:
    """A tool message's content as ``function_call_output.output`` (text, or input parts)."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    parts = _content(content, where, "user")
    if all(p.get("type") == "input_text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _message_items(message: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    role = message.get("role")
    unknown = sorted(
        k
        for k in message
        if k not in ("role", "content", "tool_calls", "tool_call_id", "refusal", "type")
        and message[k] is not None
    )
    if unknown:
        raise ConfigurationError(
            f"{where} has {unknown}, which a Responses API input message cannot carry (only "
            "role and content; tool calls and results become function_call items)."
        )
    content = message.get("content")
    if role in _INPUT_ROLES:
        if content is None:
            raise ConfigurationError(f"{where} ({role}) has no content.")
        return [{"role": role, "content": _content(content, f"{where}.content", role)}]
    if role == "assistant":
        items: list[dict[str, Any]] = []
        if content:
            items.append({"role": "assistant", "content": _content(content, where, "assistant")})
        refusal = message.get("refusal")
        if refusal:
            items.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "refusal", "refusal": refusal}],
                }
            )
        for j, call in enumerate(message.get("tool_calls") or ()):
            fn = call.get("function") if isinstance(call, Mapping) else None
            if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
                raise ConfigurationError(
                    f"{where}.tool_calls[{j}] must be {{'id', 'type': 'function', 'function': "
                    "{'name', 'arguments'}}."
                )
            call_id = call.get("id")
            if not isinstance(call_id, str) or not call_id:
                raise ConfigurationError(
                    f"{where}.tool_calls[{j}] has no 'id': a function_call item needs the call id "
                    "its function_call_output names."
                )
            arguments = fn.get("arguments")
            if not isinstance(arguments, str):
                arguments = "{}" if arguments is None else _json_text(arguments)
            items.append(
                {
                    "type": "function_call",
                    "call_id": call_id,
                    "name": fn["name"],
                    "arguments": arguments,
                }
            )
        return items
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ConfigurationError(f"{where} (tool) has no 'tool_call_id'.")
        return [
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": _tool_output(content, f"{where}.content"),
            }
        ]
    raise ConfigurationError(
        f"{where} has role {role!r}: use system, developer, user, assistant or tool."
    )


def _json_text(value: Any) -> str:
    import pydantic_core

    return pydantic_core.to_json(value).decode()


def to_input_items(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Turn chat wire messages and Responses items into the ``input`` list.

    Args:
        messages: Chat messages (``{"role", "content", ...}``; an assistant's ``tool_calls``
            become ``function_call`` items, a ``tool`` message a ``function_call_output``), and
            Responses items as dicts with a ``type`` or as `FunctionCallItem` / `ReasoningItem`
            models (sent as they are: how encrypted reasoning goes back).

    Raises:
        ConfigurationError: Not a list, a message without a role, a field Responses cannot carry
            (``name``), or a content part it does not take; each named by its position.
    """
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise ConfigurationError(
            f"input must be a str or a list of messages or items, not {_type_name(messages)}."
        )
    items: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"input[{i}]"
        if isinstance(message, BaseModel):
            to_input = getattr(message, "to_input", None)
            message = to_input() if callable(to_input) else message.model_dump(exclude_none=True)
        if not isinstance(message, Mapping):
            raise ConfigurationError(
                f"{where} must be a message dict ({{'role': ..., 'content': ...}}) or a "
                f"Responses item dict ({{'type': ...}}), not {_type_name(message)}."
            )
        kind = message.get("type")
        if kind is not None:  # a Responses item, sent as it is
            if kind not in _ITEM_TYPES:
                raise ConfigurationError(f"{where} has type {kind!r}, not a Responses input item.")
            items.append(dict(message))
        elif not isinstance(message.get("role"), str):
            raise ConfigurationError(f"{where} has no 'role' string.")
        else:
            items.extend(_message_items(message, where))
    return items


# ---- tools, tool_choice, text.format -----------------------------------------------------------


def to_responses_tool(tool: Any, where: str = "tools[0]") -> dict[str, Any]:
    """A tool in the Responses API's flat shape.

    ``{"type": "function", "function": {"name", "description", "parameters", "strict"}}`` becomes
    ``{"type": "function", "name", "description", "parameters", "strict"}``; flat function tools
    and built-in tools pass through.

    Raises:
        ConfigurationError: Not a dict with a ``type``, or a function tool without a name.
    """
    if not isinstance(tool, Mapping) or not isinstance(tool.get("type"), str):
        raise ConfigurationError(
            f"{where} must be a dict such as {{'type': 'function', 'name': ..., 'parameters': "
            f"{{...}}}}, not {_type_name(tool)}."
        )
    if tool["type"] != "function":
        return dict(tool)
    fn = tool.get("function")
    if isinstance(fn, Mapping):
        flat = {"type": "function", **{k: v for k, v in fn.items() if v is not None}}
    else:
        flat = dict(tool)
    if not isinstance(flat.get("name"), str) or not flat["name"]:
        raise ConfigurationError(f"{where} is a function tool without a 'name'.")
    return flat


def to_responses_tool_choice(tool_choice: Any) -> Any:
    """``tool_choice`` in the Responses API's shape.

    ``"auto"``, ``"none"``, ``"required"`` as they are; ``{"type": "function", "function":
    {"name"}}``, ``{"function": {"name"}}`` or ``{"name"}`` become ``{"type": "function",
    "name"}``; other typed choices (``{"type": "web_search"}``, ``{"type": "allowed_tools",
    ...}``) pass through.

    Raises:
        ConfigurationError: Anything else.
    """
    if tool_choice is None:
        return None
    if isinstance(tool_choice, str) and tool_choice in _TOOL_CHOICE_STRINGS:
        return tool_choice
    if isinstance(tool_choice, Mapping):
        fn = tool_choice.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return {"type": "function", "name": fn["name"]}
        if isinstance(tool_choice.get("name"), str) and tool_choice.get("type", "function") in (
            "function",
            "custom",
        ):
            return {"type": tool_choice.get("type", "function"), "name": tool_choice["name"]}
        if isinstance(tool_choice.get("type"), str) and tool_choice["type"] != "function":
            return dict(tool_choice)
    raise ConfigurationError(
        f"Invalid tool_choice {tool_choice!r}: use 'auto', 'none', 'required' or "
        "{'type': 'function', 'name': <tool name>}."
    )


def to_text_format(response_format: Any) -> dict[str, Any] | None:
    """Chat's ``response_format`` as ``text.format``.

    ``{"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}``
    becomes ``{"type": "json_schema", "name", "schema", "strict", "description"}``;
    ``"json_object"`` / ``"text"`` (or their dicts) become ``{"type": ...}``; a format already in
    the flat shape passes through.

    Raises:
        ConfigurationError: An unknown type, or a json_schema without a schema.
    """
    response_format = _format_dict(response_format)
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind != "json_schema":
        raise ConfigurationError(
            f"Invalid response_format type {kind!r}: use 'text', 'json_object' or 'json_schema'."
        )
    spec = response_format.get("json_schema", response_format)
    if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
        raise ConfigurationError(
            "A json_schema format needs a schema: {'type': 'json_schema', 'json_schema': "
            "{'name': ..., 'schema': {...}}} (or {'type': 'json_schema', 'name', 'schema'})."
        )
    out: dict[str, Any] = {"type": "json_schema", "name": spec.get("name") or "response"}
    for key in ("schema", "strict", "description"):
        if spec.get(key) is not None:
            out[key] = spec[key]
    return out


# ---- the body --------------------------------------------------------------------------------


def _check_params(params: Mapping[str, Any]) -> None:
    for name, value in params.items():
        if value is None:
            continue
        if name in ("temperature", "top_p"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"{name} must be a number, not {_type_name(value)}.")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigurationError(f"{name} must be a finite number, not {value!r}.")
        elif name in ("max_output_tokens", "top_logprobs", "max_tool_calls"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(f"{name} must be an int, not {_type_name(value)}.")
        elif name in ("store", "parallel_tool_calls", "background"):
            if not isinstance(value, bool):
                raise ConfigurationError(f"{name} must be True or False, not {_type_name(value)}.")
        elif name in (
            "model",
            "instructions",
            "previous_response_id",
            "user",
            "safety_identifier",
            "prompt_cache_key",
            "service_tier",
            "truncation",
        ):
            if not isinstance(value, str):
                raise ConfigurationError(f"{name} must be a str, not {_type_name(value)}.")
        elif name in ("reasoning", "text", "metadata", "stream_options", "prompt"):
            if not isinstance(value, Mapping):
                raise ConfigurationError(f"{name} must be a dict, not {_type_name(value)}.")
        elif name == "include":
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise ConfigurationError(
                    "include must be a list such as ['reasoning.encrypted_content'], not "
                    f"{_type_name(value)}."
                )
            for j, entry in enumerate(value):
                if not isinstance(entry, str):
                    raise ConfigurationError(f"include[{j}] must be a str.")
    reasoning = params.get("reasoning")
    if isinstance(reasoning, Mapping):
        for key in ("effort", "summary"):
            if reasoning.get(key) is not None and not isinstance(reasoning[key], str):
                raise ConfigurationError(
                    f"reasoning[{key!r}] must be a str such as 'low' / 'auto', not "
                    f"{_type_name(reasoning[key])}."
                )


def build_responses_body(
    input: str | Sequence[Any],
    *,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    response_format: Any = None,
    text: Mapping[str, Any] | None = None,
    reasoning_effort: str | None = None,
    reasoning: Mapping[str, Any] | None = None,
    stream: bool = False,
    **params: Any,
) -> dict[str, Any]:
    """Build a Responses body (a dict), leaving out everything that is None.

    Args:
        input: A prompt string, or chat messages and Responses items (see `to_input_items`).
        tools: Chat-shaped or flat tools (see `to_responses_tool`).
        tool_choice: See `to_responses_tool_choice`.
        response_format: Chat's ``response_format``, sent as ``text.format`` (`to_text_format`).
        text: The ``text`` object as the API takes it (``{"format": ..., "verbosity": ...}``).
        reasoning_effort: Chat's spelling of ``reasoning={"effort": ...}``.
        reasoning: ``{"effort": ..., "summary": "auto" | "concise" | "detailed"}``.
        stream: Ask for server-sent events.
        **params: The other fields of `RESPONSES_FIELDS`: ``model``, ``instructions``,
            ``include``, ``previous_response_id``, ``store``, ``max_output_tokens``,
            ``temperature``, ``top_p``, ``parallel_tool_calls``, ``metadata``, ``user``...

    Raises:
        ConfigurationError: An empty input, a parameter of the wrong type, a chat-only
            parameter (``stop``, ``seed``...) or a chat spelling (``max_tokens``), named.
    """
    for name in sorted(params):
        if name in _RENAMED:
            raise ConfigurationError(
                f"{name} is not a Responses API parameter: use {_RENAMED[name]}."
            )
        if name in _NOT_IN_RESPONSES:
            raise ConfigurationError(
                f"{name} is a chat completions parameter the Responses API does not have."
            )
        if name not in RESPONSES_FIELDS:
            raise ConfigurationError(
                f"Unknown Responses parameter {name!r}: pass parameters the API does not define "
                "through model_extras."
            )
    _check_params({"text": text, "reasoning": reasoning, **params})
    if isinstance(input, str):
        if not input:
            raise ConfigurationError("input is empty: a Responses request needs some input.")
        body: dict[str, Any] = {"input": input}
    else:
        items = to_input_items(input)
        if not items and not params.get("previous_response_id"):
            raise ConfigurationError("input is empty: a Responses request needs some input.")
        body = {"input": items}
    for key, value in params.items():
        if value is not None:
            body[key] = list(value) if key == "include" else value
    if tools:
        if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
            raise ConfigurationError(
                f"tools must be a list of tool dicts, not {_type_name(tools)}."
            )
        body["tools"] = [to_responses_tool(t, f"tools[{i}]") for i, t in enumerate(tools)]
    if tool_choice is not None:
        body["tool_choice"] = to_responses_tool_choice(tool_choice)
    text_out = dict(text) if text else {}
    text_format = to_text_format(response_format)
    if text_format is not None:
        if "format" in text_out:
            raise ConfigurationError(
                "Both response_format and text['format'] were given: pass one of them."
            )
        text_out["format"] = text_format
    elif "format" in text_out:
        text_out["format"] = to_text_format(text_out["format"])
    if text_out:
        body["text"] = text_out
    reasoning_out = dict(reasoning) if reasoning else {}
    if reasoning_effort is not None:
        if not isinstance(reasoning_effort, str):
            raise ConfigurationError(
                f"reasoning_effort must be a str, not {_type_name(reasoning_effort)}."
            )
        if reasoning_out.get("effort") not in (None, reasoning_effort):
            raise ConfigurationError(
                f"reasoning_effort={reasoning_effort!r} and reasoning['effort']="
                f"{reasoning_out['effort']!r} disagree: pass one of them."
            )
        reasoning_out["effort"] = reasoning_effort
    reasoning_out = {k: v for k, v in reasoning_out.items() if v is not None}
    if reasoning_out:
        body["reasoning"] = reasoning_out
    if stream:
        body["stream"] = True
    return body


def responses_only_features(params: Mapping[str, Any]) -> list[str]:
    """What of ``params`` only the Responses API can do (chat completions has no equivalent).

    ``reasoning`` with a ``summary``, ``include``, ``previous_response_id``, ``conversation``,
    ``store``, ``background``, and built-in tools (``web_search``, ``file_search``...): what an
    adapter that fell back to chat must refuse, naming the model and the feature, rather than
    drop. ``reasoning={"effort": ...}`` alone is not listed: chat has ``reasoning_effort``.
    """
    found = []
    for name in sorted(RESPONSES_ONLY_PARAMS):
        value = params.get(name)
        if value is None or value == [] or (name == "store" and value is False):
            continue
        if name == "reasoning":
            if isinstance(value, Mapping) and value.get("summary"):
                found.append("reasoning summaries (reasoning={'summary': ...})")
            continue
        found.append(name)
    for tool in params.get("tools") or ():
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if kind not in (None, "function") and f"built-in tool {kind!r}" not in found:
            found.append(f"built-in tool {kind!r}")
    return found


# ---- the route and the request ---------------------------------------------------------------


@lru_cache(maxsize=256)
def responses_url(endpoint: Endpoint) -> str:
    """The URL of the endpoint's Responses route.

    - ``openai_v1`` (``.../openai/v1``): ``.../openai/v1/responses``.
    - ``azure_openai`` (a resource or deployment URL): ``<resource>/openai/responses`` with the
      endpoint's ``api-version``, or `RESPONSES_API_VERSION` where that is older.
    - ``ai_services`` (``<resource>/models``): ``<resource>/openai/v1/responses``, the same
      resource's v1 route.
    - ``serverless``, ``github``, ``openai_compatible``: ``<base>/responses``, tried (a 404 means
      "no Responses route": see `is_responses_refusal`).

    The model always goes in the body (on Azure OpenAI it is the deployment name). Query
    parameters of the endpoint URL (a gateway's ``code=...``) are kept.
    """
    base = endpoint.base_url
    query = list(endpoint.extra_query)
    kind = endpoint.kind
    if kind is EndpointKind.AZURE_OPENAI:
        url = f"{base}/openai/responses"
        version = endpoint.api_version
        query.append(
            (
                "api-version",
                version if version and version >= RESPONSES_API_VERSION else RESPONSES_API_VERSION,
            )
        )
    elif kind is EndpointKind.AI_SERVICES:
        root = base[: -len("/models")] if base.lower().endswith("/models") else base
        url = f"{root}/openai/v1/responses"
    else:
        url = f"{base}/responses"
        if (
            kind in (EndpointKind.OPENAI_V1, EndpointKind.OPENAI_COMPATIBLE)
            and endpoint.api_version
        ):
            query.append(("api-version", endpoint.api_version))
    return url + ("?" + urlencode(query) if query else "")


def build_responses_request(
    endpoint: Endpoint,
    input: str | Sequence[Any],
    *,
    model_extras: Mapping[str, Any] | None = None,
    extra_parameters: str | None = None,
    headers: Mapping[str, str] | None = None,
    **params: Any,
) -> PreparedRequest:
    """Build a POST to the endpoint's Responses route (`responses_url`).

    Args:
        endpoint: Where to send it.
        input: A prompt, or chat messages and Responses items (see `to_input_items`).
        model_extras: Fields the API does not define, merged at the JSON root (an extra naming a
            standard field is an error, never a silent override), as for chat.
        extra_parameters: The ``extra-parameters`` header's mode, as for chat.
        headers: Extra request headers.
        **params: The parameters of `build_responses_body`.

    Raises:
        ConfigurationError: Bad parameters (see `build_responses_body`), no model for an Azure
            OpenAI resource URL without a deployment, or extras naming standard fields.
    """
    if params.get("model") is None and endpoint.deployment:
        params["model"] = endpoint.deployment
    if params.get("model") is None and endpoint.kind is EndpointKind.AZURE_OPENAI:
        raise ConfigurationError(
            f"The endpoint {endpoint.base_url!r} is an Azure OpenAI resource without a "
            "deployment: pass model=<deployment name>."
        )
    body = build_responses_body(input, **params)
    if model_extras:
        renamed = sorted(k for k in model_extras if k in _RENAMED)
        if renamed:
            raise ConfigurationError(
                f"model_extras {renamed} are chat spellings: pass "
                + ", ".join(_RENAMED[k] for k in renamed)
                + " instead."
            )
    extra_headers = _merge_extras(body, RESPONSES_FIELDS, model_extras, extra_parameters)
    stream = bool(body.get("stream"))
    hdrs = dict(_SSE_HEADERS if stream else _JSON_HEADERS)
    hdrs.update(extra_headers)
    if headers:
        _check_headers(headers)
        hdrs.update(headers)
    return PreparedRequest(
        method="POST",
        url=responses_url(endpoint),
        headers=hdrs,
        content=_to_json(body, model_extras),
        stream=stream,
    )
