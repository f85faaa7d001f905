"""The emulator's ASGI app (Starlette): routes, auth, validation, faults, quotas, answers.

Every route the core sends to is served, under every prefix an endpoint form uses, each family
with its own rules and error shapes (see `refusals`):

- Model Inference: none (serverless), ``/models`` (Azure AI services), ``/inference`` (GitHub
  Models), ``/serverless/<model>`` (a serverless endpoint of one model: its ``/info`` is that
  model's);
- OpenAI: ``/v1``;
- Azure OpenAI: ``/openai/v1``, ``/openai/deployments/<name>`` (with ``api-version``);
- a Foundry project: ``/api/projects/<project>/openai/v1`` (as ``/openai/v1``).

Auth: the key (``api-key`` or ``Authorization: Bearer``); and when ``entra_audience`` is set, an
Entra ID token (a JWT; its signature is not checked offline) whose ``aud`` is that audience, so a
client asking for the wrong scope is refused as the service refuses it.

Routes: ``/chat/completions``, ``/completions`` (legacy), ``/embeddings``,
``/images/embeddings``, ``/info``, ``GET /models`` and ``GET /models/<id>``; and the Responses
API (`responses_api`) where the services have it: ``/v1/responses``, ``/openai/v1/responses`` and
``/openai/responses?api-version=...`` (a Model Inference prefix has none: 404).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import refusals
from .answers import (
    ChatAnswer,
    cap_answer,
    chat_answer,
    count_tokens,
    embedding,
    encode_vector,
    reasoned_answer,
)
from .config import Fault, ModelSpec
from .quota import DeploymentQuota
from .refusals import BadParam, Refusal, Style
from .responses_api import (
    chat_body,
    check_responses_body,
    response_events,
    response_payload,
    sse_events,
    unsupported_model,
)
from .state import EmulatorState, RecordedRequest
from .validation import (
    apply_extra_parameters,
    check_chat,
    check_completions,
    check_supported,
    known_fields,
)
from .wire import (
    chat_base,
    chat_chunks,
    chat_payload,
    completion_id,
    completions_chunks,
    completions_payload,
    model_object,
    sse,
    usage_chunk,
    usage_of,
)

__all__ = ["EmulatorState", "RecordedRequest", "create_app"]

_ROUTES = (
    ("/responses", "responses"),
    ("/images/embeddings", "images"),
    ("/chat/completions", "chat"),
    ("/completions", "completions"),
    ("/embeddings", "embeddings"),
    ("/info", "info"),
    ("/models", "models"),
)
_PREFIXES = {
    "": Style.INFERENCE,
    "/models": Style.INFERENCE,
    "/inference": Style.INFERENCE,
    "/v1": Style.OPENAI,
    "/openai/v1": Style.AZURE_OPENAI,
    "/openai": Style.AZURE_OPENAI,  # GET /openai/models?api-version=...
}
_PROJECT = re.compile(r"^/api/projects/([^/]+)(/.*)?$")
_DEPLOYMENT = re.compile(r"^/openai/deployments/([^/]+)$")
_SERVERLESS = re.compile(r"^/serverless/([^/]+)$")
_MODEL_ID = re.compile(r"^(.*)/models/([^/]+)$")
_HIDDEN_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "ocp-apim-subscription-key"})
_KIND_OF_ROUTE = {
    "chat": "chat",
    "completions": "chat",
    "embeddings": "embeddings",
    "images": "image_embeddings",
    "responses": "chat",
}
_OPERATION = {
    "chat": "chat completion",
    "completions": "completion",
    "embeddings": "embeddings",
    "responses": "responses",
}


@dataclass
class _Target:
    """Where a request goes: the route, its family, and the deployment the path names."""

    route: str
    style: Style
    deployment: str | None = None
    needs_api_version: bool = False
    model_id: str | None = None
    project: str | None = None


def _style_of(path: str) -> Style:
    if path.startswith("/v1/"):
        return Style.OPENAI
    if path.startswith("/openai/"):
        return Style.AZURE_OPENAI
    return Style.INFERENCE


def _split_path(method: str, path: str) -> _Target:
    """The target of a request path; 404 (in the family's shape) for a path the API lacks."""
    project = _PROJECT.match(path)
    if project is not None:
        # A Foundry project serves the OpenAI v1 routes under its own path, and nothing else.
        rest = project.group(2) or ""
        if not rest.startswith("/openai/v1/"):
            raise refusals.no_route(Style.AZURE_OPENAI, method, path)
        target = _split_path(method, rest)
        target.project = project.group(1)
        return target
    path = path.rstrip("/") or "/"
    for suffix, route in _ROUTES:
        if not path.endswith(suffix):
            continue
        prefix = path[: -len(suffix)].rstrip("/")
        deployment = _DEPLOYMENT.match(prefix)
        serverless = _SERVERLESS.match(prefix)
        if route == "responses":
            # Only the OpenAI and Azure OpenAI families have it; not per deployment.
            if prefix in ("/v1", "/openai/v1"):
                return _Target(route, _PREFIXES[prefix])
            if prefix == "/openai":
                return _Target(route, Style.AZURE_OPENAI, None, True)
            break
        if prefix in _PREFIXES and (route == "models" or prefix != "/openai"):
            target = _Target(route, _PREFIXES[prefix])
        elif deployment:
            target = _Target(route, Style.AZURE_OPENAI, deployment.group(1), True)
        elif serverless:
            target = _Target(route, Style.INFERENCE, serverless.group(1))
        else:
            continue
        # The Model Inference API has no legacy /completions.
        if route != "completions" or target.style.openai_rules:
            return target
        break
    model_id = _MODEL_ID.match(path)
    if method == "GET" and model_id and model_id.group(1) in _PREFIXES:
        return _Target("models", _PREFIXES[model_id.group(1)], model_id=model_id.group(2))
    raise refusals.no_route(_style_of(path), method, path)


def _check_auth(state: EmulatorState, request: Request, style: Style) -> None:
    if not state.config.require_auth:
        return
    bearer = request.headers.get("authorization", "")
    token = bearer[7:] if bearer.lower().startswith("bearer ") else None
    given = request.headers.get("api-key") or token
    if given is not None and secrets.compare_digest(given.encode(), state.key.encode()):
        return
    audience = state.config.entra_audience
    if audience and token is not None:
        claims = _jwt_claims(token)
        if claims is not None:
            if _same_audience(claims.get("aud"), audience):
                return
            raise refusals.wrong_audience(style, claims.get("aud"), audience)
    raise refusals.unauthorized(style)


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT (not verified: the emulator is offline), or None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def _same_audience(aud: Any, wanted: str) -> bool:
    """``aud`` (a string or list, as JWTs carry it) names ``wanted``, slashes aside."""
    wanted = wanted.removesuffix("/.default").rstrip("/")
    values = aud if isinstance(aud, list) else [aud]
    return any(isinstance(v, str) and v.rstrip("/") == wanted for v in values)


def _resolve_model(state: EmulatorState, target: _Target, name: Any) -> ModelSpec:
    kind = _KIND_OF_ROUTE.get(target.route, "chat")
    name = name if isinstance(name, str) and name else None
    # A deployment (or serverless) path names the model; the body's model is not looked at.
    wanted = target.deployment or name
    spec = state.config.model(wanted, kind)  # type: ignore[arg-type]
    if spec is None:
        given = None if target.deployment else name
        raise refusals.unknown_model(target.style, given, target.deployment, kind)
    if spec.kind != kind:
        operation = _OPERATION.get(target.route, target.route)
        raise refusals.wrong_kind(target.style, spec.name, spec.model_type, operation)
    return spec


def _wrap(state: EmulatorState, payload: Any) -> Any:
    if state.config.envelope:
        return {"code": 200, "msg": "Operation successful", "data": payload}
    return payload


def _message_of(body: Mapping[str, Any]) -> str:
    err = body.get("error")
    if isinstance(err, Mapping):
        return str(err.get("message"))
    return str(body.get("message") or err)


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
            try:
                response = await _handle(state, request)
            except RecursionError:
                # JSON nested deeper than Python's parser (or our walk of it) goes: the
                # request's fault, answered as a bad body rather than a 500.
                raise refusals.bad_body(
                    _style_of(request.url.path), "The request body is nested too deeply."
                ) from None
        except Refusal as refusal:
            body = refusal.body
            if state.config.envelope:
                body = {"code": refusal.status, "msg": _message_of(body), "data": None}
            response = JSONResponse(body, refusal.status, headers=refusal.headers)
        request_id = str(uuid.uuid4())
        response.headers["x-request-id"] = request_id
        response.headers["apim-request-id"] = request_id
        quota: DeploymentQuota | None = getattr(request.state, "quota", None)
        if quota is not None:
            with state.lock:
                response.headers.update(quota.headers(state.now(), state.config.time_scale))
        return response

    # Every method reaches dispatch, so a PUT is answered 405 in the API's shape, not Starlette's.
    return Starlette(routes=[Route("/{path:path}", dispatch, methods=list(_METHODS))])


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _record(state: EmulatorState, request: Request, body: Any) -> None:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HIDDEN_HEADERS}
    state.record(
        RecordedRequest(request.method, request.url.path, dict(request.query_params), headers, body)
    )


