"""Retry rules as small pure functions: what to retry, and how long to wait.

Retried: 408, 429 and 5xx answers, and connection failures (connect errors, timeouts, broken
connections) before any byte of the answer was read. The wait is ``retry-after-ms``, then
``Retry-After`` (seconds or an HTTP date), else exponential backoff with jitter, capped. A
``Retry-After`` longer than ``max_retry_after`` is not waited for: the error is raised with it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

import httpx2

from .errors import ConfigurationError, parse_retry_after

__all__ = ["RetryPolicy"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_delay: The first backoff, in seconds.
        max_delay: The largest backoff, in seconds.
        max_retry_after: The longest ``Retry-After`` honoured; longer ones are not retried.

    Raises:
        ConfigurationError: ``max_retries`` is not a whole number >= 0, or a delay is not a
            finite number of seconds >= 0 (a negative or NaN delay would be garbled into a
            retry at once or a sleep error at the first failure).
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError(
                f"RetryPolicy max_retries must be a whole number >= 0, not {retries!r}."
            )
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigurationError(
                    f"RetryPolicy {name} must be a finite number of seconds >= 0, not {value!r}."
                )

    def should_retry_status(self, status_code: int) -> bool:
        """True for statuses worth another try (408, 429, 5xx)."""
        return status_code in RETRY_STATUSES or status_code >= 500

    @staticmethod
    def should_retry_exception(exc: BaseException) -> bool:
        """True for transport failures (connect errors, timeouts, dropped connections)."""
        return isinstance(exc, httpx2.TransportError) and not isinstance(
            exc, (httpx2.UnsupportedProtocol, httpx2.LocalProtocolError)
        )

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float | None:
        """Seconds to wait before retry number ``attempt`` (0-based); None means do not retry."""
        if attempt >= self.max_retries:
            return None
        if headers:
            retry_after = parse_retry_after(headers)
            if retry_after is not None:
                return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.initial_delay * 2.0**attempt, self.max_delay)
        return backoff * (1.0 - 0.25 * random.random())
