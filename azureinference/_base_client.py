"""`_BaseClient`: the connection settings and every decision `Client` and `AsyncClient` share.

Nothing here does I/O. The base builds each request, and for each answer decides what it
means: resend after a refusal that teaches something (`Capabilities`), retry after a status or
a transport error (`_Call`), wait out a paced 429, or return. The clients in `client.py` keep
only their send loops, as httpx keeps merging and redirect decisions in its ``BaseClient`` and
the loops in ``Client`` and ``AsyncClient``.
"""

from __future__ import annotations

import logging
import math
import platform
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx2

from . import __version__
from ._answer_log import log, log_answer, url_for_log
from ._bodylog import body_log, log_request, log_response
from ._call_errors import check_stream_status, decoding_error, is_event_stream, transport_error
from ._capabilities import (
    Capabilities,
    Resends,
    learn_chat_refusal,
    learn_embeddings_refusal,
    warn_dropped,
)
from ._embeddings_merge import merge_embeddings
from ._options import (
    CREDENTIAL_ENV_VARS,
    DEFAULT_EMBED_BATCH_SIZE,
    DEFAULT_TIMEOUT,
    ENDPOINT_ENV_VARS,
    check_max_response_bytes,
    check_options,
    check_positive_int,
    first_env,
)
from ._request_ids import request_id
from ._transport import DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, as_timeout, request_url
from .auth import AzureAuth, make_auth
from .bulk import DEFAULT_MAX_CONCURRENCY, split
from .endpoints import Endpoint, EndpointKind, parse_endpoint
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    UnsupportedParameterError,
    parse_retry_after,
)
from .profiles import ReasoningRules, find_reasoning_rules
from .ratelimit import (
    PACED_429_RETRIES,
    Cost,
    RateLimiter,
    Ticket,
    chat_cost,
    input_cost,
    is_paced,
    make_limiter,
    pacing_mode,
)
from .reasoning import adapt_params
from .requests import (
    PreparedRequest,
    build_chat_request,
    build_embeddings_request,
    build_image_embeddings_request,
    build_info_request,
    check_chat_params,
)
from .responses import parse_chat_completion, parse_embeddings
from .retry import RetryPolicy
from .think import separate_think
from .types import ChatCompletion, CompletionUsage, EmbeddingsResult, ModelInfo

__all__ = ["MAX_RESENDS", "_BaseClient", "_Call", "bounded_tries"]

MAX_RESENDS = 4
"""How many times one call is rebuilt and sent again after a refusal that taught something.

Each lesson is learned once (``stream_options``, base64 embeddings, ``input_type``), so a call
needs two at most; the bound is there so that no answer can make a call resend forever."""


def bounded_tries() -> Iterator[int]:
    """The tries of a call that a refusal may send again: `MAX_RESENDS` resends, then an error.

    Used as ``tries = bounded_tries()`` and ``next(tries)`` at the top of the call's loop.

    Raises:
        APIError: The call was resent `MAX_RESENDS` times and the answer still asked for more.
    """
    yield from range(MAX_RESENDS + 1)
    raise APIError(
        f"The call was sent {MAX_RESENDS + 1} times, each answer refusing something the client "
        "could drop, and was not sent again (a bound on resending, which is billed)."
    )


_USER_AGENT = (
    f"azureinference-python/{__version__} httpx2/{httpx2.__version__} "
    f"Python/{platform.python_version()}"
)
_T = TypeVar("_T")
Answer = tuple[int, httpx2.Headers, bytes]