async def _read_raw(state: EmulatorState, request: Request, style: Style) -> bytes:
    """The body's bytes, read no further than ``max_body_bytes`` (else 413, nothing kept)."""
    limit = state.config.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise refusals.too_large(style, int(declared), limit)
    pieces, size = [], 0
    async for piece in request.stream():
        size += len(piece)
        if size > limit:
            raise refusals.too_large(style, size, limit)
        pieces.append(piece)
    return b"".join(pieces)


async def _read_body(
    state: EmulatorState, request: Request, style: Style
) -> tuple[Any, str | None]:
    """The JSON body (or None and why not), after logging the request."""
    try:
        raw = await _read_raw(state, request, style)
    except Refusal:
        _record(state, request, None)
        raise
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError as exc:
        body = None
        problem: str | None = f"We could not parse the JSON body of your request: {exc}"
    except RecursionError:
        body = None
        problem = "We could not parse the JSON body of your request: it is nested too deeply."
    else:
        problem = None
    _record(state, request, body)
    return body, problem


async def _handle(state: EmulatorState, request: Request) -> Response:
    target = _split_path(request.method, request.url.path)
    style = target.style
    try:
        # Before the body is read: a caller without the key costs no memory (nor a parse).
        _check_auth(state, request, style)
    except Refusal:
        _record(state, request, None)
        raise
    if request.method not in ("GET", "HEAD", "POST"):
        raise refusals.nested_error(
            405, "MethodNotAllowed", f"{request.method} is not allowed: use GET or POST."
        )
    body, problem = await _read_body(state, request, style)
    if target.needs_api_version and "api-version" not in request.query_params:
        raise refusals.nested_error(
            404, "404", "Resource not found (the api-version query is missing)"
        )
    if target.route in ("info", "models"):
        if request.method != "GET":
            raise refusals.nested_error(405, "MethodNotAllowed", f"Use GET for {target.route}")
        if target.route == "models":
            return _models(state, target)
        return await _info(state, request, target)
    if request.method != "POST":
        raise refusals.nested_error(405, "MethodNotAllowed", f"Use POST for {request.url.path}")
    if problem is not None or not isinstance(body, dict):
        raise refusals.bad_body(style, problem or "The request body must be a JSON object.")
    spec = _resolve_model(state, target, body.get("model"))
    with state.lock:
        # Every answer about a limited deployment carries its x-ratelimit-* headers.
        request.state.quota = state.quota_of(spec)
    fault = state.take_fault(target.route, spec.name)
    if fault is not None:
        refused = await _play(fault, style)
        if refused is not None:
            return refused
    if state.config.latency:
        await asyncio.sleep(state.config.latency)
    if target.route == "responses":
        return _responses(state, request, spec, body, fault, style)
    apply_extra_parameters(
        body, known_fields(target.route, style), request.headers.get("extra-parameters"), style
    )
    try:
        check_supported(spec, body)
        if spec.fixed_sampling and target.route in ("chat", "completions"):
            refusals.check_fixed_sampling(style, body)
        if target.route == "chat":
            check_chat(body)
            return _chat(state, request, spec, body, fault, style)
        if target.route == "completions":
            check_completions(body)
            return _completions(state, request, spec, body, style)
        given = _embeddings_input(spec, body, target.route, style)
    except BadParam as bad:
        raise refusals.bad_param(style, bad) from None
    _admit(state, request, spec, given.tokens, style)
    return _embeddings(state, spec, given)


