"""What `Client` and `AsyncClient` share: `_BaseClient` and the pure helpers around it.

`_BaseClient` holds the connection settings (endpoint, auth, retries, headers, rate limiter),
builds every request and decides every fallback without doing I/O; what an endpoint turns out not
to support (``json_schema``, base64 embeddings, ``input_type``, ``stream_options``) is learned once
and kept in `Capabilities`. The two send loops live in `client.py`.
"""

from __future__ import annotations

import itertools
import logging
import os
import platform
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2

from . import __version__
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    as_timeout,
)
from .auth import AzureAuth, make_auth
from .bulk import DEFAULT_MAX_CONCURRENCY, split
from .endpoints import Endpoint, EndpointKind, parse_endpoint
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    MalformedResponseError,
    UnsupportedParameterError,
    error_from_response,
    parse_retry_after,
)
from .ratelimit import (
    PACED_429_RETRIES,
    Cost,
    RateLimiter,
    Ticket,
    is_paced,
    make_limiter,
    pacing_mode,
)
from .redaction import check_header
from .requests import (
    EXTRA_PARAMETERS_MODES,
    PreparedRequest,
    build_chat_request,
    build_embeddings_request,
    build_image_embeddings_request,
    build_info_request,
)
from .responses import parse_chat_completion
from .retry import RetryPolicy
from .types import (
    CompletionUsage,
    EmbeddingItem,
    EmbeddingsResult,
    ModelInfo,
    decode_base64_embedding,
)

__all__ = ["CLIENT_OPTIONS", "DEFAULT_TIMEOUT", "Capabilities"]

log = logging.getLogger("azureinference")

DEFAULT_TIMEOUT = 120.0
DEFAULT_EMBED_BATCH_SIZE = 256
ENV_ENDPOINT = "AZURE_INFERENCE_ENDPOINT"
ENV_CREDENTIAL = "AZURE_INFERENCE_CREDENTIAL"

_USER_AGENT = (
    f"azureinference-python/{__version__} httpx2/{httpx2.__version__} "
    f"Python/{platform.python_version()}"
)
_UNSET: Any = object()
_T = TypeVar("_T")

# Kinds that speak the OpenAI chat format, where stream usage needs stream_options.
_STREAM_OPTIONS_KINDS = frozenset(
    {
        EndpointKind.AZURE_OPENAI,
        EndpointKind.OPENAI_V1,
        EndpointKind.GITHUB,
        EndpointKind.OPENAI_COMPATIBLE,
    }
)


@dataclass
class Capabilities:
    """What the endpoint accepts, learned at run time. None means "not known yet: try it".

    Attributes:
        json_schema: ``response_format`` of type ``json_schema``.
        base64_embeddings: ``encoding_format: base64`` for embeddings.
        input_type: ``input_type`` for embeddings.
        stream_options: ``stream_options: {"include_usage": true}`` on streamed chat.
    """

    json_schema: bool | None = None
    base64_embeddings: bool | None = None
    input_type: bool | None = None
    stream_options: bool | None = None


def _refuses(err: APIStatusError, param: str) -> bool:
    """True when a 400/422 answer names ``param`` as the refused parameter."""
    if not isinstance(err, (UnsupportedParameterError, BadRequestError)):
        return False
    if err.param and param in err.param:
        return True
    return param in (err.service_message or "")


def _names_nothing(err: APIStatusError) -> bool:
    """True for a 400/422 refusal that names no parameter.

    A gateway may say only that "one of the parameters" is wrong: LiteLLM rewrites a service's
    422 into ``{"error": {"message": "litellm.BadRequestError: ... One of the parameters contain
    invalid values.", "param": null, "code": "422"}}``. A content filter is no such refusal.
    """
    if isinstance(err, ContentFilterError):
        return False
    return isinstance(err, (UnsupportedParameterError, BadRequestError)) and not err.param


# What the client adds to a streamed chat request on its own, for token usage.
_OWN_STREAM_OPTIONS = {"include_usage": True}