# Kinds that speak the OpenAI chat format, where stream usage needs stream_options.
_STREAM_OPTIONS_KINDS = frozenset(
    {
        EndpointKind.AZURE_OPENAI,
        EndpointKind.OPENAI_V1,
        EndpointKind.GITHUB,
        EndpointKind.OPENAI_COMPATIBLE,
    }
)


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
        logging_enable: bool = False,
    ) -> None:
        if endpoint is None:
            endpoint = first_env(ENDPOINT_ENV_VARS)
        if credential is None:
            credential = first_env(CREDENTIAL_ENV_VARS)
        check_options(
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
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        self._model_info: dict[str | None, ModelInfo | None] = {}
        check_positive_int("max_concurrency", max_concurrency, 1)
        self.max_concurrency = max_concurrency
        self.rate_limiter = make_limiter(rate_limiter, tokens_per_minute, requests_per_minute)
        self._pacing = pacing_mode(rate_limit, self.rate_limiter)
        if not isinstance(logging_enable, bool):
            raise ConfigurationError(
                f"logging_enable must be True or False, not {type(logging_enable).__name__}."
            )
        self.logging_enable = logging_enable

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint={self.endpoint.base_url!r}, "
            f"kind={self.endpoint.kind.value!r}, model={self.model!r})"
        )

    @property
    def auth(self) -> AzureAuth:
        """The auth applied to each request."""
        return self._auth

    # ---- the HTTP client's settings ----

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

    def _request_headers(self, req: PreparedRequest) -> dict[str, str]:
        headers = dict(req.headers)
        headers["x-ms-client-request-id"] = request_id()
        return headers

    def _start(
        self,
        http: httpx2.Client | httpx2.AsyncClient,
        req: PreparedRequest,
        extensions: dict[str, Any] | None = None,
    ) -> _Call:
        """The ``httpx2`` request for ``req`` and the state of its send loop."""
        timeout = self._timeout()
        request = http.build_request(
            req.method, request_url(req.url), headers=self._request_headers(req),
            content=req.content, timeout=timeout, extensions=extensions,
        )  # fmt: skip
        if self.logging_enable and body_log.isEnabledFor(logging.DEBUG):
            log_request(req.method, req.url, request.headers, req.content)
        return _Call(self, req, request, timeout)

    # ---- chat (pure) ----

    def _chat_request(
        self,
        messages: Sequence[Mapping[str, Any]],
        stream: bool,
        stream_usage: bool | None,
        params: dict[str, Any],
        resends: Resends | None = None,
    ) -> PreparedRequest:
        if params.get("model") is None and self.model is not None:
            params["model"] = self.model
        params.setdefault("extra_parameters", self.extra_parameters)
        if params.get("stream") and not stream:
            raise ConfigurationError("stream=True is not a parameter of complete(): use stream().")
        if stream:
            params["stream"] = True
            if (
                params.get("stream_options") is None
                and self._wants_stream_options(stream_usage)
                and (resends is None or "stream_options" not in resends.without)
            ):
                params["stream_options"] = {"include_usage": True}
        self._for_model(params)
        return build_chat_request(self.endpoint, messages, **params)

    def _for_model(self, params: dict[str, Any]) -> None:
        """Shape ``params`` for the model (see `azureinference.reasoning.adapt_params`).

        A reasoning model's ``max_completion_tokens``, and no parameter its family or its
        refusals say it does not take (a value the caller set is warned about once per model).
        """
        model = params.get("model")
        if model is not None and not isinstance(model, str):
            return  # build_chat_request names the bad value
        caps = self.capabilities
        lessons = caps.models.get(model)
        rules = self._reasoning_rules(model, caps.served.get(model))
        if rules is None and lessons is None:
            return
        check_chat_params(params)  # a value of the wrong type is named, never dropped
        for dropped in adapt_params(params, rules, lessons):
            if dropped.renamed_to is None:
                warn_dropped(
                    caps.lessons(model), model, dropped.param, dropped.value, dropped.reason
                )

    def _reasoning_rules(self, model: str | None, served: str | None) -> ReasoningRules | None:
        """The reasoning family of ``model`` (or the model it served, or the URL's deployment)."""
        cache: dict[tuple[str | None, str | None], ReasoningRules | None] = (
            self.__dict__.setdefault("_rules_cache", {})
        )
        key = (model, served)
        if key not in cache:
            cache[key] = find_reasoning_rules(model, served, self.endpoint.deployment)
        return cache[key]

    def _wants_stream_options(self, stream_usage: bool | None) -> bool:
        if stream_usage is False or self.capabilities.stream_options is False:
            return False
        return stream_usage is True or self.endpoint.kind in _STREAM_OPTIONS_KINDS

    def _chat_cost(self, messages: Sequence[Mapping[str, Any]], params: dict[str, Any]) -> Any:
        return self._cost(chat_cost, messages, params)

    def _chat_answer(
        self,
        answer: Answer,
        cost: Cost | None,
        params: dict[str, Any],
        resends: Resends,
        keep_think_tags: bool = False,
    ) -> ChatCompletion | None:
        """The completion; None when a refusal taught the client to resend without something.

        A ``<think>`` block at the start of the text is moved to the reasoning unless
        ``keep_think_tags``.

        Raises:
            APIStatusError: A refusal that teaches nothing to resend (the last one, as sent).
        """
        try:
            completion = parse_chat_completion(*answer)
        except APIStatusError as err:
            if not self._learn_chat(err, params, resends):
                raise
            return None
        self._answered(params, resends, completion.model)
        self._learn_usage(cost, completion.usage)
        if not keep_think_tags:
            separate_think(completion)
        return completion

    def _answered(self, params: dict[str, Any], resends: Resends, served: str | None) -> None:
        """A chat call was answered: keep what its resends proved, and the model it named."""
        resends.answered(self.capabilities)
        if served:
            self.capabilities.served.setdefault(params.get("model"), served)

    def _stream_answered(self, params: dict[str, Any], resends: Resends) -> Callable[[str], None]:
        """A streamed call was answered: keep what its resends proved; note the model it names.

        Returns what the stream calls with the first model name a chunk gives.
        """
        resends.answered(self.capabilities)
        served = self.capabilities.served
        model = params.get("model")

        def note(name: str) -> None:
            served.setdefault(model, name)

        return note

    def _log_stream_body(self, response: httpx2.Response, content: bytes) -> None:
        """Log (``logging_enable``) the body of a streamed call's answer that is not a stream.

        An error, or JSON where events were asked for: read by the caller, so logged here.
        """
        if self.logging_enable and body_log.isEnabledFor(logging.DEBUG):
            log_response(response.status_code, response.headers, content)

    def _stream_refused(
        self, response: httpx2.Response, content: bytes, params: dict[str, Any], resends: Resends
    ) -> None:
        """Learn from a streamed call's answer that is not a stream; return to resend.

        Raises:
            APIStatusError: A refusal that teaches nothing to resend.
            MalformedResponseError: A JSON answer where a stream was asked for.
        """
        self._log_stream_body(response, content)
        try:
            check_stream_status(response, content)
        except APIStatusError as err:
            if not self._learn_chat(err, params, resends):
                raise

    def _learn_chat(self, err: APIStatusError, params: dict[str, Any], resends: Resends) -> bool:
        """What a refusal teaches; True when the request should be rebuilt and resent."""
        return learn_chat_refusal(self.capabilities, err, params, resends, params.get("model"))

    # ---- embeddings (pure) ----

    def _embeddings_request(
        self,
        batch: Sequence[Any],
        images: bool,
        params: dict[str, Any],
        resends: Resends | None = None,
    ) -> PreparedRequest:
        p = dict(params)
        without = resends.without if resends is not None else ()
        if p.get("model") is None and self.model is not None:
            p["model"] = self.model
        p.setdefault("extra_parameters", self.extra_parameters)
        if (
            p.get("encoding_format") is None
            and self.capabilities.base64_embeddings is not False
            and "base64" not in without
        ):
            p["encoding_format"] = "base64"
        if p.get("input_type") is not None and (
            self.capabilities.input_type is False or "input_type" in without
        ):
            p["input_type"] = None
        if images:
            return build_image_embeddings_request(self.endpoint, batch, **p)
        return build_embeddings_request(self.endpoint, batch, **p)

    def _embeddings_answer(
        self, answer: Answer, cost: Cost | None, params: dict[str, Any], resends: Resends
    ) -> EmbeddingsResult | None:
        """A batch's result; None when a refusal taught the client to resend without something.

        Raises:
            APIStatusError: A refusal that teaches nothing to resend.
        """
        try:
            result = parse_embeddings(*answer)
        except APIStatusError as err:
            if not learn_embeddings_refusal(self.capabilities, err, params, resends):
                raise
            return None
        resends.answered(self.capabilities)
        self._learn_usage(cost, result.usage)
        return result

    def _batches(
        self, input: Sequence[_T], batch_size: int | None
    ) -> list[tuple[int, Sequence[_T]]]:
        if batch_size is not None:
            check_positive_int("batch_size", batch_size, 1)
        size = batch_size or self.embed_batch_size
        if isinstance(input, str):
            raise ConfigurationError("input must be a list of texts, not one str.")
        if not isinstance(input, Sequence) or isinstance(input, (bytes, Mapping)):
            raise ConfigurationError(f"input must be a list of texts, not {type(input).__name__}.")
        return split(input, size)

    def _batch_cost(self, batch: Sequence[Any]) -> Cost | None:
        return self._cost(input_cost, batch)

    def _merged(self, results: list[EmbeddingsResult], params: dict[str, Any]) -> EmbeddingsResult:
        return merge_embeddings(results, params.get("model") or self.model)

    def _concurrency(self, max_concurrency: int | None) -> int:
        if max_concurrency is None:
            return self.max_concurrency
        check_positive_int("max_concurrency", max_concurrency, 1)
        return max_concurrency

    # ---- /info (pure) ----

    def _model_info_request(self, model: str | None) -> PreparedRequest | None:
        if not self.endpoint.has_info_route:
            return None
        return build_info_request(self.endpoint, model=model or self.model)

    @staticmethod
    def _no_model_info(err: Exception) -> bool:
        """True for an error that means "this endpoint has no /info for it" (no model info)."""
        if isinstance(err, (NotFoundError, MalformedResponseError, UnsupportedParameterError)):
            return True
        # 422: a refused query value
        return isinstance(err, APIStatusError) and err.status_code in (400, 405, 422)

    # ---- pacing and retries (pure) ----

    def _cost(self, cost: Any, *args: Any) -> Cost | None:
        """``cost(*args)`` where this call is paced (`RateLimiter`), else None (no cost at all).

        Paced: every call with ``rate_limit=True`` or a set limit; bulk calls (inside `paced`);
        and every call while `RateLimiter.engaged` (the model's first call is out, a pace is
        known or being found, or the service has answered 429). Only against a service that
        reports nothing and showed no limit in its slow start are single calls unpaced.
        """
        pacing = self._pacing
        if pacing is False or (pacing is None and not is_paced() and not self.rate_limiter.engaged):
            return None
        return cost(*args)  # type: ignore[no-any-return]

    def _paced_429(
        self, ticket: Ticket | None, response: httpx2.Response, throttled: int, time_left: float
    ) -> bool:
        """True for a 429 the limiter waits out (it paused on it) without using a retry.

        A call that was not paced joins the limiter's queue on its first 429 (the limiter
        paces every call from then on), unless it asked for no retries. A wait longer than
        ``max_retry_after`` or than the call's time left is not waited: the call fails at
        once with `RateLimitError`.
        """
        if response.status_code != 429 or throttled >= PACED_429_RETRIES or self._pacing is False:
            return False
        if self.retry_policy.max_retries == 0 and not (self._pacing or is_paced()):
            return False  # a single call that asked for one request only
        wait = parse_retry_after(response.headers) or 0.0
        return wait <= self.retry_policy.max_retry_after and wait < time_left

    def _learn_usage(self, cost: Cost | None, usage: CompletionUsage | None) -> None:
        if cost is not None and usage is not None:
            completion = usage.completion_tokens if cost[1] is None else None
            self.rate_limiter.learn_usage(cost[0], usage.prompt_tokens, completion)

    def _retry_delay(self, attempt: int, response: httpx2.Response) -> float | None:
        if not self.retry_policy.should_retry_status(response.status_code):
            return None
        delay = self.retry_policy.delay(attempt, response.headers)
        if delay is not None:
            log.debug(
                "Retrying %s after status %d in %.2fs (attempt %d of %d)",
                url_for_log(response.request.url),
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

    # ---- pickling ----

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_http", "_http_lock", "_loop_clients", "_closed", "_connections"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_transport()

    def _init_transport(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


PACED = 0.0
"""What `_Call.wait_after_answer` returns for a 429 the limiter waits out: send again now."""


class _Call:
    """One request's way through a send loop: its attempts, deadline and limiter ticket.

    The loop sends and sleeps; this object decides after each try whether the answer is the
    call's (None), or how long to wait before the next try.
    """

    __slots__ = (
        "attempt",
        "client",
        "deadline",
        "req",
        "request",
        "throttled",
        "ticket",
        "timeout",
    )

    def __init__(
        self,
        client: _BaseClient,
        req: PreparedRequest,
        request: httpx2.Request,
        timeout: httpx2.Timeout,
    ) -> None:
        self.client = client
        self.req = req
        self.request = request
        self.timeout = timeout
        self.attempt = 0
        self.throttled = 0
        self.ticket: Ticket | None = None
        self.deadline = self._new_deadline()

    def _new_deadline(self) -> float | None:
        deadline = self.request.extensions[DEADLINE] = self.client._deadline(self.timeout, self.req)
        return deadline

    def pacing(self, cost: Cost | None) -> Cost | None:
        """What to acquire from the limiter before this try (None: go unpaced).

        The call's own cost where it is paced; for a call that was not, once the limiter
        paces every call (the service answered 429), an estimate from the body's size.
        """
        if cost is not None or self.client._pacing is False:
            return cost
        if not self.client.rate_limiter.engaged:
            return None
        return float(len(self.req.content or b"")) / 4.0, None

    def paced(self, ticket: Ticket) -> None:
        """The limiter let the request go: its time counts from now."""
        self.ticket = ticket
        self.deadline = self._new_deadline()

    def release(self) -> None:
        """The call is over: give back a ticket whose answer was not seen.

        Cancelled, ``get_token`` raised, an undecodable answer: its place goes back at once,
        and a probe lets the others go.
        """
        if self.ticket is not None:
            self.client.rate_limiter.abandon(self.ticket)

    def wait_after_error(self, exc: httpx2.RequestError) -> float:
        """Seconds to wait before retrying after a transport error.

        Call it outside the ``except`` block that caught ``exc``: the error raised chains a
        redacted copy of ``exc``, and ``exc`` (whose request holds the credential) must not
        come back as its ``__context__``.

        Raises:
            APIConnectionError: No retry is left (or it would pass the deadline).
            MalformedResponseError: The answer was not HTTP, or could not be decoded.
        """
        if self.ticket is not None:
            self.client.rate_limiter.abandon(self.ticket)
        delay = _within(self.deadline, self.client._connection_delay(self.attempt, exc))
        if delay is None:
            raise self.transport_error(exc)  # chains a redacted copy of exc
        self.attempt += 1
        return delay

    def wait_after_answer(self, response: httpx2.Response) -> float | None:
        """None when ``response`` is the call's answer, else seconds to wait before resending.

        A 429 the limiter waits out gives `PACED` (send again at once: acquiring waits).
        """
        client = self.client
        if self.ticket is not None or (response.status_code == 429 and client._pacing is not False):
            client.rate_limiter.answered(self.ticket, response.status_code, response.headers)
        time_left = math.inf if self.deadline is None else self.deadline - time.monotonic()
        if client._paced_429(self.ticket, response, self.throttled, time_left):
            self.throttled += 1
            return PACED
        delay = _within(self.deadline, client._retry_delay(self.attempt, response))
        if delay is None:
            if log.isEnabledFor(logging.DEBUG):
                log_answer(response, self.attempt)
                if client.logging_enable and not self.req.stream:
                    log_response(response.status_code, response.headers, response.content)
                elif client.logging_enable and is_event_stream(response):
                    log_response(response.status_code, response.headers, None)
                # (a streamed call's answer that is not a stream: `_log_stream_body`, once read)
            return None
        self.attempt += 1
        return delay

    def closed_error(self) -> APIConnectionError:
        """The error of a call in flight when its client was closed (in another thread)."""
        if self.ticket is not None:
            self.client.rate_limiter.abandon(self.ticket)
        return APIConnectionError(
            f"The client was closed while this call to {url_for_log(self.request.url)} was in "
            "flight (close() from another thread or task); the request may have reached the "
            "service."
        )

    def transport_error(self, exc: Exception) -> APIError:
        """The error a transport failure of this call raises."""
        return transport_error(exc, self.req)

    def decoding_error(self, exc: Exception) -> MalformedResponseError:
        """The error an undecodable answer of this call raises."""
        return decoding_error(exc, self.req)


def _within(deadline: float | None, delay: float | None) -> float | None:
    """``delay``, or None when waiting it would pass the call's deadline."""
    if delay is None or deadline is None or time.monotonic() + delay < deadline:
        return delay
    return None