async def _info(state: EmulatorState, request: Request, target: _Target) -> Response:
    """``/info``: the model named by ``?model=``, the path's deployment, else the first one."""
    name = request.query_params.get("model") or target.deployment
    spec = state.config.model(name, "chat") if name else _default_model(state)
    if spec is None:
        raise refusals.nested_error(404, "NotFound", f"Unknown model: {name}")
    fault = state.take_fault("info", spec.name)
    if fault is not None:
        await _play(fault, target.style)
    info = {
        "model_name": spec.name,
        "model_type": spec.model_type,
        "model_provider_name": spec.provider,
    }
    return JSONResponse(_wrap(state, info))


def _default_model(state: EmulatorState) -> ModelSpec | None:
    models = state.config.models
    return state.config.model(None, "chat") or (models[0] if models else None)


def _models(state: EmulatorState, target: _Target) -> Response:
    """``GET /models`` (the served models, OpenAI's list) and ``GET /models/<id>``."""
    if target.model_id is None:
        data = [model_object(spec) for spec in state.config.models]
        return JSONResponse(_wrap(state, {"object": "list", "data": data}))
    spec = next((m for m in state.config.models if m.name == target.model_id), None)
    if spec is None:
        raise refusals.unknown_model(Style.OPENAI, target.model_id, None, "")
    return JSONResponse(_wrap(state, model_object(spec)))


