"""The core's ``httpx`` fast paths (``azureinference/_fastpath.py``) keep ``httpx``'s behaviour.

The benchmarks found ``httpcore``'s pool quadratic under concurrency; the core swaps in a pool
that plans in one pass, a cookie jar that skips answers without ``Set-Cookie``, and a URL cache.
These tests drive tuned clients through what a pool must survive, against two real local servers
(uvicorn; idle connections kept 30 s and 1 s), and check answers and the pool's state: no
request left waiting, never more connections than allowed, nothing dead handed out.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from azureinference import AsyncClient, Client
from azureinference._fastpath import httpx_url, tune_client

CHAT = (
    b'{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}'
)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/fast?ms=N`` (sleeps N ms), ``/close``, ``/stream?n=N``, cookies, chat."""
    if scope["type"] != "http":
        return
    query = scope.get("query_string", b"").decode()
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    if int(params.get("ms", "0")):
        await asyncio.sleep(int(params["ms"]) / 1000)
    headers = [(b"content-type", b"text/plain")]
    path = scope["path"]
    if path == "/close":
        headers.append((b"connection", b"close"))
    if path == "/set-cookie":
        headers.append((b"set-cookie", b"affinity=abc; Path=/"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if path == "/echo-cookie":
        body = dict(scope["headers"]).get(b"cookie", b"")
    elif path == "/stream":
        for _ in range(int(params.get("n", "5"))):
            await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
            await asyncio.sleep(0.01)
        body = b""
    else:
        body = CHAT if path.endswith("/chat/completions") else b"ok"
    await send({"type": "http.response.body", "body": body})


def _serve(keep_alive: int) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        timeout_keep_alive=keep_alive,
        backlog=4096,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Keeps idle connections 30 s."""
    yield from _serve(30)


@pytest.fixture(scope="module")
def closing_server() -> Iterator[str]:
    """Closes idle connections after 1 s."""
    yield from _serve(1)


def tuned(client: Any) -> Any:
    tune_client(client)
    assert type(client._transport._pool).__name__.startswith("_"), "pool not swapped"
    assert type(client._cookies).__name__ == "_Cookies", "cookie jar not swapped"
    return client


def limits(n: int, keep: int | None = None, expiry: float = 5.0) -> httpx.Limits:
    return httpx.Limits(
        max_connections=n, max_keepalive_connections=keep or n, keepalive_expiry=expiry
    )


def assert_settled(client: Any, max_connections: int) -> None:
    pool = client._transport._pool
    assert not pool._requests, f"requests left in the pool: {pool._requests}"
    assert len(pool._connections) <= max_connections


def test_the_core_tunes_its_own_clients_and_leaves_others_alone() -> None:
    plain = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    tune_client(plain)  # a caller's own transport: untouched
    assert type(plain._transport).__name__ == "MockTransport"
    untouched: Any = httpx.Client()
    assert type(untouched._transport._pool).__name__ == "ConnectionPool"
    with Client("http://127.0.0.1:9/models", "key") as client:
        http: Any = client.http
        assert type(http._transport._pool).__name__.startswith("_")


def test_urls_are_parsed_once_and_equal_httpx_own() -> None:
    url = "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
    assert httpx_url(url) is httpx_url(url)
    assert httpx_url(url) == httpx.URL(url)


async def test_many_requests_over_few_connections(server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(50, 10))) as c:
        rs = await asyncio.gather(*(c.get(server + "/fast?ms=5") for _ in range(500)))
        assert all(r.text == "ok" for r in rs)
        assert_settled(c, 50)


async def test_connections_the_server_closed_are_never_reused(closing_server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(20))) as c:
        for _ in range(2):
            rs = await asyncio.gather(*(c.get(closing_server + "/fast") for _ in range(40)))
            assert all(r.status_code == 200 for r in rs)
            await asyncio.sleep(1.5)
        assert_settled(c, 20)


async def test_connection_close_answers(server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(10))) as c:
        rs = await asyncio.gather(*(c.get(server + "/close") for _ in range(100)))
        assert all(r.status_code == 200 for r in rs)
        assert_settled(c, 10)


async def test_keepalive_expiry_between_bursts(server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(10, expiry=0.2))) as c:
        await asyncio.gather(*(c.get(server + "/fast") for _ in range(10)))
        await asyncio.sleep(1.2)
        rs = await asyncio.gather(*(c.get(server + "/fast") for _ in range(10)))
        assert all(r.status_code == 200 for r in rs)
        assert_settled(c, 10)


async def test_cancelled_requests_free_their_connections(server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(30))) as c:
        tasks = [asyncio.create_task(c.get(server + "/fast?ms=300")) for _ in range(100)]
        await asyncio.sleep(0.05)
        for t in tasks[::2]:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        done = sum(isinstance(r, httpx.Response) for r in results)
        assert done + sum(isinstance(r, asyncio.CancelledError) for r in results) == 100
        rs = await asyncio.gather(*(c.get(server + "/fast") for _ in range(60)))
        assert all(r.status_code == 200 for r in rs)
        assert_settled(c, 30)


async def test_open_streams_hold_the_pool(server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(2))) as c:
        s1 = await c.send(c.build_request("GET", server + "/stream?n=5"), stream=True)
        s2 = await c.send(c.build_request("GET", server + "/stream?n=5"), stream=True)
        third = asyncio.create_task(c.get(server + "/fast"))
        await asyncio.sleep(0.2)
        assert not third.done(), "a third request got a connection of a full pool"
        await s1.aread()
        await s1.aclose()
        assert (await asyncio.wait_for(third, 5)).status_code == 200
        await s2.aclose()
        assert_settled(c, 2)


async def test_a_full_pool_times_out_then_recovers(server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(1))) as c:
        s1 = await c.send(c.build_request("GET", server + "/stream?n=50"), stream=True)
        with pytest.raises(httpx.PoolTimeout):
            await c.get(server + "/fast", timeout=httpx.Timeout(5, pool=0.1))
        await s1.aclose()
        assert (await c.get(server + "/fast")).status_code == 200
        assert_settled(c, 1)


async def test_two_origins_share_a_small_pool(server: str, closing_server: str) -> None:
    async with tuned(httpx.AsyncClient(limits=limits(4))) as c:
        for _ in range(3):
            urls = [(server if i % 2 else closing_server) + "/fast?ms=2" for i in range(40)]
            rs = await asyncio.gather(*(c.get(u) for u in urls))
            assert all(r.status_code == 200 for r in rs)
        assert_settled(c, 4)


async def test_the_core_async_client_under_300_concurrent_calls(server: str) -> None:
    client = AsyncClient(server + "/models", "key", model="m")
    for _ in range(2):
        answers = await asyncio.gather(
            *(client.complete([{"role": "user", "content": "x"}]) for _ in range(300))
        )
        assert all(a.choices and a.choices[0].message.content == "hi" for a in answers)
    assert_settled(await client.http(), 1000)
    await client.aclose()


def test_threads_share_a_sync_client(server: str) -> None:
    # httpcore's own pool fails this now and then (ReadError: Bad file descriptor).
    with tuned(httpx.Client(limits=limits(8, 4))) as c:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(25):
                    assert c.get(server + "/fast?ms=1").status_code == 200
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        assert_settled(c, 8)


def test_cookies_are_kept_and_sent_back(server: str) -> None:
    with tuned(httpx.Client()) as c:
        assert c.get(server + "/echo-cookie").text == ""
        c.get(server + "/set-cookie")
        assert c.cookies.get("affinity") == "abc"
        assert c.get(server + "/echo-cookie").text == "affinity=abc"


def test_a_sync_client_reuses_nothing_the_server_closed(closing_server: str) -> None:
    with tuned(httpx.Client(limits=limits(8))) as c:
        for _ in range(2):
            assert c.get(closing_server + "/fast").status_code == 200
            time.sleep(1.2)
        assert c.get(closing_server + "/fast").status_code == 200
        assert_settled(c, 8)
