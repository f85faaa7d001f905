"""The rate limiter's arithmetic, as pure functions of headers and a fake clock."""

from __future__ import annotations

import asyncio
import itertools
import pickle
import threading

import httpx2
import pytest

from azureinference import ConfigurationError, RateLimitError
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

from .core_support import FakeClock


def limiter(clock: FakeClock, **kw: object) -> RateLimiter:
    """A limiter on the fake clock; exact arithmetic: a 1-second burst, no headroom."""
    kw = {"burst_seconds": 1.0, "headroom": 1.0, "random": lambda: 0.0, **kw}
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
    headers = {"x-ratelimit-limit-tokens": "6000", "x-ratelimit-limit-requests": "6000"}
    lim.observe(probe, 200, headers, clock.now)
    assert (lim.limit("tokens"), lim.limit("requests")) == (6000, 6000)
    assert delays(lim, clock, [100, 100]) == [0, 1.0]


def test_without_headers_or_settings_requests_start_slow(clock: FakeClock) -> None:
    # Nothing said of the quota: no stampede either; requests go at 4 a second to start with.
    lim = limiter(clock, burst_seconds=0.25)
    probe = lim.reserve(10, 0, clock.now)
    lim.observe(probe, 200, {}, clock.now)
    assert (lim.limit("tokens"), lim.limit("requests")) == (None, 240)
    assert lim.engaged  # a user's gather is paced too
    assert delays(lim, clock, [1000] * 5) == [0, 0.25, 0.5, 0.75, 1.0]


def _busy(lim: RateLimiter, clock: FakeClock, seconds: float, step: float = 1.0) -> list[int]:
    """Send as fast as the limiter lets, each answered in 0.5 ms with no headers, for
    ``seconds``; how many went in each ``step`` of time."""
    start = clock.now
    counts = [0] * round(seconds / step)
    while True:
        ticket = lim.acquire(10, 0)
        second = int((clock.now - start) / step)
        if second >= len(counts):
            lim.abandon(ticket)
            return counts
        counts[second] += 1
        clock.now += 0.0005
        lim.observe(ticket, 200, {}, clock.now)


def test_the_starting_pace_doubles_each_busy_round_trip(clock: FakeClock) -> None:
    lim = limiter(clock, burst_seconds=0.25)
    lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
    counts = _busy(lim, clock, 1.25, step=0.25)  # answers in 0.5 ms: a doubling a quarter second
    assert counts[0] == 1  # 4 a second
    for before, after in itertools.pairwise(counts):  # TCP's slow start
        assert 2 * before <= after <= 2 * before + 2 + before // 4  # (+ a quarter second's burst)
    assert lim.limit("requests") == 240 * 16  # (the fifth doubling comes with the next answer)


def test_a_slow_service_doubles_the_starting_pace_once_a_round_trip(clock: FakeClock) -> None:
    # 300 calls at once, each answered a second after it went: the pace doubles once the
    # answer of a request sent at it is back (what a pace does is known only then).
    start = clock.now
    sent = _simulate(limiter(clock, burst_seconds=0.25), clock, 300, 1.0)
    per_second = [sum(1 for t in sent if k <= t - start < k + 1) for k in range(6)]
    assert per_second[:4] == [1, 4, 8, 16]  # the probe alone, then 4, 8, 16... a second
    assert 30 <= per_second[4] <= 32
    assert 60 <= per_second[5] <= 64
    fast = limiter(clock, burst_seconds=0.25)
    start = clock.now
    sent = _simulate(fast, clock, 300, 0.02)  # answered in 20 ms: a doubling a quarter second
    assert sent[-1] - start < 3.0


def test_a_caller_slower_than_the_starting_pace_does_not_raise_it(clock: FakeClock) -> None:
    lim = limiter(clock, burst_seconds=0.25)
    for _ in range(20):  # one call a second for 20 s: the pace never held anyone back
        lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
        clock.now += 1.0
    assert lim.limit("requests") == 240
    assert clock.slept == []


