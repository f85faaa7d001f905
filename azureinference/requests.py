"""Pure request building: parameters in, a ready `PreparedRequest` (method, URL, headers, body).

Rules (the same for chat and embeddings):

- ``None`` is never sent; falsy values (``temperature=0``, ``seed=0``) are.
- ``stop`` given as a string becomes a one-item list.
- ``model_extras`` are merged at the JSON root and set ``extra-parameters: pass-through`` (as the
  reference SDK does); no header without extras. ``extra_parameters="drop"`` or ``"error"`` picks
  the other modes. An extra that names a standard field is an error, never a silent override.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pydantic_core

from .endpoints import Endpoint, EndpointKind
from .errors import ConfigurationError

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
    "normalize_response_format",
    "normalize_tool_choice",
    "split_model_kwargs",
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


def normalize_response_format(response_format: Any) -> Any:
    """Check and normalise ``response_format``.

    Accepts ``"text"``, ``"json_object"`` (or a dict of those types) and ``{"type":
    "json_schema", "json_schema": {"name", "schema", ...}}``.

    Raises:
        ConfigurationError: An unknown type, or a json_schema without a schema.
    """
    if response_format is None:
        return None
    if isinstance(response_format, str):
        response_format = {"type": response_format}
    if not isinstance(response_format, Mapping):
        raise ConfigurationError(
            f"Invalid response_format {response_format!r}: use 'text', 'json_object' or a "
            "{'type': 'json_schema', 'json_schema': {...}} dict."
        )
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
    if not messages:
        raise ConfigurationError("messages is empty: a chat request needs at least one message.")
    unknown = sorted(k for k in other if k not in CHAT_FIELDS)
    if unknown:
        raise ConfigurationError(
            f"Unknown chat parameter(s) {unknown}: pass parameters the API does not define "
            "through model_extras."
        )
    body: dict[str, Any] = {"messages": list(messages)}
    if model is not None:
        body["model"] = model
    if temperature is not None:
        body["temperature"] = temperature
    if top_p is not None:
        body["top_p"] = top_p
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if stop is not None:
        body["stop"] = [stop] if isinstance(stop, str) else list(stop)
    if seed is not None:
        body["seed"] = seed
    if presence_penalty is not None:
        body["presence_penalty"] = presence_penalty
    if frequency_penalty is not None:
        body["frequency_penalty"] = frequency_penalty
    if tools:
        body["tools"] = list(tools)
    if tool_choice is not None:
        body["tool_choice"] = normalize_tool_choice(tool_choice)
    if parallel_tool_calls is not None:
        body["parallel_tool_calls"] = parallel_tool_calls
    rf = normalize_response_format(response_format)
    if rf is not None:
        body["response_format"] = rf
    if stream:
        body["stream"] = True
        if stream_options:
            body["stream_options"] = dict(stream_options)
    for key, value in other.items():
        if value is not None:
            body[key] = value
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
) -> PreparedRequest:
    hdrs = dict(_SSE_HEADERS if stream else _JSON_HEADERS)
    hdrs.update(extra_headers)
    if headers:
        hdrs.update(headers)
    if not endpoint.model_in_body:
        body.pop("model", None)
    return PreparedRequest(
        method="POST",
        url=endpoint.url(route, model=model),
        headers=hdrs,
        content=pydantic_core.to_json(body),
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
    if not input:
        raise ConfigurationError("input is empty: an embeddings request needs at least one item.")
    if dimensions is not None and (not isinstance(dimensions, int) or dimensions <= 0):
        raise ConfigurationError(f"dimensions must be a positive int, not {dimensions!r}.")
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
        endpoint, route, body, extra_headers, model=params.get("model"), headers=headers
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
