"""`Client` and `AsyncClient`: the only place that does I/O.

Both build on `_BaseClient` (in `_base_client.py`, with the Responses API's decisions in
`_responses_base.py`), which holds the connection settings and
makes every decision without I/O: what to send, what an answer teaches (`Capabilities`), whether
to retry, resend or wait. What is left here is I/O only: `Client._send` and `AsyncClient._send`
are the two send loops, and the public methods (``complete``, ``stream``, ``respond``,
``stream_response``, ``embed``, ``get_model_info``) are loops around them that differ only by
``await``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx2

from ._base_client import bounded_tries
from ._call_errors import is_event_stream
from ._capabilities import Capabilities, Resends
from ._failures import asend_or_error, send_or_error
from ._fork import keep_inherited, reset_after_fork
from ._options import CLIENT_OPTIONS, DEFAULT_TIMEOUT
from ._responses_base import _ResponsesBase
from ._transport import Connections, LoopClients, check_transport, make_async_http, make_sync_http
from .bulk import arun_batches, run_batches
from .endpoints import Endpoint
from .errors import APIStatusError, MalformedResponseError
from .ratelimit import Cost
from .requests import PreparedRequest
from .responses import parse_model_info
from .responses_api import AsyncResponseStream, Response, ResponseStream
from .streaming import AsyncChatStream, ChatStream
from .telemetry import note_retry, start_chat, start_embeddings
from .types import ChatCompletion, EmbeddingsResult, ModelInfo

__all__ = ["CLIENT_OPTIONS", "DEFAULT_TIMEOUT", "AsyncClient", "Capabilities", "Client"]


class Client(_ResponsesBase):
    """A sync client for chat, the Responses API, embeddings and ``/info``.

    Args:
        endpoint: Any endpoint form (see `parse_endpoint`); default ``AZURE_INFERENCE_ENDPOINT``,
            else ``AZURE_AI_INFERENCE_ENDPOINT`` (the adapters read the same list).
        credential: A key, ``"Header: value"``, key credential, `HeaderCredential` or token
            credential; default ``AZURE_INFERENCE_CREDENTIAL``, else
            ``AZURE_AI_INFERENCE_CREDENTIAL``.
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
        self._auth.check_sync()  # an async credential: refused now, not at the first call
        self._init_transport()

    def _init_transport(self) -> None:
        check_transport(self._httpx_kwargs, httpx2.BaseTransport, "Client")
        self._http: httpx2.Client | None = None
        self._http_lock = threading.Lock()
        # Set by close(), then replaced: calls in flight at the close see theirs set.
        self._closed = threading.Event()
        self._connections = Connections()
        self._in_flight = 0  # a hint for Connections.tracer, not a count to rely on
        reset_after_fork(self)

    def _after_fork(self) -> None:
        # In a forked child: never touch the parent's pooled sockets (not even to shut them
        # down on close()), nor a lock it held.
        keep_inherited(self._http)
        self._http = None
        self._http_lock = threading.Lock()
        self._connections = Connections()

    @property
    def http(self) -> httpx2.Client:
        """The pooled ``httpx2.Client`` (created on first use)."""
        http = self._http
        if http is None or http.is_closed:
            with self._http_lock:
                http = self._http
                if http is None or http.is_closed:
                    headers, kwargs, origin, max_bytes = self._http_args()
                    http = self._http = make_sync_http(
                        headers, kwargs, origin, max_bytes, self._connections
                    )
        return http

    def close(self) -> None:
        """Close the pooled connections.

        Calls in flight in other threads fail at once with an `APIConnectionError` saying the
        client was closed; a later call opens new connections.
        """
        closed, self._closed = self._closed, threading.Event()
        closed.set()
        self._connections.interrupt()
        http = self._http
        if http is not None:
            http.close()
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
        closed = self._closed
        self._in_flight += 1
        call = None
        try:
            call = self._start(http, req, self._connections.tracer(self._in_flight))
            delay: float | None
            while True:
                if (pace := call.pacing(cost)) is not None:
                    call.paced(self.rate_limiter.acquire(*pace, deadline=call.deadline))
                response = send_or_error(
                    http.send, call.request, auth=self._auth, stream=req.stream
                )
                if isinstance(response, httpx2.RequestError):
                    if closed.is_set():
                        raise call.closed_error()
                    # Decided here, not in an except block: the error raised when no retry is
                    # left must not have the httpx2 error (its request holds the credential) as
                    # context.
                    delay = call.wait_after_error(response)
                else:
                    delay = call.wait_after_answer(response)
                    if delay is None:
                        return response
                    response.close()
                note_retry()
                # A paced 429 is sent again at once (acquire() waits out the pause); a close()
                # ends the wait.
                if delay and closed.wait(delay):
                    raise call.closed_error()
        finally:
            self._in_flight -= 1
            if call is not None:
                call.release()

    def _request(
        self, req: PreparedRequest, cost: Cost | None = None
    ) -> tuple[int, httpx2.Headers, bytes]:
        response = self._send(req, cost)
        return response.status_code, response.headers, response.content

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        keep_think_tags: bool = False,
        **params: Any,
    ) -> ChatCompletion:
        """Get a chat completion.

        Args:
            messages: Wire messages.
            keep_think_tags: Keep a ``<think>...</think>`` block at the start of the text as
                sent; by default it is moved to the message's ``reasoning_content``.
            **params: Chat parameters (see `build_chat_body`), ``model_extras``,
                ``extra_parameters`` and ``headers``. A reasoning model gets ``max_tokens`` as
                ``max_completion_tokens`` and no sampling parameter it refuses (see README
                "Reasoning models").

        Raises:
            ConfigurationError: Bad parameters.
            APIStatusError: The service refused (subclass by status).
            APIConnectionError: The service could not be reached.
            MalformedResponseError: The answer is not the API's JSON.
        """
        with start_chat(self.endpoint, self.model, messages, params) as op:
            tries = bounded_tries()
            resends = Resends()
            while True:
                next(tries)  # bounded: raises after MAX_RESENDS resends
                req = self._chat_request(messages, False, None, params, resends)
                cost = self._chat_cost(messages, params)
                answer = self._request(req, cost)
                completion = self._chat_answer(answer, cost, params, resends, keep_think_tags)
                if completion is not None:
                    return op.chat_result(completion)

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream_usage: bool | None = None,
        keep_think_tags: bool = False,
        **params: Any,
    ) -> ChatStream:
        """Start a streamed chat completion; iterate the returned `ChatStream`.

        Args:
            messages: Wire messages.
            stream_usage: Ask for token usage at the end (``stream_options``); default: on for
                OpenAI-style endpoints, where it is needed.
            keep_think_tags: As for `complete`; by default a ``<think>`` block is separated
                from the text as it streams (see `azureinference.think`).
            **params: As for `complete`.

        Raises:
            As `complete`; iterating raises `IncompleteStreamError` for a stream cut short.
        """
        with start_chat(self.endpoint, self.model, messages, params, stream=True) as op:
            tries = bounded_tries()
            resends = Resends()
            while True:
                next(tries)  # bounded: raises after MAX_RESENDS resends
                req = self._chat_request(messages, True, stream_usage, params, resends)
                response = self._send(req, self._chat_cost(messages, params))
                if is_event_stream(response):
                    on_model = self._stream_answered(params, resends)
                    return ChatStream(
                        response,
                        telemetry=op,
                        owner=self,
                        keep_think_tags=keep_think_tags,
                        on_model=on_model,
                    )
                content = response.read()
                response.close()
                self._stream_refused(response, content, params, resends)

    def respond(self, input: str | Sequence[Any], **params: Any) -> Response:
        """Get an answer through the Responses API (``POST .../responses``).

        Args:
            input: A prompt, or chat messages and Responses items (see
                `azureinference.responses_api.to_input_items`).
            **params: Responses parameters (see `build_responses_body`: ``model``,
                ``instructions``, ``tools``, ``tool_choice``, ``response_format`` or ``text``,
                ``reasoning``, ``include``, ``previous_response_id``, ``store``,
                ``max_output_tokens``...), ``model_extras``, ``extra_parameters``, ``headers``.

        Raises:
            ResponsesNotSupportedError: The endpoint has no Responses API for this model (a 400
                saying so, or no route); remembered, so later calls raise it without a request.
                Use `complete` for the model.
            ConfigurationError: Bad parameters.
            APIStatusError: The service refused, or the answer failed (``status: failed``).
            APIConnectionError: The service could not be reached.
            MalformedResponseError: The answer is not the API's JSON.
        """
        with start_chat(self.endpoint, self.model, _traced(input), params) as op:
            req = self._responses_request(input, False, params)
            cost = self._responses_cost(input, params)
            response = self._responses_answer(self._request(req, cost), cost, params.get("model"))
            if op.active:
                op.chat_result(response.to_chat_completion())
            return response

    def stream_response(self, input: str | Sequence[Any], **params: Any) -> ResponseStream:
        """Start a streamed Responses answer; iterate the returned `ResponseStream`.

        Args:
            input: As for `respond`.
            **params: As for `respond`.

        Raises:
            As `respond`; iterating raises `IncompleteStreamError` for a stream cut short, and
            the service's error for an ``error`` event or ``response.failed``.
        """
        with start_chat(self.endpoint, self.model, _traced(input), params, stream=True) as op:
            req = self._responses_request(input, True, params)
            response = self._send(req, self._responses_cost(input, params))
            if is_event_stream(response):
                self._responses_answered(params.get("model"))
                return ResponseStream(response, telemetry=op, owner=self)
            content = response.read()
            response.close()
            self._responses_stream_refused(response, content, params.get("model"))
            raise AssertionError("unreachable")  # pragma: no cover

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
            return op.embeddings_result(self._merged(results, params))

    def _embed_batch(
        self, batch: Sequence[Any], images: bool, params: dict[str, Any]
    ) -> EmbeddingsResult:
        cost = self._batch_cost(batch)
        tries = bounded_tries()
        resends = Resends()
        while True:
            next(tries)  # bounded: raises after MAX_RESENDS resends
            req = self._embeddings_request(batch, images, params, resends)
            result = self._embeddings_answer(self._request(req, cost), cost, params, resends)
            if result is not None:
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
            except (APIStatusError, MalformedResponseError) as err:
                if not self._no_model_info(err):
                    raise
        self._model_info[key] = info
        return info


