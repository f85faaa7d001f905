"""Fault tests against a real local HTTP server in a thread (see ``conftest.py``).

Real sockets, real HTTP/1.1 framing: 429 with ``Retry-After``, 500 then success, a stream whose
connection drops mid-body, an HTML 502 page, a server slower than the timeout, a refused port.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from azureinference import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    IncompleteStreamError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)

from .core_server import LocalServer, held, send_json, send_raw, send_sse
from .core_support import COMPLETION, KEY, chunk, collect, maybe_await, sse

HI = [{"role": "user", "content": "Hi"}]
FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def client_for(server: LocalServer, sync: bool, **kw: Any) -> Client | AsyncClient:
    kw.setdefault("retry_policy", FAST)
    cls = Client if sync else AsyncClient
    return cls(server.url + "/models", KEY, **kw)


async def close(client: Client | AsyncClient) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


@contextmanager
def no_resource_warnings() -> Iterator[None]:
    """Fail on an unclosed socket or transport (ResourceWarning from ``__del__``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks]


async def test_plain_call_and_headers(local_server: LocalServer, sync: bool) -> None:
    client = client_for(local_server, sync, model="m")
    result = await maybe_await(client.complete(HI))
    assert result.id == COMPLETION["id"]
    (seen,) = local_server.seen
    assert (seen.method, seen.path) == (
        "POST",
        "/models/chat/completions?api-version=2024-05-01-preview",
    )
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert seen.body == {"messages": HI, "model": "m"}
    await close(client)


async def test_429_with_retry_after_then_success(local_server: LocalServer, sync: bool) -> None:
    local_server.then(
        send_json(
            429,
            {"error": {"code": "429", "message": "Rate limit"}},
            {"Retry-After-Ms": "50", "Retry-After": "1"},
        )
    )
    client = client_for(local_server, sync)
    result = await maybe_await(client.complete(HI))
    assert result.choices[0].message.content == "Hello!"
    assert len(local_server.seen) == 2
    await close(client)


async def test_429_until_retries_run_out(local_server: LocalServer, sync: bool) -> None:
    limited = send_json(
        429, {"error": {"code": "429", "message": "Rate limit"}}, {"retry-after-ms": "20"}
    )
    local_server.then(limited, limited, limited)
    # Unpaced: max_retries is the whole budget (a paced call's 429s are waited out, 8 more).
    client = client_for(local_server, sync, rate_limit=False)
    with pytest.raises(RateLimitError) as info:
        await maybe_await(client.complete(HI))
    assert info.value.retry_after == 0.02
    assert info.value.request_id == "req-local-1"
    assert len(local_server.seen) == 3
    await close(client)


async def test_500_then_success(local_server: LocalServer, sync: bool) -> None:
    local_server.then(send_json(500, {"error": {"code": "InternalServerError", "message": "oops"}}))
    client = client_for(local_server, sync)
    result = await maybe_await(client.complete(HI))
    assert result.id == COMPLETION["id"]
    assert len(local_server.seen) == 2
    await close(client)


async def test_html_502_page(local_server: LocalServer, sync: bool) -> None:
    page = send_raw(502, HTML_502, "text/html")
    local_server.then(page, page, page)
    client = client_for(local_server, sync)
    with pytest.raises(ServerError) as info:
        await maybe_await(client.complete(HI))
    assert info.value.status_code == 502
    assert "HTML page" in str(info.value)
    assert "502 Bad Gateway" in str(info.value)
    assert len(local_server.seen) == 3  # 502 is retried
    await close(client)


async def test_html_200_page_is_malformed(local_server: LocalServer, sync: bool) -> None:
    from azureinference import MalformedResponseError

    local_server.then(send_raw(200, b"<html><body>Sign in</body></html>", "text/html"))
    client = client_for(local_server, sync)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        await maybe_await(client.complete(HI))
    await close(client)


async def test_streaming_over_chunked_transfer(local_server: LocalServer, sync: bool) -> None:
    body = sse(
        chunk("", role="assistant"), chunk("Hel"), chunk("lo, wörld"), chunk(finish_reason="stop")
    )
    local_server.then(send_sse([body[i : i + 5] for i in range(0, len(body), 5)]))
    client = client_for(local_server, sync)
    stream = await maybe_await(client.stream(HI))
    chunks = await collect(stream)
    assert len(chunks) == 4
    assert stream.state.final().choices[0].message.content == "Hello, wörld"
    await close(client)


