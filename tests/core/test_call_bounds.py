"""Every call ends: no endless resending, and the timeout is the whole call (issue 21 items 5, 6).

A 2xx that is neither a stream nor JSON alone used to make ``stream()`` resend the (billed)
request without end. A server that stalls in the middle of a body is cut off at the call's
deadline by the async client as by the sync one (the async read timeout was fixed when the
request went, so a slow first byte plus a stalled body took up to twice the timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from azureinference import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncClient,
    Client,
    MalformedResponseError,
    RetryPolicy,
)

from .core_server import LocalServer, send_raw
from .core_support import COMPLETION, KEY, chunk, collect, maybe_await, sse

HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def client_for(server: LocalServer, sync: bool, **kw: Any) -> Client | AsyncClient:
    kw.setdefault("retry_policy", RetryPolicy(max_retries=0))
    return (Client if sync else AsyncClient)(server.url + "/models", KEY, **kw)


async def close(client: Client | AsyncClient) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


async def test_a_2xx_that_says_both_json_and_event_stream_is_not_resent(
    local_server: LocalServer, sync: bool
) -> None:
    import json

    body = json.dumps(COMPLETION).encode()
    local_server.then(*[send_raw(200, body, "application/json; text/event-stream")] * 3)
    client = client_for(local_server, sync)
    with pytest.raises(MalformedResponseError):
        await collect(await maybe_await(client.stream(HI)))
    assert len(local_server.seen) == 1
    await close(client)


async def test_an_event_stream_with_json_in_its_type_is_read_as_a_stream(
    local_server: LocalServer, sync: bool
) -> None:
    events = sse(chunk("Hi", role="assistant"), chunk(finish_reason="stop"))
    local_server.then(send_raw(200, events, "text/event-stream+json"))
    client = client_for(local_server, sync)
    chunks = await collect(await maybe_await(client.stream(HI)))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hi"
    assert len(local_server.seen) == 1
    await close(client)


def test_resending_is_bounded() -> None:
    from azureinference._base_client import MAX_RESENDS, bounded_tries

    tries = bounded_tries()
    for _ in range(MAX_RESENDS + 1):
        next(tries)
    with pytest.raises(APIError, match="not sent again"):
        next(tries)


def slow_headers_then_stall(delay: float, release: threading.Event) -> Any:
    """Headers after ``delay`` seconds, then part of the body, then nothing until released."""

    def act(h: Any) -> None:
        release.wait(delay)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b'{"id": "cmpl-1", ')
        h.wfile.flush()
        release.wait(30)
        h.close_connection = True

    return act


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


async def test_a_body_stalled_after_slow_headers_ends_at_the_call_deadline(
    local_server: LocalServer, sync: bool, release: threading.Event
) -> None:
    # The headers take part of the time; the stalled body must not get a full timeout more.
    # What ends the call is asserted (its deadline, not a read timeout started afresh), not
    # how long it took.
    local_server.then(slow_headers_then_stall(0.4, release))
    client = client_for(local_server, sync, timeout=1.0)
    with pytest.raises(APITimeoutError) as info:
        await maybe_await(client.complete(HI))
    message = str(info.value)
    assert "deadline of the whole call" in message or "ReadTimeout" in message
    if not sync:
        assert "deadline of the whole call" in message, message
    release.set()
    await close(client)


def held(release: threading.Event, arrived: threading.Semaphore) -> Any:
    """An answer that waits until released (a model thinking), after saying it arrived."""

    def act(h: Any) -> None:
        arrived.release()
        release.wait(60)
        h.close_connection = True

    return act


def test_close_fails_the_calls_in_flight_in_other_threads_at_once(
    local_server: LocalServer, release: threading.Event
) -> None:
    client = Client(local_server.url + "/models", KEY)
    client.complete(HI)  # one pooled connection already open, the others new
    arrived = threading.Semaphore(0)
    local_server.then(*[held(release, arrived)] * 4)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.complete(HI)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in threads:
        assert arrived.acquire(timeout=30)  # every call is at the server, waiting
    client.close()
    for t in threads:
        t.join(30)
    # Every call ended while the server still held its answer: close() ended them.
    assert not release.is_set()
    assert [t.is_alive() for t in threads] == [False] * 4
    assert len(errors) == 4
    for err in errors:
        assert isinstance(err, APIConnectionError), err
        assert "client was closed" in str(err)
    release.set()
    assert client.complete(HI).id == COMPLETION["id"]  # usable again: a new pool
    client.close()


async def test_aclose_fails_the_calls_in_flight_in_other_tasks(
    local_server: LocalServer, release: threading.Event
) -> None:
    import asyncio

    client = AsyncClient(local_server.url + "/models", KEY)
    arrived = threading.Semaphore(0)
    local_server.then(*[held(release, arrived)] * 3)
    calls = [asyncio.ensure_future(client.complete(HI)) for _ in range(3)]
    for _ in calls:
        while not arrived.acquire(blocking=False):
            await asyncio.sleep(0.01)
    await client.aclose()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert not release.is_set()
    for result in results:
        assert isinstance(result, APIConnectionError), result
        assert "client was closed" in str(result)
    release.set()


class BlockingCredential:
    """A token credential whose get_token waits until released (a slow identity endpoint)."""

    def __init__(self, release: threading.Event, is_async: bool = False) -> None:
        self.release = release
        self.returned = threading.Event()
        if is_async:
            self.get_token = self._aget_token  # type: ignore[method-assign]

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from .core_support import AccessToken

        self.release.wait(60)
        self.returned.set()
        import time

        return AccessToken("tok-" + "x" * 20, int(time.time()) + 3600)

    async def _aget_token(self, *scopes: str, **kwargs: Any) -> Any:
        import asyncio

        from .core_support import AccessToken

        while not self.release.is_set():
            await asyncio.sleep(0.01)
        self.returned.set()
        return AccessToken("tok-" + "x" * 20, 2**31)


@pytest.mark.parametrize("kind", ["sync", "async-with-sync-credential", "async"])
async def test_the_timeout_covers_getting_the_token(
    local_server: LocalServer, release: threading.Event, kind: str
) -> None:
    credential = BlockingCredential(release, is_async=kind == "async")
    cls = Client if kind == "sync" else AsyncClient
    client = cls(local_server.url + "/models", credential, timeout=0.5)
    with pytest.raises(APITimeoutError, match="get_token"):
        await maybe_await(client.complete(HI))
    # The call ended while get_token was still waiting, and nothing was sent.
    assert not credential.returned.is_set()
    assert local_server.seen == []
    release.set()
    await close(client)


def test_a_warm_pool_calls_without_the_connect_trace(local_server: LocalServer) -> None:
    # The trace that learns new connections (for close()) costs a callback per request step:
    # only a call that may open a connection carries it.
    traced: list[bool] = []
    hooks = {"request": [lambda request: traced.append("trace" in request.extensions)]}
    client = Client(local_server.url + "/models", KEY, httpx_kwargs={"event_hooks": hooks})
    for _ in range(4):
        client.complete(HI)
    client.close()
    assert traced == [True, False, False, False]
