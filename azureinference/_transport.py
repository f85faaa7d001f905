"""The HTTP clients the core builds: ``httpx2`` for sync, ``httpx2`` over aiohttp for async.

`Client` sends through a plain ``httpx2.Client``. `AsyncClient` sends through an
``httpx2.AsyncClient`` whose transport is ``httpx-aiohttp``'s `AiohttpTransport` (the adapter
the openai SDK's ``DefaultAioHttpClient`` uses): one aiohttp session per event loop, closed when
that loop shuts down (`LoopClients`).

A caller's own ``transport`` (in ``httpx_kwargs``) replaces ours: it must be an ``httpx2``
transport, ``httpx2.BaseTransport`` for `Client` and ``httpx2.AsyncBaseTransport`` for
`AsyncClient`.

Both clients get two event hooks (``httpx2``'s public extension point, so they hold over any
transport, a caller's too):

- on each request: a request to another origin than the endpoint's (a redirect followed with
  ``follow_redirects=True``) loses every credential header, not only ``Authorization``;
- on each answer: its body is read through `Guard`, which decodes gzip and deflate itself under
  ``max_response_bytes`` (a 1 MB gzip bomb is refused, not expanded to 1 GB), maps decoding
  errors to `MalformedResponseError`, and, for a non-streamed call, ends the call at its deadline
  (`APITimeoutError`) however slowly the body drips.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import os
import socket
import time
import urllib.request
import weakref
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import httpx2

from ._fork import keep_inherited, reset_after_fork
from .errors import APITimeoutError, ConfigurationError, MalformedResponseError
from .redaction import is_secret_header

__all__ = [
    "ACCEPT_ENCODING",
    "DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "LIMITS",
    "Connections",
    "Guard",
    "LoopClients",
    "as_timeout",
    "check_transport",
    "make_async_http",
    "make_sync_http",
    "request_url",
    "time_for_token",
]

# Keep-alive for every connection the pool may open: closing the surplus after each burst of
# concurrent calls only makes the next burst reconnect (measured in benchmarks/README.md).
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=30)


DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024
"""The largest answer body (after decoding) the clients read, by default: 128 MiB."""

DEADLINE = "azureinference.deadline"
"""The request extension holding a non-streamed call's deadline (``time.monotonic()`` value)."""

ACCEPT_ENCODING = "gzip, deflate"
"""The encodings we ask for: the two `Guard` decodes under the size limit."""


def as_timeout(timeout: Any) -> httpx2.Timeout:
    """``timeout`` as an ``httpx2.Timeout``: seconds, ``httpx2.Timeout``, ``httpx.Timeout``, None.

    Seconds ``t`` give ``connect=min(10, t)`` and ``t`` for the rest. An ``httpx.Timeout`` (from
    code written for ``httpx``-based SDKs) is converted field by field.
    """
    if isinstance(timeout, httpx2.Timeout):
        return timeout
    if timeout is None:
        return httpx2.Timeout(None)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return httpx2.Timeout(timeout, connect=min(10.0, timeout))
    fields = ("connect", "read", "write", "pool")
    if all(hasattr(timeout, name) for name in fields):
        return httpx2.Timeout(**{name: getattr(timeout, name) for name in fields})
    raise ConfigurationError(
        f"timeout must be seconds (a number) or an httpx2.Timeout, not {type(timeout).__name__}."
    )


def make_sync_http(
    headers: Mapping[str, str],
    kwargs: Mapping[str, Any],
    origin: httpx2.URL,
    max_bytes: int,
    connections: Connections | None = None,
) -> httpx2.Client:
    """The ``httpx2.Client`` of a `Client`: ``kwargs`` are the user's ``httpx_kwargs``.

    The streams of its connections are recorded in ``connections``.
    """
    kw = _client_kwargs(kwargs, httpx2.BaseTransport, "Client")
    guard = _Hooks(origin, max_bytes, connections)
    kw["event_hooks"] = _with_hooks(kw.get("event_hooks"), guard.request, guard.response)
    client = httpx2.Client(headers={"Accept-Encoding": ACCEPT_ENCODING, **headers}, **kw)
    _SYNC_CLIENTS.add(client)
    return client


