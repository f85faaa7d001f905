"""`Client` and `AsyncClient`: the only place that does I/O.

Both build on `_BaseClient` (in `_base.py`), which holds the connection settings and decides
every fallback without I/O; `Client._send` and `AsyncClient._send` are the two short send loops,
and the public methods (``complete``, ``stream``, ``embed``, ``get_model_info``) wrap them with
what an answer teaches (`Capabilities`), pacing and telemetry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx2

from ._base import (
    CLIENT_OPTIONS,
    DEFAULT_TIMEOUT,
    Capabilities,
    _BaseClient,
    _check_stream_status,
    _decoding_error,
    _log_answer,
    _merge_embeddings,
    _transport_error,
    _within,
    log,
)
from ._transport import (
    DEADLINE,
    LoopClients,
    check_transport,
    make_async_http,
    make_sync_http,
    request_url,
)
from .bulk import arun_batches, run_batches
from .endpoints import Endpoint
from .errors import (
    APIStatusError,
    MalformedResponseError,
    NotFoundError,
    UnsupportedParameterError,
)
from .ratelimit import (
    Cost,
    chat_cost,
    input_cost,
)
from .requests import (
    PreparedRequest,
)
from .responses import parse_chat_completion, parse_embeddings, parse_model_info
from .streaming import AsyncChatStream, ChatStream
from .telemetry import note_retry, start_chat, start_embeddings
from .types import (
    ChatCompletion,
    EmbeddingsResult,
    ModelInfo,
)

__all__ = ["CLIENT_OPTIONS", "DEFAULT_TIMEOUT", "AsyncClient", "Capabilities", "Client"]


class Client(_BaseClient):
    """A sync client for chat, embeddings and ``/info``.

    Args:
        endpoint: Any endpoint form (see `parse_endpoint`); default ``AZURE_INFERENCE_ENDPOINT``.
        credential: A key, ``"Header: value"``, key credential, `HeaderCredential` or token
            credential; default ``AZURE_INFERENCE_CREDENTIAL``.
        model: The default model (sent as ``model``, or the deployment on Azure OpenAI).
        api_version: The api-version to send.
        credential_scopes: Entra ID scopes; default the endpoint kind's scope.
        headers: Headers sent on every request.
        timeout: Seconds: the whole of a non-streamed call (connect, wait, read, retries), and
            for a stream the wait for its first byte and between reads; or an
            ``httpx2.Timeout`` (an ``httpx.Timeout`` is converted), whose ``read`` is then the
            whole call's limit. See the README, "Timeouts and limits".
        max_retries: Retries on 408/429/5xx and connection errors.
        user_agent: A prefix for the User-Agent.
        extra_parameters: The ``extra-parameters`` mode when extras are sent.
        embed_batch_size: Inputs per embeddings request.
        httpx_kwargs: Passed to ``httpx2.Client`` (``verify``, ``cert``, ``proxy``,
            ``trust_env``, ``limits``, ``follow_redirects``, ``event_hooks``, ``transport``: an
            ``httpx2.BaseTransport``, or ``httpx2.AsyncBaseTransport`` for `AsyncClient`).
        max_response_bytes: The largest answer read, after decoding (default 128 MiB); a larger
            one raises `MalformedResponseError`.
        tokens_per_minute: The deployment's token quota to pace to (wins over the
            ``x-ratelimit-limit-tokens`` header, which is used where this is not set).
        requests_per_minute: The request quota, likewise.
        rate_limiter: A `RateLimiter` to share (with another client, say) instead.
        rate_limit: None (default): pace bulk calls, and every call once a limit is set;
            True: every call; False: none.
        max_concurrency: Batches of one bulk call in flight at once (default 16).

    Raises:
        ConfigurationError: A bad endpoint or credential.
    """

    def __init__(self, endpoint: str | Endpoint | None = None, credential: Any = None, **kw: Any):
        super().__init__(endpoint, credential, **kw)
        self._init_transport()

    def _init_transport(self) -> None:
        check_transport(self._httpx_kwargs, httpx2.BaseTransport, "Client")
        self._http: httpx2.Client | None = None
        self._http_lock = threading.Lock()

    @property
    def http(self) -> httpx2.Client:
        """The pooled ``httpx2.Client`` (created on first use)."""
        http = self._http
        if http is None or http.is_closed:
            with self._http_lock:
                http = self._http
                if http is None or http.is_closed:
                    http = self._http = make_sync_http(*self._http_args())
        return http

    def close(self) -> None:
        """Close the pooled connections."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A client dropped without close() (an adapter's, say) still closes its sockets, so no
        # ResourceWarning; as openai-python's SyncHttpxClientWrapper does.
        http = self.__dict__.get("_http")
        if http is not None:
            with contextlib.suppress(Exception):  # at interpreter shutdown
                http.close()

    def _send(self, req: PreparedRequest, cost: Cost | None = None) -> httpx2.Response:
        http = self.http
        timeout = self._timeout()
        request = http.build_request(
            req.method, request_url(req.url), headers=self._request_headers(req),
            content=req.content, timeout=timeout,
        )  # fmt: skip
        deadline = request.extensions[DEADLINE] = self._deadline(timeout, req)
        attempt = throttled = 0
        ticket = None
        while True:
            if cost is not None:
                ticket = self.rate_limiter.acquire(*cost)
                # A paced request's time counts from when the limiter lets it go.
                deadline = request.extensions[DEADLINE] = self._deadline(timeout, req)
            try:
                response = http.send(request, auth=self._auth, stream=req.stream)
            except httpx2.TransportError as exc:
                if ticket is not None:
                    self.rate_limiter.abandon(ticket)
                delay = _within(deadline, self._connection_delay(attempt, exc))
                if delay is None:
                    raise _transport_error(exc, req) from exc
            except httpx2.DecodingError as exc:
                raise _decoding_error(exc, req) from exc
            else:
                if ticket is not None:
                    self.rate_limiter.answered(ticket, response.status_code, response.headers)
                if self._paced_429(ticket, response, throttled):
                    throttled += 1
                    response.close()
                    note_retry()
                    continue  # acquire() waits out the pause
                delay = _within(deadline, self._retry_delay(attempt, response))
                if delay is None:
                    if log.isEnabledFor(logging.DEBUG):
                        _log_answer(response, attempt)
                    return response
                response.close()
            note_retry()
            time.sleep(delay)
            attempt += 1

    def _request(
        self, req: PreparedRequest, cost: Cost | None = None
    ) -> tuple[int, httpx2.Headers, bytes]:
        response = self._send(req, cost)
        return response.status_code, response.headers, response.content

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        **params: Any,
    ) -> ChatCompletion:
        """Get a chat completion.

        Args:
            messages: Wire messages.
            **params: Chat parameters (see `build_chat_body`), ``model_extras``,
                ``extra_parameters`` and ``headers``.

        Raises:
            ConfigurationError: Bad parameters.
            APIStatusError: The service refused (subclass by status).
            APIConnectionError: The service could not be reached.
            MalformedResponseError: The answer is not the API's JSON.
        """
        with start_chat(self.endpoint, self.model, messages, params) as op:
            while True:
                req = self._chat_request(messages, False, None, params)
                cost = self._cost(chat_cost, messages, params)
                try:
                    completion = parse_chat_completion(*self._request(req, cost))
                except APIStatusError as err:
                    if not self._learn_chat(err, params):
                        raise
                else:
                    self._learn_usage(cost, completion.usage)
                    return op.chat_result(completion)

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream_usage: bool | None = None,
        **params: Any,
    ) -> ChatStream:
        """Start a streamed chat completion; iterate the returned `ChatStream`.

        Args:
            messages: Wire messages.
            stream_usage: Ask for token usage at the end (``stream_options``); default: on for
                OpenAI-style endpoints, where it is needed.
            **params: As for `complete`.

        Raises:
            As `complete`; iterating raises `IncompleteStreamError` for a stream cut short.
        """
        with start_chat(self.endpoint, self.model, messages, params, stream=True) as op:
            while True:
                req = self._chat_request(messages, True, stream_usage, params)
                response = self._send(req, self._cost(chat_cost, messages, params))
                if response.status_code < 300 and "json" not in response.headers.get(
                    "content-type", ""
                ):
                    return ChatStream(response, telemetry=op, owner=self)
                content = response.read()
                response.close()
                try:
                    _check_stream_status(response, content)
                except APIStatusError as err:
                    if not self._learn_chat(err, params):
                        raise

    def embed(
        self,
        input: Sequence[str],
        *,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        on_batch: Callable[[int, EmbeddingsResult], Any] | None = None,
        **params: Any,
    ) -> EmbeddingsResult:
        """Embed texts, in batches, asking for base64 and decoding it (floats where refused).

        Batches after the first go concurrently (threads), paced at the deployment's quota by
        `rate_limiter`; the vectors come back in input order.

        Args:
            input: The texts.
            batch_size: Inputs per request; default ``embed_batch_size``.
            max_concurrency: Batches in flight at once; default the client's.
            on_batch: Called as ``on_batch(index, result)`` in this thread as each batch
                completes (a progress bar).
            **params: ``model``, ``dimensions``, ``input_type``, ``encoding_format``,
                ``model_extras``, ``extra_parameters``, ``headers``.

        Raises:
            As `complete`; a failed batch's error names its inputs (and ``.input_range``).
        """
        return self._embed(input, batch_size, False, params, max_concurrency, on_batch)

    def embed_images(
        self,
        input: Sequence[Mapping[str, str]],
        *,
        batch_size: int | None = None,
        **params: Any,
    ) -> EmbeddingsResult:
        """Embed images (``{"image": <data URL>, "text"?}``) through ``/images/embeddings``.

        Raises:
            As `complete`.
        """
        return self._embed(input, batch_size, True, params)

    def _embed(
        self,
        input: Sequence[Any],
        batch_size: int | None,
        images: bool,
        params: dict[str, Any],
        max_concurrency: int | None = None,
        on_batch: Callable[[int, EmbeddingsResult], Any] | None = None,
    ) -> EmbeddingsResult:
        with start_embeddings(self.endpoint, self.model, input, params) as op:
            results = run_batches(
                self._batches(input, batch_size),
                lambda batch: self._embed_batch(batch, images, params),
                total=len(input),
                max_concurrency=self._concurrency(max_concurrency),
                on_batch=on_batch,
            )
            merged = _merge_embeddings(results, params.get("model") or self.model)
            return op.embeddings_result(merged)

    def _embed_batch(
        self, batch: Sequence[Any], images: bool, params: dict[str, Any]
    ) -> EmbeddingsResult:
        cost = self._cost(input_cost, batch)
        while True:
            req = self._embeddings_request(batch, images, params)
            try:
                result = parse_embeddings(*self._request(req, cost))
            except APIStatusError as err:
                if not self._learn_embeddings(err, params):
                    raise
            else:
                self._learn_usage(cost, result.usage)
                return result

    def get_model_info(self, model: str | None = None) -> ModelInfo | None:
        """Return what ``/info`` says (fetched once, cached); None where there is no ``/info``.

        Raises:
            AuthenticationError: The credential was refused.
        """
        key = model or self.model
        if key in self._model_info:
            return self._model_info[key]
        info: ModelInfo | None = None
        req = self._model_info_request(model)
        if req is not None:
            try:
                info = parse_model_info(*self._request(req))
            except (NotFoundError, MalformedResponseError, UnsupportedParameterError):
                info = None
            except APIStatusError as err:
                if err.status_code not in (400, 405, 422):  # 422: a refused query value
                    raise
        self._model_info[key] = info
        return info


