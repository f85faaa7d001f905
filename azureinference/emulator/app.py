"""The emulator's ASGI app (Starlette): routes, auth, validation, faults, answers, streaming.

Every route the core sends to is served, under every prefix an endpoint form uses: none
(serverless), ``/models`` (Azure AI services), ``/openai/deployments/<name>`` (Azure OpenAI, with
``api-version``), ``/openai/v1`` and ``/v1`` (OpenAI-style), ``/inference`` (GitHub Models).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from azureinference.requests import CHAT_FIELDS, EMBEDDINGS_FIELDS

from .answers import ChatAnswer, chat_answer, count_tokens, embedding, encode_vector
from .config import EmulatorConfig, Fault, ModelSpec, ScriptedReply, check_quota
from .quota import DeploymentQuota, QuotaUsage, Refused, retry_headers

__all__ = ["EmulatorState", "RecordedRequest", "create_app"]

_ROUTES = (
    ("/images/embeddings", "images"),
    ("/chat/completions", "chat"),
    ("/embeddings", "embeddings"),
    ("/info", "info"),
)
_PREFIXES = ("", "/models", "/openai/v1", "/v1", "/inference")
_DEPLOYMENT = re.compile(r"^/openai/deployments/([^/]+)$")
_HIDDEN_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "ocp-apim-subscription-key"})
_IMAGE_FIELDS = frozenset({*EMBEDDINGS_FIELDS})
_KIND_OF_ROUTE = {"chat": "chat", "embeddings": "embeddings", "images": "image_embeddings"}


@dataclass
class RecordedRequest:
    """A request the emulator received (credential headers left out)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


