"""The emulator's quota mode: tokens and requests per minute per deployment, as the services.

A client-side limiter is built against these answers: the x-ratelimit-* headers on every answer,
429 with retry-after-ms / Retry-After, exact arithmetic on a clock the test controls.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

from azureinference import Client, RateLimitError
from azureinference.emulator import Emulator, EmulatorConfig, ModelSpec, running_emulator
from azureinference.emulator.quota import Bucket, DeploymentQuota, format_duration


class FakeClock:
    """Real time as the test says it is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the arithmetic --------------------------------------------------------------------------


def test_bucket_refills_at_the_limit_per_minute_scaled() -> None:
    bucket = Bucket(limit=600, level=0.0, updated=0.0)
    bucket.refill(1.0, time_scale=1.0)
    assert bucket.level == pytest.approx(10.0)  # 600 per minute = 10 per second
    bucket.refill(2.0, time_scale=60.0)
    assert bucket.level == 600.0  # a scaled second is a whole minute, never past the limit
    bucket.level = 0.0
    assert bucket.wait_for(30, time_scale=1.0) == pytest.approx(3.0)
    assert bucket.wait_for(30, time_scale=60.0) == pytest.approx(0.05)
    assert bucket.until_full(time_scale=1.0) == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0ms"),
        (0.0201, "21ms"),
        (1.5, "1.5s"),
        (8.64, "8.64s"),
        (360, "6m0s"),
        (90.5, "1m30.5s"),
    ],
)
def test_durations_are_written_as_openai_writes_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_admission_charges_both_buckets_and_names_the_binding_limit() -> None:
    quota = DeploymentQuota(tokens_per_minute=100, requests_per_minute=2, now=0.0)
    assert quota.admit(60, now=0.0, time_scale=1.0) is None
    refused = quota.admit(60, now=0.0, time_scale=1.0)
    assert refused is not None
    assert (refused.unit, refused.requested, refused.remaining) == ("tokens", 60, 40)
    assert refused.wait == pytest.approx(12.0)  # 20 tokens short at 100/60 per second
    assert quota.admit(60, now=12.0, time_scale=1.0) is None
    refused = quota.admit(1, now=12.0, time_scale=1.0)
    assert refused is not None
    assert refused.unit == "requests"
    assert quota.usage.requests == 2
    assert quota.usage.tokens == 120
    assert quota.usage.refused == 2
    headers = quota.headers(now=12.0, time_scale=1.0)
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-limit-tokens"] == "100"
    assert headers["x-ratelimit-remaining-tokens"] == "0"
    assert headers["x-ratelimit-reset-tokens"] == "1m0s"


def test_a_request_larger_than_the_quota_is_refused_for_good() -> None:
    quota = DeploymentQuota(tokens_per_minute=10, requests_per_minute=None, now=0.0)
    refused = quota.admit(11, now=0.0, time_scale=1.0)
    assert refused is not None
    assert refused.too_large
    assert "x-ratelimit-limit-requests" not in quota.headers(now=0.0, time_scale=1.0)


def test_bad_quota_values_are_refused_before_serving() -> None:
    with pytest.raises(ValueError, match="tokens_per_minute"):
        ModelSpec("m", tokens_per_minute=0)
    with pytest.raises(ValueError, match="time_scale"):
        EmulatorConfig(time_scale=0)


# --- over HTTP -------------------------------------------------------------------------------

CLI = [sys.executable, "-m", "azureinference.emulator"]
EMBED = "limited-embed"
CHAT = "limited-chat"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[Emulator]:
    config = EmulatorConfig(
        models=[
            ModelSpec(CHAT, tokens_per_minute=1000, requests_per_minute=600),
            ModelSpec(EMBED, kind="embeddings", tokens_per_minute=10, requests_per_minute=3),
            ModelSpec("free-embed", kind="embeddings"),
        ],
        clock=clock,
    )
    with running_emulator(config) as emulator:
        yield emulator


def post(emu: Emulator, route: str, body: dict[str, object]) -> httpx2.Response:
    return httpx2.post(
        f"{emu.url}/models/{route}", json=body, headers={"authorization": f"Bearer {emu.key}"}
    )


def embed(emu: Emulator, text: str, model: str = EMBED) -> httpx2.Response:
    return post(emu, "embeddings", {"model": model, "input": [text]})


def test_every_answer_reports_what_is_left(emu: Emulator, clock: FakeClock) -> None:
    first = embed(emu, "one two three")
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit-tokens"] == "10"
    assert first.headers["x-ratelimit-limit-requests"] == "3"
    assert first.headers["x-ratelimit-remaining-tokens"] == "7"
    assert first.headers["x-ratelimit-remaining-requests"] == "2"
    assert first.headers["x-ratelimit-reset-tokens"] == "18s"  # 3 tokens at 10 per minute
    assert first.headers["x-ratelimit-reset-requests"] == "20s"
    clock.now += 6  # one token flows back
    assert embed(emu, "four").headers["x-ratelimit-remaining-tokens"] == "7"
    bad = post(emu, "embeddings", {"model": EMBED, "input": [], "dimensions": 3})
    assert bad.status_code == 422
    assert bad.headers["x-ratelimit-remaining-tokens"] == "7"  # errors too, not charged
    assert "x-ratelimit-remaining-tokens" not in embed(emu, "x", model="free-embed").headers


