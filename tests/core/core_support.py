"""Helpers shared by the core tests: a replaying transport, fake credentials, SSE builders.

The replaying transport is an ``httpx2.MockTransport``: the wire stays real httpx, only the socket
is replaced. Nothing here patches the code under test.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from azureinference import AsyncClient, Client, RetryPolicy

DATA = Path(__file__).parent.parent / "data"


def load_json(name: str) -> Any:
    """A JSON file under tests/data."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


KEY = "k3y-Secret-0123456789abcdef0123"
ROTATED_KEY = "r0tated-Secret-abcdef0123456789"
TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0LXVzZXIifQ.c2lnbmF0dXJlLXZhbHVl"

SERVERLESS = "https://my-endpoint.eastus2.models.ai.azure.com"
AI_SERVICES = "https://my-resource.services.ai.azure.com/models"
AOAI = "https://my-resource.openai.azure.com/openai/deployments/gpt-4o"
V1 = "https://my-resource.openai.azure.com/openai/v1"
GITHUB = "https://models.github.ai/inference"
COMPATIBLE = "https://api.example.com/v1"

FAST_RETRY = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)

COMPLETION: dict[str, Any] = {
    "id": "cmpl-1",
    "object": "chat.completion",
    "created": 1718726686,
    "model": "mistral-large",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def embeddings_body(
    vectors: Sequence[Sequence[float] | str], model: str = "embed"
) -> dict[str, Any]:
    """An embeddings answer holding ``vectors`` (float lists or base64 strings)."""
    return {
        "id": "emb-1",
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": len(vectors), "total_tokens": len(vectors)},
    }


def chunk(
    content: str | None = None,
    *,
    finish_reason: str | None = None,
    role: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    reasoning: str | None = None,
    usage: dict[str, int] | None = None,
    choices: bool = True,
    index: int = 0,
) -> dict[str, Any]:
    """A chat.completion.chunk dict."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    out: dict[str, Any] = {
        "id": "chunk-1",
        "object": "chat.completion.chunk",
        "created": 1718726686,
        "model": "m",
        "choices": (
            [{"index": index, "delta": delta, "finish_reason": finish_reason}] if choices else []
        ),
    }
    if usage is not None:
        out["usage"] = usage
    return out


def sse(*events: dict[str, Any] | str, done: bool = True, eol: str = "\n") -> bytes:
    """Encode events (dicts as JSON, strings verbatim) as an SSE body, with ``[DONE]``."""
    parts = [f"data: {e if isinstance(e, str) else json.dumps(e)}{eol}{eol}" for e in events]
    if done:
        parts.append(f"data: [DONE]{eol}{eol}")
    return "".join(parts).encode()


class Chunks(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body delivered in the given pieces; optionally breaks with ``error`` after."""

    def __init__(self, pieces: Iterable[bytes], error: Exception | None = None) -> None:
        self.pieces = list(pieces)
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.error is not None:
            raise self.error


def split(data: bytes, size: int) -> list[bytes]:
    """Cut ``data`` into pieces of ``size`` bytes."""
    return [data[i : i + size] for i in range(0, len(data), size)]


Reply = httpx2.Response | Exception | Callable[[httpx2.Request], httpx2.Response]


def reply(
    status: int = 200,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    sse_body: bytes | None = None,
    pieces: int | None = None,
    raw: bytes | None = None,
    error: Exception | None = None,
) -> httpx2.Response:
    """Build a canned response: JSON ``body``, an SSE body, or ``raw`` bytes."""
    hdrs = dict(headers or {})
    if sse_body is not None:
        hdrs.setdefault("content-type", "text/event-stream")
        data = sse_body
    elif raw is not None:
        data = raw
    else:
        hdrs.setdefault("content-type", "application/json")
        data = json.dumps(body if body is not None else COMPLETION).encode()
    if pieces or error is not None:
        return httpx2.Response(
            status, headers=hdrs, stream=Chunks(split(data, pieces or 64), error)
        )
    return httpx2.Response(status, headers=hdrs, content=data)


@dataclass
class Recorder:
    """A MockTransport handler: records each request and answers from a script.

    The last reply is repeated when the script runs out. An ``Exception`` in the script is raised
    (as a transport error would be); a callable is called with the request.
    """

    replies: list[Reply] = field(default_factory=list)
    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        if not self.replies:
            return reply()
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        answer = self.replies[index]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx2.Response):
            return answer(request)
        assert isinstance(answer, httpx2.Response)
        # A response object can be sent once; hand out a fresh copy each time.
        stream = answer.stream
        if isinstance(stream, Chunks):
            stream = Chunks(stream.pieces, stream.error)
            return httpx2.Response(answer.status_code, headers=answer.headers, stream=stream)
        return httpx2.Response(answer.status_code, headers=answer.headers, content=answer.content)

    @property
    def last(self) -> httpx2.Request:
        """The last request."""
        return self.requests[-1]

    def bodies(self) -> list[Any]:
        """Every request body, parsed."""
        return [json.loads(r.content) if r.content else None for r in self.requests]

    @property
    def transport(self) -> httpx2.MockTransport:
        """A transport answering through this recorder."""
        return httpx2.MockTransport(self)


def make_client(
    endpoint: str = SERVERLESS,
    credential: Any = KEY,
    replies: Sequence[Reply] = (),
    *,
    asynchronous: bool = False,
    **kw: Any,
) -> tuple[Any, Recorder]:
    """A client wired to a `Recorder` with ``replies``; fast retries unless given.

    Typed ``Any``: one test body drives both the sync and the async client.
    """
    recorder = Recorder(list(replies))
    kw.setdefault("retry_policy", FAST_RETRY)
    httpx_kwargs = {"transport": recorder.transport, **kw.pop("httpx_kwargs", {})}
    cls = AsyncClient if asynchronous else Client
    return cls(endpoint, credential, httpx_kwargs=httpx_kwargs, **kw), recorder


class FakeClock:
    """Virtual time for a `RateLimiter` (``clock``, ``sleep``, ``asleep``): waits are recorded and
    move it forward; nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class FakeKeyCredential:
    """Behaves like ``azure.core.credentials.AzureKeyCredential``: ``.key`` and ``.update()``."""

    def __init__(self, key: str) -> None:
        self._key = key

    @property
    def key(self) -> str:
        return self._key

    def update(self, key: str) -> None:
        self._key = key


@dataclass
class AccessToken:
    """Like ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: int


class FakeTokenCredential:
    """A sync token credential whose tokens and expiry the test controls.

    Each call returns ``f"{prefix}-{n}"`` expiring ``lifetime`` seconds after ``clock()``.
    """

    def __init__(
        self,
        lifetime: float = 3600,
        prefix: str = TOKEN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lifetime = lifetime
        self.prefix = prefix
        self.clock = clock
        self.calls: list[tuple[str, ...]] = []

    def _next(self, scopes: tuple[str, ...]) -> AccessToken:
        self.calls.append(scopes)
        return AccessToken(f"{self.prefix}-{len(self.calls)}", int(self.clock() + self.lifetime))

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self._next(scopes)


class FakeAsyncTokenCredential(FakeTokenCredential):
    """The ``azure.identity.aio`` form: ``get_token`` is a coroutine function."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        return self._next(scopes)


async def maybe_await(value: Any) -> Any:
    """Await ``value`` when it is awaitable (lets one test body drive both clients)."""
    if hasattr(value, "__await__"):
        return await value
    return value


async def collect(stream: Any) -> list[Any]:
    """All chunks of a `ChatStream` or `AsyncChatStream`."""
    if hasattr(stream, "__aiter__"):
        return [c async for c in stream]
    return list(stream)