def _admit(
    state: EmulatorState, request: Request, spec: ModelSpec, tokens: int, style: Style
) -> None:
    """Charge the request to the deployment's quota, or refuse it with 429."""
    quota: DeploymentQuota | None = request.state.quota
    if quota is None:
        return
    with state.lock:
        refused = quota.admit(tokens, state.now(), state.config.time_scale)
    if refused is not None:
        raise refusals.quota_exceeded(style, spec.name, refused)


def chat_cost(body: Mapping[str, Any], answer: ChatAnswer) -> int:
    """Tokens a chat request is charged: the prompt's, plus ``max_tokens`` or the answer's."""
    n = body.get("n") or 1
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    completion = limit if isinstance(limit, int) else answer.completion_tokens
    return answer.prompt_tokens + completion * n


async def _play(fault: Fault, style: Style) -> Response | None:
    """Play a fault: an error answer, a wait, or None to go on (a stream drop comes later)."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "drop_stream":
        return None
    if fault.kind == "rate_limit":
        message = "Rate limit is exceeded. Try again later."
        raise refusals.rate_limited(style, message, "requests", fault.retry_after or 1)
    if fault.kind == "content_filter":
        raise refusals.content_filter(style)
    if fault.html:
        page = (
            f"<html><head><title>{fault.status} Bad Gateway</title></head>"
            f"<body><h1>{fault.status} Bad Gateway</h1></body></html>"
        )
        return Response(page, fault.status, media_type="text/html")
    raise refusals.server_error(style, fault.status)


def _with_functions_as_tools(body: dict[str, Any]) -> dict[str, Any]:
    """A body using OpenAI's legacy ``functions`` / ``function_call``, as tools."""
    tools = [{"type": "function", "function": f} for f in body["functions"]]
    call = body.get("function_call")
    if isinstance(call, Mapping):
        choice: Any = {"type": "function", "function": {"name": call.get("name")}}
    else:
        choice = call if call in ("none", "auto") else "auto"
    return {**body, "tools": tools, "tool_choice": choice}


def _chat(
    state: EmulatorState,
    request: Request,
    spec: ModelSpec,
    body: dict[str, Any],
    fault: Fault | None,
    style: Style,
) -> Response:
    legacy = bool(body.get("functions")) and not body.get("tools")
    asked = _with_functions_as_tools(body) if legacy else body
    scripted = state.peek_script()
    if spec.reasoning is not None:
        answer = reasoned_answer(asked, spec.reasoning, scripted)
    else:
        answer = chat_answer(asked, scripted)
    answer = _capped(state, answer, body.get("n") or 1)
    _admit(state, request, spec, chat_cost(body, answer), style)
    if scripted is not None:
        state.take_script()
    base = chat_base(spec)
    dropped = fault is not None and fault.kind == "drop_stream"
    if not body.get("stream"):
        payload = chat_payload(answer, base, body, legacy)
        if dropped:
            return _DroppedBody(json.dumps(payload).encode())
        return JSONResponse(_wrap(state, payload))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    # Model Inference streams put the usage on the finish chunk; OpenAI only when asked.
    usage_last = not style.openai_rules and not include_usage
    chunks = chat_chunks(answer, base, body, usage_last=usage_last, legacy_functions=legacy)
    if include_usage:
        n = body.get("n") or 1
        chunks.append(usage_chunk(base, usage_of(answer, n), "chat.completion.chunk"))
    limit = fault.after_chunks if fault is not None and dropped else None
    return StreamingResponse(
        sse(chunks, state.config.envelope, limit), media_type="text/event-stream"
    )