def _simulate(lim: RateLimiter, clock: FakeClock, n: int, latency: float) -> list[float]:
    """``n`` callers at once (a user's gather), each waking when the limiter says, answered
    ``latency`` later with no headers: a discrete-event run on the fake clock. Send times."""
    import heapq

    wakes = [(clock.now, i) for i in range(n)]  # (when, caller)
    tickets: dict[int, object] = {}
    answers: list[tuple[float, int]] = []  # (when, caller)
    sent: list[float] = []
    while wakes or answers:
        if answers and (not wakes or answers[0][0] <= wakes[0][0]):
            clock.now, i = heapq.heappop(answers)
            lim.observe(tickets[i], 200, {}, clock.now)  # type: ignore[arg-type]
            continue
        clock.now, i = heapq.heappop(wakes)
        ticket, wait = lim._next(tickets.get(i), 10, 0, 0.05, None)  # type: ignore[arg-type]
        tickets[i] = ticket
        if ticket is not None and wait == 0.0:
            sent.append(clock.now)
            heapq.heappush(answers, (clock.now + latency, i))
        else:
            heapq.heappush(wakes, (clock.now + wait, i))
    return sent


def test_waiters_catch_up_as_the_starting_pace_doubles(clock: FakeClock) -> None:
    # 300 calls at once: each waits for its place at 4 a second (75 s for the last), but wakes
    # often enough to go as soon as the pace has doubled (4, 8, 16... a quarter second: ~2 s).
    start = clock.now
    sent = _simulate(limiter(clock, burst_seconds=0.25), clock, 300, 0.02)
    assert len(sent) == 300
    assert sent[-1] - start < 3.0


def test_a_start_that_meets_no_429_ends_unpaced(clock: FakeClock) -> None:
    lim = limiter(clock, burst_seconds=0.25)
    lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
    _busy(lim, clock, 3.0)  # 4, 8, ..., 1,024 a second: no limit that matters
    assert lim.limit("requests") is None
    assert not lim.engaged  # single calls go unpaced again...
    assert delays(lim, clock, [10] * 50) == [0] * 50
    lim.observe(None, 429, {"retry-after-ms": "10"}, clock.now)
    assert lim.engaged  # ...until a 429; the pace is then found, not started again
    assert lim.limit("requests") is not None


def test_a_429_in_the_start_sets_the_pace_where_it_came(clock: FakeClock) -> None:
    lim = limiter(clock, burst_seconds=0.25)
    lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
    counts = _busy(lim, clock, 1.0, step=0.25)  # 4, 8, 16, 32 a second
    assert lim.limit("requests") == 32 * 60
    lim.observe(None, 429, {"retry-after-ms": "10"}, clock.now)
    # The pace where the 429 came: what the service admitted over the last second (the probe
    # and the others), less 15%, not the pace allowed.
    admitted = (1 + sum(counts)) * 60
    assert lim.limit("requests") == pytest.approx(admitted * 0.85, rel=0.05)
    assert lim.limit("tokens") is not None  # the tokens it admitted: a pace for them too


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


def test_remaining_never_adds_credit(clock: FakeClock) -> None:
    # remaining is a per-minute figure; the service checks short windows: room it reports is
    # no room to burst into, and a request bigger than the burst earns nothing either.
    lim = limiter(clock)
    probe = lim.reserve(10, 0, clock.now)
    lim.observe(probe, 200, {"x-ratelimit-limit-tokens": "6000"}, clock.now)  # 100/s, burst 100
    big, b, c = (lim.reserve(cost, 0, clock.now) for cost in (300, 100, 100))
    lim.mark_sent(big, clock.now)  # type: ignore[arg-type]
    before = [lim.delay(t, clock.now) for t in (b, c)]  # type: ignore[arg-type]
    assert before == [3.0, 4.0]
    lim.observe(big, 200, {"x-ratelimit-remaining-tokens": "5700"}, clock.now)
    assert [lim.delay(t, clock.now) for t in (b, c)] == before  # type: ignore[arg-type]


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


def test_the_pace_recovers_within_seconds_of_clean_answers(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=100)
    for _ in range(20):
        lim.observe(None, 429, {"retry-after-ms": "0"}, clock.now)
        clock.now += 0.01
    assert lim.limit("requests") == 90  # 429s within a second (a window): one slowdown
    for _ in range(20):
        clock.now += 1.0
        lim.observe(None, 429, {"retry-after-ms": "0"}, clock.now)
    assert lim.limit("requests") == 50  # never below half
    for _ in range(50):  # five seconds of clean answers, whatever their number
        clock.now += 0.1
        lim.observe(None, 200, {}, clock.now)
    assert lim.limit("requests") == pytest.approx(100)


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


