"""Client-side pacing at a deployment's quota, learned from the service's own signals.

Azure OpenAI and Foundry deployments have a tokens-per-minute and a requests-per-minute limit,
report what is left on every answer (``x-ratelimit-remaining-tokens`` and ``-requests``, often
with ``x-ratelimit-limit-*``) and refuse with ``429`` and ``retry-after-ms`` / ``Retry-After``
when it is exceeded. A `RateLimiter` paces requests so that bulk work runs close to the quota
without 429 storms:

- **Two lanes, tokens and requests**, each a credit line: credit grows at ``limit / 60`` per
  second, every request reserves its cost at the end of the queue, and it may go once the credit
  has reached its place minus a burst (one second of quota by default, or the request's own
  cost when larger: a request bigger than the burst waits for a full bucket, then goes), at 98%
  of the limit (``headroom``). This is
  GCRA (a token bucket) with reservations: waiters are served in order without waking each other.
- **Limits** come from ``tokens_per_minute`` / ``requests_per_minute`` where given (a Ray
  worker's share; a lower ``x-ratelimit-limit-*`` lowers it), else from ``x-ratelimit-limit-*``,
  else from ``remaining`` + the request's cost. Until a limit is known, the first request goes
  alone and the others wait for its answer (which usually teaches the limits).
- **Nothing known** (the service sends no rate-limit header): a slow start, as TCP's. Requests
  go at 4 a second, doubled each round trip (at most every quarter second) while requests wait
  for it, until a 429 shows the service's pace (or 1,000 a second is reached: no limit that
  matters, unpaced until a 429).
  After a 429 the pace is 85% of where it came, and grows back along CUBIC's curve: to where
  the 429 came in about eight seconds, flat there, then ever faster.
- **Corrections from the headers**: each answer's ``remaining`` is compared with what the local
  bucket held when that request was sent; the difference moves the credit (down when others share
  the deployment or the service counts more; up, by at most one burst per answer, when it has
  room). Pending requests are re-timed with it, since they wait for credit, not for a time.
- **429s** pause every lane for the ``retry-after-ms`` / ``Retry-After`` given (overlapping 429s
  pause once, each waiter waking at its own time within 10% more) and lower a known limit's
  pace by 10% (down to half) once per congestion (at most once a second), recovering 10% a
  second of clean answers.
- **Token estimates** are cheap: UTF-8 bytes / 4 per text (no tokenizer), times a ratio learned
  from the ``usage`` the service reports; chat adds ``max_tokens`` (or the completions seen).

Every decision is a method that takes ``now`` (`reserve`, `delay`, `mark_sent`, `observe`), so
tests drive it with a fake clock; `acquire` / `aacquire` are the short sync and async drivers.
One limiter serves all threads and tasks of a client (a lock guards the state, never held while
waiting; async callers wait with ``asyncio.sleep``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import random as _random
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._fork import reset_after_fork
from .errors import (
    LONGEST_RETRY_AFTER,
    APITimeoutError,
    ConfigurationError,
    RateLimitError,
    parse_retry_after,
)

__all__ = [
    "PACED_429_RETRIES",
    "Cost",
    "RateLimitHeaders",
    "RateLimiter",
    "Ticket",
    "chat_cost",
    "estimate_chat_tokens",
    "estimate_input_tokens",
    "estimate_text_tokens",
    "input_cost",
    "is_paced",
    "make_limiter",
    "paced",
    "pacing_mode",
    "parse_duration",
    "read_rate_limit_headers",
]

DEFAULT_BURST_SECONDS = 0.25
"""Azure evaluates a quota over 1 or 10 second windows and expects requests spread evenly over
the minute. A quarter of a second of quota at once stays inside both, and keeps the catch-up
after a late wake-up (a busy event loop) small enough not to meet a drained bucket."""

DEFAULT_HEADROOM = 0.98
"""The share of a limit paced to: equal rates leave no room for the jitter of real clocks and
networks (a request a few milliseconds early is a 429)."""

DEFAULT_PROBE_TIMEOUT = 10.0
"""How long other requests wait for the first answer before going unpaced."""

_IMAGE_TOKENS = 85  # what OpenAI charges for a low-detail image; a fair guess for any image


# ---- the service's headers ------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimitHeaders:
    """What an answer says about the quota (None: not said).

    Attributes:
        limit_tokens: ``x-ratelimit-limit-tokens`` (per minute).
        limit_requests: ``x-ratelimit-limit-requests`` (per minute).
        remaining_tokens: ``x-ratelimit-remaining-tokens``.
        remaining_requests: ``x-ratelimit-remaining-requests``.
        reset_tokens: ``x-ratelimit-reset-tokens`` in seconds (``"6m0s"``, ``"20ms"``, ``"1.5"``).
        reset_requests: ``x-ratelimit-reset-requests`` in seconds.
        retry_after: ``retry-after-ms``, else ``Retry-After``, in seconds.
    """

    limit_tokens: float | None = None
    limit_requests: float | None = None
    remaining_tokens: float | None = None
    remaining_requests: float | None = None
    reset_tokens: float | None = None
    reset_requests: float | None = None
    retry_after: float | None = None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

LARGEST_LIMIT = 1e12
"""The largest limit or remaining figure read from a header (more is read as this)."""

MIN_TOKENS_LIMIT = 1000.0
"""A reported token limit below this is not believed (Azure's smallest quota is 1,000 tokens a
minute): ``x-ratelimit-limit-tokens: 1`` would make every request wait minutes."""

MIN_REQUESTS_LIMIT = 1.0
"""A reported request limit below this (``0.001``) is not believed."""


def parse_duration(value: str | None) -> float | None:
    """Seconds from ``"1.5"``, ``"20ms"``, ``"6m0s"`` or ``"1h2m3.5s"``; None if unreadable.

    At most `LONGEST_RETRY_AFTER` (``"99999h"`` and ``"inf"`` are read as that).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            return None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), LONGEST_RETRY_AFTER)


