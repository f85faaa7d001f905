"""Bulk calls of the core clients against a local endpoint with a quota (429s, headers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from azureinference import AsyncClient, BadRequestError, Client, ConfigurationError, RateLimiter
from azureinference.ratelimit import paced
from tests.quota_server import QuotaServer, corpus, quota_server

KEY = "local-quota-key"


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def embed(sync: bool, server: QuotaServer, texts: list[str], **kw: Any) -> Any:
    options = {"model": "m", "embed_batch_size": 50, **kw}
    if sync:
        with Client(server.endpoint, KEY, **options) as client:
            return client.embed(texts), client.rate_limiter

    async def run() -> Any:
        async with AsyncClient(server.endpoint, KEY, **options) as client:
            return await client.embed(texts), client.rate_limiter

    return asyncio.run(run())


def test_batches_come_back_in_order_each_text_once_through_429s(sync: bool) -> None:
    texts = corpus(1000)
    with quota_server(240_000, 6_000, throttle_every=7) as server:
        result, limiter = embed(sync, server, texts)
    assert [v[0] for v in result.vectors] == list(range(1000))
    assert sorted(server.texts.values()) == [1] * 1000  # embedded once, none lost
    assert server.throttled >= 20 // 7  # the injected 429s were retried...
    assert limiter.throttled == server.throttled  # ...paced by the limiter, none failed
    assert result.usage.prompt_tokens == 8 * 1000


def test_limits_are_learned_from_the_headers(sync: bool) -> None:
    with quota_server(240_000, 6_000) as server:
        _, limiter = embed(sync, server, corpus(200))
    assert limiter.limit("tokens") == 240_000
    assert limiter.limit("requests") == 6_000
    assert limiter.sent == 4  # every batch of the bulk call was paced


def test_a_failed_batch_names_its_inputs(sync: bool) -> None:
    texts = corpus(300)
    texts[137] = "doc 137 FAIL"
    with quota_server(6_000_000, 60_000) as server, pytest.raises(BadRequestError) as info:
        embed(sync, server, texts)
    assert "(inputs 100-149 of 300)" in str(info.value)
    assert info.value.input_range == (100, 150)  # type: ignore[attr-defined]
    assert "This input is refused." in str(info.value)


def test_single_calls_are_paced_by_default() -> None:
    with (
        quota_server(6_000_000, 60_000, headers="none") as server,
        Client(server.endpoint, KEY, model="m") as client,
    ):
        client.complete([{"role": "user", "content": "Hi"}])  # the first goes alone
        client.embed(["doc 1"])
        assert client.rate_limiter.sent == 2  # nothing reported: paced from a slow start
        with paced():
            client.complete([{"role": "user", "content": "Hi"}])
        assert client.rate_limiter.sent == 3
    with quota_server(6_000_000, 60_000) as server:
        with Client(server.endpoint, KEY, model="m") as client:
            client.complete([{"role": "user", "content": "Hi"}])
            client.embed(["doc 1"])
            assert client.rate_limiter.sent == 2  # the service reports its quota: paced
        with Client(server.endpoint, KEY, model="m", tokens_per_minute=600_000) as client:
            client.complete([{"role": "user", "content": "Hi"}])
            assert client.rate_limiter.sent == 1
            assert client.rate_limiter.limit("tokens") == 600_000  # the set limit wins
            assert client.rate_limiter.limit("requests") == 60_000  # learned
        with Client(server.endpoint, KEY, model="m", rate_limit=False) as client:
            client.embed(corpus(300), batch_size=50)
            assert client.rate_limiter.sent == 0


def test_one_limiter_can_serve_a_sync_and_an_async_client() -> None:
    limiter = RateLimiter(tokens_per_minute=600_000)
    with quota_server(6_000_000, 60_000) as server:
        with Client(server.endpoint, KEY, model="m", rate_limiter=limiter) as client:
            client.embed(corpus(100), batch_size=50)

        async def run() -> None:
            async with AsyncClient(server.endpoint, KEY, model="m", rate_limiter=limiter) as ac:
                await ac.embed(corpus(100), batch_size=50)

        asyncio.run(run())
    assert limiter.sent == 4


def test_bad_bulk_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        Client("http://127.0.0.1:1", KEY, max_concurrency=0)
    with pytest.raises(ConfigurationError, match="tokens_per_minute"):
        Client("http://127.0.0.1:1", KEY, tokens_per_minute=-1)
    with pytest.raises(ConfigurationError, match="rate_limiter"):
        Client("http://127.0.0.1:1", KEY, rate_limiter=RateLimiter(), tokens_per_minute=10)


# ---- a probe that ends any way frees the limiter (issue 21.4) -------------------------------


class _NoToken:
    def get_token(self, *scopes: str, **kw: Any) -> Any:
        raise RuntimeError("the token service is down")


class _StalledToken:
    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def get_token(self, *scopes: str, **kw: Any) -> Any:
        self.entered.set()
        await asyncio.Event().wait()  # never answers


def test_a_probe_whose_get_token_raises_frees_the_limiter_at_once() -> None:
    with (
        quota_server(6_000_000, 60_000) as server,
        Client(server.endpoint, _NoToken(), model="m", rate_limit=True) as client,
    ):
        with pytest.raises(Exception, match="token service is down"):
            client.complete([{"role": "user", "content": "Hi"}])
        limiter = client.rate_limiter
        assert limiter.sent == 1
        nxt = limiter.reserve(1, 0, limiter._clock())
        assert nxt is not None
        assert nxt.probe  # the next call probes now, not in 10 s


async def test_a_cancelled_probe_frees_the_limiter_at_once() -> None:
    credential = _StalledToken()
    with quota_server(6_000_000, 60_000) as server:
        async with AsyncClient(server.endpoint, credential, model="m", rate_limit=True) as ac:
            task = asyncio.create_task(ac.complete([{"role": "user", "content": "Hi"}]))
            await credential.entered.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            limiter = ac.rate_limiter
            nxt = limiter.reserve(1, 0, limiter._clock())
            assert nxt is not None
            assert nxt.probe
