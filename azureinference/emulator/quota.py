"""Per-deployment quotas: tokens and requests per minute, as Azure OpenAI and Foundry enforce them.

Each limited deployment has two token buckets, one for tokens and one for requests. A bucket
holds at most the per-minute limit, starts full and refills continuously at ``limit / 60`` per
emulated second. A request is admitted when both buckets hold its cost (1 request, and its
tokens); otherwise it is refused with 429 and told how long to wait until they will.

Time: the emulator reads a clock (``time.monotonic`` unless ``EmulatorConfig.clock`` gives
another) in real seconds and multiplies elapsed time by ``EmulatorConfig.time_scale``: with
``time_scale=60`` a minute's quota refills in one real second. ``reset`` and ``retry-after``
values are real time (what the client must wait); ``x-ratelimit-limit-*`` report the limit
per real minute (the configured figure times ``time_scale``), so a client that paces to them
paces in real time; ``remaining`` is what the bucket holds.

All pure arithmetic on a given ``now``, so tests feed it clocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Bucket", "DeploymentQuota", "QuotaUsage", "format_duration"]


def format_duration(seconds: float) -> str:
    """A wait as OpenAI writes it in ``x-ratelimit-reset-*``: ``"20ms"``, ``"1.5s"``, ``"6m0s"``."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{math.ceil(rest * 1000) / 1000:g}s"
    return f"{int(minutes)}m{text}" if minutes else text


@dataclass
class Bucket:
    """One token bucket: ``limit`` per minute, refilled at ``limit / 60`` per emulated second.

    Attributes:
        limit: The per-minute limit (also the bucket's size).
        level: What the bucket holds now (at ``updated``).
        updated: The real time ``level`` was computed at.
    """

    limit: int
    level: float
    updated: float

    def refill(self, now: float, time_scale: float) -> None:
        """Add what flowed in since ``updated`` (never past ``limit``)."""
        elapsed = max(0.0, now - self.updated) * time_scale
        self.level = min(float(self.limit), self.level + elapsed * self.limit / 60.0)
        self.updated = now

    def wait_for(self, amount: float, time_scale: float) -> float:
        """Real seconds until the bucket holds ``amount`` (0 when it does now)."""
        missing = amount - self.level
        if missing <= 0:
            return 0.0
        return missing * 60.0 / (self.limit * time_scale)

    def until_full(self, time_scale: float) -> float:
        """Real seconds until the bucket is full again."""
        return self.wait_for(float(self.limit), time_scale)


@dataclass
class QuotaUsage:
    """What one deployment's quota has seen since the last reset.

    Attributes:
        requests: Requests admitted.
        tokens: Tokens charged for them.
        refused: Requests refused with 429.
    """

    requests: int = 0
    tokens: int = 0
    refused: int = 0


@dataclass
class Refused:
    """Why a request was refused: which limit, and how long to wait (real seconds)."""

    unit: str  # "tokens" or "requests"
    limit: int
    requested: int
    remaining: int
    wait: float
    too_large: bool = False


class DeploymentQuota:
    """A deployment's token and request buckets, and what it reports on every answer."""

    def __init__(
        self,
        tokens_per_minute: int | None,
        requests_per_minute: int | None,
        now: float,
    ) -> None:
        self.tokens = (
            Bucket(tokens_per_minute, float(tokens_per_minute), now) if tokens_per_minute else None
        )
        self.requests = (
            Bucket(requests_per_minute, float(requests_per_minute), now)
            if requests_per_minute
            else None
        )
        self.usage = QuotaUsage()

    def _buckets(self) -> list[tuple[str, Bucket]]:
        pairs = (("requests", self.requests), ("tokens", self.tokens))
        return [(unit, bucket) for unit, bucket in pairs if bucket is not None]

    def admit(self, tokens: int, now: float, time_scale: float) -> Refused | None:
        """Charge one request of ``tokens`` tokens, or say why it must wait."""
        costs = {"requests": 1, "tokens": tokens}
        worst: Refused | None = None
        for unit, bucket in self._buckets():
            bucket.refill(now, time_scale)
            cost = costs[unit]
            if cost > bucket.limit:
                # The service refuses a request larger than the whole quota, every time.
                worst = Refused(unit, bucket.limit, cost, int(bucket.level), math.inf, True)
                break
            wait = bucket.wait_for(cost, time_scale)
            if wait > 0 and (worst is None or wait > worst.wait):
                worst = Refused(unit, bucket.limit, cost, int(bucket.level), wait)
        if worst is not None:
            self.usage.refused += 1
            return worst
        for unit, bucket in self._buckets():
            bucket.level -= costs[unit]
        self.usage.requests += 1
        self.usage.tokens += tokens
        return None

    def headers(self, now: float, time_scale: float) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers of an answer given at ``now``."""
        out: dict[str, str] = {}
        for unit, bucket in self._buckets():
            bucket.refill(now, time_scale)
            per_real_minute = bucket.limit * time_scale
            out[f"x-ratelimit-limit-{unit}"] = (
                str(round(per_real_minute)) if per_real_minute >= 1 else f"{per_real_minute:.3g}"
            )
            out[f"x-ratelimit-remaining-{unit}"] = str(max(0, int(bucket.level)))
            out[f"x-ratelimit-reset-{unit}"] = format_duration(bucket.until_full(time_scale))
        return out


def retry_headers(wait: float) -> dict[str, str]:
    """``retry-after-ms`` (exact) and ``Retry-After`` (whole seconds, rounded up)."""
    return {
        "retry-after-ms": str(math.ceil(wait * 1000)),
        "retry-after": str(math.ceil(wait)),
    }
