"""A local endpoint with a quota, as Azure enforces one: for the bulk and rate-limit tests.

A real HTTP server on 127.0.0.1 in a thread. It keeps a token bucket per quota (tokens and
requests per minute, refilled continuously, holding ``burst_seconds`` of quota), answers every
request with the ``x-ratelimit-*`` headers, and refuses with 429 and ``retry-after-ms`` when a
request does not fit. Tokens are counted as the emulator counts them (words; chat adds
``max_tokens``). Embeddings of ``"doc N ..."`` are ``[N, len(words)]``, so a test can check
order and count; a text containing ``FAIL`` gets a 400, and ``throttle_every=k`` makes every
k-th request a 429 whatever the quota says.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Bucket:
    def __init__(self, per_minute: float, burst_seconds: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(self.rate * burst_seconds, 1.0)
        self.level = self.capacity
        self.at = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now

    def wait(self, cost: float) -> float:
        need = min(cost, self.capacity) - self.level
        return need / self.rate if need > 0 else 0.0


class QuotaServer(ThreadingHTTPServer):
    """The server; see the module docstring. Counters: ``answered``, ``throttled``, ``texts``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        tokens_per_minute: float,
        requests_per_minute: float,
        *,
        burst_seconds: float = 1.0,
        throttle_every: int = 0,
        headers: bool = True,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.tokens = _Bucket(tokens_per_minute, burst_seconds)
        self.requests = _Bucket(requests_per_minute, burst_seconds)
        self.limits = (tokens_per_minute, requests_per_minute)
        self.throttle_every = throttle_every
        self.send_headers = headers
        self.seen = 0
        self.answered = 0
        self.throttled = 0
        self.texts: Counter[str] = Counter()  # texts embedded (answered 200), with repeats

    @property
    def endpoint(self) -> str:
        """The endpoint URL (a serverless-style root)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def admit(self, cost: float) -> tuple[int, dict[str, str]]:
        """Take ``cost`` tokens and one request, or say how long to wait (a 429)."""
        with self.lock:
            now = time.monotonic()
            self.tokens.refill(now)
            self.requests.refill(now)
            self.seen += 1
            wait = max(self.tokens.wait(cost), self.requests.wait(1))
            if self.throttle_every and self.seen % self.throttle_every == 0:
                wait = max(wait, 0.01)
            if wait == 0:
                self.tokens.level -= cost
                self.requests.level -= 1
            headers: dict[str, str] = {}
            if self.send_headers:
                headers = {
                    "x-ratelimit-limit-tokens": str(int(self.limits[0])),
                    "x-ratelimit-limit-requests": str(int(self.limits[1])),
                    "x-ratelimit-remaining-tokens": str(max(0, int(self.tokens.level))),
                    "x-ratelimit-remaining-requests": str(max(0, int(self.requests.level))),
                }
            if wait > 0:
                self.throttled += 1
                headers["retry-after-ms"] = str(max(1, round(wait * 1000)))
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
            message = "Requests to this deployment have exceeded the rate limit."
            self._answer(429, {"error": {"code": "429", "message": message}}, headers)
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
