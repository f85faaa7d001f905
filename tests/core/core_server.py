"""A real local HTTP server in a thread, scripted per test (used through ``conftest.py``).

The server (stdlib ``http.server``, HTTP/1.1 with keep-alive) is started once per test session
(httpx ``tests/conftest.py`` ``serve_in_thread`` does the same). Each test queues what the next
requests get: a JSON answer, an SSE stream (chunked), a stream cut off mid-body, an HTML page, or a
slow answer. With nothing queued it answers like a small endpoint: chat (plain or streamed),
embeddings and ``/info``.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2

from .core_support import COMPLETION, chunk, sse

Action = Callable[["_Handler"], None]


@dataclass
class SeenRequest:
    """What the server received."""

    method: str
    path: str
    headers: httpx2.Headers  # names case-insensitive, as on the wire (aiohttp sends lowercase)
    body: Any
    connection: int = 0  # which connection carried it: the server numbers them from 1


def send_json(status: int, body: Any, headers: dict[str, str] | None = None) -> Action:
    """Answer with a JSON body."""

    def act(h: _Handler) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-request-id", "req-local-1")
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    return act


def send_raw(status: int, data: bytes, content_type: str) -> Action:
    """Answer with raw bytes (an HTML error page, broken JSON...)."""

    def act(h: _Handler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return act


def send_sse(
    pieces: list[bytes], *, drop: bool = False, stall: float = 0.0, hold: bool = False
) -> Action:
    """Stream ``pieces`` as chunks of a chunked ``text/event-stream`` body.

    ``drop`` closes the socket after the pieces without the last chunk (a dropped connection);
    ``stall`` waits that long after the pieces before ending the body; ``hold`` waits until the
    test is over (a stream that stalls for good).
    """

    def act(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for piece in pieces:
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            h.wfile.flush()
        if drop:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if stall:
            time.sleep(stall)
        if hold:
            h.server.release.wait(60)
        h.wfile.write(b"0\r\n\r\n")

    return act


def send_bytes(data: bytes) -> Action:
    """Write ``data`` as the whole answer, status line included, then close (not HTTP, maybe)."""

    def act(h: _Handler) -> None:
        h.close_connection = True
        h.wfile.write(data)
        h.wfile.flush()

    return act


def held(then: Action) -> Action:
    """Answer only when the test is over (`LocalServer.reset`): a server that never answers in
    time, without a sleep."""

    def act(h: _Handler) -> None:
        h.server.release.wait(60)
        then(h)

    return act


def slow(seconds: float, then: Action) -> Action:
    """Wait before answering (a slow server)."""

    def act(h: _Handler) -> None:
        time.sleep(seconds)
        then(h)

    return act


def _b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def auto(h: _Handler) -> None:
    """The default answer: a small, well-behaved endpoint."""
    body = h.seen.body if isinstance(h.seen.body, dict) else {}
    path = h.seen.path.split("?")[0]
    if path.endswith("/info"):
        send_json(
            200,
            {
                "model_name": "local-model",
                "model_type": "chat-completion",
                "model_provider_name": "Local",
            },
        )(h)
    elif path.endswith("/embeddings"):
        inputs = body.get("input") or []
        vectors = [[float(i), 0.5, -0.25] for i in range(len(inputs))]
        b64 = body.get("encoding_format") == "base64"
        data = [
            {"object": "embedding", "index": i, "embedding": _b64(v) if b64 else v}
            for i, v in enumerate(vectors)
        ]
        send_json(
            200,
            {
                "id": "emb-local",
                "object": "list",
                "model": body.get("model") or "local-embed",
                "data": data,
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            },
        )(h)
    elif body.get("stream"):
        events = [
            chunk("", role="assistant"),
            chunk("Hello"),
            chunk(" there"),
            chunk(finish_reason="stop"),
        ]
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                chunk(
                    choices=False,
                    usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                )
            )
        send_sse([sse(e, done=False) for e in events] + [b"data: [DONE]\n\n"])(h)
    else:
        send_json(200, COMPLETION)(h)


def echo(h: _Handler) -> None:
    """A chat answer whose content is the last message's content (which answer went where)."""
    body = h.seen.body if isinstance(h.seen.body, dict) else {}
    text = (body.get("messages") or [{}])[-1].get("content")
    message = {"role": "assistant", "content": text}
    send_json(200, {**COMPLETION, "choices": [{**COMPLETION["choices"][0], "message": message}]})(h)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes
    server: _Server
    seen: SeenRequest

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.opened += 1
            self.connection_number = self.server.opened
            self.server.open.add(self.connection_number)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.lock:
                self.server.open.discard(self.connection_number)
                self.server.changed.notify_all()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.seen = SeenRequest(
            self.command,
            self.path,
            httpx2.Headers(self.headers.items()),
            body,
            self.connection_number,
        )
        with self.server.lock:
            self.server.seen.append(self.seen)
            action = self.server.script.pop(0) if self.server.script else self.server.default
        try:
            action(self)
        except OSError:
            self.close_connection = True  # the client went away (a timeout test)

    do_GET = do_POST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.script: list[Action] = []
        self.seen: list[SeenRequest] = []
        self.default: Action = auto
        self.release = threading.Event()  # set when the test is over: held answers go then
        self.opened = 0  # connections accepted so far (their numbers: 1, 2, ...)
        self.open: set[int] = set()  # the numbers of those not closed yet

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped and timed-out connections are the point of some tests


@dataclass
class LocalServer:
    """A running local server: queue actions with `then`, read `seen` requests."""

    _server: _Server
    url: str = field(init=False)

    def __post_init__(self) -> None:
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def then(self, *actions: Action) -> LocalServer:
        """Queue answers for the next requests, in order."""
        with self._server.lock:
            self._server.script.extend(actions)
        return self

    def answer_all(self, action: Action) -> LocalServer:
        """Answer every request with ``action`` once the queue is empty (until `reset`)."""
        self._server.default = action
        return self

    @property
    def seen(self) -> list[SeenRequest]:
        """Requests received since the test started."""
        return list(self._server.seen)

    def connections(self) -> set[int]:
        """The connections that carried this test's requests (numbers, see `SeenRequest`)."""
        return {r.connection for r in self.seen}

    def wait_closed(self, connections: set[int], timeout: float = 30.0) -> bool:
        """Wait until the server saw each of ``connections`` closed (True), or ``timeout`` passed.

        The timeout is a safety net against a hang, not a measurement: closing is an event the
        server sees when the client's socket closes.
        """
        with self._server.changed:
            return self._server.changed.wait_for(
                lambda: not (connections & self._server.open), timeout
            )

    def reset(self) -> None:
        self._server.release.set()
        with self._server.lock:
            self._server.release = threading.Event()
            self._server.script.clear()
            self._server.seen.clear()
            self._server.default = auto