@dataclass
class EmulatorState:
    """The mutable side of an emulator: its faults, scripted replies and request log."""

    config: EmulatorConfig
    key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    faults: list[Fault] = field(default_factory=list)
    scripted: deque[ScriptedReply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    quotas: dict[str, tuple[tuple[int | None, int | None], DeploymentQuota]] = field(
        default_factory=dict
    )
    quota_overrides: dict[str | None, tuple[int | None, int | None]] = field(default_factory=dict)

    def now(self) -> float:
        """Real time in seconds, from the configured clock."""
        return (self.config.clock or time.monotonic)()

    def limits_of(self, spec: ModelSpec) -> tuple[int | None, int | None]:
        """(tokens, requests) per minute for ``spec``: an override, the model's, the config's."""
        override = self.quota_overrides.get(spec.name) or self.quota_overrides.get(None)
        if override is not None:
            return override
        return (
            spec.tokens_per_minute or self.config.tokens_per_minute,
            spec.requests_per_minute or self.config.requests_per_minute,
        )

    def quota_of(self, spec: ModelSpec) -> DeploymentQuota | None:
        """The deployment's live quota (None when it has no limits); call with the lock held."""
        limits = self.limits_of(spec)
        if limits == (None, None):
            return None
        current = self.quotas.get(spec.name)
        if current is None or current[0] != limits:
            current = (limits, DeploymentQuota(*limits, self.now()))
            self.quotas[spec.name] = current
        return current[1]

    def set_quota(
        self,
        tokens_per_minute: int | None,
        requests_per_minute: int | None,
        model: str | None = None,
    ) -> None:
        """Override the quotas of ``model`` (of every deployment when None) until ``reset``."""
        check_quota("tokens_per_minute", tokens_per_minute)
        check_quota("requests_per_minute", requests_per_minute)
        with self.lock:
            self.quota_overrides[model] = (tokens_per_minute, requests_per_minute)

    def quota_usage(self, model: str) -> QuotaUsage:
        """What ``model``'s quota admitted and refused since the last reset."""
        with self.lock:
            current = self.quotas.get(model)
            usage = current[1].usage if current else QuotaUsage()
            return QuotaUsage(usage.requests, usage.tokens, usage.refused)

    def take_fault(self, route: str, model: str | None) -> Fault | None:
        """Consume one use of the first fault matching this request."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(route, model):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def peek_script(self) -> ScriptedReply | None:
        """The next scripted reply, left in the queue."""
        with self.lock:
            return self.scripted[0] if self.scripted else None

    def take_script(self) -> ScriptedReply | None:
        """The next scripted reply, if any."""
        with self.lock:
            return self.scripted.popleft() if self.scripted else None


class _Refusal(Exception):
    """An error answer: raised anywhere in a handler, turned into the response."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _flat_error(status: int, code: str, message: str, **extra: Any) -> _Refusal:
    """The documented flat body: ``{"status", "code", "message", ...}``."""
    return _Refusal(
        status,
        {"status": status, "code": code, "message": message, **extra},
        {"x-ms-error-code": code},
    )


def _nested_error(status: int, code: str, message: str, **extra: Any) -> _Refusal:
    """The Azure.Core body: ``{"error": {"code", "message", ...}}``."""
    return _Refusal(
        status, {"error": {"code": code, "message": message, **extra}}, {"x-ms-error-code": code}
    )


def _unsupported(param: str, value: Any) -> _Refusal:
    return _flat_error(
        422,
        "parameter_not_supported",
        "One of the parameters contain invalid values.",
        detail={"loc": ["body", param], "input": value},
    )


def _invalid(param: str, message: str, value: Any = None) -> _Refusal:
    return _flat_error(
        422, "invalid_value", message, detail={"loc": ["body", param], "input": value}
    )


def _split_path(path: str) -> tuple[str, str | None]:
    """(route, deployment) of a request path; 404 for a path the API does not have."""
    for suffix, route in _ROUTES:
        if path.endswith(suffix):
            prefix = path[: -len(suffix)].rstrip("/")
            if prefix in _PREFIXES:
                return route, None
            match = _DEPLOYMENT.match(prefix)
            if match:
                return route, match.group(1)
    raise _nested_error(404, "404", f"Resource not found: no route {path}")


def _check_auth(state: EmulatorState, request: Request) -> None:
    if not state.config.require_auth:
        return
    bearer = request.headers.get("authorization", "")
    given = request.headers.get("api-key") or (
        bearer[7:] if bearer.lower().startswith("bearer ") else None
    )
    if given is None or not secrets.compare_digest(given, state.key):
        raise _Refusal(
            401,
            {
                "error": "Unauthorized",
                "message": "Access denied due to invalid subscription key or wrong API endpoint. "
                "Make sure to provide a valid key for an active subscription.",
                "status": 401,
            },
            {"x-ms-error-code": "Unauthorized", "www-authenticate": "Bearer"},
        )


def _resolve_model(
    state: EmulatorState, route: str, name: str | None, deployment: str | None
) -> ModelSpec:
    kind = _KIND_OF_ROUTE.get(route, "chat")
    wanted = name if isinstance(name, str) and name else deployment
    spec = state.config.model(wanted, kind)  # type: ignore[arg-type]
    if spec is None:
        if wanted is None:
            raise _nested_error(404, "NotFound", f"This endpoint serves no {kind} model.")
        if deployment is not None and not name:
            raise _nested_error(
                404, "DeploymentNotFound", f"The API deployment {deployment} does not exist."
            )
        raise _nested_error(400, "unknown_model", f"Unknown model: {wanted}")
    if spec.kind != kind:
        raise _Refusal(
            404,
            {
                "error": "NotFound",
                "message": f"The model {spec.name} ({spec.model_type}) does not support "
                f"this route.",
                "status": 404,
            },
            {"x-ms-error-code": "NotFound"},
        )
    return spec


def _apply_extra_parameters(body: dict[str, Any], known: frozenset[str], mode: str | None) -> None:
    extras = sorted(set(body) - known)
    if mode not in (None, "error", "drop", "pass-through"):
        raise _nested_error(
            400, "invalid_header", f"extra-parameters must be error, drop or pass-through: {mode}"
        )
    if not extras:
        return
    if mode in (None, "error"):
        raise _flat_error(
            422,
            "extra_parameters_not_allowed",
            f"Extra parameters {extras} are not allowed when extra-parameters is not set or set "
            "to be 'error'. Set extra-parameters to 'pass-through' to pass to the model.",
            detail={"loc": ["body", extras[0]], "input": body[extras[0]]},
        )
    if mode == "drop":
        for name in extras:
            del body[name]


def _check_supported(spec: ModelSpec, body: Mapping[str, Any]) -> None:
    for param in sorted(spec.unsupported):
        name, _, value = param.partition(".")
        if name not in body:
            continue
        given = body[name]
        if not value:
            raise _unsupported(name, given)
        actual = given.get("type") if isinstance(given, Mapping) else given
        if actual == value:
            raise _unsupported(name, actual)


def _check_chat(body: Mapping[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid("messages", "messages must be a non-empty list", messages)
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping) or msg.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            raise _invalid(f"messages.{i}.role", "each message needs a known role", msg)
        if msg["role"] == "tool" and not msg.get("tool_call_id"):
            raise _invalid(f"messages.{i}.tool_call_id", "a tool message needs tool_call_id")
    for name, low, high in (
        ("temperature", 0, 2),
        ("top_p", 0, 1),
        ("presence_penalty", -2, 2),
        ("frequency_penalty", -2, 2),
    ):
        value = body.get(name)
        if value is not None and (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not low <= value <= high
        ):
            raise _invalid(name, f"{name} must be a number between {low} and {high}", value)
    for name in ("max_tokens", "max_completion_tokens", "seed"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise _invalid(name, f"{name} must be an integer", value)
    rf = body.get("response_format")
    if rf is not None:
        kind = rf.get("type") if isinstance(rf, Mapping) else None
        if kind not in ("text", "json_object", "json_schema"):
            raise _invalid("response_format", "unknown response_format type", rf)
        if kind == "json_schema" and not isinstance(
            (rf.get("json_schema") or {}).get("schema"), Mapping
        ):
            raise _invalid("response_format.json_schema", "json_schema needs a schema", rf)
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping):
        chosen = (choice.get("function") or {}).get("name")
        names = {(t.get("function") or {}).get("name") for t in body.get("tools") or []}
        if chosen not in names:
            raise _invalid("tool_choice", f"tool_choice names an unknown tool: {chosen}", choice)
    elif choice is not None and choice not in ("auto", "none", "required"):
        raise _invalid("tool_choice", "tool_choice must be auto, none, required or a tool", choice)


def _completion_id(prefix: str = "chatcmpl") -> str:
    """A fresh id: every completion gets its own, as the services give."""
    return f"{prefix}-{secrets.token_hex(12)}"


def _usage(answer: ChatAnswer) -> dict[str, int]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }


def _wrap(state: EmulatorState, payload: dict[str, Any]) -> dict[str, Any]:
    if state.config.envelope:
        return {"code": 200, "msg": "Operation successful", "data": payload}
    return payload


def _chunks(answer: ChatAnswer, base: dict[str, Any], usage_last: bool) -> list[dict[str, Any]]:
    """The stream of an answer: role, reasoning, text word by word, tool calls in pieces."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**base, "object": "chat.completion.chunk", "choices": [choice]}

    out = [chunk({"role": "assistant", "content": ""})]
    for piece in re.findall(r"\s*\S+|\s+$", answer.reasoning_content or ""):
        out.append(chunk({"reasoning_content": piece}))
    for piece in re.findall(r"\s*\S+|\s+$", answer.content or ""):
        out.append(chunk({"content": piece}))
    for index, call in enumerate(answer.tool_calls):
        fn = call["function"]
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": fn["name"], "arguments": ""},
        }
        out.append(chunk({"tool_calls": [head]}))
        args = fn["arguments"]
        for start in range(0, len(args), 8):
            piece = {"index": index, "function": {"arguments": args[start : start + 8]}}
            out.append(chunk({"tool_calls": [piece]}))
    final = chunk({}, answer.finish_reason)
    if usage_last:
        final["usage"] = _usage(answer)
    out.append(final)
    return out


class _DroppedBody(Response):
    """A response whose body stops halfway: the declared length is never reached."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content, media_type="application/json")
        self.headers["content-length"] = str(len(content) * 2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        # Returning now makes the server close the connection mid-body.


def create_app(state: EmulatorState) -> Starlette:
    """The ASGI app serving ``state``'s configuration."""

    async def dispatch(request: Request) -> Response:
        try:
            response = await _handle(state, request)
        except _Refusal as refusal:
            body = refusal.body
            if state.config.envelope:
                body = {"code": refusal.status, "msg": _message_of(body), "data": None}
            response = JSONResponse(body, refusal.status, headers=refusal.headers)
        quota: DeploymentQuota | None = getattr(request.state, "quota", None)
        if quota is not None:
            with state.lock:
                response.headers.update(quota.headers(state.now(), state.config.time_scale))
        return response

    return Starlette(routes=[Route("/{path:path}", dispatch, methods=["GET", "POST"])])


def _message_of(body: Mapping[str, Any]) -> str:
    err = body.get("error")
    if isinstance(err, Mapping):
        return str(err.get("message"))
    return str(body.get("message") or err)


async def _handle(state: EmulatorState, request: Request) -> Response:
    route, deployment = _split_path(request.url.path)
    raw = await request.body()
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError as exc:
        body = None
        parse_error: str | None = f"The request body is not JSON: {exc}"
    else:
        parse_error = None
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HIDDEN_HEADERS}
    with state.lock:
        state.requests.append(
            RecordedRequest(
                request.method, request.url.path, dict(request.query_params), headers, body
            )
        )
    _check_auth(state, request)
    if deployment is not None and "api-version" not in request.query_params:
        raise _nested_error(404, "404", "Resource not found (the api-version query is missing)")
    if route == "info":
        if request.method != "GET":
            raise _nested_error(405, "MethodNotAllowed", "Use GET for /info")
        name = request.query_params.get("model")
        spec = state.config.model(name or deployment, "chat")
        if spec is None:
            raise _nested_error(404, "NotFound", f"Unknown model: {name or deployment}")
        fault = state.take_fault(route, spec.name)
        if fault is not None:
            await _play(fault)
        return JSONResponse(
            _wrap(
                state,
                {
                    "model_name": spec.name,
                    "model_type": spec.model_type,
                    "model_provider_name": spec.provider,
                },
            )
        )
    if request.method != "POST":
        raise _nested_error(405, "MethodNotAllowed", f"Use POST for {request.url.path}")
    if parse_error is not None or not isinstance(body, dict):
        raise _nested_error(400, "BadRequest", parse_error or "The request body must be an object")
    spec = _resolve_model(state, route, body.get("model"), deployment)
    with state.lock:
        # Every answer about a limited deployment carries its x-ratelimit-* headers.
        request.state.quota = state.quota_of(spec)
    fault = state.take_fault(route, spec.name)
    if fault is not None:
        refused = await _play(fault)
        if refused is not None:
            return refused
    if state.config.latency:
        await asyncio.sleep(state.config.latency)
    known = CHAT_FIELDS if route == "chat" else _IMAGE_FIELDS
    _apply_extra_parameters(body, known, request.headers.get("extra-parameters"))
    _check_supported(spec, body)
    if route == "chat":
        _check_chat(body)
        scripted = state.peek_script()
        answer = chat_answer(body, scripted)
        _admit(state, request, spec, chat_cost(body, answer))
        if scripted is not None:
            state.take_script()
        return _chat(
            state, spec, body, answer, fault, openai_style=not _is_inference_route(request)
        )
    given = _embeddings_input(spec, body, route)
    _admit(state, request, spec, given.tokens)
    return _embeddings(state, spec, given)


def chat_cost(body: Mapping[str, Any], answer: ChatAnswer) -> int:
    """Tokens a chat request is charged: the prompt's, plus ``max_tokens`` or the answer's."""
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    completion = limit if isinstance(limit, int) else answer.completion_tokens
    return answer.prompt_tokens + completion


def _admit(state: EmulatorState, request: Request, spec: ModelSpec, tokens: int) -> None:
    """Charge the request to the deployment's quota, or refuse it with 429."""
    quota: DeploymentQuota | None = request.state.quota
    if quota is None:
        return
    with state.lock:
        refused = quota.admit(tokens, state.now(), state.config.time_scale)
    if refused is not None:
        raise _quota_refusal(spec, refused)


def _quota_refusal(spec: ModelSpec, refused: Refused) -> _Refusal:
    if refused.too_large:
        message = (
            f"Request too large for {spec.name}: {refused.requested} {refused.unit} requested, "
            f"the limit is {refused.limit} {refused.unit} per minute."
        )
        return _nested_error(429, "429", message)
    seconds = max(1, round(refused.wait + 0.4999))
    message = (
        f"Requests to the deployment {spec.name} have exceeded the {refused.unit} rate limit "
        f"of {refused.limit} {refused.unit} per minute (requested {refused.requested}, "
        f"remaining {refused.remaining}). Please retry after {seconds} second"
        f"{'s' if seconds != 1 else ''}."
    )
    refusal = _nested_error(429, "429", message)
    refusal.headers.update(retry_headers(refused.wait))
    return refusal


def _is_inference_route(request: Request) -> bool:
    path = request.url.path
    return not ("/openai/" in path or path.startswith("/v1/"))


async def _play(fault: Fault) -> Response | None:
    """Play a fault: an error answer, a wait, or None to go on (a stream drop comes later)."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "drop_stream":
        return None
    if fault.kind == "rate_limit":
        wait = fault.retry_after or 1
        raise _Refusal(
            429,
            {
                "error": "Too Many Requests",
                "message": "Rate limit is exceeded. Try again later.",
                "status": 429,
            },
            {
                "retry-after": str(max(1, round(wait))),
                "retry-after-ms": str(int(wait * 1000)),
                "x-ms-error-code": "TooManyRequests",
            },
        )
    if fault.kind == "content_filter":
        raise _flat_error(
            400, "content_filter", "The response was filtered", param="messages", type=None
        )
    if fault.html:
        page = (
            f"<html><head><title>{fault.status} Bad Gateway</title></head>"
            f"<body><h1>{fault.status} Bad Gateway</h1></body></html>"
        )
        return Response(page, fault.status, media_type="text/html")
    raise _nested_error(
        fault.status,
        "InternalServerError",
        "The server had an error while processing your request.",
    )


def _chat(
    state: EmulatorState,
    spec: ModelSpec,
    body: dict[str, Any],
    answer: ChatAnswer,
    fault: Fault | None,
    *,
    openai_style: bool,
) -> Response:
    base = {
        "id": _completion_id(),
        "created": int(time.time()),
        "model": spec.name,
        "system_fingerprint": "emulator",
    }
    dropped = fault is not None and fault.kind == "drop_stream"
    if not body.get("stream"):
        payload = {
            **base,
            "object": "chat.completion",
            "usage": _usage(answer),
            "choices": [
                {
                    "index": 0,
                    "message": answer.message(),
                    "logprobs": None,
                    "finish_reason": answer.finish_reason,
                }
            ],
        }
        if dropped:
            return _DroppedBody(json.dumps(payload).encode())
        return JSONResponse(_wrap(state, payload))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    chunks = _chunks(answer, base, usage_last=not openai_style and not include_usage)
    if include_usage:
        chunks.append(
            {**base, "object": "chat.completion.chunk", "choices": [], "usage": _usage(answer)}
        )
    limit = fault.after_chunks if fault is not None and dropped else None
    return StreamingResponse(
        _sse(chunks, state.config.envelope, limit), media_type="text/event-stream"
    )


async def _sse(
    chunks: list[dict[str, Any]], envelope: bool, limit: int | None
) -> AsyncIterator[str]:
    for sent, chunk in enumerate(chunks):
        if limit is not None and sent >= limit:
            raise ConnectionAbortedError("emulator fault: stream dropped")
        if envelope:
            yield f"event:messages\ndata:{json.dumps(chunk)}\n\n"
        else:
            yield f"data: {json.dumps(chunk)}\n\n"
        await asyncio.sleep(0)
    if not envelope:
        yield "data: [DONE]\n\n"


@dataclass
class _EmbeddingsInput:
    """A validated embeddings request: the texts, the tokens they count for, the options."""

    texts: list[str]
    tokens: int
    dimensions: int
    encoding_format: str | None
    input_type: str | None


def _embeddings_input(spec: ModelSpec, body: Mapping[str, Any], route: str) -> _EmbeddingsInput:
    raw_input = body.get("input")
    if route == "images":
        if not isinstance(raw_input, list) or not all(
            isinstance(i, Mapping) and isinstance(i.get("image"), str) for i in raw_input
        ):
            raise _invalid("input", "input must be a list of {image, text?} objects", raw_input)
        texts = [f"{i['image']}\x00{i.get('text') or ''}" for i in raw_input]
    else:
        if isinstance(raw_input, str):
            raw_input = [raw_input]
        if (
            not isinstance(raw_input, list)
            or not raw_input
            or not all(isinstance(t, str) for t in raw_input)
        ):
            raise _invalid(
                "input", "input must be a string or a non-empty list of strings", raw_input
            )
        texts = raw_input
    dimensions = body.get("dimensions", spec.dimensions)
    if (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= 8192
    ):
        raise _invalid("dimensions", "dimensions must be an integer from 1 to 8192", dimensions)
    fmt = body.get("encoding_format")
    if fmt not in (None, "float", "base64"):
        raise _invalid("encoding_format", "encoding_format must be float or base64", fmt)
    tokens = sum(max(1, count_tokens(t)) for t in texts)
    return _EmbeddingsInput(texts, tokens, dimensions, fmt, body.get("input_type"))


def _embeddings(state: EmulatorState, spec: ModelSpec, given: _EmbeddingsInput) -> Response:
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": encode_vector(
                embedding(text, given.dimensions, given.input_type), given.encoding_format
            ),
        }
        for i, text in enumerate(given.texts)
    ]
    payload = {
        "object": "list",
        "id": _completion_id("embd"),
        "model": spec.name,
        "data": data,
        "usage": {"prompt_tokens": given.tokens, "total_tokens": given.tokens},
    }
    return JSONResponse(_wrap(state, payload))