def test_over_the_quota_is_429_with_how_long_to_wait(emu: Emulator, clock: FakeClock) -> None:
    assert embed(emu, "one two three four five six").status_code == 200
    refused = embed(emu, "seven eight nine ten eleven")  # 5 tokens, 4 left
    assert refused.status_code == 429
    assert refused.headers["retry-after-ms"] == "6000"  # one token at 10 per minute
    assert refused.headers["retry-after"] == "6"
    assert refused.headers["x-ratelimit-remaining-tokens"] == "4"
    error = refused.json()["error"]
    assert error["code"] == "429"
    assert "token" in error["message"]
    assert "retry after 6 seconds" in error["message"]
    clock.now += 6
    assert embed(emu, "seven eight nine ten eleven").status_code == 200
    usage = emu.quota_usage(EMBED)
    assert (usage.requests, usage.tokens, usage.refused) == (2, 11, 1)


def test_requests_per_minute_bind_too(emu: Emulator, clock: FakeClock) -> None:
    for _ in range(3):
        assert embed(emu, "a").status_code == 200
    refused = embed(emu, "a")
    assert refused.status_code == 429
    assert refused.headers["retry-after-ms"] == "20000"
    assert "requests rate limit of 3" in refused.json()["error"]["message"]


def test_a_request_larger_than_the_quota_says_so(emu: Emulator) -> None:
    refused = embed(emu, " ".join(["word"] * 11))
    assert refused.status_code == 429
    assert "Request too large" in refused.json()["error"]["message"]
    assert "retry-after" not in refused.headers


def test_chat_is_charged_its_prompt_and_max_tokens(emu: Emulator) -> None:
    body = {"model": CHAT, "messages": [{"role": "user", "content": "one two three"}]}
    plain = post(emu, "chat/completions", body)
    usage = plain.json()["usage"]
    assert plain.headers["x-ratelimit-remaining-tokens"] == str(1000 - usage["total_tokens"])
    capped = post(emu, "chat/completions", {**body, "max_tokens": 100})
    left = 1000 - usage["total_tokens"] - usage["prompt_tokens"] - 100
    assert capped.headers["x-ratelimit-remaining-tokens"] == str(left)
    with httpx2.stream(
        "POST",
        f"{emu.url}/models/chat/completions",
        json={**body, "stream": True},
        headers={"authorization": f"Bearer {emu.key}"},
    ) as streamed:
        assert streamed.headers["x-ratelimit-remaining-requests"] == "597"


def test_time_scale_compresses_the_minute(clock: FakeClock) -> None:
    config = EmulatorConfig(
        models=[ModelSpec(EMBED, kind="embeddings")],
        requests_per_minute=1,
        time_scale=60,
        clock=clock,
    )
    with running_emulator(config) as emu:
        assert embed(emu, "a").headers["x-ratelimit-reset-requests"] == "1s"
        refused = embed(emu, "a")
        assert refused.headers["retry-after-ms"] == "1000"
        clock.now += 1
        assert embed(emu, "a").status_code == 200


def test_set_quota_lasts_until_reset(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    emu.set_quota(requests_per_minute=1, model="emulator-embed")
    assert embed(emu, "a", model="emulator-embed").status_code == 200
    assert embed(emu, "a", model="emulator-embed").status_code == 429
    assert embed(emu, "a", model="emulator-embed-basic").status_code == 200  # not limited
    emu.reset()
    assert "x-ratelimit-limit-requests" not in embed(emu, "a", model="emulator-embed").headers


def test_clients_are_told_how_long_to_wait(clock: FakeClock) -> None:
    config = EmulatorConfig(requests_per_minute=1, time_scale=600, clock=clock)
    with running_emulator(config) as emu, Client(emu.endpoint, emu.key, max_retries=0) as client:
        client.embed(["a"], model="emulator-embed")
        with pytest.raises(RateLimitError) as caught:
            client.embed(["a"], model="emulator-embed")
        assert caught.value.retry_after == pytest.approx(0.1)  # a minute lasts 0.1 s
        assert "requests rate limit of 1 requests per minute" in str(caught.value)


def test_clients_that_wait_as_told_get_through() -> None:
    # The real clock: one request per minute, a minute lasting a tenth of a second.
    config = EmulatorConfig(requests_per_minute=1, time_scale=600)
    with running_emulator(config) as emu, Client(emu.endpoint, emu.key, max_retries=5) as client:
        for _ in range(3):
            assert client.embed(["a"], model="emulator-embed").data
        assert emu.quota_usage("emulator-embed").requests == 3


def test_cli_sets_quotas() -> None:
    proc = subprocess.Popen(
        [*CLI, "--port", "0", "--key", "k", "--rpm", "1", "--tpm", "50", "--time-scale", "0.001"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
        headers = {"api-key": "k"}
        body = {"model": "emulator-embed", "input": ["a"]}
        first = httpx2.post(url + "/models/embeddings", json=body, headers=headers)
        assert first.headers["x-ratelimit-limit-tokens"] == "0.05"  # per real minute
        second = httpx2.post(url + "/models/embeddings", json=body, headers=headers)
        assert second.status_code == 429
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