def _capped(state: EmulatorState, answer: ChatAnswer, shares: int) -> ChatAnswer:
    config = state.config
    return cap_answer(answer, shares, config.max_answer_tokens, config.max_answer_bytes)


def _prompts(prompt: Any) -> list[str]:
    """The legacy ``prompt``: a string, strings, tokens, or lists of tokens, as texts."""
    if isinstance(prompt, str):
        return [prompt]
    if all(isinstance(p, int) for p in prompt):
        return [_tokens_text(prompt)]
    return [p if isinstance(p, str) else _tokens_text(p) for p in prompt]


def _completions(
    state: EmulatorState, request: Request, spec: ModelSpec, body: dict[str, Any], style: Style
) -> Response:
    """The legacy ``/completions``: each prompt answered as a one-message chat would be."""
    answers = []
    for text in _prompts(body["prompt"]):
        asked = {**body, "messages": [{"role": "user", "content": text}]}
        answer = chat_answer(asked)
        if body.get("echo"):
            answer.content = text + (answer.content or "")
        answers.append(answer)
    shares = len(answers) * (body.get("n") or 1)
    answers = [_capped(state, answer, shares) for answer in answers]
    cost = sum(chat_cost(body, a) for a in answers)
    _admit(state, request, spec, cost, style)
    base = {"id": completion_id("cmpl"), "created": chat_base(spec)["created"], "model": spec.name}
    payload = completions_payload(answers, base, body)
    if not body.get("stream"):
        return JSONResponse(_wrap(state, payload))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    chunks = completions_chunks(payload, include_usage)
    return StreamingResponse(
        sse(chunks, state.config.envelope, None), media_type="text/event-stream"
    )


def _tokens_text(tokens: list[Any]) -> str:
    """Token ids as words, so inputs that share tokens get near vectors."""
    return " ".join(f"tok{t}" for t in tokens)


@dataclass
class _EmbeddingsInput:
    """A validated embeddings request: the texts, the tokens they count for, the options."""

    texts: list[str]
    tokens: int
    dimensions: int
    encoding_format: str | None
    input_type: str | None


def _is_tokens(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def _embeddings_texts(raw_input: Any, route: str, style: Style) -> tuple[list[str], int]:
    """The texts to embed and the tokens they count for.

    The OpenAI-style routes also take token arrays (``[15339, 1917]`` or a list of them), as
    ``langchain-openai`` sends by default; the Model Inference routes take strings only.
    """
    if route == "images":
        if not isinstance(raw_input, list) or not all(
            isinstance(i, Mapping) and isinstance(i.get("image"), str) for i in raw_input
        ):
            raise BadParam("input", "input must be a list of {image, text?} objects", raw_input)
        texts = [f"{i['image']}\x00{i.get('text') or ''}" for i in raw_input]
        return texts, sum(max(1, count_tokens(t)) for t in texts)
    items = [raw_input] if isinstance(raw_input, str) or _is_tokens(raw_input) else raw_input
    if not isinstance(items, list) or not items:
        items = None
    texts, tokens = [], 0
    for item in items or [None]:
        if isinstance(item, str):
            texts.append(item)
            tokens += max(1, count_tokens(item))
        elif style.openai_rules and _is_tokens(item):
            texts.append(_tokens_text(item))
            tokens += len(item)
        else:
            what = "strings or token arrays" if style.openai_rules else "strings"
            raise BadParam(
                "input", f"input must be a string or a non-empty list of {what}", raw_input
            )
    return texts, tokens


def _embeddings_input(
    spec: ModelSpec, body: Mapping[str, Any], route: str, style: Style
) -> _EmbeddingsInput:
    texts, tokens = _embeddings_texts(body.get("input"), route, style)
    dimensions = body.get("dimensions", spec.dimensions)
    if (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= 8192
    ):
        raise BadParam("dimensions", "dimensions must be an integer from 1 to 8192", dimensions)
    fmt = body.get("encoding_format")
    if fmt not in (None, "float", "base64"):
        raise BadParam("encoding_format", "encoding_format must be float or base64", fmt)
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
        "id": completion_id("embd"),
        "model": spec.name,
        "data": data,
        "usage": {"prompt_tokens": given.tokens, "total_tokens": given.tokens},
    }
    return JSONResponse(_wrap(state, payload))


