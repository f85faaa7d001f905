"""Bearer token providers, short-lived tokens, a refused token replaced once, project endpoints.

Sync and async: one test body drives both clients. The clock is a fake one inside
``azureinference.auth`` (no sleeps); concurrent callers are counted, not timed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import types
from typing import Any

import pytest

import azureinference.auth as auth_module
from azureinference import AsyncClient, AuthenticationError, Client, ConfigurationError
from azureinference.auth import TokenProvider

from .core_support import (
    KEY,
    SERVERLESS,
    TOKEN,
    V1,
    AccessToken,
    FakeAsyncTokenCredential,
    FakeKeyCredential,
    FakeTokenCredential,
    collect,
    make_client,
    maybe_await,
    reply,
)

HI = [{"role": "user", "content": "Hi"}]
PROJECT = "https://my-resource.services.ai.azure.com/api/projects/my-project"
AI_SCOPE = "https://ai.azure.com/.default"
UNAUTHORIZED = reply(401, {"error": {"code": "401", "message": "Token expired"}})


class Seen:
    """Replies from a script, noting each request's Authorization as it was sent.

    (The recorder keeps request objects, and a request sent again after a 401 is the same object
    with a new header, as in httpx's own auth flows.)
    """

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.authorizations: list[str] = []

    def __call__(self, request: Any) -> Any:
        self.authorizations.append(request.headers["authorization"])
        index = min(len(self.authorizations), len(self.replies)) - 1
        answer = self.replies[index]
        return reply(answer.status_code, json.loads(answer.content))

    def script(self) -> list[Any]:
        return [self]


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(auth_module, "time", types.SimpleNamespace(time=fake.time))
    return fake


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def close(client: Any) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


class Provider:
    """A refreshing bearer token provider (``get_bearer_token_provider``'s shape)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"{TOKEN}-{self.calls}"


class AsyncProvider(Provider):
    async def __call__(self) -> str:  # type: ignore[override]
        await asyncio.sleep(0)
        return super().__call__()


# ---- a callable token provider ----


async def test_token_provider_is_called_on_every_request(sync: bool) -> None:
    provider = Provider()
    client, rec = make_client(V1, provider, asynchronous=not sync, model="m")
    for _ in range(4):
        await maybe_await(client.complete(HI))
    assert provider.calls == 4
    assert [r.headers["authorization"] for r in rec.requests] == [
        f"Bearer {TOKEN}-{n}" for n in range(1, 5)
    ]
    assert all("api-key" not in r.headers for r in rec.requests)
    await close(client)


async def test_async_token_provider_in_the_async_client() -> None:
    """``azure.identity.aio.get_bearer_token_provider`` returns an async function."""

    async def aio_provider() -> str:
        return TOKEN

    for provider in (aio_provider, AsyncProvider()):
        client, rec = make_client(V1, provider, asynchronous=True, model="m")
        await client.complete(HI)
        await client.complete(HI)
        assert rec.last.headers["authorization"].startswith(f"Bearer {TOKEN}")
        assert len(rec.requests) == 2
        await client.aclose()


@pytest.mark.parametrize("kind", ["function", "object"])
def test_async_provider_refused_by_the_sync_client_at_construction(kind: str) -> None:
    async def aio_provider() -> str:
        return TOKEN

    provider = aio_provider if kind == "function" else AsyncProvider()
    with pytest.raises(ConfigurationError, match="async token credential or token provider"):
        Client(V1, provider)
    with pytest.raises(ConfigurationError, match="async"):
        Client(V1, FakeAsyncTokenCredential())


def test_provider_whose_call_returns_a_coroutine_is_refused_in_sync_calls() -> None:
    """A provider that looks sync but returns an awaitable: named, and the coroutine closed."""

    async def token() -> str:
        return TOKEN

    client, rec = make_client(V1, lambda: token(), model="m")
    with pytest.raises(ConfigurationError, match="async"):
        client.complete(HI)
    assert rec.requests == []


@pytest.mark.parametrize("value", [None, "", 42, "bad\ntoken"])
async def test_provider_returning_no_token_is_named(sync: bool, value: Any) -> None:
    client, rec = make_client(V1, lambda: value, asynchronous=not sync, model="m")
    with pytest.raises(ConfigurationError, match="token provider") as info:
        await maybe_await(client.complete(HI))
    assert "bad" not in str(info.value)
    assert rec.requests == []
    await close(client)


def test_provider_token_never_over_plain_http_and_never_shown() -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        Client("http://gateway.example.com/v1", Provider())
    client = Client(V1, Provider())
    assert TOKEN not in repr(client.auth)
    assert "TokenProvider" in repr(TokenProvider(Provider()))


# ---- tokens that live under five minutes, shared by concurrent callers ----


async def test_short_lived_token_is_fetched_once_per_expiry(clock: FakeClock, sync: bool) -> None:
    credential = FakeTokenCredential(lifetime=120, clock=clock.time)
    client, rec = make_client(SERVERLESS, credential, asynchronous=not sync)
    for _ in range(5):
        await maybe_await(client.complete(HI))
    assert len(credential.calls) == 1
    clock.now += 100  # still valid (20 s left of 120)
    await maybe_await(client.complete(HI))
    assert len(credential.calls) == 1
    clock.now += 20  # expired: refreshed before it is sent
    await maybe_await(client.complete(HI))
    assert len(credential.calls) == 2
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-2"
    await close(client)


class CountingAsyncCredential(FakeTokenCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:  # type: ignore[override]
        await asyncio.sleep(0)  # lets the other callers reach the lock
        return self._next(scopes)


async def test_fifty_concurrent_calls_share_one_short_lived_token() -> None:
    for credential in (CountingAsyncCredential(lifetime=60), FakeTokenCredential(lifetime=60)):
        client, rec = make_client(SERVERLESS, credential, asynchronous=True)
        await asyncio.gather(*(client.complete(HI) for _ in range(50)))
        assert len(rec.requests) == 50
        assert len(credential.calls) == 1
        await client.aclose()


def test_threads_share_one_short_lived_token() -> None:
    credential = FakeTokenCredential(lifetime=60)
    client, rec = make_client(SERVERLESS, credential)
    start = threading.Barrier(8)

    def call() -> None:
        start.wait()
        for _ in range(5):
            client.complete(HI)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rec.requests) == 40
    assert len(credential.calls) == 1


# ---- expires_on as a datetime ----


class DatetimeCredential:
    def __init__(self, expires_on: Any) -> None:
        self.expires_on = expires_on
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(TOKEN, self.expires_on)


@pytest.mark.parametrize("aware", [True, False], ids=["aware", "naive-utc"])
async def test_expires_on_as_a_datetime_is_understood(
    clock: FakeClock, sync: bool, aware: bool
) -> None:
    expires = dt.datetime.fromtimestamp(clock.now + 3600, dt.UTC)
    if not aware:
        expires = expires.replace(tzinfo=None)
    credential = DatetimeCredential(expires)
    client, _ = make_client(SERVERLESS, credential, asynchronous=not sync)
    await maybe_await(client.complete(HI))
    await maybe_await(client.complete(HI))
    assert credential.calls == 1
    clock.now += 3600
    await maybe_await(client.complete(HI))
    assert credential.calls == 2
    await close(client)


async def test_expires_on_of_another_type_is_named(sync: bool) -> None:
    client, rec = make_client(SERVERLESS, DatetimeCredential([1]), asynchronous=not sync)
    with pytest.raises(ConfigurationError, match="expires_on of type list"):
        await maybe_await(client.complete(HI))
    assert rec.requests == []
    await close(client)


# ---- a token the service refused (401) is dropped and fetched once more ----


async def test_refused_token_is_replaced_once_then_the_call_succeeds(
    clock: FakeClock, sync: bool
) -> None:
    credential = FakeTokenCredential(clock=clock.time)
    seen = Seen(UNAUTHORIZED, reply())
    client, _ = make_client(SERVERLESS, credential, seen.script(), asynchronous=not sync)
    answer = await maybe_await(client.complete(HI))
    assert answer.choices
    assert seen.authorizations == [f"Bearer {TOKEN}-1", f"Bearer {TOKEN}-2"]
    await maybe_await(client.complete(HI))  # the new token is the cached one now
    assert len(credential.calls) == 2
    await close(client)


async def test_refused_twice_fails_after_one_new_token(clock: FakeClock, sync: bool) -> None:
    credential = FakeTokenCredential(clock=clock.time)
    client, rec = make_client(SERVERLESS, credential, [UNAUTHORIZED], asynchronous=not sync)
    with pytest.raises(AuthenticationError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 2
    assert len(credential.calls) == 2
    with pytest.raises(AuthenticationError):
        await collect(await maybe_await(client.stream(HI)))
    assert len(rec.requests) == 4
    await close(client)


async def test_refused_provider_token_asks_the_provider_once_more(sync: bool) -> None:
    provider = Provider()
    seen = Seen(UNAUTHORIZED, reply())
    client, _ = make_client(V1, provider, seen.script(), asynchronous=not sync)
    await maybe_await(client.complete(HI, model="m"))
    assert provider.calls == 2
    assert seen.authorizations == [f"Bearer {TOKEN}-1", f"Bearer {TOKEN}-2"]
    await close(client)


async def test_a_refused_key_is_not_resent(sync: bool) -> None:
    client, rec = make_client(SERVERLESS, KEY, [UNAUTHORIZED], asynchronous=not sync)
    with pytest.raises(AuthenticationError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 1
    await close(client)


# ---- project endpoints ----


async def test_project_endpoint_url_and_scope(sync: bool) -> None:
    credential = FakeTokenCredential()
    client, rec = make_client(PROJECT, credential, asynchronous=not sync, model="gpt-4.1")
    await maybe_await(client.complete(HI))
    assert str(rec.last.url) == f"{PROJECT}/openai/v1/chat/completions"
    assert credential.calls == [(AI_SCOPE,)]
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-1"
    assert client.endpoint.project == "my-project"
    await close(client)


@pytest.mark.parametrize(
    "credential", [KEY, f"api-key: {KEY}", FakeKeyCredential(KEY)], ids=["str", "header", "obj"]
)
@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_project_endpoint_refuses_a_key_before_any_io(
    credential: Any, cls: type[Any], silent_endpoint: Any
) -> None:
    with pytest.raises(ConfigurationError, match="Entra ID only") as info:
        cls(PROJECT, credential)
    assert KEY not in str(info.value)
    url, connected = silent_endpoint
    with pytest.raises(ConfigurationError, match="Entra ID only"):
        cls(url.removesuffix("/models") + "/api/projects/p", credential)
    assert not connected()