# ---- hostile headers (issue 21.3) ----------------------------------------------------------

HOSTILE_429 = [
    {"retry-after": "inf"},
    {"retry-after": "1e309"},
    {"retry-after": "99999999999"},
    {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
    {"retry-after-ms": "1e309"},
    {"retry-after-ms": "nan", "retry-after": "nan"},
    {"x-ratelimit-reset-tokens": "inf"},
    {"x-ratelimit-reset-requests": "99999h"},
    {"x-ratelimit-reset-requests": "9" * 400 + "h"},
    {"retry-after": "3600"},
]


@pytest.mark.parametrize("headers", HOSTILE_429)
def test_a_hostile_429_never_overflows_nor_pauses_past_max_pause(
    clock: FakeClock, headers: dict[str, str]
) -> None:
    lim = limiter(clock, tokens_per_minute=6000, requests_per_minute=600)
    info = read_rate_limit_headers(headers)
    for value in (info.retry_after, info.reset_tokens, info.reset_requests):
        assert value is None or 0 <= value <= 31_536_000
    lim.observe(lim.acquire(10, 0), 429, headers, clock.now)
    assert lim.paused_for(clock.now) <= lim.max_pause  # never an hour, never years
    for _ in range(5):  # later calls are paced as usual, no OverflowError
        lim.answered(lim.acquire(10, 0), 200, {})
    assert sum(clock.slept) <= lim.max_pause + 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("x-ratelimit-limit-tokens", "1e-300"),
        ("x-ratelimit-limit-tokens", "1"),
        ("x-ratelimit-limit-requests", "0.001"),
        ("x-ratelimit-limit-tokens", "inf"),
        ("x-ratelimit-remaining-tokens", "-3"),
    ],
)
def test_an_absurd_limit_is_not_believed(clock: FakeClock, name: str, value: str) -> None:
    lim = limiter(clock)
    probe = lim.reserve(10, 0, clock.now)
    lim.observe(probe, 200, {name: value}, clock.now)
    assert lim.limit("tokens") is None
    assert lim.limit("requests") == 240  # as with no headers: the starting pace


def test_a_huge_limit_is_capped_and_works(clock: FakeClock) -> None:
    lim = limiter(clock)
    lim.observe(lim.reserve(1, 0, clock.now), 200, {"x-ratelimit-limit-tokens": "1e300"}, 0)
    assert lim.limit("tokens") == 1e12
    assert delays(lim, clock, [1e6] * 3) == [0, 0, 0]


def test_a_pause_past_the_deadline_fails_the_call_at_once(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=600)
    lim.observe(lim.acquire(0, 0), 429, {"retry-after": "30"}, clock.now)
    with pytest.raises(RateLimitError, match="wait 30s") as info:
        lim.acquire(0, 0, deadline=clock.now + 5)
    assert info.value.retry_after == pytest.approx(30)
    assert clock.slept == []  # failed at once, not after sleeping
    assert lim._requests is not None
    assert not lim._requests.refunds or lim._requests.tail >= 1  # its place was given back
    lim.acquire(0, 0, deadline=clock.now + 60)  # a call that can wait, waits
    assert sum(clock.slept) >= 30


# ---- cancelled and failed waiters (issue 21.4) ----------------------------------------------


def test_abandoned_waiters_leave_the_queue(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=60)  # one a second
    first = lim.reserve(0, 0, clock.now)
    lim.mark_sent(first, clock.now)  # type: ignore[arg-type]
    gone = [lim.reserve(0, 0, clock.now) for _ in range(200)]
    for ticket in gone[::2] + gone[1::2]:  # from the middle as well as from the end
        lim.abandon(ticket)  # type: ignore[arg-type]
    nxt = lim.reserve(0, 0, clock.now)
    assert lim.delay(nxt, clock.now) == 1.0  # type: ignore[arg-type]
    lim.abandon(first)  # type: ignore[arg-type]  # sent: nothing to give back, harmless
    assert lim.delay(nxt, clock.now) == 1.0  # type: ignore[arg-type]


