"""Retry rules (pure) and the send loops that follow them (over ``httpx2.MockTransport``)."""

from __future__ import annotations

import logging
from typing import Any

import httpx2
import pytest

from azureinference import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)

from .core_support import (
    COMPLETION,
    KEY,
    SERVERLESS,
    chunk,
    collect,
    make_client,
    maybe_await,
    reply,
    sse,
)

HI = [{"role": "user", "content": "Hi"}]
BUSY = {"error": {"code": "ServiceUnavailable", "message": "busy"}}


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# ---- pure rules ----


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (529, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
        (200, False),
    ],
)
def test_which_statuses_are_retried(status: int, retry: bool) -> None:
    assert RetryPolicy().should_retry_status(status) is retry


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (httpx2.ConnectError("x"), True),
        (httpx2.ConnectTimeout("x"), True),
        (httpx2.ReadTimeout("x"), True),
        (httpx2.PoolTimeout("x"), True),
        (httpx2.RemoteProtocolError("x"), True),
        (httpx2.ReadError("x"), True),
        (httpx2.UnsupportedProtocol("x"), False),
        (httpx2.LocalProtocolError("x"), False),
        (ValueError("x"), False),
    ],
)
def test_which_exceptions_are_retried(exc: BaseException, retry: bool) -> None:
    assert RetryPolicy.should_retry_exception(exc) is retry


def test_delay_prefers_retry_after_ms_then_retry_after() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, httpx2.Headers({"retry-after-ms": "50", "retry-after": "9"})) == 0.05
    assert policy.delay(0, httpx2.Headers({"retry-after": "1"})) == 1.0
    assert policy.delay(1, httpx2.Headers({"Retry-After": "2"})) == 2.0