def _answer(spec: ModelSpec, body: Mapping[str, Any], scripted: Any) -> ChatAnswer:
    """The chat route's answer to ``body``, by the model's kind (reasoning or not)."""
    style = getattr(spec, "reasoning", None)
    if style is not None:
        from . import answers

        reasoned = getattr(answers, "reasoned_answer", None)
        if reasoned is not None:
            return reasoned(body, style, scripted)  # type: ignore[no-any-return]
    return chat_answer(body, scripted)


def _check_reasoning_params(
    spec: ModelSpec, body: Mapping[str, Any], reasoning_style: Any, style: Style
) -> None:
    """What a model refuses of ``reasoning`` and sampling, as OpenAI's Responses API does.

    A model that does not reason refuses ``reasoning.effort`` / ``reasoning.summary``; a
    reasoning model with fixed sampling refuses ``temperature`` / ``top_p`` other than 1.
    """
    asked = body.get("reasoning")
    if reasoning_style is None and isinstance(asked, Mapping):
        for key in ("effort", "summary"):
            if asked.get(key) is not None:
                raise refusals.openai_error(
                    400,
                    f"Unsupported parameter: 'reasoning.{key}' is not supported with this model.",
                    code="unsupported_parameter",
                    param=f"reasoning.{key}",
                )
    check_fixed = getattr(refusals, "check_fixed_sampling", None)
    if getattr(spec, "fixed_sampling", False) and check_fixed is not None:
        check_fixed(style, {k: body[k] for k in ("temperature", "top_p") if k in body})


def _responses(
    state: EmulatorState,
    request: Request,
    spec: ModelSpec,
    body: dict[str, Any],
    fault: Fault | None,
    style: Style,
) -> Response:
    """``POST .../responses``: the chat answer, as a response object or its event stream."""
    if "responses" in spec.unsupported or getattr(spec, "reasoning", None) == "think":
        raise unsupported_model(spec.name)
    check_responses_body(body)
    reasoning_style = getattr(spec, "reasoning", None)
    _check_reasoning_params(spec, body, reasoning_style, style)
    previous_id = body.get("previous_response_id")
    with state.lock:
        history = state.stored_responses.conversation(previous_id) if previous_id else []
        if history is None:
            raise refusals.openai_error(
                400,
                f"Previous response with id '{previous_id}' not found.",
                code="previous_response_not_found",
                param="previous_response_id",
            )
        chat = chat_body(body, history, state.stored_responses)
    try:
        check_supported(spec, chat)
    except BadParam as bad:
        raise refusals.bad_param(style, bad) from None
    scripted = state.peek_script()
    answer = _capped(state, _answer(spec, chat, scripted), 1)
    _admit(state, request, spec, chat_cost(chat, answer), style)
    if scripted is not None:
        state.take_script()
    reasoning = answer.reasoning_content if reasoning_style else None
    payload = response_payload(answer, spec.name, body, reasoning)
    if body.get("store", True):
        turn: dict[str, Any] = {"role": "assistant", "content": answer.content}
        if answer.tool_calls:
            turn["tool_calls"] = answer.tool_calls
        with state.lock:
            state.stored_responses.put(payload["id"], [*chat["messages"], turn], payload["output"])
    dropped = fault is not None and fault.kind == "drop_stream"
    if not body.get("stream"):
        if dropped:
            return _DroppedBody(json.dumps(payload).encode())
        return JSONResponse(payload)
    limit = fault.after_chunks if fault is not None and dropped else None
    return StreamingResponse(
        sse_events(response_events(payload), limit), media_type="text/event-stream"
    )
