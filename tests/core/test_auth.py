"""Credentials: keys, key credentials, caller headers, Entra tokens (cached), env vars."""

from __future__ import annotations

import asyncio
import pickle
import types
from typing import Any

import pytest

import azureinference.auth as auth_module
from azureinference import (
    AsyncClient,
    AzureAuth,
    Client,
    ConfigurationError,
    HeaderCredential,
    StaticKeyCredential,
    make_auth,
    parse_endpoint,
)

from .core_support import (
    AI_SERVICES,
    AOAI,
    COMPATIBLE,
    GITHUB,
    KEY,
    ROTATED_KEY,
    SERVERLESS,
    TOKEN,
    V1,
    FakeAsyncTokenCredential,
    FakeKeyCredential,
    FakeTokenCredential,
    make_client,
)

HI = [{"role": "user", "content": "Hi"}]


class FakeClock:
    """Stands in for the ``time`` module inside ``azureinference.auth`` only."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(auth_module, "time", types.SimpleNamespace(time=fake.time))
    return fake


# ---- keys ----


@pytest.mark.parametrize(
    ("endpoint", "api_key"),
    [
        (SERVERLESS, False),
        (GITHUB, False),
        (COMPATIBLE, False),
        (AI_SERVICES, True),
        (AOAI, True),
        (V1, True),
    ],
)
def test_key_is_a_bearer_and_api_key_only_on_azure_openai_style_hosts(
    endpoint: str, api_key: bool
) -> None:
    """``api-key`` only where Azure OpenAI style hosts read it (the SDK sends it everywhere)."""
    client, rec = make_client(endpoint, KEY, model="m")
    client.complete(HI)
    assert rec.last.headers["authorization"] == f"Bearer {KEY}"
    assert ("api-key" in rec.last.headers) is api_key
    if api_key:
        assert rec.last.headers["api-key"] == KEY


def test_key_is_stripped_and_secretstr_like_objects_work() -> None:
    class Secret:
        def get_secret_value(self) -> str:
            return KEY

    for credential in (f"  {KEY}\n", Secret(), StaticKeyCredential(KEY)):
        client, rec = make_client(SERVERLESS, credential)
        client.complete(HI)
        assert rec.last.headers["authorization"] == f"Bearer {KEY}"


def test_key_rotation_updates_both_headers(sdk_scenarios: dict[str, Any]) -> None:
    """Better than the SDK: after ``AzureKeyCredential.update()`` both headers carry the new key.

    In scenario ``key_rotation`` the SDK's second request has ``Authorization: Bearer
    <rotated-key>`` but still the old ``api-key`` (copied into static headers at construction).
    """
    scenario = sdk_scenarios["key_rotation"]
    second = dict(scenario["requests"][1]["headers"])
    assert second["api-key"] == "<redacted>:key"  # the SDK's stale header
    assert second["Authorization"] == "Bearer <redacted>:rotated-key"

    credential = FakeKeyCredential(KEY)
    client, rec = make_client(AOAI, credential)
    client.complete(HI)
    credential.update(ROTATED_KEY)
    client.complete(HI)
    first, after = rec.requests
    assert first.headers["api-key"] == KEY
    assert after.headers["authorization"] == f"Bearer {ROTATED_KEY}"
    assert after.headers["api-key"] == ROTATED_KEY


@pytest.mark.parametrize(
    "credential",
    [HeaderCredential("api-key", KEY), f"api-key: {KEY}", f"api-key:   {KEY}  "],
)
def test_caller_header_credential(credential: Any) -> None:
    """Seed 000: the AI Toolkit asks for an authentication header ``api-key: <KEY>``."""
    client, rec = make_client(AOAI, credential)
    client.complete(HI)
    assert rec.last.headers["api-key"] == KEY
    assert "authorization" not in rec.last.headers


def test_authorization_header_string_form() -> None:
    """Seed 000's OpenAI example: ``Authorization: Bearer <KEY>`` given as the header."""
    client, rec = make_client(COMPATIBLE, f"Authorization: Bearer {KEY}")
    client.complete(HI)
    assert rec.last.headers["authorization"] == f"Bearer {KEY}"


def test_header_credential_parse() -> None:
    parsed = HeaderCredential.parse("Ocp-Apim-Subscription-Key: abc def")
    assert parsed is not None
    assert (parsed.name, parsed.value) == ("Ocp-Apim-Subscription-Key", "abc def")
    assert HeaderCredential.parse("plainkey") is None
    assert HeaderCredential.parse("a:b") is None  # no space: a key that holds a colon
    with pytest.raises(ConfigurationError):
        HeaderCredential("", "x")


def test_no_credential_is_an_error_naming_the_env_var() -> None:
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_CREDENTIAL"):
        Client(SERVERLESS)
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_CREDENTIAL"):
        Client(SERVERLESS, "   ")


