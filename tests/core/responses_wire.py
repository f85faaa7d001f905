"""The Responses API recordings (``../shared/realwire/responses/``), and what their bodies say.

`RECORDINGS` loads them (never copied into the repo; found in the nearest ancestor directory
holding ``shared/realwire/responses``, so a git worktree finds them too). `expected` derives what
a reader must make of an answer from its JSON alone, independently of the code under test;
`got` reads the same things off our `Response`. `serve` serves answers from a local server, one
HTTP chunk per event for streams, as INDEX.md says.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _find() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realwire" / "responses" / "recordings"
        if candidate.is_dir():
            return candidate
    return None


RECORDINGS_DIR = _find()


def _load() -> dict[str, dict[str, Any]]:
    if RECORDINGS_DIR is None:
        return {}
    out = {}
    for path in sorted(RECORDINGS_DIR.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        out[rec["id"]] = rec
    return out


RECORDINGS = _load()


def raw_body(rec: dict[str, Any]) -> bytes:
    """The body as it went over the wire (gzip kept where recorded so)."""
    return base64.b64decode(rec["response"]["body_b64"])


def body_bytes(rec: dict[str, Any]) -> bytes:
    """The body, decompressed."""
    data = raw_body(rec)
    if rec["response"]["headers"].get("content-encoding") == "gzip":
        data = gzip.decompress(data)
    return data


def is_stream(rec: dict[str, Any]) -> bool:
    return "event-stream" in rec["response"]["headers"].get("content-type", "") or (
        rec["response"]["status"] == 200 and body_bytes(rec).lstrip()[:1] in (b"e", b"d", b":")
    )


def events(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON of every ``data:`` line of a streamed recording (``[DONE]`` left out)."""
    out = []
    for line in body_bytes(rec).decode().splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                out.append(json.loads(data))
    return out


def pieces(rec: dict[str, Any]) -> list[bytes]:
    """A stream's body split after each blank line (one HTTP chunk per event)."""
    text = body_bytes(rec)
    out = []
    start = 0
    while True:
        end = text.find(b"\n\n", start)
        if end == -1:
            break
        out.append(text[start : end + 2])
        start = end + 2
    if start < len(text):
        out.append(text[start:])
    return out


def final_json(rec: dict[str, Any]) -> dict[str, Any] | None:
    """The answer a recording holds: the body, or a stream's terminal event's ``response``."""
    if not is_stream(rec):
        return json.loads(body_bytes(rec))
    for event in events(rec):
        if event["type"] in ("response.completed", "response.incomplete", "response.failed"):
            return event["response"]  # type: ignore[no-any-return]
    return None


@dataclass
class Said:
    """What an answer says, in one comparable shape."""

    id: str | None
    status: str | None
    text: str
    refusal: str | None
    calls: list[tuple[str | None, str | None, Any]]
    summaries: list[str]
    reasoning_text: str
    encrypted: list[str | None]
    incomplete_reason: str | None
    usage: tuple[int, int, int, int, int] | None


def _args(text: str | None) -> Any:
    return json.loads(text) if text and text.strip() else {}


def expected(answer: dict[str, Any]) -> Said:
    """What the JSON of an answer says (read here, not by the code under test)."""
    output = answer.get("output") or []
    messages = [i for i in output if i["type"] == "message"]
    reasoning = [i for i in output if i["type"] == "reasoning"]
    refusals = [p["refusal"] for m in messages for p in m["content"] if p["type"] == "refusal"]
    usage = answer.get("usage")
    return Said(
        answer.get("id"),
        answer.get("status"),
        "".join(p["text"] for m in messages for p in m["content"] if p["type"] == "output_text"),
        "".join(refusals) if refusals else None,
        [
            (i["call_id"], i["name"], _args(i["arguments"]))
            for i in output
            if i["type"] == "function_call"
        ],
        [p["text"] for r in reasoning for p in r.get("summary") or []],
        "".join(p["text"] for r in reasoning for p in r.get("content") or []),
        [r.get("encrypted_content") for r in reasoning],
        (answer.get("incomplete_details") or {}).get("reason"),
        (
            usage["input_tokens"],
            usage["output_tokens"],
            usage["total_tokens"],
            (usage.get("input_tokens_details") or {}).get("cached_tokens", 0),
            (usage.get("output_tokens_details") or {}).get("reasoning_tokens", 0),
        )
        if usage
        else None,
    )


def got(response: Any) -> Said:
    """What our `Response` says, through its public reads."""
    usage = response.usage
    return Said(
        response.id,
        response.status,
        response.output_text,
        response.refusal,
        [(c.call_id, c.name, _args(c.arguments)) for c in response.function_calls],
        [p.text for r in response.reasoning_items for p in r.summary],
        response.reasoning_text or "",
        [r.encrypted_content for r in response.reasoning_items],
        response.incomplete_reason,
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.total_tokens,
            usage.cached_tokens,
            usage.reasoning_tokens,
        )
        if usage is not None
        else None,
    )


# ---- a local server ---------------------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes, "list[bytes] | None"]


def answer_of(rec: dict[str, Any]) -> Answer:
    """The recording as the local server sends it."""
    headers = dict(rec["response"]["headers"])
    status = rec["response"]["status"]
    if is_stream(rec):
        headers.pop("content-encoding", None)
        headers.setdefault("content-type", "text/event-stream")
        return status, headers, b"", pieces(rec)
    if "content-type" not in headers:
        headers["content-type"] = "application/json"
    return status, headers, raw_body(rec), None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    responder: Callable[[str, Any], Answer]
    seen: list[tuple[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        sent = self.rfile.read(length)
        body = json.loads(sent) if sent else None
        self.seen.append((self.path, body))
        status, headers, data, chunks = type(self).responder(self.path, body)
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        if chunks is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in chunks:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        self.wfile.flush()


@contextmanager
def serve(
    responder: Callable[[str, Any], Answer],
) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """Serve ``responder(path, body)``'s answers on 127.0.0.1; yields (base URL, requests seen)."""
    seen: list[tuple[str, Any]] = []
    handler = type("Handler", (_Handler,), {"responder": staticmethod(responder), "seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
