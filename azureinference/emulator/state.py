"""The emulator's mutable side: faults, scripted replies, the request log and the quotas."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig, Fault, ModelSpec, ScriptedReply, check_quota
from .quota import DeploymentQuota, QuotaUsage
from .responses_api import ResponseStore

__all__ = ["EmulatorState", "RecordedRequest"]


@dataclass
class RecordedRequest:
    """A request the emulator received (credential headers left out)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


@dataclass
class EmulatorState:
    """The mutable side of an emulator: its faults, scripted replies and request log.

    The request log is a ring of ``config.request_log_size`` requests: an emulator run as a
    shared service does not grow with every call.
    """

    config: EmulatorConfig
    key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    faults: list[Fault] = field(default_factory=list)
    scripted: deque[ScriptedReply] = field(default_factory=deque)
    requests: deque[RecordedRequest] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    quotas: dict[str, tuple[tuple[int | None, int | None], DeploymentQuota]] = field(
        default_factory=dict
    )
    quota_overrides: dict[str | None, tuple[int | None, int | None]] = field(default_factory=dict)
    stored_responses: ResponseStore = field(default_factory=ResponseStore)

    def __post_init__(self) -> None:
        self.requests = deque(self.requests, maxlen=self.config.request_log_size)

    def record(self, request: RecordedRequest) -> None:
        """Add ``request`` to the log, dropping the oldest past ``config.request_log_size``."""
        with self.lock:
            if self.requests.maxlen != self.config.request_log_size:  # the config was changed
                self.requests = deque(self.requests, maxlen=self.config.request_log_size)
            self.requests.append(request)

    def now(self) -> float:
        """Real time in seconds, from the configured clock."""
        return (self.config.clock or time.monotonic)()

    def limits_of(self, spec: ModelSpec) -> tuple[int | None, int | None]:
        """(tokens, requests) per minute for ``spec``: an override, the model's, the config's."""
        override = self.quota_overrides.get(spec.name) or self.quota_overrides.get(None)
        if override is not None:
            return override
        return (
            spec.tokens_per_minute or self.config.tokens_per_minute,
            spec.requests_per_minute or self.config.requests_per_minute,
        )

    def quota_of(self, spec: ModelSpec) -> DeploymentQuota | None:
        """The deployment's live quota (None when it has no limits); call with the lock held."""
        limits = self.limits_of(spec)
        if limits == (None, None):
            return None
        current = self.quotas.get(spec.name)
        if current is None or current[0] != limits:
            current = (limits, DeploymentQuota(*limits, self.now()))
            self.quotas[spec.name] = current
        return current[1]

    def set_quota(
        self,
        tokens_per_minute: int | None,
        requests_per_minute: int | None,
        model: str | None = None,
    ) -> None:
        """Override the quotas of ``model`` (of every deployment when None) until ``reset``."""
        check_quota("tokens_per_minute", tokens_per_minute)
        check_quota("requests_per_minute", requests_per_minute)
        with self.lock:
            self.quota_overrides[model] = (tokens_per_minute, requests_per_minute)

    def quota_usage(self, model: str) -> QuotaUsage:
        """What ``model``'s quota admitted and refused since the last reset."""
        with self.lock:
            current = self.quotas.get(model)
            usage = current[1].usage if current else QuotaUsage()
            return QuotaUsage(usage.requests, usage.tokens, usage.refused)

    def take_fault(self, route: str, model: str | None) -> Fault | None:
        """Consume one use of the first fault matching this request."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(route, model):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def peek_script(self) -> ScriptedReply | None:
        """The next scripted reply, left in the queue."""
        with self.lock:
            return self.scripted[0] if self.scripted else None

    def take_script(self) -> ScriptedReply | None:
        """The next scripted reply, if any."""
        with self.lock:
            return self.scripted.popleft() if self.scripted else None
