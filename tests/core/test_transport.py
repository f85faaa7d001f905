"""The transport under the clients (``_transport.py``, ``_aiohttp.py``), over real local sockets.

What users rely on: our error tree holds over httpx2 and over aiohttp (refused, TLS, timeouts, a
server closing kept-alive connections); ``timeout`` bounds a whole non-streamed call, and a
stream's first byte and each read; answers are decoded under ``max_response_bytes``; a redirect
to another origin carries no credential; a dropped stream gives its connection back and a stream
keeps its client alive; closed event loops are released. Servers are the session's scripted
local server (``core_server.py``) plus, for redirects, a second one on another port.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import httpx2
import pytest

from azureinference import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    ConfigurationError,
    HeaderCredential,
    MalformedResponseError,
    RetryPolicy,
)
from azureinference._aiohttp import map_error

from .conftest import serving
from .core_server import LocalServer, SeenRequest, _Handler, held, send_sse
from .core_support import COMPLETION, KEY, chunk, collect, maybe_await, sse

HI = [{"role": "user", "content": "Hi"}]
CONN: Any = SimpleNamespace(host="127.0.0.1", port=1, ssl=False)  # what aiohttp's errors name
NO_RETRY = RetryPolicy(max_retries=0)


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def client_for(url: str, sync: bool, **kw: Any) -> Any:
    kw.setdefault("retry_policy", NO_RETRY)
    return (Client if sync else AsyncClient)(url + "/models", KEY, **kw)


async def close(client: Any) -> None:
    await maybe_await(client.aclose() if isinstance(client, AsyncClient) else client.close())


def drip(data: bytes, every: float) -> Any:
    """Answer 200 with ``data`` (Content-Length set), one byte every ``every`` seconds."""

    def act(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        for i in range(len(data)):
            h.wfile.write(data[i : i + 1])
            h.wfile.flush()
            threading.Event().wait(every)

    return act


def encoded(data: bytes, encoding: str, content_type: str = "application/json") -> Any:
    """Answer 200 with ``data`` as it is, labelled with ``Content-Encoding: encoding``."""

    def act(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Encoding", encoding)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return act


def spaced(count: int, every: float) -> Any:
    """Stream events "0", "1"... ``every`` seconds apart, then a finish and [DONE]."""
    events = [sse(chunk(str(i)), done=False) for i in range(count)]

    def act(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for piece in [*events, sse(chunk(finish_reason="stop"), done=True)]:
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            h.wfile.flush()
            threading.Event().wait(every)
        h.wfile.write(b"0\r\n\r\n")

    return act


def redirect(location: str) -> Any:
    def act(h: _Handler) -> None:
        h.send_response(307)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return act


# ---- the error tree --------------------------------------------------------------------------


async def test_refused_connection_is_a_connection_error_not_a_timeout(sync: bool) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = client_for(f"http://127.0.0.1:{port}", sync)
    with pytest.raises(APIConnectionError, match="Could not reach") as caught:
        await maybe_await(client.complete(HI))
    assert not isinstance(caught.value, APITimeoutError)
    await close(client)


async def test_tls_to_a_plain_server_is_a_connection_error(
    local_server: LocalServer, sync: bool
) -> None:
    client = client_for(local_server.url.replace("http://", "https://"), sync)
    with pytest.raises(APIConnectionError) as caught:
        await maybe_await(client.complete(HI))
    assert not isinstance(caught.value, APITimeoutError)
    await close(client)


async def test_no_answer_is_a_timeout(local_server: LocalServer, sync: bool) -> None:
    local_server.then(held(send_sse([b"data: [DONE]\n\n"])))
    client = client_for(local_server.url, sync, timeout=0.3)
    with pytest.raises(APITimeoutError):
        await maybe_await(client.complete(HI))
    await close(client)


async def test_server_closing_kept_alive_connections_is_retried(
    local_server: LocalServer, sync: bool
) -> None:
    def answer_then_close(h: _Handler) -> None:
        data = json.dumps(COMPLETION).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()
        h.close_connection = True  # no "Connection: close": the client thinks it is kept

    local_server.then(*[answer_then_close] * 4)
    client = client_for(local_server.url, sync, retry_policy=RetryPolicy(initial_delay=0.01))
    for _ in range(4):
        assert (await maybe_await(client.complete(HI))).id == COMPLETION["id"]
    await close(client)


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (aiohttp.ClientConnectorError(CONN, OSError(111, "refused")), httpx2.ConnectError),
        (aiohttp.ServerDisconnectedError(), httpx2.RemoteProtocolError),
        (aiohttp.ConnectionTimeoutError(), httpx2.ConnectTimeout),
        (aiohttp.SocketTimeoutError(), httpx2.ReadTimeout),
        (aiohttp.ClientPayloadError("cut"), httpx2.ReadError),
        (aiohttp.ClientOSError(104, "reset"), httpx2.ReadError),
        (aiohttp.ClientConnectionError("closed"), httpx2.ReadError),
    ],
)
def test_aiohttp_errors_map_to_the_httpx2_error_httpx2_would_raise(
    error: Exception, mapped: type[Exception]
) -> None:
    # As the adapter raises them: its own (sometimes wrong) choice, caused by aiohttp's error.
    wrong = httpx2.ConnectTimeout(str(error))
    wrong.__cause__ = error
    assert type(map_error(wrong)) is mapped
    assert type(map_error(error)) is mapped
    assert map_error(ValueError("x")).__class__ is ValueError


# ---- timeouts --------------------------------------------------------------------------------


async def test_timeout_bounds_a_whole_non_streamed_call(
    local_server: LocalServer, sync: bool
) -> None:
    # Each byte comes well within the read timeout; the whole answer takes ~4x the timeout.
    body = json.dumps(COMPLETION).encode().ljust(40)
    local_server.then(drip(body, 0.05))
    client = client_for(local_server.url, sync, timeout=0.5)
    with pytest.raises(APITimeoutError, match="timeout"):
        await maybe_await(client.complete(HI))
    await close(client)


async def test_a_stream_times_out_waiting_for_its_first_byte(
    local_server: LocalServer, sync: bool
) -> None:
    local_server.then(held(send_sse([b"data: [DONE]\n\n"])))
    client = client_for(local_server.url, sync, timeout=0.3)
    with pytest.raises(APITimeoutError):
        await maybe_await(client.stream(HI))
    await close(client)


async def test_a_stream_times_out_between_events(local_server: LocalServer, sync: bool) -> None:
    local_server.then(send_sse([sse(chunk("Hel"), done=False)], hold=True))
    client = client_for(local_server.url, sync, timeout=0.3)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(APITimeoutError, match="stream broke after 1 chunk"):
        await collect(stream)
    await close(client)


def paused(go_on: threading.Event) -> Any:
    """Stream event "0"; then keep-alive comments until ``go_on`` is set; then "1" and the end."""

    def act(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

        def write(piece: bytes) -> None:
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            h.wfile.flush()

        write(sse(chunk("0"), done=False))
        while not go_on.wait(0.02):  # far within the read timeout: the stream is alive
            write(b": keep-alive\n\n")
        write(sse(chunk("1"), chunk(finish_reason="stop")))
        h.wfile.write(b"0\r\n\r\n")

    return act


async def test_a_long_stream_is_not_cut_by_the_call_deadline(
    local_server: LocalServer, sync: bool
) -> None:
    # The stream goes on past the call's timeout (the test sees it pass before letting the
    # server finish); bytes keep coming, so no read waits long.
    go_on = threading.Event()
    local_server.then(paused(go_on))
    timeout = 0.5
    client = client_for(local_server.url, sync, timeout=timeout)
    stream = await maybe_await(client.stream(HI))
    started = time.monotonic()  # after the call began: its timeout passes before ours
    texts: list[str] = []

    async def past_the_timeout() -> None:
        left = started + timeout - time.monotonic()
        while left >= 0:
            if sync:
                threading.Event().wait(left + 0.01)
            else:
                await asyncio.sleep(left + 0.01)
            left = started + timeout - time.monotonic()
        go_on.set()

    if sync:
        for c in stream:
            texts += [c.choices[0].delta.content] if c.choices else []
            if not go_on.is_set():
                await past_the_timeout()
    else:
        async for c in stream:
            texts += [c.choices[0].delta.content] if c.choices else []
            if not go_on.is_set():
                await past_the_timeout()
    assert "".join(t for t in texts if t) == "01"
    assert time.monotonic() > started + timeout  # the stream did outlast the timeout
    await close(client)


def test_timeout_accepts_numbers_httpx2_and_httpx_timeouts() -> None:
    assert Client("http://127.0.0.1:1/models", KEY, timeout=30)._timeout() == httpx2.Timeout(
        30, connect=10
    )
    given = httpx2.Timeout(5, read=60)
    assert Client("http://127.0.0.1:1/models", KEY, timeout=given)._timeout() is given
    peer = httpx.Timeout(5.0, read=60.0, pool=1.0)
    converted = Client("http://127.0.0.1:1/models", KEY, timeout=peer)._timeout()
    assert isinstance(converted, httpx2.Timeout)
    assert (converted.connect, converted.read, converted.write, converted.pool) == (5, 60, 5, 1)


async def test_a_transport_of_another_family_is_refused_by_name(sync: bool) -> None:
    wrong = httpx.MockTransport(lambda r: httpx.Response(200)) if sync else httpx2.HTTPTransport()
    with pytest.raises(ConfigurationError, match=r"httpx_kwargs\['transport'\] must be an httpx2"):
        client_for("http://127.0.0.1:1", sync, httpx_kwargs={"transport": wrong})


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"client": None}, r"'client'.*A client object is not taken: pass its transport"),
        ({"http_client": None}, r"'http_client'.*pass its transport"),
        ({"headers": {"x": "y"}}, r"'headers'.*Headers go in headers="),
        ({"verfy": False}, r"httpx_kwargs holds 'verfy', which the httpx2"),
    ],
)
async def test_httpx_kwargs_the_client_would_not_take_are_named_at_construction(
    sync: bool, kwargs: dict[str, Any], says: str
) -> None:
    # Before, these failed at the first call with httpx2's bare TypeError.
    with pytest.raises(ConfigurationError, match=says):
        client_for("http://127.0.0.1:1", sync, httpx_kwargs=kwargs)


async def test_the_httpx_kwargs_users_pass_are_taken(sync: bool) -> None:
    options = {"verify": False, "trust_env": False, "follow_redirects": True, "event_hooks": {}}
    client = client_for("http://127.0.0.1:1", sync, httpx_kwargs=options)
    http = client.http if sync else await client.http()  # built with them, no TypeError
    assert http.follow_redirects is True
    await close(client)


# ---- decoding --------------------------------------------------------------------------------


async def test_gzip_answers_are_decoded(local_server: LocalServer, sync: bool) -> None:
    local_server.then(encoded(gzip.compress(json.dumps(COMPLETION).encode()), "gzip"))
    client = client_for(local_server.url, sync)
    assert (await maybe_await(client.complete(HI))).id == COMPLETION["id"]
    (seen,) = local_server.seen
    assert seen.headers["accept-encoding"] == "gzip, deflate"
    await close(client)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_bad_content_encoding_is_a_malformed_response(
    local_server: LocalServer, sync: bool, encoding: str
) -> None:
    local_server.then(encoded(b"this is not compressed at all", encoding))
    client = client_for(local_server.url, sync)
    with pytest.raises(MalformedResponseError, match="decoded"):
        await maybe_await(client.complete(HI))
    await close(client)


async def test_a_bad_content_encoding_in_a_stream_is_a_malformed_response(
    local_server: LocalServer, sync: bool
) -> None:
    local_server.then(encoded(b"data: not gzip\n\n", "gzip", "text/event-stream"))
    client = client_for(local_server.url, sync)
    with pytest.raises(MalformedResponseError, match="decoded"):
        await collect(await maybe_await(client.stream(HI)))
    await close(client)


async def test_an_answer_larger_than_max_response_bytes_is_refused_unexpanded(
    local_server: LocalServer, sync: bool
) -> None:
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of spaces in ~50 KB
    local_server.then(encoded(bomb, "gzip"))
    client = client_for(local_server.url, sync, max_response_bytes=1_000_000)
    with pytest.raises(MalformedResponseError, match="max_response_bytes"):
        await maybe_await(client.complete(HI))
    await close(client)


def test_max_response_bytes_must_be_a_positive_int() -> None:
    with pytest.raises(ConfigurationError, match="max_response_bytes"):
        Client("http://127.0.0.1:1/models", KEY, max_response_bytes=0)


# ---- redirects -------------------------------------------------------------------------------


@pytest.fixture
def other_origin() -> Iterator[LocalServer]:
    """A second local server: another port, so another origin."""
    with serving() as server:
        yield server


CREDENTIALS = [
    ("key", KEY, "authorization"),
    ("header credential", HeaderCredential("x-functions-key", KEY), "x-functions-key"),
    ("header string", f"X-Gateway-Key: {KEY}", "x-gateway-key"),
]


@pytest.mark.parametrize(
    ("_name", "credential", "header"), CREDENTIALS, ids=[c[0] for c in CREDENTIALS]
)
async def test_a_redirect_to_another_origin_carries_no_credential(
    local_server: LocalServer,
    other_origin: LocalServer,
    sync: bool,
    _name: str,
    credential: Any,
    header: str,
) -> None:
    local_server.then(redirect(other_origin.url + "/models/chat/completions"))
    cls = Client if sync else AsyncClient
    client = cls(
        local_server.url + "/models",
        credential,
        headers={"x-goog-api-key": KEY, "x-trace": "kept"},
        httpx_kwargs={"follow_redirects": True},
        retry_policy=NO_RETRY,
    )
    assert (await maybe_await(client.complete(HI))).id == COMPLETION["id"]
    (first,) = local_server.seen
    (second,) = other_origin.seen
    assert header in first.headers
    sent: SeenRequest = second
    assert header not in sent.headers
    assert "x-goog-api-key" not in sent.headers
    assert "authorization" not in sent.headers
    assert KEY not in json.dumps(dict(sent.headers))
    assert sent.headers["x-trace"] == "kept"
    await close(client)


async def test_a_redirect_within_the_origin_keeps_the_credential(
    local_server: LocalServer, sync: bool
) -> None:
    local_server.then(redirect(local_server.url + "/models/chat/completions?api-version=x"))
    client = client_for(local_server.url, sync, httpx_kwargs={"follow_redirects": True})
    await maybe_await(client.complete(HI))
    assert [s.headers.get("authorization") for s in local_server.seen] == [f"Bearer {KEY}"] * 2
    await close(client)


# ---- streams and their connections -----------------------------------------------------------


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_dropped_unread_streams_give_their_connections_back(local_server: LocalServer) -> None:
    limits = httpx2.Limits(max_connections=2)
    client = Client(local_server.url + "/models", KEY, timeout=5, httpx_kwargs={"limits": limits})
    before = _open_descriptors()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(6):  # three times the pool: without the fix the third waits for a slot
            stream = client.stream(HI)
            del stream
            gc.collect()
    assert [str(w.message)[:19] for w in caught] == ["ChatStream dropped "] * 6
    assert client.complete(HI).id == COMPLETION["id"]
    assert _open_descriptors() <= before + 2
    client.close()


def test_dropped_unread_async_streams_give_their_connections_back(
    local_server: LocalServer,
) -> None:
    limits = httpx2.Limits(max_connections=2)
    client = AsyncClient(
        local_server.url + "/models", KEY, timeout=5, httpx_kwargs={"limits": limits}
    )

    async def run() -> str | None:
        for _ in range(6):
            stream = await client.stream(HI)
            del stream
            gc.collect()
            await asyncio.sleep(0)
        return (await client.complete(HI)).id

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        assert asyncio.run(run()) == COMPLETION["id"]


def test_a_stream_keeps_its_client_alive(local_server: LocalServer) -> None:
    local_server.then(spaced(4, 0.02))
    text = ""
    for c in Client(local_server.url + "/models", KEY).stream(HI):
        gc.collect()  # the client has no other reference: it must not close under the stream
        text += (c.choices[0].delta.content or "") if c.choices else ""
    assert text == "0123"


def test_an_async_stream_keeps_its_client_alive(local_server: LocalServer) -> None:
    local_server.then(spaced(4, 0.02))

    async def run() -> str:
        text = ""
        async for c in await AsyncClient(local_server.url + "/models", KEY).stream(HI):
            gc.collect()
            text += (c.choices[0].delta.content or "") if c.choices else ""
        return text

    assert asyncio.run(run()) == "0123"


# ---- event loops -----------------------------------------------------------------------------


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_closed_event_loops_are_released(local_server: LocalServer) -> None:
    """One AsyncClient across 20 asyncio.run calls keeps no closed loop, client or session."""
    client = AsyncClient(local_server.url + "/models", KEY)

    async def one() -> None:
        await client.complete(HI)

    asyncio.run(one())
    loops, clients, sessions = (
        _live(asyncio.AbstractEventLoop),
        _live(httpx2.AsyncClient),
        _live(aiohttp.ClientSession),
    )
    for _ in range(20):
        asyncio.run(one())
    assert _live(asyncio.AbstractEventLoop) <= loops
    assert _live(httpx2.AsyncClient) <= clients
    assert _live(aiohttp.ClientSession) <= sessions


def test_async_proxy_from_the_environment_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp's own trust_env reads the environment on a thread for every request; we read
    HTTPS_PROXY / NO_PROXY once, as httpx2 does, and give the proxy to the transport."""
    from azureinference._transport import _env_proxy

    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    origin = httpx2.URL("https://my-resource.services.ai.azure.com")
    assert _env_proxy(origin) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert _env_proxy(origin) == "http://proxy.internal:3128"
    monkeypatch.setenv("NO_PROXY", ".azure.com")
    assert _env_proxy(origin) is None