class AsyncClient(_BaseClient):
    """The async form of `Client`, with the same arguments and methods (awaitable)."""

    def __init__(self, endpoint: str | Endpoint | None = None, credential: Any = None, **kw: Any):
        super().__init__(endpoint, credential, **kw)
        self._init_transport()

    def _init_transport(self) -> None:
        check_transport(self._httpx_kwargs, httpx2.AsyncBaseTransport, "AsyncClient")
        self._loop_clients = LoopClients()

    def _make_http(self) -> httpx2.AsyncClient:
        return make_async_http(*self._http_args())

    async def http(self) -> httpx2.AsyncClient:
        """The pooled ``httpx2.AsyncClient`` of the running loop."""
        return await self._loop_clients.get(self._make_http)

    async def aclose(self) -> None:
        """Close the pooled connections of the running loop."""
        await self._loop_clients.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, req: PreparedRequest, cost: Cost | None = None) -> httpx2.Response:
        http = await self.http()
        timeout = self._timeout()
        request = http.build_request(
            req.method, request_url(req.url), headers=self._request_headers(req),
            content=req.content, timeout=timeout,
        )  # fmt: skip
        deadline = request.extensions[DEADLINE] = self._deadline(timeout, req)
        attempt = throttled = 0
        ticket = None
        while True:
            if cost is not None:
                ticket = await self.rate_limiter.aacquire(*cost)
                # A paced request's time counts from when the limiter lets it go.
                deadline = request.extensions[DEADLINE] = self._deadline(timeout, req)
            try:
                response = await http.send(request, auth=self._auth, stream=req.stream)
            except httpx2.TransportError as exc:
                if ticket is not None:
                    self.rate_limiter.abandon(ticket)
                delay = _within(deadline, self._connection_delay(attempt, exc))
                if delay is None:
                    raise _transport_error(exc, req) from exc
            except httpx2.DecodingError as exc:
                raise _decoding_error(exc, req) from exc
            else:
                if ticket is not None:
                    self.rate_limiter.answered(ticket, response.status_code, response.headers)
                if self._paced_429(ticket, response, throttled):
                    throttled += 1
                    await response.aclose()
                    note_retry()
                    continue  # aacquire() waits out the pause
                delay = _within(deadline, self._retry_delay(attempt, response))
                if delay is None:
                    if log.isEnabledFor(logging.DEBUG):
                        _log_answer(response, attempt)
                    return response
                await response.aclose()
            note_retry()
            await asyncio.sleep(delay)
            attempt += 1

    async def _request(
        self, req: PreparedRequest, cost: Cost | None = None
    ) -> tuple[int, httpx2.Headers, bytes]:
        response = await self._send(req, cost)
        return response.status_code, response.headers, response.content

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        **params: Any,
    ) -> ChatCompletion:
        """Get a chat completion (see `Client.complete`)."""
        with start_chat(self.endpoint, self.model, messages, params) as op:
            while True:
                req = self._chat_request(messages, False, None, params)
                cost = self._cost(chat_cost, messages, params)
                try:
                    completion = parse_chat_completion(*await self._request(req, cost))
                except APIStatusError as err:
                    if not self._learn_chat(err, params):
                        raise
                else:
                    self._learn_usage(cost, completion.usage)
                    return op.chat_result(completion)

    async def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream_usage: bool | None = None,
        **params: Any,
    ) -> AsyncChatStream:
        """Start a streamed chat completion (see `Client.stream`)."""
        with start_chat(self.endpoint, self.model, messages, params, stream=True) as op:
            while True:
                req = self._chat_request(messages, True, stream_usage, params)
                response = await self._send(req, self._cost(chat_cost, messages, params))
                if response.status_code < 300 and "json" not in response.headers.get(
                    "content-type", ""
                ):
                    return AsyncChatStream(response, telemetry=op, owner=self)
                content = await response.aread()
                await response.aclose()
                try:
                    _check_stream_status(response, content)
                except APIStatusError as err:
                    if not self._learn_chat(err, params):
                        raise

    async def embed(
        self,
        input: Sequence[str],
        *,
        batch_size: int | None = None,
        max_concurrency: int | None = None,
        on_batch: Callable[[int, EmbeddingsResult], Any] | None = None,
        **params: Any,
    ) -> EmbeddingsResult:
        """Embed texts (see `Client.embed`); batches after the first go as concurrent tasks."""
        return await self._embed(input, batch_size, False, params, max_concurrency, on_batch)

    async def embed_images(
        self,
        input: Sequence[Mapping[str, str]],
        *,
        batch_size: int | None = None,
        **params: Any,
    ) -> EmbeddingsResult:
        """Embed images (see `Client.embed_images`)."""
        return await self._embed(input, batch_size, True, params)

    async def _embed(
        self,
        input: Sequence[Any],
        batch_size: int | None,
        images: bool,
        params: dict[str, Any],
        max_concurrency: int | None = None,
        on_batch: Callable[[int, EmbeddingsResult], Any] | None = None,
    ) -> EmbeddingsResult:
        with start_embeddings(self.endpoint, self.model, input, params) as op:
            results = await arun_batches(
                self._batches(input, batch_size),
                lambda batch: self._embed_batch(batch, images, params),
                total=len(input),
                max_concurrency=self._concurrency(max_concurrency),
                on_batch=on_batch,
            )
            merged = _merge_embeddings(results, params.get("model") or self.model)
            return op.embeddings_result(merged)

    async def _embed_batch(
        self, batch: Sequence[Any], images: bool, params: dict[str, Any]
    ) -> EmbeddingsResult:
        cost = self._cost(input_cost, batch)
        while True:
            req = self._embeddings_request(batch, images, params)
            try:
                result = parse_embeddings(*await self._request(req, cost))
            except APIStatusError as err:
                if not self._learn_embeddings(err, params):
                    raise
            else:
                self._learn_usage(cost, result.usage)
                return result

    async def get_model_info(self, model: str | None = None) -> ModelInfo | None:
        """Return what ``/info`` says (see `Client.get_model_info`)."""
        key = model or self.model
        if key in self._model_info:
            return self._model_info[key]
        info: ModelInfo | None = None
        req = self._model_info_request(model)
        if req is not None:
            try:
                info = parse_model_info(*await self._request(req))
            except (NotFoundError, MalformedResponseError, UnsupportedParameterError):
                info = None
            except APIStatusError as err:
                if err.status_code not in (400, 405, 422):  # 422: a refused query value
                    raise
        self._model_info[key] = info
        return info