def test_a_waiter_cancelled_in_the_middle_moves_the_ones_behind_it(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=60)
    a, b, c, d = (lim.reserve(0, 0, clock.now) for _ in range(4))
    lim.abandon(b)  # type: ignore[arg-type]
    assert [lim.delay(t, clock.now) for t in (a, c, d)] == [0, 1.0, 2.0]  # type: ignore[arg-type]
    clock.now += 1.5
    lim.mark_sent(a, clock.now)  # type: ignore[arg-type]
    assert lim.reserve(0, 0, clock.now) is not None
    assert [lim.delay(t, clock.now) for t in (c, d)] == [0, 0.5]  # type: ignore[arg-type]


async def test_200_cancelled_tasks_do_not_delay_the_next_call(clock: FakeClock) -> None:
    never = asyncio.Event()

    async def wait_forever(seconds: float) -> None:
        await never.wait()

    lim = limiter(clock, requests_per_minute=60)
    lim._asleep = wait_forever
    lim.answered(lim.acquire(0, 0), 200, {})
    tasks = [asyncio.create_task(lim.aacquire(0, 0)) for _ in range(200)]
    await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert lim.delay(lim.reserve(0, 0, clock.now), clock.now) == 1.0  # type: ignore[arg-type]


async def test_a_cancelled_probe_frees_the_others_at_once(clock: FakeClock) -> None:
    lim = limiter(clock)
    probe = await lim.aacquire(10, 0)
    assert probe.probe
    assert lim.reserve(10, 0, clock.now) is None
    lim.abandon(probe)  # what the client does when the probe's call ends without an answer
    assert lim.reserve(10, 0, clock.now).probe  # type: ignore[union-attr]


# ---- zero configuration (issue 22) ----------------------------------------------------------


def _flow(
    lim: RateLimiter, clock: FakeClock, n: int, every: float, headers: dict[str, str]
) -> None:
    for _ in range(n):
        lim.observe(lim.acquire(10, 0), 200, headers, clock.now)
        clock.now += every


def test_no_two_waiters_wake_together_after_a_429(clock: FakeClock) -> None:
    rng = iter([i / 97 % 1 for i in range(1, 10_000)])
    lim = limiter(clock, random=lambda: next(rng))
    _flow(lim, clock, 20, 0.1, {})  # no headers: the starting pace, up to 10 a second
    waiting = [lim.reserve(10, 0, clock.now) for _ in range(50)]
    lim.observe(None, 429, {"retry-after": "2"}, clock.now)
    wakes = sorted(round(lim.delay(t, clock.now), 6) for t in waiting)  # type: ignore[arg-type]
    assert wakes[0] >= 2.0
    assert len(set(wakes)) == len(wakes)  # nobody wakes with another
    gaps = [b - a for a, b in itertools.pairwise(wakes)]
    assert min(gaps) > 0.05  # spread at the found pace (under 10 a second), not a stampede
    assert lim.limit("requests") <= 10 * 60 * 0.85  # type: ignore[operator]


def test_the_found_pace_regains_the_429s_pace_in_seconds_then_holds(clock: FakeClock) -> None:
    lim = limiter(clock, burst_seconds=0.25)
    lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
    _busy(lim, clock, 1.0)  # the start, up to 64 a second
    lim.observe(None, 429, {"retry-after-ms": "10"}, clock.now)
    ceiling = lim.limit("requests") / 0.85  # type: ignore[operator]
    paces = []
    for _ in range(16):  # 16 seconds of clean answers, as fast as the pace lets
        _busy(lim, clock, 1.0)
        paces.append(lim.limit("requests") / ceiling)  # type: ignore[operator]
    assert 0.87 < paces[0] < 0.93  # after a second: on its way back
    assert paces[3] > 0.97  # four seconds: nearly where the 429 came
    assert all(0.99 < p < 1.01 for p in paces[4:10])  # then it holds there for seconds
    assert paces[15] > 1.1  # and grows past it ever faster (the quota may have grown)


def test_a_caller_sending_less_leaves_the_found_pace_where_the_429_came(clock: FakeClock) -> None:
    lim = limiter(clock, burst_seconds=0.25)
    lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
    _busy(lim, clock, 1.0)
    lim.observe(None, 429, {"retry-after-ms": "10"}, clock.now)
    ceiling = lim.limit("requests") / 0.85  # type: ignore[operator]
    _flow(lim, clock, 40, 1.0, {})  # a call a second for 40 s: no room learned to burst into
    assert lim.limit("requests") == pytest.approx(ceiling)


