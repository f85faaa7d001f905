"""Pure request building: parameters in, a ready `PreparedRequest` (method, URL, headers, body).

Rules (the same for chat and embeddings):

- ``None`` is never sent; falsy values (``temperature=0``, ``seed=0``) are.
- ``stop`` given as a string becomes a one-item list.
- ``model_extras`` are merged at the JSON root and set ``extra-parameters: pass-through`` (as the
  reference SDK does); no header without extras. ``extra_parameters="drop"`` or ``"error"`` picks
  the other modes. An extra that names a standard field is an error, never a silent override.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pydantic_core

from .endpoints import Endpoint, EndpointKind
from .errors import ConfigurationError
from .redaction import check_header

__all__ = [
    "CALL_OPTIONS",
    "CHAT_FIELDS",
    "EMBEDDINGS_FIELDS",
    "EXTRA_PARAMETERS_MODES",
    "PreparedRequest",
    "build_chat_body",
    "build_chat_request",
    "build_embeddings_body",
    "build_embeddings_request",
    "build_image_embeddings_request",
    "build_info_request",
    "check_chat_params",
    "check_text",
    "check_texts",
    "normalize_response_format",
    "normalize_tool_choice",
    "split_model_kwargs",
    "stop_sequences",
    "tool_choice_for",
]

CHAT_FIELDS = frozenset(
    {
        "messages",
        "model",
        "frequency_penalty",
        "presence_penalty",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "n",
        "user",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "modalities",
        "reasoning_effort",
    }
)
"""The chat body fields the API (or the OpenAI chat format it shares) defines."""

EMBEDDINGS_FIELDS = frozenset(
    {"input", "model", "dimensions", "encoding_format", "input_type", "user"}
)
"""The embeddings body fields."""

EXTRA_PARAMETERS_MODES = ("pass-through", "drop", "error")

_TOOL_CHOICE_STRINGS = frozenset({"auto", "none", "required"})
_RESPONSE_FORMAT_TYPES = frozenset({"text", "json_object", "json_schema"})
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_SSE_HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}


@dataclass
class PreparedRequest:
    """A request ready to send: nothing left to decide."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    stream: bool = False

    @property
    def json(self) -> Any:
        """The body parsed back (for tests and logs)."""
        return pydantic_core.from_json(self.content) if self.content else None


# Chat parameters checked by type before anything is sent (the API checks ranges itself).
_NUMBER_PARAMS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
_INT_PARAMS = ("max_tokens", "max_completion_tokens", "seed", "n", "top_logprobs")
_BOOL_PARAMS = ("parallel_tool_calls", "logprobs")
_STR_PARAMS = ("model", "user", "reasoning_effort")


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{name} must be a number, not {_type_name(value)}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a finite number, not {value!r} (not JSON).")


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int, not {_type_name(value)} {value!r}.")