def test_no_credential_is_fine_for_a_loopback_server() -> None:
    client, rec = make_client("http://127.0.0.1:8000/v1", None)
    client.complete(HI)
    assert "authorization" not in rec.last.headers
    assert "api-key" not in rec.last.headers


def test_unsupported_credential_type() -> None:
    with pytest.raises(ConfigurationError, match="Unsupported credential of type int"):
        Client(SERVERLESS, 12345)


def test_credential_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", AOAI)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", KEY)
    client, rec = make_client(None, None)
    client.complete(HI)
    assert rec.last.headers["authorization"] == f"Bearer {KEY}"
    assert rec.last.headers["api-key"] == KEY


def test_explicit_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", AOAI)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", "env-key")
    client, rec = make_client(SERVERLESS, KEY)
    client.complete(HI)
    assert rec.last.url.host == "my-endpoint.eastus2.models.ai.azure.com"
    assert rec.last.headers["authorization"] == f"Bearer {KEY}"


# ---- Entra ID tokens ----


@pytest.mark.parametrize(
    ("endpoint", "scope"),
    [
        (SERVERLESS, "https://ml.azure.com/.default"),
        ("https://my-ep.eastus2.inference.ai.azure.com", "https://ml.azure.com/.default"),
        (AI_SERVICES, "https://cognitiveservices.azure.com/.default"),
        (AOAI, "https://cognitiveservices.azure.com/.default"),
        (V1, "https://ai.azure.com/.default"),
    ],
)
def test_default_token_scope_per_kind(endpoint: str, scope: str) -> None:
    credential = FakeTokenCredential()
    client, rec = make_client(endpoint, credential, model="m")
    client.complete(HI)
    assert credential.calls == [(scope,)]
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-1"
    assert "api-key" not in rec.last.headers