def _merge_embeddings(results: list[EmbeddingsResult], model: str | None) -> EmbeddingsResult:
    items: list[EmbeddingItem] = []
    prompt = total = 0
    for result in results:
        for item in sorted(result.data or [], key=lambda d: d.index):
            vector = item.embedding
            if isinstance(vector, str):
                try:
                    vector = decode_base64_embedding(vector)
                except ValueError as exc:  # binascii.Error, or bytes that are not float32s
                    raise MalformedResponseError(
                        f"Embedding {item.index} is not base64 of float32 values: {exc}",
                        status_code=200,
                        body=vector[:100],
                    ) from exc
            # Built without validation: the vector is already a list of floats, and checking
            # 1,024 floats again cost more than decoding them.
            items.append(EmbeddingItem.model_construct(index=len(items), embedding=vector))
        if result.usage is not None:
            prompt += result.usage.prompt_tokens
            total += result.usage.total_tokens
    first = results[0] if results else None
    return EmbeddingsResult(
        id=first.id if first else None,
        object="list",
        model=(first.model if first else None) or model,
        data=items,
        usage=CompletionUsage(prompt_tokens=prompt, total_tokens=total),
    )


CLIENT_OPTIONS = frozenset(
    {
        "api_version",
        "credential_scopes",
        "headers",
        "timeout",
        "max_retries",
        "retry_policy",
        "user_agent",
        "extra_parameters",
        "embed_batch_size",
        "httpx_kwargs",
        "max_response_bytes",
        "rate_limiter",
        "tokens_per_minute",
        "requests_per_minute",
        "rate_limit",
        "max_concurrency",
    }
)
"""The keyword options `Client` and `AsyncClient` take besides endpoint, credential and model:
what an adapter's ``client_kwargs`` may hold."""


def _check_positive_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int, not {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, not {value}.")


def _check_options(**options: Any) -> None:
    """Check the client's keyword options by type, before anything is built or sent.

    Raises:
        ConfigurationError: An option of the wrong type or out of range, named.
    """
    _check_positive_int("max_retries", options["max_retries"], 0)
    _check_positive_int("embed_batch_size", options["embed_batch_size"], 1)
    scopes = options["credential_scopes"]
    if scopes is not None and (
        isinstance(scopes, (str, bytes))
        or not isinstance(scopes, Sequence)
        or not all(isinstance(s, str) and s for s in scopes)
    ):
        raise ConfigurationError(
            "credential_scopes must be a list of scope strings, such as "
            f"['https://cognitiveservices.azure.com/.default'], not {type(scopes).__name__}."
        )
    timeout = options["timeout"]
    if isinstance(timeout, (str, bytes, bool, Mapping, list, tuple)):
        raise ConfigurationError(
            f"timeout must be seconds (a number) or a Timeout, not {type(timeout).__name__}."
        )
    if isinstance(timeout, (int, float)) and not 0 < timeout < float("inf"):
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout}.")
    for name in ("model", "user_agent", "extra_parameters"):
        value = options[name]
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a str, not {type(value).__name__}.")
    if options["extra_parameters"] not in (None, *EXTRA_PARAMETERS_MODES):
        raise ConfigurationError(
            f"extra_parameters must be one of {list(EXTRA_PARAMETERS_MODES)}, not "
            f"{options['extra_parameters']!r}."
        )
    if options["retry_policy"] is not None and not isinstance(options["retry_policy"], RetryPolicy):
        raise ConfigurationError(
            f"retry_policy must be a RetryPolicy, not {type(options['retry_policy']).__name__}."
        )
    headers = options["headers"]
    if headers is not None:
        if not isinstance(headers, Mapping):
            raise ConfigurationError(f"headers must be a dict, not {type(headers).__name__}.")
        for name, value in headers.items():
            check_header(name, value, "headers")
    kwargs = options["httpx_kwargs"]
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise ConfigurationError(f"httpx_kwargs must be a dict, not {type(kwargs).__name__}.")


def _new_id_prefix() -> None:
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = str(uuid.uuid4())[:24]  # "xxxxxxxx-xxxx-4xxx-yxxx-": random per process
    _ID_COUNTER = itertools.count()


_ID_PREFIX = ""
_ID_COUNTER = itertools.count()
_new_id_prefix()
# A forked worker (multiprocessing, Ray) draws its own prefix, so ids stay unique across them.
os.register_at_fork(after_in_child=_new_id_prefix)