def _check_list(name: str, value: Any, item: str) -> Sequence[Any]:
    """``value`` as a list: refuse a str (a list of its characters), a dict or a scalar."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ConfigurationError(
            f"{name} must be a list of {item}, not {_type_name(value)}"
            + (f" {value[:40]!r}" if isinstance(value, str) else "")
            + "."
        )
    return value


def check_texts(texts: Any, name: str = "texts") -> list[Any]:
    """``texts`` as a list; refuse a str (embedded letter by letter), a dict or a scalar.

    Raises:
        ConfigurationError: ``texts`` is not a list (or tuple) of texts, naming ``name``.
    """
    return list(_check_list(name, texts, "texts"))


def check_text(text: Any, name: str = "text") -> str:
    """The text of a one-text call (a query), named as the caller named it, not ``input[0]``.

    Raises:
        ConfigurationError: ``text`` is not a str, naming ``name``.
    """
    if not isinstance(text, str):
        raise ConfigurationError(f"{name} must be a str, not {_type_name(text)}.")
    return text


def _check_messages(messages: Any) -> None:
    _check_list("messages", messages, "message dicts ({'role': ..., 'content': ...})")
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ConfigurationError(
                f"messages[{i}] must be a dict with 'role' and 'content', not "
                f"{_type_name(message)}."
            )
        if not isinstance(message.get("role"), str):
            raise ConfigurationError(f"messages[{i}] has no 'role' string.")


def _check_tools(tools: Any) -> None:
    _check_list("tools", tools, "tool dicts ({'type': 'function', 'function': {...}})")
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("type"), str):
            raise ConfigurationError(
                f"tools[{i}] must be a dict such as {{'type': 'function', 'function': "
                f"{{'name': ..., 'parameters': {{...}}}}}}, not {_type_name(tool)}."
            )


def check_chat_params(params: Mapping[str, Any]) -> None:
    """Check the types of chat parameters (None means "not given" and passes).

    Raises:
        ConfigurationError: A parameter of the wrong type, named.
    """
    for name, value in params.items():
        if value is None:
            continue
        if name in _NUMBER_PARAMS:
            _check_number(name, value)
        elif name in _INT_PARAMS:
            _check_int(name, value)
        elif name in _BOOL_PARAMS and not isinstance(value, bool):
            raise ConfigurationError(f"{name} must be True or False, not {_type_name(value)}.")
        elif name in _STR_PARAMS and not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a str, not {_type_name(value)}.")
        elif name == "stop" and not isinstance(value, str):
            for i, item in enumerate(_check_list("stop", value, "str")):
                if not isinstance(item, str):
                    raise ConfigurationError(f"stop[{i}] must be a str, not {_type_name(item)}.")
        elif name == "tools":
            _check_tools(value)
        elif name in ("stream_options", "logit_bias") and not isinstance(value, Mapping):
            raise ConfigurationError(f"{name} must be a dict, not {_type_name(value)}.")


def _check_headers(headers: Any) -> None:
    if headers is None:
        return
    if not isinstance(headers, Mapping):
        raise ConfigurationError(
            f"headers must be a dict of str to str, not {_type_name(headers)}."
        )
    for name, value in headers.items():
        check_header(name, value, "headers")


def _check_extras(model_extras: Any) -> None:
    if model_extras is not None and not isinstance(model_extras, Mapping):
        raise ConfigurationError(
            f"model_extras must be a dict of parameter names to JSON values, not "
            f"{_type_name(model_extras)}."
        )
    for key in model_extras or ():
        if not isinstance(key, str):
            raise ConfigurationError(f"model_extras keys must be str, not {_type_name(key)}.")


def _to_json(body: dict[str, Any], extras: Mapping[str, Any] | None) -> bytes:
    """The body as JSON; a value that is not JSON (NaN, an object) is an error naming its key.

    One serialization in the common case: only when the output holds ``NaN``/``Infinity`` (which
    may be text inside a message) or serialization fails are the keys checked one by one.
    """
    try:
        content = pydantic_core.to_json(body)
    except pydantic_core.PydanticSerializationError:
        content = None
    if content is not None and b"NaN" not in content and b"Infinity" not in content:
        return content
    for key, value in body.items():
        what = f"model_extras[{key!r}]" if extras and key in extras else key
        try:
            constants = pydantic_core.to_json(value)
        except pydantic_core.PydanticSerializationError as exc:
            raise ConfigurationError(f"{what} is not JSON: {exc}.") from None
        if constants != pydantic_core.to_json(value, inf_nan_mode="null"):
            raise ConfigurationError(
                f"{what} holds NaN or infinity, which JSON cannot carry: pass finite numbers."
            )
    assert content is not None
    return content


def normalize_tool_choice(tool_choice: Any) -> Any:
    """Check and normalise ``tool_choice``.

    Accepts ``"auto"``, ``"none"``, ``"required"``, ``{"type": "function", "function":
    {"name": ...}}`` and, for convenience, ``{"name": ...}`` or a ``{"function": {...}}``.

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
            return {"type": "function", "function": {"name": fn["name"]}}
        if isinstance(tool_choice.get("name"), str):
            return {"type": "function", "function": {"name": tool_choice["name"]}}
    raise ConfigurationError(
        f"Invalid tool_choice {tool_choice!r}: use 'auto', 'none', 'required' or "
        "{'type': 'function', 'function': {'name': <tool name>}}."
    )