def make_async_http(
    headers: Mapping[str, str], kwargs: Mapping[str, Any], origin: httpx2.URL, max_bytes: int
) -> httpx2.AsyncClient:
    """The ``httpx2.AsyncClient`` of an `AsyncClient`, sending through aiohttp.

    ``verify``, ``cert``, ``trust_env``, ``limits`` and ``proxy`` go to the aiohttp transport;
    with ``transport`` given, the caller's transport is used as it is.
    """
    kw = _client_kwargs(kwargs, httpx2.AsyncBaseTransport, "AsyncClient")
    ours = None
    if kw.get("transport") is None:
        ours = kw["transport"] = _aiohttp_transport(kw, origin)
    guard = _Hooks(origin, max_bytes)
    kw["event_hooks"] = _with_hooks(kw.get("event_hooks"), guard.arequest, guard.aresponse)
    client = httpx2.AsyncClient(headers={"Accept-Encoding": ACCEPT_ENCODING, **headers}, **kw)
    if ours is not None:
        _OUR_TRANSPORTS[client] = ours
    return client


def _client_kwargs(kwargs: Mapping[str, Any], family: type, who: str) -> dict[str, Any]:
    """The user's ``httpx_kwargs``, with our limits by default.

    A transport of the wrong family (an ``httpx`` one, or a sync one for `AsyncClient`) is
    refused by name.
    """
    check_transport(kwargs, family, who)
    return {"limits": LIMITS, **kwargs}


def _accepted(family: type) -> frozenset[str]:
    """What ``httpx_kwargs`` may hold: the keyword arguments of the ``httpx2`` client we build."""
    client = httpx2.Client if family is httpx2.BaseTransport else httpx2.AsyncClient
    names = set(inspect.signature(client.__init__).parameters) - {"self", "args", "kwargs"}
    return frozenset(names - {"headers"})  # headers= is an option of our own


def check_transport(kwargs: Mapping[str, Any], family: type, who: str) -> None:
    """Refuse ``httpx_kwargs`` the ``httpx2`` client would not take, before any I/O.

    A key it does not know is named (a whole client object, as ``client=`` / ``http_client=``,
    is not taken: pass its transport), and a transport of the wrong family names the one
    expected.
    """
    if not isinstance(kwargs, Mapping):
        raise ConfigurationError(f"httpx_kwargs must be a dict, not {type(kwargs).__name__}.")
    unknown = sorted(set(kwargs) - _accepted(family))
    if unknown:
        hint = (
            " A client object is not taken: pass its transport, httpx_kwargs={'transport': "
            f"httpx2.{'HTTPTransport' if family is httpx2.BaseTransport else 'AsyncHTTPTransport'}"
            "(...)}."
            if {"client", "http_client"} & set(unknown)
            else " Headers go in headers=, not httpx_kwargs."
            if "headers" in unknown
            else ""
        )
        raise ConfigurationError(
            f"httpx_kwargs holds {', '.join(map(repr, unknown))}, which the httpx2 "
            f"{'Client' if family is httpx2.BaseTransport else 'AsyncClient'} does not take." + hint
        )
    transport = kwargs.get("transport")
    if transport is not None and not isinstance(transport, family):
        raise ConfigurationError(
            f"httpx_kwargs['transport'] must be an httpx2.{family.__name__} for {who}, not "
            f"{type(transport).__module__}.{type(transport).__name__} (the core is built on "
            "httpx2; an httpx transport is another library's)."
        )


def _with_hooks(
    user: Mapping[str, list[Any]] | None, on_request: Any, on_response: Any
) -> dict[str, list[Any]]:
    hooks = {name: list(fns) for name, fns in (user or {}).items()}
    hooks["request"] = [on_request, *hooks.get("request", [])]
    hooks["response"] = [on_response, *hooks.get("response", [])]
    return hooks


