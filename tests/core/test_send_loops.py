"""The send loops' rarer ways out, sync and async: each branch a user can meet, asserted.

A retry not made because it would end past the call's deadline; a transport error giving the
limiter's learning turn to the retry; an answer httpx2 cannot decode; the deadline passing while
the answer's headers arrive; a stream broken by each kind of transport error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from azureinference import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    MalformedResponseError,
    RateLimiter,
    RetryPolicy,
    ServerError,
)
from azureinference._transport import DEADLINE

from .core_support import (
    SERVERLESS,
    Chunks,
    FakeClock,
    chunk,
    make_client,
    maybe_await,
    reply,
    sse,
)

HI = [{"role": "user", "content": "Hi"}]
# Retries that would wait 100 s: far past the 5 s deadline of these calls.
LATE = RetryPolicy(max_retries=3, initial_delay=100.0, max_delay=100.0)


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def close(client: Any) -> None:
    await maybe_await(client.aclose() if hasattr(client, "aclose") else client.close())


# ---- retries and the deadline -----------------------------------------------------------------


@pytest.mark.timeout(30)  # a retry made anyway would sleep 100 s: fail instead of hanging
async def test_a_retry_past_the_deadline_is_not_made_after_a_status(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        replies=[reply(503, {"error": {"code": "busy"}})],
        asynchronous=not sync,
        retry_policy=LATE,
        timeout=5,
    )
    with pytest.raises(ServerError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1
    await close(client)


@pytest.mark.timeout(30)
async def test_a_retry_past_the_deadline_is_not_made_after_a_transport_error(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        replies=[httpx2.ConnectError("refused")],
        asynchronous=not sync,
        retry_policy=LATE,
        timeout=5,
    )
    with pytest.raises(APIConnectionError, match="refused"):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1
    await close(client)


# ---- the limiter's ticket ---------------------------------------------------------------------


async def test_a_transport_error_hands_the_limiters_first_request_to_the_retry(
    sync: bool,
) -> None:
    # No limits known: the first request learns them from the answer's headers while the others
    # wait. Failing to connect, it got no answer: its retry learns instead, at once, rather than
    # waiting for the probe to time out.
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, asleep=clock.asleep)
    headers = {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "599"}
    client, rec = make_client(
        SERVERLESS,
        replies=[httpx2.ConnectError("refused"), reply(headers=headers)],
        asynchronous=not sync,
        rate_limiter=limiter,
        rate_limit=True,
    )
    result = await maybe_await(client.complete(HI))
    assert result.choices[0].message.content == "Hello!"
    assert len(rec.requests) == 2
    assert clock.slept == []
    assert limiter.limit("requests") == 600  # learned from the retry's answer
    await close(client)


# ---- answers that cannot be read --------------------------------------------------------------


async def test_an_undecodable_answer_is_a_malformed_response(sync: bool) -> None:
    broken = reply(error=httpx2.DecodingError("invalid brotli data"))
    client, rec = make_client(SERVERLESS, replies=[broken], asynchronous=not sync)
    with pytest.raises(MalformedResponseError, match="invalid brotli data"):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1  # not retried: the same answer would come again
    await close(client)


class Unread(Chunks):
    """A body that notes whether anyone read it."""

    read = False

    def __iter__(self) -> Iterator[bytes]:
        self.read = True
        yield from super().__iter__()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        async for piece in super().__aiter__():
            yield piece


async def test_the_deadline_passing_before_the_answer_is_a_timeout(sync: bool) -> None:
    # The service answers once the call's deadline has passed (waited for, not timed): the
    # answer is not read, and the call is not retried.
    body = Unread([b'{"id": "late"}'])

    def late(request: httpx2.Request) -> httpx2.Response:
        deadline = request.extensions[DEADLINE]
        while time.monotonic() <= deadline:
            threading.Event().wait(deadline - time.monotonic() + 0.001)
        return httpx2.Response(200, headers={"content-type": "application/json"}, stream=body)

    client, rec = make_client(SERVERLESS, replies=[late], asynchronous=not sync, timeout=0.05)
    with pytest.raises(APITimeoutError, match="deadline of the whole call"):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1
    assert not body.read  # given up at the headers
    await close(client)


# ---- streams broken mid-way -------------------------------------------------------------------


async def drain(stream: Any, into: list[Any]) -> None:
    """Read a sync or async stream, keeping each chunk as it comes."""
    if hasattr(stream, "__aiter__"):
        async for item in stream:
            into.append(item)
    else:
        for item in stream:
            into.append(item)


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (httpx2.ReadTimeout("no byte in time"), APITimeoutError),
        (httpx2.ReadError("connection reset"), IncompleteStreamError),
        (httpx2.RemoteProtocolError("peer closed"), IncompleteStreamError),
        (httpx2.DecodingError("bad gzip"), MalformedResponseError),
        (httpx2.ProxyError("proxy went away"), IncompleteStreamError),
    ],
    ids=["timeout", "read", "protocol", "decoding", "other"],
)
async def test_a_stream_broken_mid_way(
    sync: bool, error: Exception, raised: type[Exception]
) -> None:
    body = sse(chunk("Hel"), chunk("lo"), done=False)
    client, _ = make_client(
        SERVERLESS, replies=[reply(sse_body=body, pieces=2, error=error)], asynchronous=not sync
    )
    stream = await maybe_await(client.stream(HI))
    got: list[Any] = []
    with pytest.raises(raised, match=r"stream broke after 2 chunk\(s\)") as caught:
        await drain(stream, got)
    assert type(caught.value) is raised  # not a subclass standing in for it
    assert "".join(c.choices[0].delta.content for c in got) == "Hello"
    assert stream.response.is_closed
    await close(client)
