"""LangChain adapter test helpers: a scripted endpoint on ``httpx.MockTransport``.

`FakeEndpoint` answers each request with the next queued answer (JSON, SSE or an error status)
and records what was sent, so tests check the wire form both ways. The adapter reaches it through
the core's own ``httpx_kwargs={"transport": ...}``: the core stays the only HTTP stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel
from tests.conftest import PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY

MODEL = "gpt-4o-mini"


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


class FakeEndpoint:
    """Answers requests with queued answers and records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._answers: list[httpx.Response] = []
        self.transport = httpx.MockTransport(self._handle)

    # ---- scripting
    def reply(self, body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Queue a JSON answer."""
        self._answers.append(httpx.Response(status, json=body, headers=headers))

    def reply_stream(self, chunks: Iterable[dict[str, Any]], *, done: bool = True) -> None:
        """Queue a server-sent-events answer."""
        text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
        if done:
            text += "data: [DONE]\n\n"
        self._answers.append(
            httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})
        )

    def reply_raw(self, response: httpx.Response) -> None:
        """Queue any response."""
        self._answers.append(response)

    # ---- reading
    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every JSON body sent, in order."""
        return [json.loads(r.content) for r in self.requests]

    @property
    def body(self) -> dict[str, Any]:
        """The last JSON body sent."""
        body: dict[str, Any] = json.loads(self.requests[-1].content)
        return body

    @property
    def headers(self) -> httpx.Headers:
        """The last request's headers."""
        return self.requests[-1].headers

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self._answers:
            return httpx.Response(500, json={"error": {"message": "no answer queued"}})
        return self._answers.pop(0)


def make_llm(fake: FakeEndpoint, **kwargs: Any) -> AzureAIChatCompletionsModel:
    """A chat model wired to ``fake`` (no retries, so error tests see the first answer)."""
    params: dict[str, Any] = {
        "endpoint": PLACEHOLDER_ENDPOINT,
        "credential": PLACEHOLDER_KEY,
        "model": MODEL,
        "max_retries": 0,
        "client_kwargs": {"httpx_kwargs": {"transport": fake.transport}},
    }
    params.update(kwargs)
    return AzureAIChatCompletionsModel(**params)


def make_embeddings(fake: FakeEndpoint, **kwargs: Any) -> AzureAIEmbeddingsModel:
    """An embeddings model wired to ``fake``."""
    params: dict[str, Any] = {
        "endpoint": PLACEHOLDER_ENDPOINT,
        "credential": PLACEHOLDER_KEY,
        "model": "text-embedding-3-small",
        "max_retries": 0,
        "client_kwargs": {"httpx_kwargs": {"transport": fake.transport}},
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