class Connections:
    """The network streams of a sync client's connections, to wake the calls blocked on them.

    A thread blocked reading a socket is not woken when another thread closes the pool (closing
    a socket does not end a ``recv`` in progress); shutting the socket down does. Streams are
    learned from each answer (``network_stream``, a public httpcore extension) and, while a
    call may open a new connection, from the ``trace`` extension's ``connect_tcp`` event.
    """

    def __init__(self) -> None:
        self.streams: weakref.WeakSet[Any] = weakref.WeakSet()

    def tracer(self, in_flight: int) -> dict[str, Any] | None:
        """The request extensions for a call, with ``in_flight`` calls running.

        The trace (a callback on every step of a request) is only attached while fewer streams
        are known than calls are in flight (this one included): a call that may open a new
        connection. A warm pool's calls go without it.
        """
        return {"trace": self._trace} if len(self.streams) < in_flight else None

    def _trace(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.complete":
            self.streams.add(info["return_value"])

    def seen(self, response: httpx2.Response) -> None:
        """Remember the connection ``response`` came on."""
        stream = response.extensions.get("network_stream")
        if stream is not None:
            self.streams.add(stream)

    def interrupt(self) -> None:
        """Shut every known connection down: each call blocked on one fails at once."""
        for stream in list(self.streams):
            sock = stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):  # already closed
                    # The plain socket's shutdown, also for a TLS one (whose own would drop
                    # its TLS state under a thread reading it).
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
        self.streams = weakref.WeakSet()


class _Hooks:
    """The event hooks of one client (see the module docstring)."""

    def __init__(
        self, origin: httpx2.URL, max_bytes: int, connections: Connections | None = None
    ) -> None:
        self._origin = (origin.scheme, origin.host, origin.port)
        self._max_bytes = max_bytes
        self._connections = connections

    def request(self, request: httpx2.Request) -> None:
        """Drop every credential header from a request to another origin (a redirect)."""
        url = request.url
        if (url.scheme, url.host, url.port) != self._origin:
            for name in [n for n in request.headers if is_secret_header(n)]:
                del request.headers[name]

    def response(self, response: httpx2.Response) -> None:
        """Read the answer's body through a `Guard` (ending the call at its deadline)."""
        if self._connections is not None:
            self._connections.seen(response)
        left = _time_left(response.request)
        if left is not None and left <= 0:
            response.close()
            raise _deadline_error(response.request)
        self._guard(response, left)

    async def arequest(self, request: httpx2.Request) -> None:
        """`request`, for the async client."""
        self.request(request)

    async def aresponse(self, response: httpx2.Response) -> None:
        """`response`, for the async client."""
        left = _time_left(response.request)
        if left is not None and left <= 0:
            await response.aclose()
            raise _deadline_error(response.request)
        self._guard(response, left)

    def _guard(self, response: httpx2.Response, left: float | None) -> None:
        request = response.request
        if left is not None:
            # The body's reads wait no longer than the time left (httpcore reads the read
            # timeout when the body starts, after this hook).
            timeouts = request.extensions.get("timeout")
            if isinstance(timeouts, dict) and (timeouts.get("read") or left) >= left:
                timeouts["read"] = left
        response.stream = Guard(response, request.extensions.get(DEADLINE), self._max_bytes)


def _time_left(request: httpx2.Request) -> float | None:
    """Seconds until a non-streamed call's deadline (None for a call without one)."""
    deadline = request.extensions.get(DEADLINE)
    return None if deadline is None else deadline - time.monotonic()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def time_for_token(request: httpx2.Request) -> float | None:
    """How long fetching a token for ``request`` may take.

    The call's time left; for a stream (no deadline), its first-byte limit.
    """
    left = _time_left(request)
    if left is not None:
        return max(0.0, left)
    timeouts = request.extensions.get("timeout")
    read = timeouts.get("read") if isinstance(timeouts, dict) else None
    return float(read) if isinstance(read, (int, float)) else None


def _deadline_error(request: httpx2.Request) -> APITimeoutError:
    url = request.url
    return APITimeoutError(
        f"The request to {url.scheme}://{url.netloc.decode('ascii')}{url.path} did not finish "
        "within its timeout (the deadline of the whole call)."
    )


