"""A local server that answers as Azure OpenAI answers a gpt-5-mini deployment, or as LiteLLM
answers a model it does not know: the recorded refusals, and plain answers otherwise."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from azureinference.emulator.refusals import Refusal, Style, check_fixed_sampling

KEY = "test-key-not-a-secret"
REALWIRE = next(
    (
        p / "shared" / "realwire"
        for p in Path(__file__).resolve().parents[2:]
        if (p / "shared").is_dir()
    ),
    Path("../shared/realwire"),
)
SERVED = "gpt-5-mini-2025-08-07"
# LiteLLM's answer for a model it does not know: a 400 that names no parameter.
LITELLM_UNKNOWN_MODEL = {
    "error": {
        "message": "litellm.BadRequestError: Invalid model name passed in model=my-model. "
        "Call `/v1/models` to view available models for your key.",
        "type": "invalid_request_error",
        "param": None,
        "code": "400",
    }
}
THINK_PIECES = ["", "<th", "ink>\nI add", " 2 and 2.</th", "ink>\n\nIt is", " 4."]
"""A Qwen3-style answer whose tags are cut inside the stream's pieces."""


def recorded_max_tokens_refusal() -> tuple[int, bytes]:
    """Azure OpenAI's recorded 400 (realwire aoai_v1_unsupported_param), else the emulator's."""
    path = REALWIRE / "recordings" / "aoai_v1_unsupported_param.json"
    if path.exists():
        response = json.loads(path.read_text())["response"]
        return response["status"], base64.b64decode(response["body_b64"])
    try:
        check_fixed_sampling(Style.AZURE_OPENAI, {"max_tokens": 1})
    except Refusal as refusal:
        return refusal.status, json.dumps(refusal.body).encode()
    raise AssertionError("max_tokens not refused")


@dataclass
class State:
    mode: str = "gpt5"  # "gpt5", "litellm" or "think"
    requests: list[dict[str, Any]] = field(default_factory=list)

    def bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests]


def _completion(stream: bool, think: bool) -> list[bytes] | bytes:
    usage = {
        "prompt_tokens": 8,
        "completion_tokens": 30,
        "total_tokens": 38,
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 20, "audio_tokens": 0},
    }
    base = {"id": "chatcmpl-1", "created": 1, "model": SERVED}
    text = "".join(THINK_PIECES) if think else "4"
    if not stream:
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
        }
        return json.dumps(
            {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        ).encode()
    pieces = THINK_PIECES if think else ["", "4"]
    events = [
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": p, **({"role": "assistant"} if i == 0 else {})},
                    "finish_reason": None,
                }
            ],
        }
        for i, p in enumerate(pieces)
    ]
    events.append(
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.state.requests.append({"path": self.path, "body": body})
        mode = self.state.mode
        if mode == "litellm":
            return self._send(400, json.dumps(LITELLM_UNKNOWN_MODEL).encode())
        if self.path.endswith("/embeddings"):
            data = [{"index": i, "embedding": [0.5, 0.5]} for i in range(len(body["input"]))]
            return self._send(200, json.dumps({"data": data, "model": SERVED}).encode())
        if mode == "gpt5":
            if body.get("max_tokens") is not None:
                return self._send(*recorded_max_tokens_refusal())
            try:
                check_fixed_sampling(Style.AZURE_OPENAI, body)
            except Refusal as refusal:
                return self._send(refusal.status, json.dumps(refusal.body).encode())
        answer = _completion(bool(body.get("stream")), think=mode == "think")
        if isinstance(answer, bytes):
            return self._send(200, answer)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in answer:
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


@contextmanager
def serving() -> Iterator[tuple[str, State]]:
    """The server on 127.0.0.1 in a thread: (its base URL, its state)."""
    state = State()
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