async def test_dropped_stream(local_server: LocalServer, sync: bool) -> None:
    """The socket closes mid chunked body: an error, never a short answer; never retried."""
    pieces = [sse(chunk("", role="assistant"), done=False), sse(chunk("Hel"), done=False)]
    local_server.then(send_sse(pieces, drop=True))
    client = client_for(local_server, sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError, match="incomplete"):
        await collect(stream)
    assert stream.state.final().choices[0].message.content == "Hel"
    assert len(local_server.seen) == 1
    # The client is still usable after a dropped connection.
    result = await maybe_await(client.complete(HI))
    assert result.id == COMPLETION["id"]
    await close(client)


async def test_stream_ending_without_finish_or_done(local_server: LocalServer, sync: bool) -> None:
    local_server.then(send_sse([sse(chunk("Hel"), done=False)]))
    client = client_for(local_server, sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError):
        await collect(stream)
    await close(client)


async def test_slow_server_hits_the_timeout(local_server: LocalServer, sync: bool) -> None:
    local_server.then(held(send_json(200, COMPLETION)))
    client = client_for(local_server, sync, timeout=0.1, retry_policy=RetryPolicy(max_retries=0))
    with pytest.raises(APITimeoutError, match="timed out"):
        await maybe_await(client.complete(HI))
    await close(client)


async def test_stream_stalling_mid_body_hits_the_timeout(
    local_server: LocalServer, sync: bool
) -> None:
    local_server.then(send_sse([sse(chunk("Hel"), done=False)], hold=True))
    client = client_for(local_server, sync, timeout=0.3, retry_policy=RetryPolicy(max_retries=0))
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(APITimeoutError, match="1 chunk"):
        await collect(stream)
    await close(client)


async def test_refused_connection(sync: bool) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cls = Client if sync else AsyncClient
    client = cls(f"http://127.0.0.1:{port}/models", KEY, retry_policy=FAST)
    with pytest.raises(APIConnectionError, match="Could not reach"):
        await maybe_await(client.complete(HI))
    await close(client)


def test_async_client_across_two_asyncio_runs_on_real_sockets(local_server: LocalServer) -> None:
    client = client_for(local_server, sync=False)
    assert isinstance(client, AsyncClient)

    async def one() -> str | None:
        result = await client.complete(HI)
        stream = await client.stream(HI)
        await collect(stream)
        return result.id

    with no_resource_warnings():
        assert asyncio.run(one()) == COMPLETION["id"]
        assert asyncio.run(one()) == COMPLETION["id"]
    assert len(local_server.seen) == 4


def test_sync_client_closes_cleanly(local_server: LocalServer) -> None:
    with no_resource_warnings():
        with Client(local_server.url + "/models", KEY) as client:
            client.complete(HI)
            list(client.stream(HI))
            client.embed(["a", "b"])
        del client


def test_async_client_closes_cleanly(local_server: LocalServer) -> None:
    async def main() -> None:
        async with AsyncClient(local_server.url + "/models", KEY) as client:
            await client.complete(HI)
            await collect(await client.stream(HI))
            await client.embed(["a"])

    with no_resource_warnings():
        asyncio.run(main())


def test_abandoned_stream_does_not_leak(local_server: LocalServer) -> None:
    with no_resource_warnings():
        client = Client(local_server.url + "/models", KEY)
        stream = client.stream(HI)
        next(iter(stream))
        stream.close()
        client.close()
        del stream, client


def test_connections_are_reused(local_server: LocalServer) -> None:
    """One pooled connection serves sequential calls (keep-alive), as the server sees them."""
    with Client(local_server.url + "/models", KEY) as client:
        for _ in range(3):
            client.complete(HI)
    assert len(local_server.seen) == 3
    assert len(local_server.connections()) == 1


def test_async_connections_are_reused(local_server: LocalServer) -> None:
    async def main() -> None:
        async with AsyncClient(local_server.url + "/models", KEY) as client:
            for _ in range(3):
                await client.complete(HI)

    asyncio.run(main())
    assert len(local_server.seen) == 3
    assert len(local_server.connections()) == 1


def test_abandoned_async_stream_does_not_leak(local_server: LocalServer) -> None:
    async def main() -> None:
        client = AsyncClient(local_server.url + "/models", KEY)
        stream = await client.stream(HI)
        async for _ in stream:
            break  # abandoned after the first chunk, never closed by hand
        result = await client.complete(HI)
        assert result.id == COMPLETION["id"]

    with no_resource_warnings():
        asyncio.run(main())


def test_clients_dropped_without_closing_do_not_leak(local_server: LocalServer) -> None:
    """An adapter may never close its client: dropping it still closes the sockets."""

    def sync_use() -> None:
        Client(local_server.url + "/models", KEY).complete(HI)

    async def async_use() -> None:
        await AsyncClient(local_server.url + "/models", KEY).complete(HI)

    with no_resource_warnings():
        sync_use()
        asyncio.run(async_use())
