"""The rate limiter's arithmetic, as pure functions of headers and a fake clock."""

from __future__ import annotations

import asyncio
import pickle
import threading

import httpx2
import pytest

from azureinference import ConfigurationError
from azureinference.ratelimit import (
    RateLimiter,
    estimate_chat_tokens,
    estimate_input_tokens,
    estimate_text_tokens,
    is_paced,
    paced,
    parse_duration,
    read_rate_limit_headers,
)


class FakeClock:
    """Virtual time: ``sleep`` moves it forward; nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def limiter(clock: FakeClock, **kw: object) -> RateLimiter:
    """A limiter on the fake clock; exact arithmetic: a 1-second burst, no headroom."""
    kw = {"burst_seconds": 1.0, "headroom": 1.0, **kw}
    return RateLimiter(clock=clock, sleep=clock.sleep, asleep=clock.asleep, **kw)  # type: ignore[arg-type]


def delays(lim: RateLimiter, clock: FakeClock, costs: list[float]) -> list[float]:
    """Reserve every cost at the same instant; return how long each must wait."""
    tickets = [lim.reserve(c, 0, clock.now) for c in costs]
    return [round(lim.delay(t, clock.now), 6) for t in tickets if t is not None]


# ---- headers and estimates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1.5", 1.5),
        ("20ms", 0.02),
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("0s", 0.0),
        ("", None),
        ("soon", None),
        ("5 minutes", None),
        ("1x2s", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_read_headers_as_azure_openai_sends_them() -> None:
    # The values of a real Azure OpenAI answer (realwire aoai_dep_tools.json), plus a 429's own.
    headers = httpx2.Headers(
        {
            "X-RateLimit-Limit-Requests": "300",
            "x-ratelimit-limit-tokens": "30000",
            "x-ratelimit-remaining-requests": "286",
            "x-ratelimit-remaining-tokens": "26567",
            "x-ratelimit-reset-tokens": "6m0s",
            "retry-after-ms": "1500",
            "retry-after": "2",
        }
    )
    info = read_rate_limit_headers(headers)
    assert (info.limit_requests, info.limit_tokens) == (300, 30000)
    assert (info.remaining_requests, info.remaining_tokens) == (286, 26567)
    assert info.reset_tokens == 360.0
    assert info.reset_requests is None
    assert info.retry_after == 1.5  # retry-after-ms wins


@pytest.mark.parametrize("bad", ["", "many", "-5", "nan", "inf"])
def test_unreadable_headers_are_not_limits(bad: str) -> None:
    info = read_rate_limit_headers({"x-ratelimit-limit-tokens": bad})
    assert info.limit_tokens is None


def test_token_estimates() -> None:
    assert estimate_text_tokens("") == 1
    assert estimate_text_tokens("a" * 400) == 100
    assert estimate_text_tokens("日本語のテキスト") == 6  # 24 bytes: about a token a character
    assert estimate_input_tokens(["a" * 40, "b" * 8]) == 12
    assert estimate_input_tokens([{"image": "data:image/png;base64,AAAA", "text": "cat"}]) == 86
    messages = [
        {"role": "system", "content": "x" * 40},
        {"role": "user", "content": [{"type": "text", "text": "y" * 80}]},
    ]
    assert estimate_chat_tokens(messages) == 3 + (4 + 10) + (4 + 20)


def test_chat_charge_adds_max_tokens_or_the_completions_seen(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=6000)
    assert lim.charge(100, 50) == 150
    assert lim.charge(100) == 100  # nothing seen yet
    lim.learn_usage(100, 100, 40)
    assert lim.charge(100) == pytest.approx(140)  # the first answer sets it
    lim.learn_usage(100, 100, 20)
    assert lim.charge(100) == pytest.approx(130)  # then a mean


def test_usage_teaches_the_ratio_of_estimate_to_count(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=6000)
    lim.learn_usage(100, 50, None)  # the service counts half what we guess
    assert lim.charge(100, 0) == pytest.approx(50)
    for _ in range(40):
        lim.learn_usage(100, 400, None)  # bounded: never more than 5 times the estimate
    assert lim.charge(100, 0) == pytest.approx(400, rel=0.01)
    lim.learn_usage(0, 50, None)  # nothing estimated: nothing learned
    assert lim.charge(100, 0) == pytest.approx(400, rel=0.01)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---- pacing ---------------------------------------------------------------------------------


def test_requests_are_spaced_at_the_rate(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=60)  # one a second, a burst of one
    assert delays(lim, clock, [0] * 5) == [0, 1, 2, 3, 4]


def test_tokens_go_in_a_burst_then_at_the_rate(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=600)  # 10 a second, a burst of 10
    assert delays(lim, clock, [5, 5, 5, 5]) == [0, 0, 0.5, 1.0]


def test_a_request_bigger_than_the_burst_waits_for_a_full_bucket_then_goes(
    clock: FakeClock,
) -> None:
    lim = limiter(clock, tokens_per_minute=600)
    assert delays(lim, clock, [30, 30, 5]) == [0, 3.0, 5.5]


def test_idle_time_banks_one_burst_only(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=600)
    delays(lim, clock, [10])
    clock.now += 100
    assert delays(lim, clock, [10, 10, 10]) == [0, 1.0, 2.0]


def test_both_lanes_apply_and_the_slower_decides(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=6000, requests_per_minute=60)
    assert delays(lim, clock, [1, 1, 1]) == [0, 1, 2]  # tokens to spare, requests not


def test_a_job_takes_the_time_the_quota_allows(clock: FakeClock) -> None:
    # Virtual time: 200 requests of 50 tokens at 100 tokens a second (burst 100).
    lim = limiter(clock, tokens_per_minute=6000)
    start = clock.now
    for _ in range(200):
        ticket = lim.acquire(50, 0)
        lim.answered(ticket, 200, {})
    assert clock.now - start == pytest.approx((200 * 50 - 100) / 100)


def test_a_set_limit_wins_over_what_the_headers_say(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=300)
    ticket = lim.reserve(1, 0, clock.now)
    for limit in ("600", "120"):
        lim.observe(ticket, 200, {"x-ratelimit-limit-tokens": limit}, clock.now)
        assert lim.limit("tokens") == 300
    lim.observe(ticket, 200, {"x-ratelimit-limit-requests": "120"}, clock.now)
    assert lim.limit("requests") == 120  # not set: learned


def test_invalid_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match="tokens_per_minute"):
        RateLimiter(tokens_per_minute=0)
    with pytest.raises(ConfigurationError, match="requests_per_minute"):
        RateLimiter(requests_per_minute="many")  # type: ignore[arg-type]


# ---- learning the limits -------------------------------------------------------------------


def test_the_first_request_goes_alone_and_its_answer_teaches_the_limits(
    clock: FakeClock,
) -> None:
    lim = limiter(clock)
    probe = lim.reserve(10, 0, clock.now)
    assert probe is not None
    assert probe.probe
    assert lim.reserve(10, 0, clock.now) is None  # waits for the probe's answer
    lim.mark_sent(probe, clock.now)
    headers = {"x-ratelimit-limit-tokens": "600", "x-ratelimit-limit-requests": "6000"}
    lim.observe(probe, 200, headers, clock.now)
    assert (lim.limit("tokens"), lim.limit("requests")) == (600, 6000)
    assert delays(lim, clock, [10, 10]) == [0, 1.0]


def test_without_headers_or_settings_nothing_is_paced(clock: FakeClock) -> None:
    lim = limiter(clock)
    probe = lim.reserve(10, 0, clock.now)
    lim.observe(probe, 200, {}, clock.now)
    assert delays(lim, clock, [1000] * 5) == [0] * 5


def test_a_probe_without_an_answer_frees_the_others(clock: FakeClock) -> None:
    lim = limiter(clock, probe_timeout=5)
    probe = lim.reserve(10, 0, clock.now)
    assert lim.reserve(10, 0, clock.now) is None
    clock.now += 5
    assert lim.reserve(10, 0, clock.now) is not None  # the probe is slow: go unpaced
    lim2 = limiter(clock)
    probe = lim2.reserve(10, 0, clock.now)
    assert probe is not None
    lim2.abandon(probe)  # a connection error: the next request probes
    assert lim2.reserve(10, 0, clock.now).probe  # type: ignore[union-attr]


def test_remaining_moves_the_credit_within_one_burst(clock: FakeClock) -> None:
    lim = limiter(clock)
    probe = lim.reserve(10, 0, clock.now)
    lim.observe(probe, 200, {"x-ratelimit-limit-tokens": "600"}, clock.now)  # 10/s, burst 10
    a, b, c = (lim.reserve(10, 0, clock.now) for _ in range(3))
    lim.mark_sent(a, clock.now)  # type: ignore[arg-type]
    assert [lim.delay(t, clock.now) for t in (b, c)] == [1.0, 2.0]  # type: ignore[arg-type]
    # The service has 600 left: we take one burst more (not 600), and the pending move up.
    lim.observe(a, 200, {"x-ratelimit-remaining-tokens": "600"}, clock.now)
    assert [lim.delay(t, clock.now) for t in (b, c)] == [0.0, 1.0]  # type: ignore[arg-type]


def test_a_set_limit_takes_no_room_the_headers_offer(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=600)
    a, b = (lim.reserve(10, 0, clock.now) for _ in range(2))
    lim.mark_sent(a, clock.now)  # type: ignore[arg-type]
    lim.observe(a, 200, {"x-ratelimit-remaining-tokens": "600"}, clock.now)
    assert lim.delay(b, clock.now) == 1.0  # type: ignore[arg-type]
    lim.observe(a, 200, {"x-ratelimit-remaining-tokens": "0"}, clock.now)
    assert lim.delay(b, clock.now) == 1.0  # type: ignore[arg-type]


def test_a_lower_remaining_slows_the_pending(clock: FakeClock) -> None:
    lim = limiter(clock, tokens_per_minute=600)
    ticket = lim.reserve(5, 0, clock.now)
    pending = lim.reserve(10, 0, clock.now)
    lim.mark_sent(ticket, clock.now)  # type: ignore[arg-type]
    assert ticket.token_level == 5  # type: ignore[union-attr]
    assert lim.delay(pending, clock.now) == 0.5  # type: ignore[arg-type]
    lim.observe(ticket, 200, {"x-ratelimit-remaining-tokens": "0"}, clock.now)
    assert lim.delay(pending, clock.now) == 1.0  # type: ignore[arg-type]


# ---- 429s -----------------------------------------------------------------------------------


def test_a_429_pauses_everyone_and_keeps_the_spacing(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=60)
    tickets = [lim.reserve(0, 0, clock.now) for _ in range(3)]
    lim.mark_sent(tickets[0], clock.now)  # type: ignore[arg-type]
    lim.observe(tickets[0], 429, {"retry-after-ms": "3000"}, clock.now)
    assert lim.throttled == 1
    assert lim.limit("requests") == pytest.approx(54)  # 10% slower
    waits = [lim.delay(t, clock.now) for t in tickets[1:]]  # type: ignore[arg-type]
    assert waits[0] >= 3.0
    assert waits[1] - waits[0] == pytest.approx(60 / 54)
    # A second 429 of a request sent before the first neither pauses nor slows again.
    lim.observe(tickets[0], 429, {"retry-after-ms": "3000"}, clock.now)
    assert lim.delay(tickets[1], clock.now) == pytest.approx(waits[0], rel=0.2)  # type: ignore[arg-type]
    assert lim.limit("requests") == pytest.approx(54)


def test_a_429_without_retry_after_uses_the_reset_or_a_second(clock: FakeClock) -> None:
    lim = limiter(clock)
    lim.observe(None, 429, {"x-ratelimit-reset-requests": "20ms"}, clock.now)
    assert lim.delay(lim.reserve(0, 0, clock.now), clock.now) == pytest.approx(0.02)  # type: ignore[arg-type]
    clock.now += 1
    lim.observe(None, 429, {}, clock.now)
    assert lim.delay(lim.reserve(0, 0, clock.now), clock.now) == pytest.approx(1.0)  # type: ignore[arg-type]


def test_retry_after_on_a_200_is_not_a_pause(clock: FakeClock) -> None:
    # together.ai sends retry-after: 2 on every answer (realwire together_text.json).
    lim = limiter(clock)
    lim.observe(lim.reserve(0, 0, clock.now), 200, {"retry-after": "2"}, clock.now)
    assert delays(lim, clock, [1, 1]) == [0, 0]


def test_the_pace_recovers_after_429s(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=100)
    for _ in range(20):
        lim.observe(None, 429, {"retry-after-ms": "0"}, clock.now)
    assert lim.limit("requests") == 50  # never below half
    for _ in range(100):
        lim.observe(None, 200, {}, clock.now)
    assert lim.limit("requests") == 100


# ---- sharing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lane", ["tokens", "requests"])
def test_threads_share_one_queue_without_losing_a_reservation(lane: str) -> None:
    # Time stands still: 8 threads take 400 requests of 3 tokens, exactly one burst of the lane
    # (1,200 tokens, or 400 requests). Then the next request waits for exactly its own cost,
    # which it would not if a reservation had been lost to a race.
    clock = FakeClock()
    slept: list[float] = []
    per_second = {"tokens": 1200, "requests": 400}[lane]
    lim = RateLimiter(
        **{f"{lane}_per_minute": per_second * 60},  # type: ignore[arg-type]
        burst_seconds=1.0,
        headroom=1.0,
        clock=clock,
        sleep=slept.append,
    )
    done: list[int] = []

    def work() -> None:
        for _ in range(50):
            ticket = lim.acquire(3, 0)
            lim.answered(ticket, 200, {})
            done.append(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(done) == lim.sent == 400
    assert slept == []  # the burst held them all
    cost = {"tokens": 3, "requests": 1}[lane]
    assert delays(lim, clock, [3]) == [cost / per_second]


async def test_tasks_wait_in_order_without_blocking_the_loop(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=60)
    order: list[int] = []

    async def one(i: int) -> None:
        await lim.aacquire(0, 0)
        order.append(i)

    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(10))), 10)
    assert order == list(range(10))
    assert lim.sent == 10


async def test_paced_reaches_threads_and_tasks_started_inside() -> None:
    assert not is_paced()
    with paced():
        assert is_paced()
        assert await asyncio.create_task(asyncio.sleep(0, is_paced()))
        assert await asyncio.to_thread(is_paced)
    assert not is_paced()


def test_the_default_pace_keeps_headroom_and_a_short_burst(clock: FakeClock) -> None:
    lim = RateLimiter(requests_per_minute=6000, clock=clock)  # 100 a second
    waits = delays(lim, clock, [0] * 26)
    # A quarter of a second of 98% of the limit goes at once (24.5 requests), then 98 a second.
    assert waits[:24] == [0] * 24
    assert waits[24] == pytest.approx(0.5 / 98, abs=1e-6)
    assert waits[25] - waits[24] == pytest.approx(1 / 98, abs=1e-6)


def test_a_pickled_limiter_keeps_its_settings_and_starts_afresh(clock: FakeClock) -> None:
    lim = RateLimiter(tokens_per_minute=600, requests_per_minute=60, burst_seconds=2)
    lim.observe(None, 429, {}, 0.0)
    copy = pickle.loads(pickle.dumps(lim))
    assert (copy.tokens_per_minute, copy.requests_per_minute, copy.burst_seconds) == (600, 60, 2)
    assert (copy.throttled, copy.limit("tokens")) == (0, 600)
    assert "600" in repr(copy)