def tool_choice_for(tool_choice: Any, tool_names: Sequence[str] = ()) -> Any:
    """The wire ``tool_choice`` for what a framework's user says: the adapters' one reading.

    ``"any"`` and ``True`` become ``"required"``; ``"auto"``, ``"none"`` and ``"required"`` stay;
    a tool's name becomes ``{"type": "function", "function": {"name": ...}}``; a dict is kept
    (the request checks it); ``None`` and ``False`` mean "not set".

    Args:
        tool_choice: What the user passed.
        tool_names: The names of the tools sent with it; a name must be one of them.

    Raises:
        ConfigurationError: A name that is none of ``tool_names``, or a value of another type
            (also a ``ValueError``).
    """
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True or tool_choice == "any":
        return "required"
    if isinstance(tool_choice, str):
        if tool_choice in _TOOL_CHOICE_STRINGS:
            return tool_choice
        if tool_names and tool_choice not in tool_names:
            raise ConfigurationError(
                f"tool_choice {tool_choice!r} names none of the bound tools {list(tool_names)}."
            )
        return {"type": "function", "function": {"name": tool_choice}}
    if isinstance(tool_choice, Mapping):
        return dict(tool_choice)
    raise ConfigurationError(
        f"Unrecognized tool_choice {tool_choice!r}: use 'auto', 'none', 'any', 'required', a "
        "tool name, True, or {'type': 'function', 'function': {'name': ...}}."
    )


def stop_sequences(stop: str | Sequence[str] | None) -> list[str] | None:
    """``stop`` as the list the API takes: a string is one sequence (None stays None)."""
    if stop is None:
        return None
    return [stop] if isinstance(stop, str) else list(stop)


def _format_dict(response_format: Any) -> Mapping[str, Any] | None:
    """``response_format`` as a dict (a type name is ``{"type": name}``); None stays None.

    Raises:
        ConfigurationError: Neither a str nor a dict.
    """
    if response_format is None or isinstance(response_format, Mapping):
        return response_format
    if isinstance(response_format, str):
        return {"type": response_format}
    raise ConfigurationError(
        f"Invalid response_format {response_format!r}: use 'text', 'json_object' or a "
        "{'type': 'json_schema', 'json_schema': {...}} dict."
    )


def normalize_response_format(response_format: Any) -> Any:
    """Check and normalise ``response_format``.

    Accepts ``"text"``, ``"json_object"`` (or a dict of those types) and ``{"type":
    "json_schema", "json_schema": {"name", "schema", ...}}``.

    Raises:
        ConfigurationError: An unknown type, or a json_schema without a schema.
    """
    response_format = _format_dict(response_format)
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind not in _RESPONSE_FORMAT_TYPES:
        raise ConfigurationError(
            f"Invalid response_format type {kind!r}: use one of {sorted(_RESPONSE_FORMAT_TYPES)}."
        )
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise ConfigurationError(
                "response_format of type 'json_schema' needs "
                "{'json_schema': {'name': ..., 'schema': {...}}}."
            )
        if not spec.get("name"):
            response_format = {**response_format, "json_schema": {"name": "response", **spec}}
    return dict(response_format)


CALL_OPTIONS = frozenset({"extra_parameters", "headers"})
"""Per-call options of the client's methods that are not body fields."""


