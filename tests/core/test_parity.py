"""Sync/async parity: one test body, run with `Client` and with `AsyncClient` (STYLE.md §8).

Each test drives both clients through the same helper and checks they send the same requests and
return the same results or raise the same errors.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

from azureinference import (
    APIConnectionError,
    AsyncChatStream,
    AsyncClient,
    AuthenticationError,
    ChatStream,
    Client,
    IncompleteStreamError,
    MalformedResponseError,
    ServerError,
    UnsupportedParameterError,
)

from .core_support import (
    AOAI,
    COMPATIBLE,
    KEY,
    SERVERLESS,
    chunk,
    collect,
    embeddings_body,
    make_client,
    maybe_await,
    reply,
    sse,
)

HI = [{"role": "user", "content": "Hi"}]
TOOL_STREAM = sse(
    chunk(
        role="assistant",
        tool_calls=[
            {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}
        ],
    ),
    chunk(tool_calls=[{"index": 0, "function": {"arguments": '{"a": 1}'}}]),
    chunk(finish_reason="tool_calls"),
    chunk(choices=False, usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
)


def _wire(request: httpx2.Request) -> tuple[Any, ...]:
    headers = {
        k: v
        for k, v in request.headers.items()
        if k not in ("x-ms-client-request-id", "user-agent")
    }
    return (
        request.method,
        str(request.url),
        headers,
        json.loads(request.content) if request.content else None,
    )


async def both(
    endpoint: str,
    replies: list[Any],
    action: Callable[[Any], Awaitable[Any]],
    *,
    requests: int | None = None,
    **kw: Any,
) -> tuple[Any, Any]:
    """Run ``action`` with a sync and an async client; return both outcomes (result or error).

    Both must send the same requests (``requests`` of them, if given).
    """
    outcomes = []
    wires = []
    for asynchronous in (False, True):
        client, rec = make_client(endpoint, KEY, replies, asynchronous=asynchronous, **kw)
        try:
            outcome: Any = await action(client)
        except Exception as exc:
            outcome = exc
        outcomes.append(outcome)
        wires.append([_wire(r) for r in rec.requests])
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()
    assert wires[0] == wires[1]
    if requests is not None:
        assert len(wires[0]) == requests, wires[0]
    return outcomes[0], outcomes[1]


def _same(a: Any, b: Any, *, raises: type[Exception] | None = None) -> None:
    """Both outcomes are equal, and are results, or errors of ``raises`` if given.

    Two identical errors are not enough: a test where both clients fail the same way must say that
    it expected them to.
    """
    if raises is None:
        assert not isinstance(a, Exception), f"the sync client raised {a!r}"
        assert not isinstance(b, Exception), f"the async client raised {b!r}"
    else:
        assert isinstance(a, raises), a
    if isinstance(a, Exception):
        assert type(a) is type(b)
        assert str(a) == str(b)
    elif isinstance(a, list):
        assert [x.model_dump() for x in a] == [y.model_dump() for y in b]
    elif a is None:
        assert b is None
    else:
        assert a.model_dump() == b.model_dump()


async def test_complete() -> None:
    sync, asynchronous = await both(
        SERVERLESS,
        [reply()],
        lambda c: maybe_await(c.complete(HI, temperature=0, model_extras={"top_k": 2})),
    )
    _same(sync, asynchronous)
    assert sync.choices[0].message.content == "Hello!"
    assert sync.usage.total_tokens == 5


async def test_stream_chunks_and_final() -> None:
    async def action(client: Any) -> Any:
        stream = await maybe_await(
            client.stream(HI, tools=[{"type": "function", "function": {"name": "f"}}])
        )
        assert isinstance(
            stream, AsyncChatStream if isinstance(client, AsyncClient) else ChatStream
        )
        chunks = await collect(stream)
        return [*chunks, stream.state.final()]

    sync, asynchronous = await both(
        COMPATIBLE, [reply(sse_body=TOOL_STREAM, pieces=9)], action, model="m"
    )
    _same(sync, asynchronous)
    assert sync[-1].choices[0].message.tool_calls[0].function.arguments == '{"a": 1}'


async def test_incomplete_stream() -> None:
    broken = reply(sse_body=sse(chunk("x"), done=False), error=httpx2.RemoteProtocolError("closed"))

    async def action(client: Any) -> Any:
        return await collect(await maybe_await(client.stream(HI)))

    sync, asynchronous = await both(SERVERLESS, [broken], action)
    _same(sync, asynchronous, raises=IncompleteStreamError)


async def test_embed_with_fallback_and_batches() -> None:
    refused = reply(
        422, {"code": "parameter_not_supported", "detail": {"loc": ["body", "encoding_format"]}}
    )

    def answer(request: httpx2.Request) -> httpx2.Response:
        inputs = json.loads(request.content)["input"]
        return reply(body=embeddings_body([[float(len(t))] for t in inputs]))

    async def action(client: Any) -> Any:
        first = await maybe_await(client.embed(["a", "bb", "ccc"], batch_size=2))
        assert client.capabilities.base64_embeddings is False
        return first

    sync, asynchronous = await both(SERVERLESS, [refused, answer], action)
    _same(sync, asynchronous)
    assert sync.vectors == [[1.0], [2.0], [3.0]]


async def test_embed_images() -> None:
    image = [{"image": "data:image/png;base64,AAAA"}]
    sync, asynchronous = await both(
        SERVERLESS,
        [reply(body=embeddings_body([[0.5]]))],
        lambda c: maybe_await(c.embed_images(image)),
    )
    _same(sync, asynchronous)
    assert sync.vectors == [[0.5]]


async def test_model_info_cached() -> None:
    async def action(client: Any) -> Any:
        await maybe_await(client.get_model_info())
        return await maybe_await(client.get_model_info())

    sync, asynchronous = await both(
        SERVERLESS,
        [reply(body={"model_name": "m", "model_type": "chat_completion"})],
        action,
        requests=1,  # the second call is answered from the cache
    )
    _same(sync, asynchronous)
    assert (sync.model_name, sync.model_type) == ("m", "chat-completion")  # the documented form


async def test_model_info_absent() -> None:
    # Azure OpenAI deployments have no /info route: None, without a request (both() compares the
    # requests sent, none here).
    sync, asynchronous = await both(AOAI, [], lambda c: maybe_await(c.get_model_info()), requests=0)
    _same(sync, asynchronous)
    assert sync is None


@pytest.mark.parametrize(
    ("answers", "raises", "requests"),
    [
        (
            [
                reply(
                    401,
                    {"error": {"code": "Unauthorized", "message": "no"}},
                    headers={"x-request-id": "r1"},
                )
            ],
            AuthenticationError,
            1,
        ),
        (
            [
                reply(
                    422,
                    {
                        "code": "parameter_not_supported",
                        "detail": {"loc": ["body", "tools"]},
                        "message": "m",
                    },
                )
            ],
            UnsupportedParameterError,
            1,
        ),
        ([reply(503, {"error": {"code": "busy"}})], ServerError, 3),  # FAST_RETRY: 2 retries
        (
            [reply(200, raw=b"<html>oops</html>", headers={"content-type": "text/html"})],
            MalformedResponseError,
            1,
        ),
        ([httpx2.ConnectError("refused")], APIConnectionError, 3),
        (
            [reply(429, {"error": {"code": "429"}}, headers={"retry-after-ms": "5"}), reply()],
            None,
            2,
        ),
    ],
    ids=["401", "422", "503", "html", "connect", "429-then-ok"],
)
async def test_errors_and_retries(
    answers: list[Any], raises: type[Exception] | None, requests: int
) -> None:
    sync, asynchronous = await both(
        SERVERLESS, answers, lambda c: maybe_await(c.complete(HI)), requests=requests
    )
    _same(sync, asynchronous, raises=raises)
    if raises is None:
        assert sync.choices[0].message.content == "Hello!"


def test_public_methods_match() -> None:
    """Every public method exists on both clients with the same parameters; async ones await."""

    def public(cls: type) -> dict[str, Any]:
        return {n: m for n, m in vars(cls).items() if not n.startswith("_") and callable(m)}

    sync_methods, async_methods = public(Client), public(AsyncClient)
    async_methods.pop("http")  # a property on Client: the async pool belongs to the running loop
    assert isinstance(vars(Client)["http"], property)
    renamed = {"close": "aclose"}
    for name, method in sync_methods.items():
        other = async_methods[renamed.get(name, name)]
        assert (
            inspect.signature(method).parameters.keys()
            == inspect.signature(other).parameters.keys()
        ), name
        assert inspect.iscoroutinefunction(other), name
    assert set(async_methods) - {renamed.get(n, n) for n in sync_methods} == set()
    assert inspect.signature(Client.__init__) == inspect.signature(AsyncClient.__init__)
