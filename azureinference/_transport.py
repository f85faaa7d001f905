"""The HTTP clients the core builds: ``httpx2`` for sync, ``httpx2`` over aiohttp for async.

`Client` sends through a plain ``httpx2.Client``. `AsyncClient` sends through an
``httpx2.AsyncClient`` whose transport is ``httpx-aiohttp``'s `AiohttpTransport` (the adapter
the openai SDK's ``DefaultAioHttpClient`` uses): one aiohttp session per event loop, closed when
that loop shuts down (`LoopClients`).

A caller's own ``transport`` (in ``httpx_kwargs``) replaces ours: it must be an ``httpx2``
transport, ``httpx2.BaseTransport`` for `Client` and ``httpx2.AsyncBaseTransport`` for
`AsyncClient`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx2

__all__ = ["LIMITS", "LoopClients", "make_async_http", "make_sync_http"]

# Keep-alive for every connection the pool may open: closing the surplus after each burst of
# concurrent calls only makes the next burst reconnect (measured in benchmarks/README.md).
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=30)


def make_sync_http(headers: Mapping[str, str], kwargs: Mapping[str, Any]) -> httpx2.Client:
    """The ``httpx2.Client`` of a `Client`: ``kwargs`` are the user's ``httpx_kwargs``."""
    return httpx2.Client(headers=headers, **{"limits": LIMITS, **kwargs})


def make_async_http(headers: Mapping[str, str], kwargs: Mapping[str, Any]) -> httpx2.AsyncClient:
    """The ``httpx2.AsyncClient`` of an `AsyncClient`, sending through aiohttp.

    ``verify``, ``cert``, ``trust_env``, ``limits`` and ``proxy`` go to the aiohttp transport;
    with ``transport`` given, the caller's transport is used as it is.
    """
    kw = {"limits": LIMITS, **kwargs}
    if kw.get("transport") is None:
        kw["transport"] = _aiohttp_transport(kw)
    return httpx2.AsyncClient(headers=headers, **kw)


def _aiohttp_transport(kw: dict[str, Any]) -> httpx2.AsyncBaseTransport:
    # Imported here: aiohttp takes ~100 ms to import, paid only by async users.
    from ._aiohttp import Transport

    proxy = kw.pop("proxy", None)
    return Transport(
        verify=kw.pop("verify", True),
        cert=kw.pop("cert", None),
        trust_env=bool(kw.get("trust_env", True)),
        limits=kw.pop("limits"),
        proxy=httpx2.Proxy(proxy) if isinstance(proxy, (str, httpx2.URL)) else proxy,
    )


# Every loop's closers, held here and not only by the AsyncClient: a client dropped before its
# loop ends would leave its closer to the garbage collector, whose aclose() task the closing loop
# can cut off halfway, leaking sockets. Held here, asyncio.run closes them (shutdown_asyncgens),
# and each closer removes itself, so nothing keeps a closed loop alive.
_LOOP_CLOSERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Any]] = (
    weakref.WeakKeyDictionary()
)


def _forget_closed_loops(entries: weakref.WeakKeyDictionary[Any, Any]) -> None:
    """Drop the entries of loops closed without ``shutdown_asyncgens`` (they would keep them)."""
    for loop in [loop for loop in list(entries.keys()) if loop.is_closed()]:
        entries.pop(loop, None)


class LoopClients:
    """One ``httpx2.AsyncClient`` per event loop, closed when that loop shuts down.

    An aiohttp session cannot outlive its loop, and users call ``asyncio.run`` more than once.
    Each client is paired with an async generator started in its loop: ``asyncio.run`` closes
    async generators before it closes the loop, and closing ours closes the client and forgets
    it, so a closed loop, its client and its session are released.
    """

    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx2.AsyncClient, Any]
        ] = weakref.WeakKeyDictionary()

    async def get(self, make: Callable[[], httpx2.AsyncClient]) -> httpx2.AsyncClient:
        """The running loop's client, made with ``make`` on first use in that loop."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None and not entry[0].is_closed:
            return entry[0]
        if entry is not None:
            await self._drop(loop, entry)
        _forget_closed_loops(self._clients)
        _forget_closed_loops(_LOOP_CLOSERS)
        client = make()
        closer = self._close_on_loop_shutdown(loop, client)
        await closer.__anext__()
        self._clients[loop] = (client, closer)
        _LOOP_CLOSERS.setdefault(loop, {})[id(client)] = closer
        return client

    async def aclose(self) -> None:
        """Close the running loop's client (a later call makes a new one)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None:
            await self._drop(loop, entry)

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
            await client.aclose()
