"""The async transport: ``httpx-aiohttp``'s httpx2 `AiohttpTransport`, with its errors mapped.

Imported on first use by `make_async_http` (aiohttp takes ~100 ms to import), so sync users
never pay for it.

The adapter maps aiohttp's errors to ``httpx2``'s, but not always to the right one: its table
sends every ``ClientConnectionError`` to ``ConnectTimeout``, so a refused connection, a DNS
failure, a TLS error or a server closing a kept-alive connection all look like timeouts, and
errors it does not list (a malformed answer, ``ClientResponseError``) escape as aiohttp's own.
`Transport` subclasses the adapter's transport and maps each error again from the aiohttp error
it came from, as ``httpx2``'s own transport would (on the request here; while the body is read,
in `Guard`):

====================================  ==========================
aiohttp                               httpx2
====================================  ==========================
ClientConnectorError (refused, DNS,   ConnectError
TLS, certificate)
ClientProxyConnectionError,           ProxyError
ClientHttpProxyError
ConnectionTimeoutError                ConnectTimeout
SocketTimeoutError, ServerTimeoutError ReadTimeout
ServerDisconnectedError,              RemoteProtocolError
ClientResponseError (malformed)
ClientPayloadError, ClientOSError,    ReadError
other ClientConnectionError
InvalidURL, NonHttpUrlClientError     UnsupportedProtocol
====================================  ==========================
"""

from __future__ import annotations

import aiohttp
import httpx2
from httpx_aiohttp.httpx2 import AiohttpTransport

__all__ = ["Transport", "map_error"]

# Most specific first: the first match wins.
_ERRORS: tuple[tuple[type[BaseException], type[httpx2.TransportError]], ...] = (
    (aiohttp.ClientProxyConnectionError, httpx2.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx2.ProxyError),
    (aiohttp.ClientConnectorError, httpx2.ConnectError),
    (aiohttp.ConnectionTimeoutError, httpx2.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx2.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx2.RemoteProtocolError),
    (aiohttp.NonHttpUrlClientError, httpx2.UnsupportedProtocol),
    (aiohttp.InvalidURL, httpx2.UnsupportedProtocol),
    (aiohttp.ClientResponseError, httpx2.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx2.ReadError),
    (aiohttp.ClientError, httpx2.ReadError),
)


def map_error(exc: BaseException) -> BaseException:
    """The ``httpx2`` error for an aiohttp error (or the adapter's mapping of one).

    Anything that did not come from aiohttp is returned as it is.
    """
    cause = exc if isinstance(exc, aiohttp.ClientError) else exc.__cause__
    if not isinstance(cause, aiohttp.ClientError):
        return exc
    for source, target in _ERRORS:
        if isinstance(cause, source):
            if type(exc) is target:
                return exc
            mapped = target(str(cause) or type(cause).__name__)
            mapped.__cause__ = cause
            return mapped
    return exc  # pragma: no cover - ClientError is the last row


class Transport(AiohttpTransport):
    """The adapter's transport, with every error mapped again by `map_error`."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send through aiohttp; errors are ``httpx2``'s, mapped by `map_error`."""
        try:
            response: httpx2.Response = await super().handle_async_request(request)
        except (httpx2.TransportError, aiohttp.ClientError) as exc:
            raise map_error(exc) from exc.__cause__ or exc
        return response  # its body's errors are mapped by `Guard` (_transport.py)

    def close_now(self) -> None:
        """Close the session without awaiting: its loop is closed, or will not run again.

        ``ClientSession.close()`` does not wait for anything once its loop is closed (the
        connector marks itself closed and drops its connections), so it is driven to its end
        here. Should it have to wait, it is left to the garbage collector.
        """
        session = self.client
        if not isinstance(session, aiohttp.ClientSession) or session.closed:
            return
        closing = session.close()
        try:
            closing.send(None)
        except StopIteration:
            return
        closing.close()  # pragma: no cover - it waited: only on a loop that still runs
