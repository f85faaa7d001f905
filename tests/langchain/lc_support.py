"""LangChain adapter test helpers: a scripted endpoint, served by a real local HTTP server.

`FakeEndpoint` answers each request with the next queued answer (JSON, SSE, any status, after a
delay if asked) and records what was sent, so tests check the wire form both ways. The answers are
served by the core tests' local server (``tests/core/core_server.py``: stdlib ``http.server``,
HTTP/1.1 with keep-alive, in a thread, started once per test session): the adapter's requests go
through the core's own ``httpx`` client and a real socket, as they would to a service.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx2

from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel
from tests.conftest import PLACEHOLDER_KEY
from tests.core.core_server import LocalServer, SeenRequest, _Handler, _Server, held

MODEL = "gpt-4o-mini"

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
"""A 1x1 PNG, base64."""


def completion(
    content: str | None = "Hello!",
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    model: str = MODEL,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """A chat completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content, **message_fields}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "system_fingerprint": "fp-1",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage or {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }


def wire_call(name: str, arguments: str, call_id: str = "call_1") -> dict[str, Any]:
    """A tool call as the service sends it."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chunk(
    delta: dict[str, Any] | None = None, finish_reason: str | None = None, **top: Any
) -> dict[str, Any]:
    """A stream chunk with one choice (or none when ``delta`` is None and no finish_reason)."""
    body: dict[str, Any] = {"id": "cmpl-1", "object": "chat.completion.chunk", "model": MODEL}
    if delta is not None or finish_reason is not None:
        body["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}]
    else:
        body["choices"] = []
    body.update(top)
    return body


def text_chunks(*tokens: str, usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A streamed text answer: role chunk, one chunk per token, finish, then usage."""
    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": t}) for t in tokens]
    out.append(chunk({}, finish_reason="stop"))
    out.append(
        chunk(
            usage=usage
            or {
                "prompt_tokens": 9,
                "completion_tokens": len(tokens),
                "total_tokens": 9 + len(tokens),
            }
        )
    )
    return out


# An answer: what to send back for a request (it may read the request, e.g. the inputs).
Answer = Callable[[SeenRequest], httpx2.Response]


def _respond(answer: Answer, delay: float) -> Callable[[_Handler], None]:
    """A server action that writes ``answer``'s response, after ``delay`` seconds."""

    def act(h: _Handler) -> None:
        response = answer(h.seen)
        if delay:
            time.sleep(delay)
        h.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                h.send_header(name, value)
        h.send_header("Content-Length", str(len(response.content)))
        h.end_headers()
        h.wfile.write(response.content)

    return act


def _as_request(seen: SeenRequest, base_url: str) -> httpx2.Request:
    content = json.dumps(seen.body).encode() if isinstance(seen.body, dict) else b""
    return httpx2.Request(seen.method, base_url + seen.path, headers=seen.headers, content=content)