class Guard(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """An answer's body, decoded (gzip, deflate) under a size limit and read under a deadline.

    Replaces ``response.stream``; ``Content-Encoding`` is then dropped from the answer's
    headers, so ``httpx2`` does not decode again. Other encodings are left to ``httpx2`` (we do
    not ask for them), and their decoded size is not checked.
    """

    def __init__(self, response: httpx2.Response, deadline: float | None, max_bytes: int) -> None:
        self._inner: Any = response.stream
        self._request = response.request
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._size = 0
        self._decoder: Any = None
        self._encoding = response.headers.get("content-encoding", "").strip().lower()
        if self._encoding in ("gzip", "x-gzip", "deflate"):
            wbits = zlib.MAX_WBITS | 16 if "gzip" in self._encoding else zlib.MAX_WBITS
            self._decoder = zlib.decompressobj(wbits)
            del response.headers["content-encoding"]
            response.headers.pop("content-length", None)

    def _feed(self, chunk: bytes) -> list[bytes]:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise _deadline_error(self._request)
        if self._decoder is None:
            self._count(len(chunk))
            return [chunk]
        out: list[bytes] = []
        while chunk:
            room = self._max_bytes - self._size
            try:
                piece = self._decoder.decompress(chunk, room + 1)
            except zlib.error as exc:
                if self._encoding == "deflate" and self._size == 0 and not out:
                    # A "deflate" body without the zlib header, as some servers send it.
                    self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._encoding = "raw deflate"
                    continue
                raise self._decoding_error(exc) from exc
            self._count(len(piece))
            out.append(piece)
            chunk = self._decoder.unconsumed_tail
        return out

    def _count(self, n: int) -> None:
        self._size += n
        if self._size > self._max_bytes:
            raise MalformedResponseError(
                f"The answer from {self._request.url.host} is larger than max_response_bytes "
                f"({self._max_bytes} bytes decoded); it was not read further. Raise "
                "max_response_bytes if such answers are expected."
            )

    def _flush(self) -> list[bytes]:
        if self._decoder is None:
            return []
        try:
            rest = self._decoder.flush()
        except zlib.error as exc:  # pragma: no cover - flush after a clean decompress
            raise self._decoding_error(exc) from exc
        self._count(len(rest))
        return [rest] if rest else []

    def _decoding_error(self, exc: Exception) -> MalformedResponseError:
        return MalformedResponseError(
            f"The answer from {self._request.url.host} could not be decoded as its "
            f"Content-Encoding ({self._encoding}) says: {exc}"
        )

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            yield from self._feed(chunk)
        yield from self._flush()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._inner.__aiter__()
        while True:
            # aiohttp took its read timeout when the request went, before the answer's hook
            # could lower it to the time left: each read here waits until the deadline at most,
            # as the sync client's reads do.
            limit = None if self._deadline is None else asyncio.timeout(_left(self._deadline))
            try:
                if limit is None:
                    chunk = await chunks.__anext__()
                else:
                    async with limit:
                        chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except Exception as exc:
                if limit is not None and limit.expired():
                    raise _deadline_error(self._request) from None
                _raise_mapped(exc)
                raise
            for piece in self._feed(chunk):
                yield piece
        for piece in self._flush():
            yield piece

    def close(self) -> None:
        """Close the underlying stream."""
        self._inner.close()

    async def aclose(self) -> None:
        """Close the underlying stream."""
        try:
            await self._inner.aclose()
        except Exception as exc:
            _raise_mapped(exc)
            raise


def _raise_mapped(exc: Exception) -> None:
    """Raise what `_from_aiohttp` maps ``exc`` to; return when it is not an aiohttp error."""
    mapped = _from_aiohttp(exc)
    if mapped is not exc:
        raise mapped from exc.__cause__ or exc


def _from_aiohttp(exc: BaseException) -> BaseException:
    """An aiohttp error (or the adapter's mapping of one) mapped again by `map_error`.

    Anything else is returned as it is, and aiohttp is not imported for it.
    """
    cause = exc.__cause__
    if type(exc).__module__.startswith("aiohttp") or (
        cause is not None and type(cause).__module__.startswith("aiohttp")
    ):
        from ._aiohttp import map_error

        return map_error(exc)
    return exc


_URLS: dict[str, httpx2.URL] = {}


def request_url(url: str) -> httpx2.URL:
    """``httpx2.URL(url)``, parsed once per URL (a URL is immutable, so it is shared).

    The core's URLs repeat, and ``build_request`` parses a string URL on every call (a fifth
    of an async call's CPU in the benchmark).
    """
    parsed = _URLS.get(url)
    if parsed is None:
        if len(_URLS) >= 256:
            _URLS.clear()
        parsed = _URLS[url] = httpx2.URL(url)
    return parsed


def _aiohttp_transport(kw: dict[str, Any], origin: httpx2.URL) -> httpx2.AsyncBaseTransport:
    # Imported here: aiohttp takes ~100 ms to import, paid only by async users.
    from ._aiohttp import Transport

    trust_env = bool(kw.get("trust_env", True))
    proxy = kw.pop("proxy", None)
    if proxy is None and trust_env:
        proxy = _env_proxy(origin)
    return Transport(
        verify=kw.pop("verify", True),
        cert=kw.pop("cert", None),
        trust_env=trust_env,
        limits=kw.pop("limits"),
        proxy=httpx2.Proxy(proxy) if isinstance(proxy, (str, httpx2.URL)) else proxy,
    )


def _env_proxy(origin: httpx2.URL) -> str | None:
    """The proxy the environment names for ``origin``, read once, when the client is built.

    ``HTTPS_PROXY``/``HTTP_PROXY``, then ``ALL_PROXY``, with ``NO_PROXY`` honoured, as ``httpx2``
    reads them. (aiohttp's own ``trust_env`` reads the environment and ``.netrc`` on a worker
    thread for every request: two thread hops per call.)
    """
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(origin.host):
        return None
    return proxies.get(origin.scheme) or proxies.get("all")


def running_loop() -> asyncio.AbstractEventLoop:
    """The running asyncio loop.

    Raises:
        ConfigurationError: No asyncio loop runs: the async client was awaited under another
            event loop library (trio, curio), which it does not run on.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        library = _async_library()
        raise ConfigurationError(
            f"AsyncClient runs on asyncio (its transport is aiohttp), but it was awaited "
            f"{f'under {library}' if library else 'outside a running asyncio event loop'}. "
            "Run it under asyncio (asyncio.run, or trio-asyncio), or call the sync Client from "
            "a worker thread (trio.to_thread.run_sync)."
        ) from None


def _async_library() -> str | None:
    try:
        import sniffio

        return sniffio.current_async_library()
    except Exception:  # sniffio missing, or it cannot tell
        return None


# Every loop's closers, held here and not only by the AsyncClient: a client dropped before its
# loop ends would leave its closer to the garbage collector, whose aclose() task the closing loop
# can cut off halfway, leaking sockets. Held here, asyncio.run closes them (shutdown_asyncgens),
# and each closer removes itself, so nothing keeps a closed loop alive.
_LOOP_CLOSERS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[int, tuple[httpx2.AsyncClient, Any]]
] = weakref.WeakKeyDictionary()

# The aiohttp transport of each client we built, to close its session without its loop.
_OUR_TRANSPORTS: weakref.WeakKeyDictionary[httpx2.AsyncClient, Any] = weakref.WeakKeyDictionary()

# Closing tasks started from outside their loop (a dropped client's): held until done.
_CLOSING: set[asyncio.Task[Any]] = set()


def _close_now(client: httpx2.AsyncClient) -> None:
    """Close ``client``'s aiohttp session without its loop, which is closed (or never runs)."""
    transport = _OUR_TRANSPORTS.pop(client, None)
    if transport is not None:
        transport.close_now()


def _release_closed_loops() -> None:
    """Close the clients of loops closed without ``shutdown_asyncgens`` (``loop.close()``).

    Their closers never ran: the sessions are closed here, so aiohttp reports no "Unclosed
    client session" when they are collected, and their sockets go with them.
    """
    for loop in [loop for loop in list(_LOOP_CLOSERS.keys()) if loop.is_closed()]:
        for client, _closer in (_LOOP_CLOSERS.pop(loop, None) or {}).values():
            _close_now(client)


def _start_closing(closer: Any) -> None:
    """Run ``closer.aclose()`` as a task of the running loop (called through call_soon)."""
    task = asyncio.ensure_future(closer.aclose())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


class LoopClients:
    """One ``httpx2.AsyncClient`` per event loop, closed when that loop shuts down.

    An aiohttp session cannot outlive its loop, and users call ``asyncio.run`` more than once.
    Each client is paired with an async generator started in its loop: ``asyncio.run`` closes
    async generators before it closes the loop, and closing ours closes the client and forgets
    it, so a closed loop, its client and its session are released. `release` closes them from
    outside (the `AsyncClient` was collected, or the interpreter exits); a loop closed with
    ``loop.close()`` alone has its sessions closed the next time any client is used, or on
    `release`.
    """

    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx2.AsyncClient, Any]
        ] = weakref.WeakKeyDictionary()
        _ALL_LOOP_CLIENTS.add(self)
        reset_after_fork(self)

    async def get(self, make: Callable[[], httpx2.AsyncClient]) -> httpx2.AsyncClient:
        """The running loop's client, made with ``make`` on first use in that loop.

        Raises:
            ConfigurationError: Awaited outside asyncio (under trio, say).
        """
        loop = running_loop()
        entry = self._clients.get(loop)
        if entry is not None and not entry[0].is_closed:
            return entry[0]
        if entry is not None:
            await self._drop(loop, entry)
        _release_closed_loops()
        for closed in [lp for lp in list(self._clients.keys()) if lp.is_closed()]:
            self._clients.pop(closed, None)
        client = make()
        closer = self._close_on_loop_shutdown(loop, client)
        await closer.__anext__()
        self._clients[loop] = (client, closer)
        _LOOP_CLOSERS.setdefault(loop, {})[id(client)] = (client, closer)
        return client

    async def aclose(self) -> None:
        """Close the running loop's client (a later call makes a new one)."""
        loop = running_loop()
        entry = self._clients.get(loop)
        if entry is not None:
            await self._drop(loop, entry)

    def release(self, *, at_exit: bool = False) -> None:
        """Close every loop's client from outside its loop.

        A loop that runs closes its client in a task (this does not wait for it); a closed
        loop's session is closed now. At exit, a loop that is neither closed nor running is run
        until its client is closed.
        """
        for loop, (client, closer) in list(self._clients.items()):
            if loop.is_closed():
                self._clients.pop(loop, None)
                closers = _LOOP_CLOSERS.get(loop)
                if closers is not None:
                    closers.pop(id(client), None)
                _close_now(client)
            elif at_exit and not loop.is_running() and not _loop_runs_here():
                with contextlib.suppress(Exception):
                    loop.run_until_complete(closer.aclose())
            else:
                with contextlib.suppress(RuntimeError):  # closed meanwhile (another thread)
                    loop.call_soon_threadsafe(_start_closing, closer)

    def _after_fork(self) -> None:
        # In a forked child: the parent's sessions are left alone, unused (see _fork.py).
        keep_inherited(self._clients)
        self._clients = weakref.WeakKeyDictionary()

    async def _drop(self, loop: asyncio.AbstractEventLoop, entry: tuple[Any, Any]) -> None:
        await entry[1].aclose()

    async def _close_on_loop_shutdown(
        self, loop: asyncio.AbstractEventLoop, client: httpx2.AsyncClient
    ) -> AsyncIterator[None]:
        try:
            yield
        finally:
            entry = self._clients.get(loop)
            if entry is not None and entry[0] is client:
                del self._clients[loop]
            closers = _LOOP_CLOSERS.get(loop)
            if closers is not None:
                closers.pop(id(client), None)
                if not closers:
                    _LOOP_CLOSERS.pop(loop, None)
            _OUR_TRANSPORTS.pop(client, None)
            await client.aclose()


_ALL_LOOP_CLIENTS: weakref.WeakSet[LoopClients] = weakref.WeakSet()


def _loop_runs_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_SYNC_CLIENTS: weakref.WeakSet[httpx2.Client] = weakref.WeakSet()


def _close_all_at_exit() -> None:
    """Close every pool still open when the interpreter exits.

    A model kept in a module global (a LangChain chain, a LlamaIndex query engine) is not
    always collected before the interpreter tears its modules down; its sockets would then be
    finalised with ``ResourceWarning: unclosed <socket>``.
    """
    for http in list(_SYNC_CLIENTS):
        with contextlib.suppress(Exception):
            http.close()
    for loop_clients in list(_ALL_LOOP_CLIENTS):
        with contextlib.suppress(Exception):
            loop_clients.release(at_exit=True)
    _release_closed_loops()


def _forget_in_child() -> None:
    # A forked child neither closes nor uses what the parent opened (see _fork.py).
    keep_inherited((dict(_LOOP_CLOSERS), dict(_OUR_TRANSPORTS), set(_CLOSING), set(_SYNC_CLIENTS)))
    _LOOP_CLOSERS.clear()
    _OUR_TRANSPORTS.clear()
    _CLOSING.clear()
    _SYNC_CLIENTS.clear()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