def test_retry_after_longer_than_the_cap_is_not_waited_for() -> None:
    assert RetryPolicy(max_retry_after=5).delay(0, httpx2.Headers({"retry-after": "60"})) is None


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=1.0, max_delay=5.0)
    for attempt, base in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (8, 5.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(d is not None and 0.75 * base <= d <= base for d in delays)
        assert len(delays) > 1  # jitter


def test_no_delay_once_retries_are_used_up() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(1) is not None
    assert policy.delay(2) is None
    assert RetryPolicy(max_retries=0).delay(0, httpx2.Headers({"retry-after": "1"})) is None


def test_max_retries_must_not_be_negative() -> None:
    from azureinference import Client, ConfigurationError

    with pytest.raises(ConfigurationError, match="max_retries"):
        Client(SERVERLESS, KEY, max_retries=-1)


def test_max_retries_and_timeout_are_settable() -> None:
    from azureinference import Client

    client = Client(SERVERLESS, KEY, max_retries=5, timeout=3.5)
    assert client.retry_policy.max_retries == 5
    assert client.timeout == 3.5
    timeout = client._timeout()
    assert (timeout.read, timeout.connect) == (3.5, 3.5)
    assert Client(SERVERLESS, KEY, timeout=None)._timeout().read is None
    custom = httpx2.Timeout(1.0, read=9.0)
    assert Client(SERVERLESS, KEY, timeout=custom)._timeout() is custom


# ---- the send loops ----


async def test_429_with_retry_after_then_success(sync: bool, sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``error_429_retry_after``: waited as asked, then succeeded (the SDK does the same).

    The scenario's ``retry-after: 1`` is replayed as ``retry-after-ms: 50`` to keep the suite fast;
    `test_delay_prefers_retry_after_ms_then_retry_after` covers the seconds form.
    """
    scenario = sdk_scenarios["error_429_retry_after"]
    assert scenario["requests"][1]["seconds_after_previous_request"] == 1.0
    first, second = scenario["responses_served"]
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [
            reply(first["status"], first["body"], headers={"retry-after-ms": "50"}),
            reply(200, second["body"]),
        ],
        asynchronous=not sync,
    )
    result = await maybe_await(client.complete(HI))
    assert result.model_dump(mode="json", exclude_unset=True) == scenario["sdk_result"]
    assert len(rec.requests) == 2
    assert rec.bodies()[0] == rec.bodies()[1]


async def test_429_without_retry_after_is_retried(
    sync: bool, sdk_scenarios: dict[str, Any]
) -> None:
    """Unlike the SDK: a 429 without ``retry-after`` is retried with backoff.

    In scenario ``error_429_no_retry_after`` the SDK raised at once: azure-core retries a POST on
    429 only when the service says how long to wait.
    """
    served = sdk_scenarios["error_429_no_retry_after"]["responses_served"][0]
    assert len(sdk_scenarios["error_429_no_retry_after"]["requests"]) == 1
    client, rec = make_client(
        SERVERLESS, KEY, [reply(429, served["body"]), reply()], asynchronous=not sync
    )
    await maybe_await(client.complete(HI))
    assert len(rec.requests) == 2


async def test_429_until_retries_run_out(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(429, {"error": {"code": "429"}}, headers={"retry-after-ms": "10"})],
        asynchronous=not sync,
        rate_limit=False,
    )
    with pytest.raises(RateLimitError) as info:
        await maybe_await(client.complete(HI))
    assert info.value.retry_after == 0.01
    assert len(rec.requests) == 3  # 1 + max_retries (2)


async def test_a_paced_call_waits_out_8_more_429s(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(429, {"error": {"code": "429"}}, headers={"retry-after-ms": "1"})],
        asynchronous=not sync,
    )
    with pytest.raises(RateLimitError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 3 + 8  # max_retries, and the limiter's 8 on top
    assert client.rate_limiter.engaged  # every later call of this client is paced


async def test_503_then_success(sync: bool, sdk_scenarios: dict[str, Any]) -> None:
    scenario = sdk_scenarios["error_503_retry"]
    first, second = scenario["responses_served"]
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(first["status"], first["body"]), reply(200, second["body"])],
        asynchronous=not sync,
    )
    result = await maybe_await(client.complete(HI))
    assert result.model_dump(mode="json", exclude_unset=True) == scenario["sdk_result"]
    assert len(rec.requests) == 2


async def test_max_retries_zero(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(503, BUSY), reply()],
        asynchronous=not sync,
        retry_policy=RetryPolicy(max_retries=0),
    )
    with pytest.raises(ServerError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1


async def test_max_retries_argument(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS, KEY, [reply(500, BUSY)], asynchronous=not sync, retry_policy=None, max_retries=0
    )
    with pytest.raises(ServerError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1


async def test_connection_failure_then_success(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS, KEY, [httpx2.ConnectError("refused"), reply()], asynchronous=not sync
    )
    result = await maybe_await(client.complete(HI))
    assert result.id == COMPLETION["id"]
    assert len(rec.requests) == 2


async def test_connection_failures_until_retries_run_out(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS, KEY, [httpx2.ConnectError("refused")], asynchronous=not sync
    )
    with pytest.raises(APIConnectionError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 3


async def test_timeouts_are_retried_then_raised(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [httpx2.ReadTimeout("slow"), httpx2.ReadTimeout("slow")],
        asynchronous=not sync,
        retry_policy=RetryPolicy(max_retries=1, initial_delay=0.01),
    )
    with pytest.raises(APITimeoutError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 2


async def test_non_retryable_status_is_not_retried(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS, KEY, [reply(400, {"error": {"code": "bad"}}), reply()], asynchronous=not sync
    )
    with pytest.raises(Exception, match="400"):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1


async def test_stream_retried_before_its_first_byte(sync: bool) -> None:
    ok = reply(sse_body=sse(chunk("hi", finish_reason="stop")))
    client, rec = make_client(
        SERVERLESS, KEY, [reply(503, BUSY), httpx2.ConnectError("x"), ok], asynchronous=not sync
    )
    stream = await maybe_await(client.stream(HI))
    chunks = await collect(stream)
    assert chunks[0].choices[0].delta.content == "hi"
    assert len(rec.requests) == 3


async def test_stream_never_retried_after_its_first_byte(sync: bool) -> None:
    broken = reply(sse_body=sse(chunk("hi"), done=False), error=httpx2.ReadError("reset"))
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [broken, reply(sse_body=sse(chunk("again", finish_reason="stop")))],
        asynchronous=not sync,
    )
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError):
        await collect(stream)
    assert len(rec.requests) == 1


async def test_same_request_id_on_each_attempt(sync: bool) -> None:
    client, rec = make_client(SERVERLESS, KEY, [reply(502, BUSY), reply()], asynchronous=not sync)
    await maybe_await(client.complete(HI))
    ids = {r.headers["x-ms-client-request-id"] for r in rec.requests}
    assert len(ids) == 1


async def test_one_debug_line_per_retry_without_secrets(
    sync: bool, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = make_client(
        "https://gw.example.com/v1?key=QUERYSECRET",
        KEY,
        [
            reply(503, BUSY, headers={"retry-after-ms": "10"}),
            httpx2.ConnectError("refused"),
            reply(),
        ],
        asynchronous=not sync,
    )
    with caplog.at_level(logging.DEBUG, logger="azureinference"):
        await maybe_await(client.complete(HI))
    lines = [r.getMessage() for r in caplog.records if r.name == "azureinference"]
    assert len(lines) == 3  # two retries, then the answer
    assert "503" in lines[0]
    assert "/v1/chat/completions" in lines[0]
    assert "ConnectError" in lines[1]
    assert lines[2] == "POST https://gw.example.com/v1/chat/completions -> 200 after 2 retries"
    assert KEY not in caplog.text
    assert "QUERYSECRET" not in caplog.text