def split_model_kwargs(
    model_kwargs: Mapping[str, Any],
    fields: frozenset[str],
    params: dict[str, Any],
    extras: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Sort an adapter's ``model_kwargs`` into ``params`` and ``model_extras``.

    API fields and call options go into ``params``; the rest into the returned ``model_extras``
    (merged over ``extras``), so nothing is dropped.

    Args:
        model_kwargs: What the user passed as ``model_kwargs``.
        fields: The body fields of the route (`CHAT_FIELDS` or `EMBEDDINGS_FIELDS`).
        params: The call's parameters; updated in place.
        extras: The ``model_extras`` so far.
    """
    merged = dict(extras) if extras else {}
    for key, value in model_kwargs.items():
        if key in fields or key in CALL_OPTIONS:
            params[key] = value
        else:
            merged[key] = value
    return merged


def _merge_extras(
    body: dict[str, Any],
    fields: frozenset[str],
    model_extras: Mapping[str, Any] | None,
    extra_parameters: str | None,
) -> dict[str, str]:
    """Merge extras into ``body`` and return the headers they need."""
    if extra_parameters is not None and extra_parameters not in EXTRA_PARAMETERS_MODES:
        raise ConfigurationError(
            f"Invalid extra_parameters {extra_parameters!r}: use one of "
            f"{list(EXTRA_PARAMETERS_MODES)}."
        )
    _check_extras(model_extras)
    if not model_extras:
        return {"extra-parameters": extra_parameters} if extra_parameters else {}
    clash = sorted(k for k in model_extras if k in fields)
    if clash:
        raise ConfigurationError(
            f"model_extras {clash} name standard parameters of the API: pass them as "
            "parameters instead, so they are not sent twice or overridden silently."
        )
    for key, value in model_extras.items():
        if value is not None:
            body[key] = value
    return {"extra-parameters": extra_parameters or "pass-through"}


def _check_chat_fields(other: Mapping[str, Any]) -> None:
    unknown = sorted(k for k in other if k not in CHAT_FIELDS)
    if unknown:
        raise ConfigurationError(
            f"Unknown chat parameter(s) {unknown}: pass parameters the API does not define "
            "through model_extras."
        )


def build_chat_body(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
    stop: str | Sequence[str] | None = None,
    seed: int | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
    parallel_tool_calls: bool | None = None,
    response_format: Any = None,
    stream: bool = False,
    stream_options: Mapping[str, Any] | None = None,
    **other: Any,
) -> dict[str, Any]:
    """Build a chat completions body (a dict), leaving out everything that is None.

    ``other`` takes further standard fields (``n``, ``user``, ``logprobs``,
    ``max_completion_tokens``, ``reasoning_effort``...).

    Raises:
        ConfigurationError: No messages, an unknown keyword, or a bad tool_choice/response_format.
    """
    _check_messages(messages)
    if not messages:
        raise ConfigurationError("messages is empty: a chat request needs at least one message.")
    _check_chat_fields(other)
    check_chat_params(
        {
            "model": model,
            "temperature": temperature,
            "top_p": top_p,
            "max_tokens": max_tokens,
            "stop": stop,
            "seed": seed,
            "presence_penalty": presence_penalty,
            "frequency_penalty": frequency_penalty,
            "tools": tools,
            "parallel_tool_calls": parallel_tool_calls,
            "stream_options": stream_options,
            **other,
        }
    )
    shaped = {
        "model": model,
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "stop": stop_sequences(stop),
        "seed": seed,
        "presence_penalty": presence_penalty,
        "frequency_penalty": frequency_penalty,
        "tools": list(tools) if tools else None,
        "tool_choice": normalize_tool_choice(tool_choice),
        "parallel_tool_calls": parallel_tool_calls,
        "response_format": normalize_response_format(response_format),
        "stream": True if stream else None,
        "stream_options": dict(stream_options) if stream and stream_options else None,
        **other,
    }
    body: dict[str, Any] = {"messages": list(messages)}
    body.update((key, value) for key, value in shaped.items() if value is not None)
    return body


def _prepare(
    endpoint: Endpoint,
    route: str,
    body: dict[str, Any],
    extra_headers: dict[str, str],
    *,
    model: str | None,
    stream: bool = False,
    headers: Mapping[str, str] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> PreparedRequest:
    hdrs = dict(_SSE_HEADERS if stream else _JSON_HEADERS)
    hdrs.update(extra_headers)
    if headers:
        _check_headers(headers)
        hdrs.update(headers)
    if not endpoint.model_in_body:
        body.pop("model", None)
    return PreparedRequest(
        method="POST",
        url=endpoint.url(route, model=model),
        headers=hdrs,
        content=_to_json(body, extras),
        stream=stream,
    )


def build_chat_request(
    endpoint: Endpoint,
    messages: Sequence[Mapping[str, Any]],
    *,
    model_extras: Mapping[str, Any] | None = None,
    extra_parameters: str | None = None,
    headers: Mapping[str, str] | None = None,
    **params: Any,
) -> PreparedRequest:
    """Build a POST ``/chat/completions`` request.

    Args:
        endpoint: Where to send it.
        messages: Wire messages (dicts of every role).
        model_extras: Parameters the model knows but the API does not; merged into the body.
        extra_parameters: ``pass-through`` (default with extras), ``drop`` or ``error``.
        headers: Extra request headers.
        **params: The chat parameters of `build_chat_body`.

    Raises:
        ConfigurationError: Bad parameters (see `build_chat_body`), or extras naming standard
            fields.
    """
    body = build_chat_body(messages, **params)
    extra_headers = _merge_extras(body, CHAT_FIELDS, model_extras, extra_parameters)
    return _prepare(
        endpoint,
        "/chat/completions",
        body,
        extra_headers,
        model=params.get("model"),
        stream=bool(params.get("stream")),
        headers=headers,
        extras=model_extras,
    )


def build_embeddings_body(
    input: Sequence[Any],
    *,
    model: str | None = None,
    dimensions: int | None = None,
    encoding_format: str | None = None,
    input_type: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Build an embeddings body, leaving out everything that is None.

    Raises:
        ConfigurationError: Empty input, or a non-positive ``dimensions``.
    """
    if isinstance(input, str):
        input = [input]
    _check_list("input", input, "texts")
    if not input:
        raise ConfigurationError("input is empty: an embeddings request needs at least one item.")
    for i, item in enumerate(input):
        if not isinstance(item, (str, Mapping)):
            raise ConfigurationError(f"input[{i}] must be a str, not {_type_name(item)}.")
    if dimensions is not None and (
        isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions <= 0
    ):
        raise ConfigurationError(f"dimensions must be a positive int, not {dimensions!r}.")
    for name, value in (
        ("model", model),
        ("encoding_format", encoding_format),
        ("input_type", input_type),
        ("user", user),
    ):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a str, not {_type_name(value)}.")
    body: dict[str, Any] = {"input": list(input)}
    if model is not None:
        body["model"] = model
    if dimensions is not None:
        body["dimensions"] = dimensions
    if encoding_format is not None:
        body["encoding_format"] = encoding_format
    if input_type is not None:
        body["input_type"] = input_type
    if user is not None:
        body["user"] = user
    return body


def build_embeddings_request(
    endpoint: Endpoint,
    input: Sequence[str],
    *,
    model_extras: Mapping[str, Any] | None = None,
    extra_parameters: str | None = None,
    headers: Mapping[str, str] | None = None,
    route: str = "/embeddings",
    **params: Any,
) -> PreparedRequest:
    """Build a POST ``/embeddings`` (or ``/images/embeddings``) request.

    Raises:
        ConfigurationError: Bad parameters, or extras naming standard fields.
    """
    body = build_embeddings_body(input, **params)
    extra_headers = _merge_extras(body, EMBEDDINGS_FIELDS, model_extras, extra_parameters)
    return _prepare(
        endpoint,
        route,
        body,
        extra_headers,
        model=params.get("model"),
        headers=headers,
        extras=model_extras,
    )


def build_image_embeddings_request(
    endpoint: Endpoint,
    input: Sequence[Mapping[str, str]],
    **params: Any,
) -> PreparedRequest:
    """Build a POST ``/images/embeddings`` request; inputs are ``{"image": <data URL>, "text"?}``.

    Raises:
        ConfigurationError: An input without an ``image``.
    """
    for i, item in enumerate(input):
        if not isinstance(item, Mapping) or not isinstance(item.get("image"), str):
            raise ConfigurationError(
                f"image input {i} must be a dict with 'image' (a data URL or base64 string)."
            )
    return build_embeddings_request(
        endpoint,
        [dict(item) for item in input],  # type: ignore[misc]
        route="/images/embeddings",
        **params,
    )


def build_info_request(endpoint: Endpoint, *, model: str | None = None) -> PreparedRequest:
    """Build a GET ``/info`` request.

    On an AI services ``/models`` endpoint, which serves many deployments, ``model`` goes in the
    ``model`` query parameter (the 2025 API versions' ``GetModelInfo``).
    """
    url = endpoint.url("/info", model=model)
    if model and endpoint.kind is EndpointKind.AI_SERVICES:
        url += ("&" if "?" in url else "?") + urlencode({"model": model})
    return PreparedRequest(method="GET", url=url, headers={"Accept": "application/json"})