class AsyncClient(_ResponsesBase):
    """The async form of `Client`, with the same arguments and methods (awaitable)."""

    def __init__(self, endpoint: str | Endpoint | None = None, credential: Any = None, **kw: Any):
        super().__init__(endpoint, credential, **kw)
        self._init_transport()

    def _init_transport(self) -> None:
        check_transport(self._httpx_kwargs, httpx2.AsyncBaseTransport, "AsyncClient")
        self._loop_clients = LoopClients()
        self._closes = 0  # aclose() calls: a call in flight across one fails

    def __del__(self) -> None:
        # A client dropped without aclose() (one built per request in a web handler) closes its
        # sessions: in a task of each loop still running, at once for a closed loop.
        loop_clients = self.__dict__.get("_loop_clients")
        if loop_clients is not None:
            with contextlib.suppress(Exception):  # at interpreter shutdown
                loop_clients.release()

    def _make_http(self) -> httpx2.AsyncClient:
        return make_async_http(*self._http_args())

    async def http(self) -> httpx2.AsyncClient:
        """The pooled ``httpx2.AsyncClient`` of the running loop."""
        return await self._loop_clients.get(self._make_http)

    async def aclose(self) -> None:
        """Close the pooled connections of the running loop.

        Calls in flight on them fail at once with an `APIConnectionError` saying the client was
        closed; a later call opens new connections.
        """
        self._closes += 1
        await self._loop_clients.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, req: PreparedRequest, cost: Cost | None = None) -> httpx2.Response:
        http = await self.http()
        closes = self._closes
        call = self._start(http, req)
        delay: float | None
        try:
            while True:
                if (pace := call.pacing(cost)) is not None:
                    call.paced(await self.rate_limiter.aacquire(*pace, deadline=call.deadline))
                response = await asend_or_error(
                    http.send, call.request, auth=self._auth, stream=req.stream
                )
                if isinstance(response, httpx2.RequestError):
                    if self._closes != closes:
                        raise call.closed_error()
                    # Decided here, not in an except block: the error raised when no retry is
                    # left must not have the httpx2 error (its request holds the credential) as
                    # context.
                    delay = call.wait_after_error(response)
                else:
                    delay = call.wait_after_answer(response)
                    if delay is None:
                        return response
                    await response.aclose()
                note_retry()
                if delay:  # a paced 429 is sent again at once: aacquire() waits out the pause
                    await asyncio.sleep(delay)
        finally:
            call.release()

    async def _request(
        self, req: PreparedRequest, cost: Cost | None = None
    ) -> tuple[int, httpx2.Headers, bytes]:
        response = await self._send(req, cost)
        return response.status_code, response.headers, response.content

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        keep_think_tags: bool = False,
        **params: Any,
    ) -> ChatCompletion:
        """Get a chat completion (see `Client.complete`)."""
        with start_chat(self.endpoint, self.model, messages, params) as op:
            tries = bounded_tries()
            resends = Resends()
            while True:
                next(tries)  # bounded: raises after MAX_RESENDS resends
                req = self._chat_request(messages, False, None, params, resends)
                cost = self._chat_cost(messages, params)
                answer = await self._request(req, cost)
                completion = self._chat_answer(answer, cost, params, resends, keep_think_tags)
                if completion is not None:
                    return op.chat_result(completion)

    async def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        stream_usage: bool | None = None,
        keep_think_tags: bool = False,
        **params: Any,
    ) -> AsyncChatStream:
        """Start a streamed chat completion (see `Client.stream`)."""
        with start_chat(self.endpoint, self.model, messages, params, stream=True) as op:
            tries = bounded_tries()
            resends = Resends()
            while True:
                next(tries)  # bounded: raises after MAX_RESENDS resends
                req = self._chat_request(messages, True, stream_usage, params, resends)
                response = await self._send(req, self._chat_cost(messages, params))
                if is_event_stream(response):
                    on_model = self._stream_answered(params, resends)
                    return AsyncChatStream(
                        response,
                        telemetry=op,
                        owner=self,
                        keep_think_tags=keep_think_tags,
                        on_model=on_model,
                    )
                content = await response.aread()
                await response.aclose()
                self._stream_refused(response, content, params, resends)

    async def respond(self, input: str | Sequence[Any], **params: Any) -> Response:
        """Get an answer through the Responses API (see `Client.respond`)."""
        with start_chat(self.endpoint, self.model, _traced(input), params) as op:
            req = self._responses_request(input, False, params)
            cost = self._responses_cost(input, params)
            answer = await self._request(req, cost)
            response = self._responses_answer(answer, cost, params.get("model"))
            if op.active:
                op.chat_result(response.to_chat_completion())
            return response

    async def stream_response(
        self, input: str | Sequence[Any], **params: Any
    ) -> AsyncResponseStream:
        """Start a streamed Responses answer (see `Client.stream_response`)."""
        with start_chat(self.endpoint, self.model, _traced(input), params, stream=True) as op:
            req = self._responses_request(input, True, params)
            response = await self._send(req, self._responses_cost(input, params))
            if is_event_stream(response):
                self._responses_answered(params.get("model"))
                return AsyncResponseStream(response, telemetry=op, owner=self)
            content = await response.aread()
            await response.aclose()
            self._responses_stream_refused(response, content, params.get("model"))
            raise AssertionError("unreachable")  # pragma: no cover

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
            return op.embeddings_result(self._merged(results, params))

    async def _embed_batch(
        self, batch: Sequence[Any], images: bool, params: dict[str, Any]
    ) -> EmbeddingsResult:
        cost = self._batch_cost(batch)
        tries = bounded_tries()
        resends = Resends()
        while True:
            next(tries)  # bounded: raises after MAX_RESENDS resends
            req = self._embeddings_request(batch, images, params, resends)
            result = self._embeddings_answer(await self._request(req, cost), cost, params, resends)
            if result is not None:
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
            except (APIStatusError, MalformedResponseError) as err:
                if not self._no_model_info(err):
                    raise
        self._model_info[key] = info
        return info


def _traced(input: str | Sequence[Any]) -> Sequence[Any]:
    """A Responses input as the telemetry records prompts (chat messages; items as they are)."""
    return [{"role": "user", "content": input}] if isinstance(input, str) else input