def _request_id() -> str:
    """A UUID-shaped client request id: a random per-process prefix and a counter.

    Unique like ``uuid4()`` for what it is used for (finding one request in the service's logs),
    without a system call per request.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


class _BaseClient:
    """Connection settings and every decision that does not need I/O."""

    def __init__(
        self,
        endpoint: str | Endpoint | None = None,
        credential: Any = None,
        *,
        model: str | None = None,
        api_version: str | None = None,
        credential_scopes: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx2.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        user_agent: str | None = None,
        extra_parameters: str | None = None,
        embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE,
        httpx_kwargs: Mapping[str, Any] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        rate_limiter: RateLimiter | None = None,
        tokens_per_minute: float | None = None,
        requests_per_minute: float | None = None,
        rate_limit: bool | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        if endpoint is None:
            endpoint = os.environ.get(ENV_ENDPOINT)
        if credential is None:
            credential = os.environ.get(ENV_CREDENTIAL)
        _check_options(
            model=model,
            credential_scopes=credential_scopes,
            headers=headers,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            user_agent=user_agent,
            extra_parameters=extra_parameters,
            embed_batch_size=embed_batch_size,
            httpx_kwargs=httpx_kwargs,
        )
        if isinstance(endpoint, Endpoint):
            self.endpoint = endpoint
        else:
            self.endpoint = parse_endpoint(
                endpoint,  # type: ignore[arg-type]
                api_version=api_version,
                token_scope=credential_scopes[0] if credential_scopes else None,
            )
        self._auth: AzureAuth = make_auth(
            credential, self.endpoint, list(credential_scopes) if credential_scopes else None
        )
        self.model = model
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.timeout = timeout
        self.extra_parameters = extra_parameters
        self.embed_batch_size = embed_batch_size
        self.capabilities = Capabilities()
        self._headers = {"User-Agent": f"{user_agent} {_USER_AGENT}" if user_agent else _USER_AGENT}
        if headers:
            self._headers.update(headers)
        self._httpx_kwargs = dict(httpx_kwargs or {})
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes <= 0
        ):
            raise ConfigurationError(
                f"max_response_bytes must be a positive int, not {max_response_bytes!r}."
            )
        self.max_response_bytes = max_response_bytes
        self._model_info: dict[str | None, ModelInfo | None] = {}
        _check_positive_int("max_concurrency", max_concurrency, 1)
        self.max_concurrency = max_concurrency
        self.rate_limiter = make_limiter(rate_limiter, tokens_per_minute, requests_per_minute)
        self._pacing = pacing_mode(rate_limit, self.rate_limiter)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint={self.endpoint.base_url!r}, "
            f"kind={self.endpoint.kind.value!r}, model={self.model!r})"
        )

    @property
    def auth(self) -> AzureAuth:
        """The auth applied to each request."""
        return self._auth

    def _timeout(self) -> httpx2.Timeout:
        # Built once per value of ``timeout`` (a user may set it after construction).
        cached = self.__dict__.get("_timeout_cache")
        if cached is not None and cached[0] is self.timeout:
            return cached[1]  # type: ignore[no-any-return]
        timeout = as_timeout(self.timeout)
        self._timeout_cache = (self.timeout, timeout)
        return timeout

    def _deadline(self, timeout: httpx2.Timeout, req: PreparedRequest) -> float | None:
        """When a non-streamed call must be over (a `time.monotonic` value).

        ``timeout`` seconds (or the `Timeout`'s ``read``) from now; None for streams, which have
        per-read limits only.
        """
        total = self.timeout if isinstance(self.timeout, (int, float)) else timeout.read
        return None if req.stream or total is None else time.monotonic() + total

    def _http_args(self) -> tuple[Any, ...]:
        return (
            self._headers,
            self._httpx_kwargs,
            httpx2.URL(self.endpoint.base_url),
            self.max_response_bytes,
        )

    # ---- request building (pure) ----

    def _chat_request(
        self,
        messages: Sequence[Mapping[str, Any]],
        stream: bool,
        stream_usage: bool | None,
        params: dict[str, Any],
    ) -> PreparedRequest:
        if params.get("model") is None and self.model is not None:
            params["model"] = self.model
        params.setdefault("extra_parameters", self.extra_parameters)
        if params.get("stream") and not stream:
            raise ConfigurationError("stream=True is not a parameter of complete(): use stream().")
        if stream:
            params["stream"] = True
            if params.get("stream_options") is None and self._wants_stream_options(stream_usage):
                params["stream_options"] = {"include_usage": True}
        return build_chat_request(self.endpoint, messages, **params)

    def _wants_stream_options(self, stream_usage: bool | None) -> bool:
        if stream_usage is False or self.capabilities.stream_options is False:
            return False
        return stream_usage is True or self.endpoint.kind in _STREAM_OPTIONS_KINDS

    def _embeddings_request(
        self, batch: Sequence[Any], images: bool, params: dict[str, Any]
    ) -> PreparedRequest:
        p = dict(params)
        if p.get("model") is None and self.model is not None:
            p["model"] = self.model
        p.setdefault("extra_parameters", self.extra_parameters)
        if p.get("encoding_format") is None and self.capabilities.base64_embeddings is not False:
            p["encoding_format"] = "base64"
        if p.get("input_type") is not None and self.capabilities.input_type is False:
            p["input_type"] = None
        if images:
            return build_image_embeddings_request(self.endpoint, batch, **p)
        return build_embeddings_request(self.endpoint, batch, **p)

    def _learn_chat(self, err: APIStatusError, params: dict[str, Any]) -> bool:
        """Record what a refusal teaches; True when the request should be rebuilt and resent.

        A parameter the client adds on its own (``stream_options``) never makes a call fail:
        refused by name, or by a refusal that names no parameter (a gateway's), the call is
        made once more without it, and the client remembers. A nameless refusal of a request
        with nothing of ours left to drop, and a ``json_schema`` response format, is taken as
        the json_schema refusal it most likely is (adapters then fall back to a tool call).
        """
        ours = params.get("stream") and params.get("stream_options") == _OWN_STREAM_OPTIONS
        if "stream_options" in params and (
            _refuses(err, "stream_options") or (ours and _names_nothing(err))
        ):
            log.info("Resending without stream_options, which the endpoint refused: %s", err)
            self.capabilities.stream_options = False
            params.pop("stream_options")
            return True
        rf = params.get("response_format")
        is_schema = isinstance(rf, Mapping) and rf.get("type") == "json_schema"
        if is_schema and (
            _refuses(err, "response_format")
            or _refuses(err, "json_schema")
            or (_names_nothing(err) and self.capabilities.json_schema is None)
        ):
            self.capabilities.json_schema = False
        return False

    def _learn_embeddings(self, err: APIStatusError, params: dict[str, Any]) -> bool:
        """As `_learn_chat`, for embeddings: base64 (the client's own choice) and input_type."""
        if (
            params.get("encoding_format") is None
            and self.capabilities.base64_embeddings is not False
            and (
                _refuses(err, "encoding_format")
                or _refuses(err, "base64")
                or (_names_nothing(err) and self.capabilities.base64_embeddings is None)
            )
        ):
            log.info("Resending without encoding_format: base64, which was refused: %s", err)
            self.capabilities.base64_embeddings = False
            return True
        if (
            params.get("input_type") is not None
            and self.capabilities.input_type is not False
            and _refuses(err, "input_type")
        ):
            self.capabilities.input_type = False
            return True
        return False

    def _batches(
        self, input: Sequence[_T], batch_size: int | None
    ) -> list[tuple[int, Sequence[_T]]]:
        if batch_size is not None:
            _check_positive_int("batch_size", batch_size, 1)
        size = batch_size or self.embed_batch_size
        if isinstance(input, str):
            raise ConfigurationError("input must be a list of texts, not one str.")
        if not isinstance(input, Sequence) or isinstance(input, (bytes, Mapping)):
            raise ConfigurationError(f"input must be a list of texts, not {type(input).__name__}.")
        return split(input, size)

    def _cost(self, cost: Any, *args: Any) -> Cost | None:
        """``cost(*args)`` where this call is paced (`RateLimiter`), else None (no cost at all)."""
        pacing = self._pacing
        if pacing is False or (pacing is None and not is_paced()):
            return None
        return cost(*args)  # type: ignore[no-any-return]

    def _paced_429(self, ticket: Ticket | None, response: httpx2.Response, throttled: int) -> bool:
        """True for a 429 the limiter waits out (it paused on it) without using a retry."""
        if ticket is None or response.status_code != 429 or throttled >= PACED_429_RETRIES:
            return False
        wait = parse_retry_after(response.headers)
        return wait is None or wait <= self.retry_policy.max_retry_after

    def _concurrency(self, max_concurrency: int | None) -> int:
        if max_concurrency is None:
            return self.max_concurrency
        _check_positive_int("max_concurrency", max_concurrency, 1)
        return max_concurrency

    def _learn_usage(self, cost: Cost | None, usage: CompletionUsage | None) -> None:
        if cost is not None and usage is not None:
            completion = usage.completion_tokens if cost[1] is None else None
            self.rate_limiter.learn_usage(cost[0], usage.prompt_tokens, completion)

    def _request_headers(self, req: PreparedRequest) -> dict[str, str]:
        headers = dict(req.headers)
        headers["x-ms-client-request-id"] = _request_id()
        return headers

    def _retry_delay(self, attempt: int, response: httpx2.Response) -> float | None:
        if not self.retry_policy.should_retry_status(response.status_code):
            return None
        delay = self.retry_policy.delay(attempt, response.headers)
        if delay is not None:
            log.debug(
                "Retrying %s after status %d in %.2fs (attempt %d of %d)",
                _path(response.request.url),
                response.status_code,
                delay,
                attempt + 1,
                self.retry_policy.max_retries,
            )
        return delay

    def _connection_delay(self, attempt: int, exc: Exception) -> float | None:
        if not self.retry_policy.should_retry_exception(exc):
            return None
        delay = self.retry_policy.delay(attempt)
        if delay is not None:
            log.debug("Retrying after %s in %.2fs", type(exc).__name__, delay)
        return delay

    def _model_info_request(self, model: str | None) -> PreparedRequest | None:
        if not self.endpoint.has_info_route:
            return None
        return build_info_request(self.endpoint, model=model or self.model)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_http", "_http_lock", "_loop_clients"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_transport()

    def _init_transport(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def _path(url: httpx2.URL) -> str:
    # The query is left out of logs: a gateway may carry a key in it.
    # The port stays: "could not reach localhost" is no help when the server is on :8001.
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def _log_answer(response: httpx2.Response, attempt: int) -> None:
    """One DEBUG line per answer: method, URL without its query, status, the service's ids.

    Headers and bodies are never logged (they carry keys, tokens and the user's data).
    """
    headers = response.headers
    ids = [
        f"{name}={headers[name]}"
        for name in ("x-ms-client-request-id", "apim-request-id", "x-request-id")
        if name in headers
    ]
    log.debug(
        "%s %s -> %d%s%s",
        response.request.method,
        _path(response.request.url),
        response.status_code,
        f" after {attempt} retr{'y' if attempt == 1 else 'ies'}" if attempt else "",
        f" ({', '.join(ids)})" if ids else "",
    )


def _transport_error(exc: Exception, req: PreparedRequest) -> APIConnectionError:
    where = _path(httpx2.URL(req.url))
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(f"The request to {where} timed out ({type(exc).__name__}).")
    return APIConnectionError(f"Could not reach {where}: {type(exc).__name__}: {exc}")


def _decoding_error(exc: Exception, req: PreparedRequest) -> MalformedResponseError:
    return MalformedResponseError(
        f"The answer from {_path(httpx2.URL(req.url))} could not be decoded: {exc}"
    )


def _within(deadline: float | None, delay: float | None) -> float | None:
    """``delay``, or None when waiting it would pass the call's deadline."""
    if delay is None or deadline is None or time.monotonic() + delay < deadline:
        return delay
    return None


def _check_stream_status(response: httpx2.Response, content: bytes) -> None:
    if response.status_code >= 300:
        raise error_from_response(response.status_code, response.headers, content)
    ctype = response.headers.get("content-type", "")
    if "json" in ctype and "event-stream" not in ctype:
        # An error with status 200 (an envelope's code, an "error" object) raises here...
        parse_chat_completion(response.status_code, response.headers, content)
        # ...and a service that ignored stream=true is named as such.
        raise MalformedResponseError(
            "A streamed answer was expected (text/event-stream) but the service answered "
            f"{ctype!r}: {content[:300].decode('utf-8', 'replace')!r}",
            status_code=response.status_code,
            body=content[:300].decode("utf-8", "replace"),
        )