def test_429s_whatever_the_pace_do_not_bring_it_to_nothing(clock: FakeClock) -> None:
    # A service that refuses every third request however slowly they come (capacity 429s of a
    # shared deployment): each slowdown is at most once a second, never under a quarter of
    # the best pace it admitted.
    lim = limiter(clock, burst_seconds=0.25)
    lim.observe(lim.acquire(10, 0), 200, {}, clock.now)
    counts = _busy(lim, clock, 1.0)
    best = (1 + sum(counts)) * 60  # admitted in that first second
    for i in range(300):
        ticket = lim.acquire(10, 0)
        clock.now += 0.0005
        refused = i % 3 == 0
        lim.observe(ticket, 429 if refused else 200, {"retry-after-ms": "10"}, clock.now)
    assert lim.limit("requests") >= best / 5  # type: ignore[operator]  # (10x less without)


def test_remaining_alone_paces(clock: FakeClock) -> None:
    # Only x-ratelimit-remaining-* (realwire aoai_json_schema): the limit is remaining + cost.
    lim = limiter(clock)
    probe = lim.reserve(100, 0, clock.now)
    lim.mark_sent(probe, clock.now)  # type: ignore[arg-type]
    remaining = {"x-ratelimit-remaining-tokens": "5900", "x-ratelimit-remaining-requests": "59"}
    lim.observe(probe, 200, remaining, clock.now)
    assert (lim.limit("tokens"), lim.limit("requests")) == (6000, 60)
    assert delays(lim, clock, [0, 0, 0]) == [0, 1.0, 2.0]  # a request a second


def test_a_lower_reported_limit_lowers_a_set_one(clock: FakeClock) -> None:
    lim = limiter(clock, requests_per_minute=120)
    lim.observe(lim.acquire(0, 0), 200, {"x-ratelimit-limit-requests": "60"}, clock.now)
    assert lim.limit("requests") == 60  # the set figure is a ceiling, not a promise
    lim.observe(lim.acquire(0, 0), 200, {"x-ratelimit-limit-requests": "600"}, clock.now)
    assert lim.limit("requests") == 120  # ...and a higher report does not raise it


def test_every_call_is_engaged_once_the_service_answered_429(clock: FakeClock) -> None:
    lim = limiter(clock)
    assert lim.engaged  # the first call goes alone, concurrent ones wait for its answer
    lim.observe(lim.acquire(1, 0), 200, {}, clock.now)
    assert lim.engaged  # the service says nothing of its quota: the starting pace (slow start)
    lim.observe(None, 429, {"retry-after-ms": "5"}, clock.now)
    assert lim.engaged  # a 429: the pace found
    reported = limiter(clock)
    reported.observe(reported.acquire(1, 0), 200, {"x-ratelimit-remaining-requests": "9"}, 0)
    assert reported.engaged  # a service that reports its quota: every call is paced
    assert limiter(clock, tokens_per_minute=6000).engaged


def test_waiting_for_the_probe_ends_at_the_call_deadline(clock: FakeClock) -> None:
    """A call queued behind the model's first call (the probe) keeps its own deadline: it fails
    with a timeout at that deadline, not after the probe_timeout, and sends nothing."""
    from azureinference import APITimeoutError

    lim = limiter(clock, probe_timeout=10)
    probe = lim.acquire(10, 0)
    assert probe.probe
    start = clock.now
    with pytest.raises(APITimeoutError, match="first answer"):
        lim.acquire(10, 0, deadline=start + 1.5)
    assert clock.now == pytest.approx(start + 1.5)  # waited its own time left, no more
    assert lim.sent == 1  # only the probe went
    lim.observe(probe, 200, {}, clock.now)
    assert lim.acquire(10, 0, deadline=clock.now + 1) is not None  # the queue still works


async def test_async_waiting_for_the_probe_ends_at_the_call_deadline(clock: FakeClock) -> None:
    from azureinference import APITimeoutError

    lim = limiter(clock, probe_timeout=10)
    probe = await lim.aacquire(10, 0)
    start = clock.now
    with pytest.raises(APITimeoutError, match="first answer"):
        await lim.aacquire(10, 0, deadline=start + 0.7)
    assert clock.now == pytest.approx(start + 0.7)
    lim.abandon(probe)
    assert (await lim.aacquire(10, 0)).probe  # the next call probes again