def test_scope_override(sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``entra_cognitiveservices_scope``: ``credential_scopes`` replaces the default."""
    expected = sdk_scenarios["entra_cognitiveservices_scope"]["sdk_result"]["get_token_calls"]
    credential = FakeTokenCredential()
    client, _ = make_client(
        SERVERLESS, credential, credential_scopes=["https://cognitiveservices.azure.com/.default"]
    )
    client.complete(HI)
    assert [list(c) for c in credential.calls] == [c["scopes"] for c in expected]


def test_default_scope_matches_the_sdk(sdk_scenarios: dict[str, Any]) -> None:
    expected = sdk_scenarios["entra_default_scope"]["sdk_result"]["get_token_calls"]
    credential = FakeTokenCredential()
    client, _ = make_client(SERVERLESS, credential)
    client.complete(HI)
    assert [list(c) for c in credential.calls] == [c["scopes"] for c in expected]


def test_token_is_cached_until_near_expiry_then_refreshed(clock: FakeClock) -> None:
    credential = FakeTokenCredential(lifetime=3600, clock=clock.time)
    client, rec = make_client(SERVERLESS, credential)
    client.complete(HI)
    clock.now += 1800
    client.complete(HI)
    assert len(credential.calls) == 1
    assert {r.headers["authorization"] for r in rec.requests} == {f"Bearer {TOKEN}-1"}
    # Within five minutes of expiry the token is refreshed before it is sent.
    clock.now += 1800 - 200
    client.complete(HI)
    assert len(credential.calls) == 2
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-2"
    client.complete(HI)
    assert len(credential.calls) == 2


def test_expired_token_is_refreshed(clock: FakeClock) -> None:
    credential = FakeTokenCredential(lifetime=600, clock=clock.time)
    client, rec = make_client(SERVERLESS, credential)
    client.complete(HI)
    clock.now += 10_000
    client.complete(HI)
    assert [r.headers["authorization"] for r in rec.requests] == [
        f"Bearer {TOKEN}-1",
        f"Bearer {TOKEN}-2",
    ]


async def test_async_token_credential(clock: FakeClock) -> None:
    credential = FakeAsyncTokenCredential(lifetime=3600, clock=clock.time)
    client, rec = make_client(SERVERLESS, credential, asynchronous=True)
    assert isinstance(client, AsyncClient)
    await client.complete(HI)
    await client.complete(HI)
    assert credential.calls == [("https://ml.azure.com/.default",)]
    clock.now += 3600
    await client.complete(HI)
    assert len(credential.calls) == 2
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-2"
    await client.aclose()


class SlowAsyncTokenCredential(FakeTokenCredential):
    """An async credential that yields to the loop, so concurrent callers wait on the lock."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:  # type: ignore[override]
        await asyncio.sleep(0.005)
        return self._next(scopes)


def test_async_token_across_two_asyncio_runs_with_concurrent_calls() -> None:
    """The token lock is per event loop: a lock from the first ``asyncio.run`` is not reused."""
    credential = SlowAsyncTokenCredential(lifetime=0)  # always stale: every call refreshes
    client, rec = make_client(SERVERLESS, credential, asynchronous=True)

    async def burst() -> None:
        await asyncio.gather(*(client.complete(HI) for _ in range(4)))

    asyncio.run(burst())
    asyncio.run(burst())
    assert len(rec.requests) == 8
    assert len(credential.calls) == 8


async def test_concurrent_first_calls_fetch_one_token() -> None:
    credential = SlowAsyncTokenCredential()
    client, rec = make_client(SERVERLESS, credential, asynchronous=True)
    await asyncio.gather(*(client.complete(HI) for _ in range(5)))
    assert len(credential.calls) == 1
    assert len(rec.requests) == 5
    await client.aclose()


async def test_sync_token_credential_works_with_the_async_client(clock: FakeClock) -> None:
    credential = FakeTokenCredential(clock=clock.time)
    client, rec = make_client(AOAI, credential, asynchronous=True)
    await client.complete(HI)
    await client.complete(HI)
    assert len(credential.calls) == 1
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-1"
    await client.aclose()


def test_async_token_credential_refused_by_the_sync_client() -> None:
    """Refused when the client is built, not at its first call."""
    with pytest.raises(ConfigurationError, match="async token credential"):
        make_client(SERVERLESS, FakeAsyncTokenCredential())


def test_token_over_plain_http_is_refused(sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``entra_http_refused``: like the SDK, no bearer token over http; before any I/O."""
    assert "non-TLS" in sdk_scenarios["entra_http_refused"]["sdk_exception"]["str"]
    assert sdk_scenarios["entra_http_refused"]["requests"] == []
    credential = FakeTokenCredential()
    with pytest.raises(ConfigurationError, match="plain http"):
        Client("http://my-ep.eastus2.models.ai.azure.com", credential)
    with pytest.raises(ConfigurationError, match="plain http"):
        AsyncClient("http://192.168.10.202:18081/api/v1/ai", credential)
    assert credential.calls == []


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:5000", "http://localhost:5000/models", "http://[::1]:5000/v1"]
)
def test_token_over_http_to_loopback_is_allowed(endpoint: str) -> None:
    """Loopback never leaves the machine (the SDK needs ``enforce_https=False`` for 127.0.0.1)."""
    credential = FakeTokenCredential()
    client, rec = make_client(endpoint, credential)
    client.complete(HI)
    assert rec.last.headers["authorization"] == f"Bearer {TOKEN}-1"


def test_keys_may_go_over_http() -> None:
    """Seed 001: an on-premises gateway on http with a key (only Entra tokens need https)."""
    client, rec = make_client("http://192.168.10.202:18081/api/v1/ai", KEY)
    client.complete(HI)
    assert rec.last.headers["authorization"] == f"Bearer {KEY}"


def test_token_credential_without_a_token_string() -> None:
    class Broken:
        def get_token(self, *scopes: str) -> object:
            return object()

    client, _ = make_client(SERVERLESS, Broken())
    with pytest.raises(ConfigurationError, match="token"):
        client.complete(HI)


def test_token_is_fetched_again_on_each_retry_only_when_stale(clock: FakeClock) -> None:
    from .core_support import reply

    credential = FakeTokenCredential(clock=clock.time)
    client, rec = make_client(
        SERVERLESS, credential, replies=[reply(503, {"error": {"code": "busy"}}), reply()]
    )
    client.complete(HI)
    assert len(rec.requests) == 2
    assert len(credential.calls) == 1
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}-1" for r in rec.requests)


# ---- secrets never shown ----


def test_reprs_never_show_secrets() -> None:
    endpoint = parse_endpoint(AOAI)
    token_credential = FakeTokenCredential()
    objects: list[Any] = [
        StaticKeyCredential(KEY),
        HeaderCredential("api-key", KEY),
        make_auth(KEY, endpoint),
        make_auth(f"api-key: {KEY}", endpoint),
        make_auth(FakeKeyCredential(KEY), endpoint),
        Client(AOAI, KEY),
        AsyncClient(AOAI, KEY),
    ]
    client = Client(AOAI, token_credential)
    client.auth._sync_token()
    objects += [client, client.auth]
    for obj in objects:
        assert KEY not in repr(obj)
        assert KEY not in str(obj)
        assert TOKEN not in repr(obj)
    assert "AzureAuth(credential=StaticKeyCredential" in repr(make_auth(KEY, endpoint))


def test_auth_is_an_httpx_auth_and_pickles() -> None:
    auth = make_auth(KEY, parse_endpoint(AOAI))
    assert isinstance(auth, AzureAuth)
    copy = pickle.loads(pickle.dumps(auth))
    assert copy.scopes == auth.scopes
    header = pickle.loads(pickle.dumps(HeaderCredential("api-key", KEY)))
    assert (header.name, header.value) == ("api-key", KEY)
    assert pickle.loads(pickle.dumps(StaticKeyCredential(KEY))).key == KEY
