"""A server that was reached but answered wrongly, and what the error says (issue 21 item 11).

A redirect loop, a status line that is not HTTP, broken chunking, a 1 MB header: the service was
reached, so the error says what it sent (not "Could not reach"), in our error tree and not as a
raw ``httpx2`` error. A stream that breaks is the same error class in sync and async. None of
these errors chains an object that carries the credential (item 9).
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import pytest

from azureinference import (
    APIConnectionError,
    APIError,
    AsyncClient,
    Client,
    ConfigurationError,
    IncompleteStreamError,
    MalformedResponseError,
    RetryPolicy,
)

from .core_server import LocalServer, send_bytes, send_json, send_sse
from .core_support import KEY, chunk, collect, maybe_await, sse

HI = [{"role": "user", "content": "Hi"}]
NO_RETRY = RetryPolicy(max_retries=0)
SECRET = "s3cret-c0de-value-0123456789"


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def client_for(server: LocalServer, sync: bool, **kw: Any) -> Client | AsyncClient:
    kw.setdefault("retry_policy", NO_RETRY)
    cls = Client if sync else AsyncClient
    return cls(server.url + "/models", KEY, **kw)


async def close(client: Client | AsyncClient) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


def chain(err: BaseException) -> list[BaseException]:
    """The error and every exception reachable from it through __cause__ and __context__."""
    seen: list[BaseException] = []
    todo = [err]
    while todo:
        e = todo.pop()
        if any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return seen


def assert_no_credential(err: BaseException) -> None:
    """Nothing reachable from ``err`` carries the key or the secret query value."""
    for e in chain(err):
        text = repr(vars(e)) + repr(e.args) + "".join(traceback.format_exception_only(e))
        assert KEY not in text, e
        assert SECRET not in text, e
        for name in ("request", "request_info"):
            try:
                carried = getattr(e, name, None)
            except RuntimeError:  # httpx2: "The .request property has not been set."
                carried = None
            assert carried is None, (type(e), name)


GARBAGE = {
    "status line": b"HTTP/1.1 OK-ish garbage\r\n\r\n",
    "not http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "chunking": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n"
    ),
    "1 MB header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n",
}


@pytest.mark.parametrize("what", GARBAGE)
async def test_an_answer_that_is_not_http_says_what_was_sent(
    local_server: LocalServer, sync: bool, what: str
) -> None:
    local_server.then(send_bytes(GARBAGE[what]))
    client = client_for(local_server, sync)
    with pytest.raises(MalformedResponseError) as info:
        await maybe_await(client.complete(HI))
    message = str(info.value)
    assert "Could not reach" not in message
    assert "not valid HTTP" in message
    assert local_server.url.removeprefix("http://") in message
    assert_no_credential(info.value)
    await close(client)


async def test_a_redirect_loop_is_our_error(local_server: LocalServer, sync: bool) -> None:
    path = "/models/chat/completions?api-version=2024-05-01-preview"
    loop = send_json(307, {}, {"Location": local_server.url + path})
    local_server.then(*[loop] * 30)
    client = client_for(local_server, sync, httpx_kwargs={"follow_redirects": True})
    with pytest.raises(APIConnectionError) as info:
        await maybe_await(client.complete(HI))
    assert "redirect" in str(info.value).lower()
    assert_no_credential(info.value)
    await close(client)


async def test_a_broken_stream_is_the_same_error_in_sync_and_async(
    local_server: LocalServer, sync: bool
) -> None:
    local_server.then(send_sse([sse(chunk("Hel"), done=False)], drop=True))
    client = client_for(local_server, sync)
    with pytest.raises(IncompleteStreamError) as info:
        await collect(await maybe_await(client.stream(HI)))
    assert "1 chunk" in str(info.value)
    assert_no_credential(info.value)
    await close(client)


async def test_connection_errors_chain_nothing_that_carries_the_credential(sync: bool) -> None:
    # A port nothing listens on: the connect error's request held the key and ?code=.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cls = Client if sync else AsyncClient
    client = cls(f"http://127.0.0.1:{port}/models?code={SECRET}", KEY, retry_policy=NO_RETRY)
    with pytest.raises(APIConnectionError) as info:
        await maybe_await(client.complete(HI))
    assert_no_credential(info.value)
    cause = info.value.__cause__
    assert cause is not None  # the cause's type and message are kept
    assert "Connect" in type(cause).__name__
    await close(client)


async def test_timeout_errors_chain_nothing_that_carries_the_credential(
    local_server: LocalServer, sync: bool
) -> None:
    from .core_server import slow

    local_server.then(slow(2.0, send_json(200, {})))
    cls = Client if sync else AsyncClient
    client = cls(
        local_server.url + f"/models?code={SECRET}", KEY, retry_policy=NO_RETRY, timeout=0.2
    )
    with pytest.raises(APIError) as info:
        await maybe_await(client.complete(HI))
    assert_no_credential(info.value)
    await close(client)


def test_the_async_client_outside_asyncio_says_it_needs_asyncio(
    local_server: LocalServer,
) -> None:
    import sniffio

    client = AsyncClient(local_server.url + "/models", KEY)
    token = sniffio.current_async_library_cvar.set("trio")
    try:
        coro = client.complete(HI)
        with pytest.raises(ConfigurationError) as info:
            coro.send(None)  # driven as trio would drive it: no asyncio loop runs
    finally:
        sniffio.current_async_library_cvar.reset(token)
    assert "AsyncClient runs on asyncio" in str(info.value)
    assert "under trio" in str(info.value)
    assert local_server.seen == []
    asyncio.run(client.aclose())