def _number(headers: Mapping[str, str], name: str, floor: float = 0.0) -> float | None:
    """A count from a header: None unless a number >= ``floor``; at most `LARGEST_LIMIT`."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return min(number, LARGEST_LIMIT) if number >= floor else None


def read_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders:
    """Read the rate-limit headers of an answer (case-insensitive mappings, e.g. httpx's).

    Every value is checked: limits under `MIN_TOKENS_LIMIT` / `MIN_REQUESTS_LIMIT`, negative or
    unreadable figures are left out (None); large ones are capped (`LARGEST_LIMIT`,
    `LONGEST_RETRY_AFTER`).
    """
    return RateLimitHeaders(
        limit_tokens=_number(headers, "x-ratelimit-limit-tokens", MIN_TOKENS_LIMIT),
        limit_requests=_number(headers, "x-ratelimit-limit-requests", MIN_REQUESTS_LIMIT),
        remaining_tokens=_number(headers, "x-ratelimit-remaining-tokens"),
        remaining_requests=_number(headers, "x-ratelimit-remaining-requests"),
        reset_tokens=parse_duration(headers.get("x-ratelimit-reset-tokens")),
        reset_requests=parse_duration(headers.get("x-ratelimit-reset-requests")),
        retry_after=parse_retry_after(headers),
    )


# ---- token estimates ------------------------------------------------------------------------


def estimate_text_tokens(text: str) -> int:
    """A cheap token estimate: UTF-8 bytes / 4, at least 1.

    English runs about 4 bytes a token; CJK 3 bytes a character, about a token each.
    """
    n = len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
    return max(1, (n + 3) // 4)


def estimate_input_tokens(inputs: Sequence[Any]) -> int:
    """Tokens of an embeddings input: texts, or ``{"image", "text"?}`` items."""
    total = 0
    for item in inputs:
        if isinstance(item, str):
            total += estimate_text_tokens(item)
        elif isinstance(item, Mapping):
            total += _IMAGE_TOKENS if item.get("image") else 0
            text = item.get("text")
            total += estimate_text_tokens(text) if isinstance(text, str) else 0
        else:  # token ids
            total += len(item) if isinstance(item, Sequence) else 1
    return total


def _content_tokens(content: Any) -> int:
    if isinstance(content, str):
        return estimate_text_tokens(content)
    total = 0
    if isinstance(content, Sequence):
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    total += estimate_text_tokens(text)
                elif part.get("type") in ("image_url", "input_audio"):
                    total += _IMAGE_TOKENS
    return total


def estimate_chat_tokens(messages: Sequence[Mapping[str, Any]], tools: Any = None) -> int:
    """Prompt tokens of a chat request, as the service counts them before answering.

    Contents, tool-call arguments and tool definitions, plus 4 per message (role, framing).
    """
    total = 3
    for message in messages:
        total += 4 + _content_tokens(message.get("content"))
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping):
                function = call.get("function") or {}
                total += estimate_text_tokens(str(function.get("arguments", "")))
    if tools:
        total += estimate_text_tokens(str(tools))
    return total


Cost = tuple[float, "float | None"]
"""A request's estimated (prompt tokens, completion tokens); None: unknown completion."""


def chat_cost(messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> Cost:
    """The cost of a chat request: its prompt estimate and the ``max_tokens`` it asks for."""
    limit = params.get("max_tokens") or params.get("max_completion_tokens")
    completion = float(limit) if isinstance(limit, int) and not isinstance(limit, bool) else None
    return float(estimate_chat_tokens(messages, params.get("tools"))), completion


def input_cost(batch: Sequence[Any]) -> Cost:
    """The cost of an embeddings request (no completion)."""
    return float(estimate_input_tokens(batch)), 0.0


PACED_429_RETRIES = 8
"""429s retried, on top of ``max_retries``, for a request the limiter paces: the limiter waits
for the ``retry-after`` given and slows down, so they do not fail a bulk job."""


# ---- bulk calls -----------------------------------------------------------------------------

_PACED: contextvars.ContextVar[bool] = contextvars.ContextVar("azureinference_paced", default=False)


@contextlib.contextmanager
def paced() -> Iterator[None]:
    """Pace every call made inside this block: what bulk calls turn on.

    Threads and tasks started inside with a copy of the context are paced too (``batch``,
    ``embed_documents``).
    """
    token = _PACED.set(True)
    try:
        yield
    finally:
        _PACED.reset(token)


def is_paced() -> bool:
    """True inside `paced`."""
    return _PACED.get()


def make_limiter(
    rate_limiter: RateLimiter | None,
    tokens_per_minute: float | None,
    requests_per_minute: float | None,
) -> RateLimiter:
    """The client's limiter: the one given (to share), else one with these limits.

    Raises:
        ConfigurationError: Both a limiter and limits, or a limit that is not a number > 0.
    """
    if rate_limiter is None:
        return RateLimiter(tokens_per_minute, requests_per_minute)
    if not isinstance(rate_limiter, RateLimiter):
        raise ConfigurationError(
            f"rate_limiter must be a RateLimiter, not {type(rate_limiter).__name__}."
        )
    if tokens_per_minute is not None or requests_per_minute is not None:
        raise ConfigurationError(
            "Pass either rate_limiter or tokens_per_minute/requests_per_minute (set the limits "
            "on the RateLimiter you share)."
        )
    return rate_limiter


def pacing_mode(rate_limit: bool | None, limiter: RateLimiter) -> bool | None:
    """True: pace every call; None: bulk calls only (inside `paced`); False: never.

    ``rate_limit=None`` paces bulk calls, and every call once a limit is set on the limiter.

    Raises:
        ConfigurationError: ``rate_limit`` is not True, False or None.
    """
    if rate_limit is not None and not isinstance(rate_limit, bool):
        raise ConfigurationError(f"rate_limit must be True, False or None, not {rate_limit!r}.")
    if rate_limit is None and (limiter.tokens_per_minute or limiter.requests_per_minute):
        return True
    return rate_limit


# ---- the limiter ----------------------------------------------------------------------------

_LANES = ("tokens", "requests")
_MIN_FACTOR = 0.5  # a set or reported limit is never paced below half
_DECREASE = 0.9  # the pace after a 429, of the pace before (a limit is known)
_RECOVERY_PER_SECOND = 0.1  # share of a known limit regained per second of clean answers
_FOUND_DECREASE = 0.85  # the found pace after a 429 (no limit known), of the pace it came at
_FOUND_REGAIN = 8.0  # seconds the found pace takes to grow back to where the 429 came
_FOUND_FLOOR = {"tokens": 60.0, "requests": MIN_REQUESTS_LIMIT}  # per minute
_FOUND_LEAST = 0.25  # the found pace never falls below this share of the best pace admitted
_CONGESTION_GAP = 1.0  # seconds after a slowdown before a 429 may slow down again (a window)
_START_RATE = 240.0  # requests a minute: the first pace when the service tells nothing (4 a second)
_START_DOUBLING = 0.25  # the shortest time between two doublings of the starting pace
_START_OPEN = 60_000.0  # requests a minute: a start reaching this without a 429 ends (unpaced)
_METER_SECONDS = 2.0  # how far back the service's admitted pace is measured
_PAUSE_JITTER = 0.1  # wake-ups after a 429's pause are spread over 10% of it

DEFAULT_MAX_PAUSE = 60.0
"""The longest ``retry-after`` the limiter pauses for (`RetryPolicy.max_retry_after`'s
default): a longer one fails the call that met it, and the others go on unpaused."""


class _Lane:
    """One quota (tokens or requests) as a credit line; pure arithmetic on a given ``now``.

    ``credit(now)`` grows at ``rate`` per second. ``tail`` is the sum of all costs reserved. A
    request reserved at ``q = tail + cost`` may go once credit >= ``q - max(burst, cost)``.
    A request that leaves the queue before going (cancelled) is a ``refund``: the requests
    behind it wait for that much less, and once all before it have gone it becomes credit.
    """

    __slots__ = ("anchor_c", "anchor_t", "burst", "burst_seconds", "rate", "refunds", "tail")

    def __init__(self, per_minute: float, burst_seconds: float, now: float) -> None:
        self.burst_seconds = burst_seconds
        self.rate = per_minute / 60.0
        self.burst = self.rate * burst_seconds
        self.anchor_t = now
        self.anchor_c = 0.0
        self.tail = 0.0
        self.refunds: list[tuple[float, float]] = []

    def credit(self, now: float) -> float:
        return self.anchor_c + self.rate * (now - self.anchor_t)

    def _rebase(self, now: float, credit: float) -> None:
        self.anchor_t = now
        self.anchor_c = credit

    def set_rate(self, per_minute: float, now: float) -> None:
        """Change the pace from now on (the credit so far is kept, pending requests re-timed)."""
        self._rebase(now, self.credit(now))
        self.rate = per_minute / 60.0
        self.burst = self.rate * self.burst_seconds

    def reserve(self, cost: float, now: float) -> tuple[float, float]:
        """Queue ``cost``; returns (its place, the credit it waits for)."""
        self.settle(now)
        credit = self.credit(now)
        if credit > self.tail:  # idle: a full bucket holds one burst, never more
            self._rebase(now, self.tail)
            self.refunds.clear()
        self.tail += cost
        return self.tail, self.tail - max(self.burst, cost)

    def wait(self, threshold: float, now: float, place: float | None = None) -> float:
        """Seconds until the credit reaches ``threshold`` (less the refunds ahead of ``place``)."""
        if self.refunds and place is not None:
            threshold -= sum(c for p, c in self.refunds if p < place)
        missing = threshold - self.credit(now)
        return missing / self.rate if missing > 0 else 0.0

    def level(self, place: float, now: float) -> float:
        """What the bucket holds once the request at ``place`` has taken its cost (>= 0)."""
        return max(0.0, min(self.burst, self.burst + self.credit(now) - place))

    def shift(self, units: float) -> None:
        """Add (or take away) credit: every pending request moves with it."""
        self.anchor_c += units

    def cancel(self, place: float, cost: float) -> None:
        """Take a request that will not go out of the queue."""
        if place >= self.tail - 1e-9:
            self.tail -= cost  # the last one: nobody is behind it
        else:
            self.refunds.append((place, cost))

    def settle(self, now: float) -> None:
        """Turn the refunds that every pending request is behind into credit."""
        if not self.refunds:
            return
        credit = self.credit(now)
        keep = []
        for place, cost in self.refunds:
            if credit >= place - max(self.burst, cost):
                self.anchor_c += cost
            else:
                keep.append((place, cost))
        self.refunds = keep


class _Meter:
    """The service's admitted pace: tokens and requests of the answers of the last seconds."""

    __slots__ = ("events", "tokens")

    def __init__(self) -> None:
        self.events: deque[tuple[float, float]] = deque()
        self.tokens = 0.0

    def add(self, now: float, tokens: float) -> None:
        self.events.append((now, tokens))
        self.tokens += tokens
        self._drop(now)

    def _drop(self, now: float) -> None:
        while self.events and self.events[0][0] < now - _METER_SECONDS:
            self.tokens -= self.events.popleft()[1]

    def per_minute(self, lane: str, now: float) -> float:
        """Tokens or requests a minute admitted lately (over at least one second)."""
        self._drop(now)
        if not self.events:
            return 0.0
        span = min(_METER_SECONDS, max(1.0, now - self.events[0][0]))
        total = self.tokens if lane == "tokens" else float(len(self.events))
        return total * 60.0 / span


@dataclass
class Ticket:
    """One request's place in the queues, from `RateLimiter.reserve` to `RateLimiter.observe`.

    Attributes:
        prompt_tokens: The request's estimated prompt (or input) tokens, before the learned ratio.
        tokens: The tokens charged.
        probe: This request goes alone to learn the limits.
        sent: `RateLimiter.mark_sent` let it go.
        done: Its answer was seen, or it was given up (`RateLimiter.abandon`).
        jitter: Its share, in [0, 1), of the spread of wake-ups after a pause.
    """

    prompt_tokens: float = 0.0
    tokens: float = 0.0
    probe: bool = False
    token_place: float | None = None
    token_threshold: float | None = None
    request_place: float | None = None
    request_threshold: float | None = None
    token_level: float | None = None
    request_level: float | None = None
    generation: int = 0
    sent_at: float = -math.inf
    sent: bool = False
    done: bool = False
    jitter: float = 0.0


def _positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or not math.isfinite(value)
    ):
        raise ConfigurationError(f"{name} must be a number > 0 (or None), not {value!r}.")
    return float(value)


class RateLimiter:
    """Paces the requests of one client (all its threads and tasks) to the deployment's quota.

    Args:
        tokens_per_minute: The most tokens a minute to send, whatever the service reports (a
            Ray worker's share, a quota kept for other traffic); a lower
            ``x-ratelimit-limit-tokens`` lowers it. None: learn it from the service.
        requests_per_minute: The request quota, likewise.
        learn: Read the service's rate-limit headers (limits, remaining, resets).
        burst_seconds: How much quota may go at once, in seconds of quota.
        probe_timeout: Seconds other requests wait for the first answer when no limit is known.
        headroom: The share of the limit to pace to (default 0.98).
        max_pause: The longest ``retry-after`` to pause every request for (seconds).
        clock: Monotonic seconds (injectable for tests).
        sleep: The sync sleep (injectable for tests).
        asleep: The async sleep (injectable for tests).
        random: Numbers in [0, 1) for the jitter of pauses (injectable for tests).

    Raises:
        ConfigurationError: A limit or setting that is not a positive number.
    """

    def __init__(
        self,
        tokens_per_minute: float | None = None,
        requests_per_minute: float | None = None,
        *,
        learn: bool = True,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        headroom: float = DEFAULT_HEADROOM,
        max_pause: float = DEFAULT_MAX_PAUSE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.tokens_per_minute = _positive("tokens_per_minute", tokens_per_minute)
        self.requests_per_minute = _positive("requests_per_minute", requests_per_minute)
        self.burst_seconds = float(_positive("burst_seconds", burst_seconds) or 0)
        self.probe_timeout = float(_positive("probe_timeout", probe_timeout) or 0)
        self.learn = learn
        self.headroom = float(_positive("headroom", headroom) or 0)
        self.max_pause = float(_positive("max_pause", max_pause) or 0)
        self._clock = clock
        self._sleep = sleep
        self._asleep = asleep
        self._random = random
        self._init_state()

    def _init_state(self) -> None:
        # Also in a forked child (`_after_fork`): pacing is per process, as for a pickled copy.
        reset_after_fork(self)
        self._lock = threading.Lock()
        self._reported: dict[str, float | None] = dict.fromkeys(_LANES)  # x-ratelimit-limit-*
        self._inferred: dict[str, float | None] = dict.fromkeys(_LANES)  # remaining + cost
        self._found: dict[str, float | None] = dict.fromkeys(_LANES)  # after 429s, no limit
        self._ceiling: dict[str, float] = dict.fromkeys(_LANES, 0.0)  # where the last 429 came
        self._congested_at = -math.inf  # the last slowdown, for the found pace's regain
        self._slowed_at = -math.inf  # ...when it was decided
        self._best: dict[str, float] = dict.fromkeys(_LANES, 0.0)  # the most admitted a minute
        self._slowed_until = -math.inf  # ...and the end of its pause
        self._starting = False  # slow start: nothing known, the requests pace doubles
        self._started = False  # ...which happens once (after it, unpaced until a 429)
        self._start_busy = False  # a request waited on the starting pace since its last step
        self._start_step_at = -math.inf
        self._tokens: _Lane | None = None
        self._requests: _Lane | None = None
        self._meter = _Meter()
        self._factor = 1.0
        self._recovered_at = -math.inf
        self._blocked_until = -math.inf
        self._spread = 0.0
        self._ratio = 1.0
        self._completion = 0.0
        self._usage_seen = 0
        self._completions_seen = 0
        self._answered = False
        self._probe_since: float | None = None
        self._generation = 0
        self.sent = 0
        self.throttled = 0
        now = self._clock()
        self._configure(now)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(tokens_per_minute={self.limit('tokens')}, "
            f"requests_per_minute={self.limit('requests')})"
        )

    def __getstate__(self) -> dict[str, Any]:
        # A pickled limiter (a Ray worker's copy of a model) starts afresh: state is per process.
        return {
            "tokens_per_minute": self.tokens_per_minute,
            "requests_per_minute": self.requests_per_minute,
            "learn": self.learn,
            "burst_seconds": self.burst_seconds,
            "headroom": self.headroom,
            "probe_timeout": self.probe_timeout,
            "max_pause": self.max_pause,
            "_clock": self._clock,
            "_sleep": self._sleep,
            "_asleep": self._asleep,
            "_random": self._random,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_state()

    def _after_fork(self) -> None:
        # A lock another thread held at the fork, or a probe the parent is waiting on, would
        # stall the child: it starts afresh.
        self._init_state()

    # ---- limits ---------------------------------------------------------------------------

    def _known(self, lane: str) -> float | None:
        """The lane's limit before any slowdown.

        The set one (lowered by a lower reported one), else the reported one, else the one
        inferred from ``remaining``.
        """
        explicit = self.tokens_per_minute if lane == "tokens" else self.requests_per_minute
        reported = self._reported[lane]
        if explicit is not None:
            return min(explicit, reported) if reported is not None else explicit
        return reported if reported is not None else self._inferred[lane]

    def limit(self, lane: str) -> float | None:
        """The per-minute limit in force for ``"tokens"`` or ``"requests"`` (None: unpaced)."""
        known = self._known(lane)
        return known * self._factor if known is not None else self._found[lane]

    def _configure(self, now: float) -> None:
        for name in _LANES:
            limit = self.limit(name)
            attr = f"_{name}"
            lane: _Lane | None = getattr(self, attr)
            if limit is None:
                setattr(self, attr, None)
            elif lane is None:
                setattr(self, attr, _Lane(limit * self.headroom, self.burst_seconds, now))
            elif abs(lane.rate * 60.0 - limit * self.headroom) > 1e-9:
                lane.set_rate(limit * self.headroom, now)
        if self._requests is not None:
            self._requests.burst = max(self._requests.burst, 1.0)

    @property
    def knows_limits(self) -> bool:
        """True once any pace applies.

        Set, reported, inferred, found after 429s, or a slow start's.
        """
        return self._tokens is not None or self._requests is not None

    @property
    def engaged(self) -> bool:
        """True when every call should be paced, not only bulk calls.

        That is: a limit is set; the service answered 429; it reports its quota (a limit or
        what remains); it reports nothing and the slow start is on; or it has not answered yet
        (the first call goes alone: concurrent calls, a user's ``asyncio.gather``, wait for
        what it teaches, not stampede).
        """
        if self.tokens_per_minute or self.requests_per_minute or self.throttled:
            return True
        return self.learn and (self.knows_limits or not self._answered)

    # ---- the decisions (pure, given now) --------------------------------------------------

    def charge(self, prompt_tokens: float, completion_tokens: float | None = None) -> float:
        """Tokens to charge: the estimate times the learned ratio, plus the completion.

        The completion is the ``max_tokens`` sent, else the average completion seen.
        """
        extra = self._completion if completion_tokens is None else completion_tokens
        return prompt_tokens * self._ratio + extra

    def reserve(
        self, prompt_tokens: float, completion_tokens: float | None, now: float
    ) -> Ticket | None:
        """Queue a request; None means: wait, the first request is still learning the limits."""
        with self._lock:
            ticket = Ticket(prompt_tokens, self.charge(prompt_tokens, completion_tokens))
            ticket.jitter = self._random()
            if not self.knows_limits and self.learn and not self._answered:
                if self._probe_since is None:
                    self._probe_since = now
                    ticket.probe = True
                    return ticket
                if now - self._probe_since < self.probe_timeout:
                    return None
            self._enqueue(ticket, now)
            return ticket

    def delay(self, ticket: Ticket, now: float) -> float:
        """Seconds the request must still wait (0: send it now)."""
        with self._lock:
            self._enqueue(ticket, now)
            wait = self._blocked_until - now
            if wait > 0:  # each request wakes at its own time after a pause, never together
                wait += self._spread * ticket.jitter
            if self._tokens is not None and ticket.token_threshold is not None:
                lane_wait = self._tokens.wait(ticket.token_threshold, now, ticket.token_place)
                wait = max(wait, lane_wait)
            if self._requests is not None and ticket.request_threshold is not None:
                lane_wait = self._requests.wait(ticket.request_threshold, now, ticket.request_place)
                wait = max(wait, lane_wait)
                self._start_busy = self._start_busy or (self._starting and lane_wait > 0)
            return max(0.0, wait)

    def _enqueue(self, ticket: Ticket, now: float) -> None:
        """Give a ticket its places in lanes that appeared since it was reserved.

        A 429 found a pace: requests waiting since before go at that pace too, not at once.
        """
        if ticket.sent or ticket.done:
            return
        if self._tokens is not None and ticket.token_place is None:
            ticket.token_place, ticket.token_threshold = self._tokens.reserve(ticket.tokens, now)
        if self._requests is not None and ticket.request_place is None:
            ticket.request_place, ticket.request_threshold = self._requests.reserve(1.0, now)

    def mark_sent(self, ticket: Ticket, now: float) -> None:
        """Record what the local buckets hold as the request goes (compared with ``remaining``)."""
        with self._lock:
            self.sent += 1
            ticket.sent = True
            ticket.generation = self._generation
            ticket.sent_at = now
            if self._tokens is not None and ticket.token_place is not None:
                ticket.token_level = self._tokens.level(ticket.token_place, now)
            if self._requests is not None and ticket.request_place is not None:
                ticket.request_level = self._requests.level(ticket.request_place, now)

    def observe(
        self, ticket: Ticket | None, status: int, headers: Mapping[str, str], now: float
    ) -> None:
        """Learn from an answer: limits, remaining quota, the service's pace, and 429 pauses."""
        info = read_rate_limit_headers(headers) if self.learn or status == 429 else None
        with self._lock:
            self._answered = True
            self._finish(ticket)
            if info is not None and self.learn:
                self._learn_limits(info, ticket, status)
            if status == 429:
                self.throttled += 1
                new = self._new_congestion(ticket, now)
                if new:
                    self._slow_down(now)  # once per congestion, not once per 429 of it
                self._configure(now)
                self._pause(self._retry_wait(info), now)
                if new:  # unpaced requests' 429s until the pause is over are this congestion's
                    self._slowed_until = max(now, self._blocked_until)
                return
            self._meter.add(now, ticket.tokens if ticket is not None else 0.0)
            self._begin(now)
            self._speed_up(now, ticket)
            self._configure(now)
            if info is not None and ticket is not None and ticket.generation == self._generation:
                self._correct(self._tokens, info.remaining_tokens, ticket.token_level)
                self._correct(self._requests, info.remaining_requests, ticket.request_level)

    # ---- the steps of observe (called under the lock) ------------------------------------

    def _finish(self, ticket: Ticket | None) -> None:
        """The ticket's request is over: a probe lets the others go."""
        if ticket is None:
            return
        ticket.done = True
        if ticket.probe:
            self._probe_since = None

    def _learn_limits(self, info: RateLimitHeaders, ticket: Ticket | None, status: int) -> None:
        """Reported limits, and limits inferred from ``remaining`` where none is reported.

        A request the service charged left ``remaining``: the bucket held at least
        ``remaining + cost``, so that is a floor for the limit (exact from a full bucket).
        """
        charged = status != 429 and ticket is not None
        tokens = ticket.tokens if charged and ticket is not None else 0.0
        for lane, limit, remaining, cost in (
            ("tokens", info.limit_tokens, info.remaining_tokens, tokens),
            ("requests", info.limit_requests, info.remaining_requests, 1.0 if charged else 0.0),
        ):
            if limit is not None:
                self._reported[lane] = limit
            if remaining is not None:
                floor = MIN_TOKENS_LIMIT if lane == "tokens" else MIN_REQUESTS_LIMIT
                seen = min(remaining + cost, LARGEST_LIMIT)
                if seen >= floor and seen > (self._inferred[lane] or 0.0):
                    self._inferred[lane] = seen

    def _new_congestion(self, ticket: Ticket | None, now: float) -> bool:
        """True for a 429 that says something new.

        That is a 429 of a request sent since the last slowdown, or, for a request that was
        not paced, one met after the last slowdown's pause; and never within a second (Azure's
        shortest window) of the last slowdown: a service that refuses some requests whatever
        the pace would otherwise bring it down to nothing.
        """
        if now < self._slowed_at + _CONGESTION_GAP:
            return False  # the last slowdown has not had a window's time to show
        if ticket is not None:
            return ticket.generation == self._generation
        return now > self._slowed_until

    def _begin(self, now: float) -> None:
        """A clean answer that teaches no limit: start at a low pace that doubles (slow start).

        Nothing known (no limit set, reported or inferred, no 429 yet), a bulk job or a user's
        ``gather`` would send everything at once and meet a storm of 429s. Instead requests go
        at `_START_RATE`, doubled each round trip while requests wait for it (`_grow_start`),
        until a 429 says where the service's pace is, or `_START_OPEN` is reached without one
        (no limit that matters: unpaced from then on, until a 429).
        """
        if self._started or not self.learn:
            return
        if any(self._known(lane) is not None or self._found[lane] for lane in _LANES):
            return
        self._started = self._starting = True
        self._found["requests"] = _START_RATE
        self._start_step_at = now

    def _slow_down(self, now: float) -> None:
        """A new congestion: lower the known limits' pace, and find one where none is known.

        The found pace is where the 429 came (the pace in force, or what the service admitted
        lately if less) times `_FOUND_DECREASE`, never under `_FOUND_LEAST` of the best pace
        the service admitted; `_speed_up` grows it back.
        """
        self._generation += 1
        self._slowed_at = now
        self._recovered_at = max(now, self._blocked_until)
        self._congested_at = self._recovered_at
        self._starting = False
        if any(self._known(lane) is not None for lane in _LANES):
            self._factor = max(_MIN_FACTOR, self._factor * _DECREASE)
        for lane in _LANES:
            if self._known(lane) is not None:
                continue
            admitted = self._meter.per_minute(lane, now) or math.inf
            ceiling = min(self._found[lane] or math.inf, admitted)
            if ceiling == math.inf:
                continue  # nothing admitted yet to take a pace from: the pause only
            least = max(_FOUND_FLOOR[lane], self._best[lane] * _FOUND_LEAST)
            found = max(least, ceiling * _FOUND_DECREASE)
            self._found[lane] = found
            self._ceiling[lane] = max(found, ceiling)

    def _speed_up(self, now: float, ticket: Ticket | None) -> None:
        """A clean answer: regain pace for the time since the last step (a few seconds in all)."""
        elapsed = max(0.0, now - self._recovered_at)
        if elapsed > 0.0:
            self._recovered_at = now
            if self._factor < 1.0:
                self._factor = min(1.0, self._factor + _RECOVERY_PER_SECOND * min(elapsed, 10.0))
        for lane in _LANES:
            if self._known(lane) is None:  # (only a found pace has a floor to keep)
                self._best[lane] = max(self._best[lane], self._meter.per_minute(lane, now))
        if self._starting:
            self._grow_start(now, ticket)
            return
        for lane in _LANES:
            if self._found[lane] is not None and self._known(lane) is None and self._ceiling[lane]:
                self._found[lane] = self._regained(lane, now)

    def _grow_start(self, now: float, ticket: Ticket | None) -> None:
        """Double the starting pace each round trip while requests wait for it (TCP's slow start).

        That is: once a request sent at the pace is answered (what a pace does is known only
        then), at most every `_START_DOUBLING` seconds, and only if a request had to wait.
        """
        if ticket is None or ticket.sent_at < self._start_step_at:
            return  # sent before the last step: says nothing of the pace now
        if now - self._start_step_at < _START_DOUBLING:
            return
        self._start_step_at = now
        if not self._start_busy:
            return  # the caller sends less than the pace allows: nothing learned
        self._start_busy = False
        rate = (self._found["requests"] or _START_RATE) * 2
        if rate >= _START_OPEN:  # no limit in sight: unpaced until a 429
            self._starting = False
            self._found["requests"] = None
        else:
            self._found["requests"] = rate

    def _regained(self, lane: str, now: float) -> float:
        """The found pace ``t`` seconds after the last 429 (CUBIC's curve, as TCP grows back).

        It climbs from `_FOUND_DECREASE` of the ceiling (where the 429 came) and flattens out
        at the ceiling `_FOUND_REGAIN` seconds later, so the next 429 comes seconds, not one
        second, later; past it, it grows ever faster (the quota may have been raised). It
        never runs more than twice ahead of what the service admitted lately (a caller that
        sends less leaves no room to burst into).
        """
        ceiling = self._ceiling[lane]
        x = (now - self._congested_at - _FOUND_REGAIN) / _FOUND_REGAIN
        pace = ceiling * (1.0 + (1.0 - _FOUND_DECREASE) * x**3)
        admitted = self._meter.per_minute(lane, now)
        return min(LARGEST_LIMIT, max(_FOUND_FLOOR[lane], min(pace, max(ceiling, 2 * admitted))))

    def _retry_wait(self, info: RateLimitHeaders | None) -> float:
        """How long a 429 asks to wait: ``retry-after``, else the sooner reset, else 1 s."""
        if info is None:
            return 1.0
        if info.retry_after is not None:
            return info.retry_after
        resets = [r for r in (info.reset_tokens, info.reset_requests) if r]
        return min(resets) if resets else 1.0

    def _correct(self, lane: _Lane | None, remaining: float | None, level: float | None) -> None:
        """Take from the credit what the service has left less than the local bucket.

        Others share the deployment, or it counts more. Never the other way: ``remaining`` is
        a per-minute figure while the service checks short windows, so room it reports is no
        room to burst into.
        """
        if lane is None or remaining is None or level is None or remaining >= level:
            return
        lane.shift(max(-lane.burst, remaining - level))

    def _pause(self, seconds: float, now: float) -> None:
        """Hold every request for ``seconds`` (each up to 10% more: its own ``jitter``).

        The local buckets are emptied: after it requests go one by one at the pace, not in a
        burst. A pause longer than ``max_pause`` is not taken: the call that met it fails.
        """
        if seconds > self.max_pause:
            return
        until = now + seconds
        extra = until - max(self._blocked_until, now)
        if extra <= 0:
            return
        drain = self._blocked_until <= now  # a new pause, not a longer one
        self._blocked_until = until
        self._spread = max(self._spread if not drain else 0.0, _PAUSE_JITTER * seconds)
        for lane in (self._tokens, self._requests):
            if lane is not None:
                # The pending requests keep their spacing and start again after the pause.
                credit = min(lane.credit(now), lane.tail) - (lane.burst if drain else 0.0)
                lane._rebase(now, credit - lane.rate * extra)

    def paused_for(self, now: float) -> float:
        """Seconds left of the pause a 429 asked for (0: none)."""
        return max(0.0, self._blocked_until - now)

    def abandon(self, ticket: Ticket) -> None:
        """Give a ticket up: it did not go (cancelled, failed before sending) or got no answer.

        A request that did not go leaves the queue (those behind it move up); a probe lets
        another request learn the limits at once. Calling it twice, or after the answer, is
        harmless.
        """
        with self._lock:
            if ticket.done:
                return
            ticket.done = True
            if ticket.probe:
                self._probe_since = None
            if ticket.sent:
                return
            if self._tokens is not None and ticket.token_place is not None:
                self._tokens.cancel(ticket.token_place, ticket.tokens)
            if self._requests is not None and ticket.request_place is not None:
                self._requests.cancel(ticket.request_place, 1.0)

    def learn_usage(
        self, estimated: float, prompt_tokens: int | None, completion_tokens: int | None
    ) -> None:
        """Learn from an answer's ``usage``: how far the estimates are from the service's count.

        Args:
            estimated: The prompt (or input) tokens estimated before sending.
            prompt_tokens: ``usage.prompt_tokens``.
            completion_tokens: ``usage.completion_tokens`` where no ``max_tokens`` was sent
                (the service then charges what the answer used).
        """
        with self._lock:
            # A running mean over the first five answers, then a moving one: bulk jobs of a
            # few large batches need the count's ratio from the first answer on.
            if prompt_tokens and estimated > 0:
                self._usage_seen += 1
                weight = max(0.2, 1.0 / self._usage_seen)
                ratio = (1 - weight) * self._ratio + weight * prompt_tokens / estimated
                self._ratio = min(5.0, max(0.2, ratio))
            if completion_tokens is not None:
                self._completions_seen += 1
                weight = max(0.2, 1.0 / self._completions_seen)
                self._completion = (1 - weight) * self._completion + weight * completion_tokens

    # ---- the drivers ----------------------------------------------------------------------

    def _next(
        self,
        ticket: Ticket | None,
        prompt: float,
        completion: float | None,
        poll: float,
        deadline: float | None,
    ) -> tuple[Ticket | None, float]:
        now = self._clock()
        self._check_deadline(now, deadline)
        if ticket is None:
            ticket = self.reserve(prompt, completion, now)
            if ticket is None:  # the model's first call is out: wait for what it teaches
                if deadline is None:
                    return None, poll
                if now >= deadline:
                    raise APITimeoutError(
                        "Timed out waiting for this model's first answer, which concurrent calls "
                        "wait for to learn the rate limits (the limiter's probe_timeout); this "
                        "call was not sent."
                    )
                return None, min(poll, deadline - now)
        wait = self.delay(ticket, now)
        if wait < 1e-6:  # below the clock's resolution: now (a sleep that short may not count)
            self.mark_sent(ticket, now)
            return ticket, 0.0
        # Wake halfway (at least 50 ms ahead) to catch credit the headers gave back meanwhile.
        if wait < 0.05:
            return ticket, wait
        if self._starting:
            # In a slow start, when the credit comes if the pace doubled now and then every
            # `_START_DOUBLING` (the fastest it can grow): never late, and a few wake-ups only.
            ahead = _START_DOUBLING * math.log2(1 + wait * math.log(2) / (2 * _START_DOUBLING))
            return ticket, max(0.05, min(wait / 2, ahead))
        return ticket, max(0.05, wait / 2)

    def _check_deadline(self, now: float, deadline: float | None) -> None:
        """Fail at once when the service's pause outlasts the call's deadline."""
        pause = self._blocked_until - now
        if deadline is not None and pause > 0 and now + pause > deadline:
            raise RateLimitError(
                f"The service asked to wait {pause:.3g}s before more requests (429, "
                f"retry-after), longer than this call's time left ({max(0.0, deadline - now):.3g}s"
                "); not waiting.",
                status_code=429,
                retry_after=pause,
            )

    def acquire(
        self,
        prompt_tokens: float,
        completion_tokens: float | None = None,
        *,
        deadline: float | None = None,
    ) -> Ticket:
        """Wait (sleeping this thread) until a request may go; returns its ticket.

        Args:
            prompt_tokens: The request's estimated prompt (or input) tokens.
            completion_tokens: The completion it may use (``max_tokens``), None: unknown.
            deadline: When the call must be over (the clock's time), None: no deadline.

        Raises:
            RateLimitError: A pause the service asked for (429) lasts past ``deadline``.
            APITimeoutError: ``deadline`` came while this call waited for the model's first
                answer (the probe), before it was sent.
        """
        ticket: Ticket | None = None
        poll = 0.002
        try:
            while True:
                ticket, wait = self._next(ticket, prompt_tokens, completion_tokens, poll, deadline)
                if ticket is not None and wait == 0.0:
                    return ticket
                poll = min(poll * 2, 0.05)
                self._sleep(wait)
        except BaseException:
            if ticket is not None:
                self.abandon(ticket)
            raise

    async def aacquire(
        self,
        prompt_tokens: float,
        completion_tokens: float | None = None,
        *,
        deadline: float | None = None,
    ) -> Ticket:
        """Wait (without blocking the event loop) until a request may go; see `acquire`.

        A task cancelled while it waits leaves the queue.
        """
        ticket: Ticket | None = None
        poll = 0.002
        try:
            while True:
                ticket, wait = self._next(ticket, prompt_tokens, completion_tokens, poll, deadline)
                if ticket is not None and wait == 0.0:
                    return ticket
                poll = min(poll * 2, 0.05)
                await self._asleep(wait)
        except BaseException:
            if ticket is not None:
                self.abandon(ticket)
            raise

    def answered(self, ticket: Ticket | None, status: int, headers: Mapping[str, str]) -> None:
        """`observe` at the clock's now."""
        self.observe(ticket, status, headers, self._clock())
