"""A local endpoint with a quota, as Azure enforces one: for the bulk and rate-limit tests.

A real HTTP server on 127.0.0.1 in a thread. Each quota (tokens and requests per minute) is two
token buckets, as an Azure deployment keeps it: the minute's (holding the per-minute limit,
refilled continuously: what ``x-ratelimit-remaining-*`` reports) and a short window's (holding
``burst_seconds`` of quota: Azure checks a limit over 1-10 s windows, so a minute's quota cannot
go at once). A request is admitted when all four hold its cost; else it is refused with 429,
``retry-after-ms`` and ``retry-after`` (how long until it would fit) and Azure's body. Tokens are
counted as the emulator counts them (words; chat adds ``max_tokens``). Embeddings of
``"doc N ..."`` are ``[N, len(words)]``, so a test can check order and count; a text containing
``FAIL`` gets a 400.

Modes: ``headers`` is ``"full"`` (limit and remaining, Azure's spelling), ``"remaining"`` (only
``x-ratelimit-remaining-*``, as a recorded East US 2 deployment sends) or ``"none"``;
``throttle_every=k`` makes every k-th request a 429 whatever the quota says;
``fail_every=k`` makes every k-th request a 500 or a 503 (alternately); `QuotaServer.set_limits`
changes the quota mid-run (Azure's dynamic quota halved).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Bucket:
    def __init__(self, per_minute: float, seconds: float) -> None:
        self.seconds = seconds
        self.rate = per_minute / 60.0
        self.capacity = max(self.rate * seconds, 1.0)
        self.level = self.capacity
        self.at = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now

    def resize(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(self.rate * self.seconds, 1.0)
        self.level = min(self.level, self.capacity)

    def wait(self, cost: float) -> float:
        need = min(cost, self.capacity) - self.level
        return need / self.rate if need > 0 else 0.0


class _Quota:
    """One limit: the minute's bucket and the short window's."""

    def __init__(self, per_minute: float, burst_seconds: float) -> None:
        self.minute = _Bucket(per_minute, 60.0)
        self.window = _Bucket(per_minute, burst_seconds)

    def refill(self, now: float) -> None:
        self.minute.refill(now)
        self.window.refill(now)

    def wait(self, cost: float) -> float:
        return max(self.minute.wait(cost), self.window.wait(cost))

    def take(self, cost: float) -> None:
        self.minute.level -= cost
        self.window.level -= cost

    def resize(self, per_minute: float) -> None:
        self.minute.resize(per_minute)
        self.window.resize(per_minute)


class QuotaServer(ThreadingHTTPServer):
    """The server; see the module docstring.

    Counters: ``answered``, ``throttled``, ``failed``, ``texts``, ``charged`` (tokens),
    ``peak_second`` (most requests admitted in one second).
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # hundreds of calls connect at once (a gather); 5 would drop some

    def __init__(
        self,
        tokens_per_minute: float,
        requests_per_minute: float,
        *,
        burst_seconds: float = 1.0,
        throttle_every: int = 0,
        fail_every: int = 0,
        headers: bool | str = "full",
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.tokens = _Quota(tokens_per_minute, burst_seconds)
        self.requests = _Quota(requests_per_minute, burst_seconds)
        self.limits = (tokens_per_minute, requests_per_minute)
        self.throttle_every = throttle_every
        self.fail_every = fail_every
        self.headers_mode = {True: "full", False: "none"}.get(headers, headers)  # type: ignore[call-overload]
        self.seen = 0
        self.answered = 0
        self.throttled = 0
        self.failed = 0
        self.charged = 0.0
        self.started = time.monotonic()
        self.per_second: Counter[int] = Counter()  # requests admitted in each second
        self.texts: Counter[str] = Counter()  # texts embedded (answered 200), with repeats

    @property
    def endpoint(self) -> str:
        """The endpoint URL (a serverless-style root)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def peak_second(self) -> int:
        """The most requests admitted within one whole second."""
        return max(self.per_second.values(), default=0)

    def set_limits(self, tokens_per_minute: float, requests_per_minute: float) -> None:
        """Change the quota now (what is left is kept, up to the new size)."""
        with self.lock:
            self.tokens.resize(tokens_per_minute)
            self.requests.resize(requests_per_minute)
            self.limits = (tokens_per_minute, requests_per_minute)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.headers_mode == "full":
            headers["x-ratelimit-limit-tokens"] = str(int(self.limits[0]))
            headers["x-ratelimit-limit-requests"] = str(int(self.limits[1]))
        if self.headers_mode in ("full", "remaining"):
            headers["x-ratelimit-remaining-tokens"] = str(max(0, int(self.tokens.minute.level)))
            headers["x-ratelimit-remaining-requests"] = str(max(0, int(self.requests.minute.level)))
        return headers

    def admit(self, cost: float) -> tuple[int, dict[str, str]]:
        """Take ``cost`` tokens and one request, or say how long to wait (a 429, a 5xx)."""
        with self.lock:
            now = time.monotonic()
            self.tokens.refill(now)
            self.requests.refill(now)
            self.seen += 1
            if self.fail_every and self.seen % self.fail_every == 0:
                self.failed += 1
                return (500 if self.seen // self.fail_every % 2 else 503), {}
            wait = max(self.tokens.wait(cost), self.requests.wait(1))
            if self.throttle_every and self.seen % self.throttle_every == 0:
                wait = max(wait, 0.01)
            if wait == 0:
                self.tokens.take(cost)
                self.requests.take(1)
                self.charged += cost
                self.per_second[int(now - self.started)] += 1
            headers = self._headers()
            if wait > 0:
                self.throttled += 1
                headers["retry-after-ms"] = str(max(1, round(wait * 1000)))
                headers["retry-after"] = str(max(1, math.ceil(wait)))
                return 429, headers
            self.answered += 1
            return 200, headers

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def _words(text: str) -> int:
    return len(text.split())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: QuotaServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path.split("?")[0].endswith("/embeddings"):
            texts = body["input"]
            cost = sum(_words(t) for t in texts)
        else:
            texts = [str(m.get("content")) for m in body["messages"]]
            cost = sum(_words(t) + 1 for t in texts) + int(body.get("max_tokens") or 16)
        if any("FAIL" in t for t in texts):
            error = {"error": {"code": "BadRequest", "message": "This input is refused."}}
            self._answer(400, error, {})
            return
        status, headers = self.server.admit(cost)
        if status == 429:
            message = (
                "Requests to the Embeddings_Create Operation under Azure OpenAI API version "
                "2024-10-21 have exceeded call rate limit of your current AIServices S0 pricing "
                f"tier. Please retry after {headers['retry-after']} seconds."
            )
            self._answer(429, {"error": {"code": "429", "message": message}}, headers)
            return
        if status >= 500:
            error = {
                "error": {"code": "InternalServerError", "message": "The server had an error."}
            }
            self._answer(status, error, {})
            return
        if "input" in body:
            with self.server.lock:
                self.server.texts.update(texts)
            data = [
                {"index": i, "object": "embedding", "embedding": [_number(t), _words(t)]}
                for i, t in enumerate(texts)
            ]
            usage = {"prompt_tokens": cost, "total_tokens": cost}
            self._answer(200, {"object": "list", "data": data, "usage": usage}, headers)
            return
        text = f"You said: {texts[-1]}"
        usage = {"prompt_tokens": cost, "completion_tokens": _words(text), "total_tokens": cost}
        choice = {"index": 0, "message": {"role": "assistant", "content": text}}
        choice["finish_reason"] = "stop"
        answer = {"id": "c", "object": "chat.completion", "created": 0, "model": "m"}
        self._answer(200, {**answer, "choices": [choice], "usage": usage}, headers)


def _number(text: str) -> float:
    parts = text.split()
    return float(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1.0


@contextmanager
def quota_server(
    tokens_per_minute: float, requests_per_minute: float, **kw: Any
) -> Iterator[QuotaServer]:
    """Start a `QuotaServer` in a thread for the block."""
    server = QuotaServer(tokens_per_minute, requests_per_minute, **kw)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def corpus(n: int, words: int = 8) -> list[str]:
    """``n`` texts ``"doc i w w w..."`` of ``words`` words."""
    return [f"doc {i} " + " ".join(["lorem"] * (words - 2)) for i in range(n)]
