"""Fast paths for the ``httpx`` clients the core creates, found with ``benchmarks/``.

``tune_client`` is applied to each ``httpx.Client`` / ``AsyncClient`` the core builds (never to
one a caller passes in), and ``httpx_url`` to each request URL. Behaviour is unchanged; only
work that cannot matter is skipped.

**The pool.** ``httpcore`` 1.0's pool re-plans every request on each request start and each
response close, and that plan is quadratic in the number of connections: it rebuilds the list
of all connections once per idle connection, probes every idle socket, and hands the first idle
connection to every queued request, so all but one fail and retry. With 300 concurrent async
calls that cost ~17 ms of CPU per call, twenty times the call itself. Our pool subclass plans
in one pass:

- surplus idle connections (beyond ``max_keepalive_connections``) are closed at once, as
  before; closed and expired ones are swept at most once a second (and whenever the pool is
  full) rather than on every request, and an idle connection is checked for expiry (the same
  ``has_expired`` probe) right before it is reused, so a dead connection is never handed out;
- a connection already assigned to a request is not assigned again;
- a queued request takes the first available connection for its origin, else a new connection
  while under ``max_connections``, else replaces an idle connection of another origin, as before.

Only plain HTTP/1.1 pools of the ``httpcore`` version we know are changed; anything else (HTTP/2,
proxies, a caller's own transport, another ``httpcore``) is left exactly as it was.

**Cookies.** ``httpx`` runs every answer through ``http.cookiejar`` (building urllib request
and response adapters, ~18 µs) even when it sets no cookie; the jar now does that only when
there is a ``Set-Cookie`` header.

**URLs.** A request URL given as a string is parsed on every request (~15 µs); the core's
URLs repeat, so each is parsed once and the immutable ``httpx.URL`` reused.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

import httpx

__all__ = ["httpx_url", "tune_client"]

_SWEEP_INTERVAL = 1.0
_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


def _sweep(pool: Any, reserved: set[Any], closing: list[Any], probe: bool) -> None:
    """Drop closed connections and close idle ones beyond ``max_keepalive_connections``.

    With ``probe``, also close expired ones (``has_expired`` polls each idle socket).
    """
    if probe:
        pool._ai_next_sweep = time.monotonic() + _SWEEP_INTERVAL
    kept: list[Any] = []
    idle: list[Any] = []
    for connection in pool._connections:
        if connection.is_closed():
            continue
        if connection in reserved:
            kept.append(connection)
        elif probe and connection.has_expired():
            closing.append(connection)
        else:
            kept.append(connection)
            if connection.is_idle():
                idle.append(connection)
    surplus = len(idle) - pool._max_keepalive_connections
    if surplus > 0:
        drop = set(idle[:surplus])
        closing.extend(idle[:surplus])
        kept = [c for c in kept if c not in drop]
    pool._connections = kept


def _find(connections: list[Any], reserved: set[Any], origin: Any, closing: list[Any]) -> Any:
    """The first free connection for ``origin``; idle ones found expired are set to close."""
    while True:
        found = None
        for connection in connections:
            if (
                connection not in reserved
                and connection.is_available()
                and connection.can_handle_request(origin)
            ):
                found = connection
                break
        if found is None or not (found.is_idle() and found.has_expired()):
            return found
        connections.remove(found)  # dead, or past its keep-alive: never reused
        closing.append(found)


def _assign(pool: Any) -> list[Any]:
    """The pool's ``_assign_requests_to_connections``: returns the connections to close."""
    closing: list[Any] = []
    requests = pool._requests
    reserved = {r.connection for r in requests if r.connection is not None}
    swept = time.monotonic() >= pool._ai_next_sweep
    if swept:
        _sweep(pool, reserved, closing, probe=True)
    elif len(pool._connections) > pool._max_keepalive_connections:
        _sweep(pool, reserved, closing, probe=False)  # keep max_keepalive as before
    queued = [r for r in requests if r.connection is None]
    if not queued:
        return closing
    for request in queued:
        origin = request.request.url.origin
        connections: list[Any] = pool._connections
        found = _find(connections, reserved, origin, closing)
        if found is None and len(connections) >= pool._max_connections and not swept:
            swept = True
            # The pool is full: reclaim what is dead before giving up.
            _sweep(pool, reserved, closing, probe=True)
            connections = pool._connections
            found = _find(connections, reserved, origin, closing)
        if found is None:
            if len(connections) >= pool._max_connections:
                idle = next((c for c in connections if c not in reserved and c.is_idle()), None)
                if idle is None:
                    break  # every connection is busy: the rest wait for a release
                connections.remove(idle)
                closing.append(idle)
            found = pool.create_connection(origin)
            connections.append(found)
        reserved.add(found)
        request.assign_to_connection(found)
    return closing


_replacements: dict[type, type] | None = None


def _pool_replacements() -> dict[type, type]:
    """Our pool subclasses, keyed by the pool class they replace (built on first use).

    ``httpcore`` is imported here, not at module level: ``httpx`` imports it only when it
    builds a transport, and importing it early would add to ``import azureinference``.
    """
    global _replacements
    if _replacements is None:
        import httpcore

        _replacements = {}
        if httpcore.__version__.startswith("1.") and all(
            hasattr(cls, "_assign_requests_to_connections")
            for cls in (httpcore.AsyncConnectionPool, httpcore.ConnectionPool)
        ):

            class _AsyncPool(httpcore.AsyncConnectionPool):
                _ai_next_sweep = 0.0

                def _assign_requests_to_connections(self) -> list[Any]:
                    return _assign(self)

            class _SyncPool(httpcore.ConnectionPool):
                _ai_next_sweep = 0.0

                def _assign_requests_to_connections(self) -> list[Any]:
                    return _assign(self)

            _replacements = {
                httpcore.AsyncConnectionPool: _AsyncPool,
                httpcore.ConnectionPool: _SyncPool,
            }
    return _replacements


_POOL_ATTRIBUTES = (
    "_requests",
    "_connections",
    "_max_connections",
    "_max_keepalive_connections",
    "create_connection",
)


class _Cookies(httpx.Cookies):
    """A cookie jar that skips ``http.cookiejar`` for answers that set no cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Store the answer's cookies (building urllib adapters only when it sets some)."""
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


_URLS: dict[str, httpx.URL] = {}


def httpx_url(url: str) -> httpx.URL:
    """``httpx.URL(url)``, parsed once per URL (an ``httpx.URL`` is immutable, so shared)."""
    parsed = _URLS.get(url)
    if parsed is None:
        if len(_URLS) >= 256:
            _URLS.clear()
        parsed = _URLS[url] = httpx.URL(url)
    return parsed


def tune_client(client: _C) -> _C:
    """Apply the fast paths to an ``httpx`` client we created; return it.

    The pool gets the linear-time assignment (plain HTTP/1.1 pools of ``httpcore`` 1.x only),
    and the cookie jar skips its work for answers without ``Set-Cookie`` (cookies that are set
    are stored as before, in the same jar).
    """
    cookies = getattr(client, "_cookies", None)
    if type(cookies) is httpx.Cookies:
        client._cookies = _Cookies(cookies.jar)
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if pool is None:
        return client
    replacement = _pool_replacements().get(type(pool))
    if (
        replacement is not None
        and getattr(pool, "_http2", True) is False
        and all(hasattr(pool, name) for name in _POOL_ATTRIBUTES)
    ):
        pool.__class__ = replacement
    return client
