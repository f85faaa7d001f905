"""A minimal, fast stand-in for the Azure AI Model Inference API, for the benchmarks only.

A raw ASGI app served by uvicorn in its own process (its CPU is not counted), with every answer
precomputed so the server is never the bottleneck. It answers, under any prefix (``/models/...``,
``/v1/...`` or plain ``/``) and with any ``api-key`` / ``Authorization: Bearer`` header:

- ``POST .../chat/completions``: a fixed completion, or with ``"stream": true`` a stream of
  `STREAM_CHUNKS` content chunks (one event per write), a finish chunk, a usage chunk and
  ``[DONE]``;
- ``POST .../embeddings``: one `DIMS`-dimension vector per input, as floats or, with
  ``"encoding_format": "base64"``, as little-endian float32 base64 (the same values);
- ``GET .../info``: the model's name, type and provider.

It does not depend on ``azureinference.emulator``: the benchmarks need a server that is fast and
fixed, not one that checks requests.

Run: ``python benchmarks/server.py --port 8765``.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import struct
from typing import Any

STREAM_CHUNKS = 3000
DIMS = 1024
MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
CREATED = 1_732_000_000

_JSON = [(b"content-type", b"application/json")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]

_ANSWER = (
    "Hello! Here is a short, friendly answer of about the length a chat model gives to a simple "
    "question: a sentence or two, with some punctuation, a number (42) and no surprises at all."
)

CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-bench-0001",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": _ANSWER, "tool_calls": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 25, "completion_tokens": 40, "total_tokens": 65},
    },
    separators=(",", ":"),
).encode()

INFO_BODY = json.dumps(
    {"model_name": MODEL, "model_type": "chat-completion", "model_provider_name": "OpenAI"}
).encode()


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench-0002",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _stream_events(n: int) -> list[bytes]:
    words = _ANSWER.split()
    events = [_event(_chunk({"role": "assistant", "content": words[0]}))]
    events += [_event(_chunk({"content": " " + words[i % len(words)]})) for i in range(1, n)]
    events.append(_event(_chunk({}, "stop")))
    usage = {"prompt_tokens": 25, "completion_tokens": n, "total_tokens": n + 25}
    last = _chunk({})
    last["choices"] = []
    last["usage"] = usage
    events.append(_event(last))
    events.append(b"data: [DONE]\n\n")
    return events


# STREAM_CHUNKS content chunks (the first also carries the role), a finish and a usage chunk.
STREAM_EVENTS = _stream_events(STREAM_CHUNKS)

_rng = random.Random(1234)
_VALUES = [
    struct.unpack("<f", struct.pack("<f", _rng.gauss(0.0, 0.03)))[0] for _ in range(DIMS * 4)
]


def _vector_floats(i: int, dims: int) -> str:
    start = (i * 7) % (len(_VALUES) - dims)
    return "[" + ",".join(f"{v:.9g}" for v in _VALUES[start : start + dims]) + "]"


def _vector_b64(i: int, dims: int) -> str:
    start = (i * 7) % (len(_VALUES) - dims)
    return base64.b64encode(struct.pack(f"<{dims}f", *_VALUES[start : start + dims])).decode()


_VARIANTS = 16  # distinct vectors, cycled (real answers differ; parsing cost does not)
_VECTORS: dict[tuple[str, int], list[str]] = {}
_EMBED_CACHE: dict[tuple[int, str, int], bytes] = {}


def embeddings_body(n: int, fmt: str, dims: int) -> bytes:
    """The embeddings answer for ``n`` inputs (cached)."""
    key = (n, fmt, dims)
    body = _EMBED_CACHE.get(key)
    if body is None:
        vkey = (fmt, dims)
        if vkey not in _VECTORS:
            if fmt == "base64":
                _VECTORS[vkey] = ['"' + _vector_b64(i, dims) + '"' for i in range(_VARIANTS)]
            else:
                _VECTORS[vkey] = [_vector_floats(i, dims) for i in range(_VARIANTS)]
        vectors = _VECTORS[vkey]
        items = ",".join(
            f'{{"object":"embedding","index":{i},"embedding":{vectors[i % _VARIANTS]}}}'
            for i in range(n)
        )
        body = (
            f'{{"object":"list","model":"{EMBED_MODEL}","data":[{items}],'
            f'"usage":{{"prompt_tokens":{n * 8},"total_tokens":{n * 8}}}}}'
        ).encode()
        if len(_EMBED_CACHE) > 64:
            _EMBED_CACHE.clear()
        _EMBED_CACHE[key] = body
    return body


async def _read_body(receive: Any) -> bytes:
    parts = []
    more = True
    while more:
        message = await receive()
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(parts)


async def _answer(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Build the embeddings answers the benchmarks ask for before the first request.
                for n in (256, 1000, 1024, 2000, 10):
                    embeddings_body(n, "float", DIMS)
                    embeddings_body(n, "base64", DIMS)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path: str = scope["path"].rstrip("/")
    body = await _read_body(receive)
    if path.endswith("/chat/completions"):
        request = json.loads(body) if body else {}
        if not request.get("stream"):
            await _answer(send, 200, CHAT_BODY, _JSON)
            return
        await send({"type": "http.response.start", "status": 200, "headers": _SSE})
        for event in STREAM_EVENTS:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path.endswith("/embeddings"):
        request = json.loads(body) if body else {}
        inputs = request.get("input") or []
        n = 1 if isinstance(inputs, str) else len(inputs)
        fmt = "base64" if request.get("encoding_format") == "base64" else "float"
        dims = int(request.get("dimensions") or DIMS)
        await _answer(send, 200, embeddings_body(n, fmt, dims), _JSON)
    elif path.endswith("/info"):
        await _answer(send, 200, INFO_BODY, _JSON)
    else:
        error = {"error": {"code": "NotFound", "message": f"No route {path}"}}
        await _answer(send, 404, json.dumps(error).encode(), _JSON)


def main() -> None:
    """Serve on 127.0.0.1."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        backlog=4096,
        timeout_keep_alive=120,
    )


if __name__ == "__main__":
    main()