class FakeEndpoint:
    """Answers requests with queued answers and records every request.

    With nothing queued the server answers as a small well-behaved endpoint (``core_server.auto``).

    Attributes:
        url: The server's base URL (``http://127.0.0.1:<port>``).
        endpoint: ``url + "/models"``: an Azure AI services style endpoint.
    """

    def __init__(self, server: LocalServer) -> None:
        self._server = server
        self.server = server  # connections seen, closing waited for
        self.url = server.url
        self.endpoint = server.url + "/models"

    # ---- scripting
    def reply(
        self,
        body: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue a JSON answer (sent after ``delay`` seconds)."""
        self._queue(lambda _: httpx2.Response(status, json=body, headers=headers), delay)

    def reply_with(self, make_body: Callable[[Any], Any]) -> None:
        """Queue a JSON answer computed from the request's JSON body."""
        self._queue(lambda seen: httpx2.Response(200, json=make_body(seen.body)))

    def reply_stream(self, chunks: Iterable[dict[str, Any]], *, done: bool = True) -> None:
        """Queue a server-sent-events answer."""
        text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
        if done:
            text += "data: [DONE]\n\n"
        sse = {"content-type": "text/event-stream"}
        self.reply_raw(httpx2.Response(200, text=text, headers=sse))

    def reply_after_the_test(self, body: Any) -> None:
        """Queue a JSON answer sent only when the test is over (the call must time out)."""
        self._server.then(held(_respond(lambda _: httpx2.Response(200, json=body), 0.0)))

    def reply_raw(self, response: httpx2.Response) -> None:
        """Queue any response."""
        self._queue(lambda _: response)

    def _queue(self, answer: Answer, delay: float = 0.0) -> None:
        self._server.then(_respond(answer, delay))

    # ---- reading
    @property
    def requests(self) -> list[httpx2.Request]:
        """What was received in this test, in order."""
        return [_as_request(seen, self.url) for seen in self._server.seen]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every JSON body sent, in order."""
        return [seen.body for seen in self._server.seen]

    @property
    def body(self) -> dict[str, Any]:
        """The last JSON body sent."""
        body: dict[str, Any] = self._server.seen[-1].body
        return body

    @property
    def headers(self) -> httpx2.Headers:
        """The last request's headers."""
        return httpx2.Headers(self._server.seen[-1].headers)


def start_local_server() -> tuple[LocalServer, Callable[[], None]]:
    """Start the local server in a thread; return it and the function that stops it."""
    server = _Server()
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="lc-test-server", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return LocalServer(server), stop


def unused_local_url() -> str:
    """An ``http://127.0.0.1:<port>/models`` URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/models"


def make_llm(fake: FakeEndpoint, **kwargs: Any) -> AzureAIChatCompletionsModel:
    """A chat model for ``fake`` (no retries, so error tests see the first answer)."""
    params: dict[str, Any] = {
        "endpoint": fake.endpoint,
        "credential": PLACEHOLDER_KEY,
        "model": MODEL,
        "max_retries": 0,
    }
    params.update(kwargs)
    return AzureAIChatCompletionsModel(**params)


def make_embeddings(fake: FakeEndpoint, **kwargs: Any) -> AzureAIEmbeddingsModel:
    """An embeddings model for ``fake``."""
    params: dict[str, Any] = {
        "endpoint": fake.endpoint,
        "credential": PLACEHOLDER_KEY,
        "model": "text-embedding-3-small",
        "max_retries": 0,
    }
    params.update(kwargs)
    return AzureAIEmbeddingsModel(**params)


async def call_invoke(runnable: Any, mode: str, /, *args: Any, **kwargs: Any) -> Any:
    """``invoke`` or ``ainvoke``."""
    if mode == "sync":
        return runnable.invoke(*args, **kwargs)
    return await runnable.ainvoke(*args, **kwargs)


async def call_stream(runnable: Any, mode: str, /, *args: Any, **kwargs: Any) -> list[Any]:
    """``stream`` or ``astream``, collected."""
    if mode == "sync":
        return list(runnable.stream(*args, **kwargs))
    return [c async for c in runnable.astream(*args, **kwargs)]


def aggregate(chunks: list[Any]) -> Any:
    """Sum message chunks."""
    full = None
    for c in chunks:
        full = c if full is None else full + c
    return full


def iter_texts(chunks: Iterable[Any]) -> Iterator[str]:
    """The text content of each chunk."""
    for c in chunks:
        if isinstance(c.content, str):
            yield c.content


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _ids_numbered(body: Any) -> Any:
    """The JSON body with each random UUID (a tool call id) replaced by its order of appearance."""
    if not body:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    seen: dict[str, str] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and _UUID.fullmatch(value):
            return seen.setdefault(value, f"<id {len(seen)}>")
        return value

    return walk(data)


def body_modulo_ids(r1: Any, r2: Any) -> None:
    """A vcrpy matcher: the bodies are the same JSON once random ids are numbered in order.

    The standard suite's few-shot examples carry a fresh ``uuid4`` tool call id on every run.

    Raises:
        AssertionError: The bodies differ.
    """
    assert _ids_numbered(r1.body) == _ids_numbered(r2.body)
