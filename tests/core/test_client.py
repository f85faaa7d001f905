"""Client behaviour over ``httpx2.MockTransport``: fallbacks learned once, /info cache, batching,
pooling, closing, pickling, event loops, logging.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import pickle
import struct
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from azureinference import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Capabilities,
    Client,
    ConfigurationError,
    ServerError,
    UnsupportedParameterError,
)

from .core_support import (
    AI_SERVICES,
    AOAI,
    COMPATIBLE,
    COMPLETION,
    KEY,
    SERVERLESS,
    TOKEN,
    FakeTokenCredential,
    chunk,
    collect,
    embeddings_body,
    make_client,
    maybe_await,
    reply,
    sse,
)

HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def refused(param: str, value: Any = None, status: int = 422) -> httpx2.Response:
    """The documented ``parameter_not_supported`` answer for ``param``."""
    return reply(
        status,
        {
            "status": status,
            "code": "parameter_not_supported",
            "detail": {"loc": ["body", param], "input": value},
            "message": "One of the parameters contain invalid values.",
        },
    )


def b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


# ---- embeddings ----


async def test_embeddings_ask_for_base64_and_decode(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(body=embeddings_body([b64([0.5, -1.0]), b64([2.0, 0.25])]))],
        asynchronous=not sync,
    )
    result = await maybe_await(client.embed(["a", "b"]))
    assert rec.bodies() == [{"input": ["a", "b"], "encoding_format": "base64"}]
    assert result.vectors == [[0.5, -1.0], [2.0, 0.25]]
    assert all(isinstance(item.embedding, list) for item in result.data or [])


async def test_floats_answer_to_a_base64_request_is_fine(sync: bool) -> None:
    client, _ = make_client(
        SERVERLESS, KEY, [reply(body=embeddings_body([[1.0, 2.0]]))], asynchronous=not sync
    )
    assert (await maybe_await(client.embed(["a"]))).vectors == [[1.0, 2.0]]


async def test_base64_refused_falls_back_to_floats_and_remembers(sync: bool) -> None:
    ok = reply(body=embeddings_body([[1.0]]))
    client, rec = make_client(
        SERVERLESS, KEY, [refused("encoding_format", "base64"), ok], asynchronous=not sync
    )
    assert client.capabilities.base64_embeddings is None
    result = await maybe_await(client.embed(["a"]))
    assert result.vectors == [[1.0]]
    assert client.capabilities.base64_embeddings is False
    await maybe_await(client.embed(["b"]))
    assert rec.bodies() == [
        {"input": ["a"], "encoding_format": "base64"},
        {"input": ["a"]},
        {"input": ["b"]},
    ]


async def test_base64_refused_in_words(sync: bool) -> None:
    """A 400 that only names ``base64`` in its message counts as the same refusal."""
    no = reply(
        400, {"error": {"code": "invalid_request", "message": "encoding 'base64' is not supported"}}
    )
    client, rec = make_client(
        SERVERLESS, KEY, [no, reply(body=embeddings_body([[1.0]]))], asynchronous=not sync
    )
    await maybe_await(client.embed(["a"]))
    assert client.capabilities.base64_embeddings is False
    assert len(rec.requests) == 2


async def test_explicit_encoding_format_is_never_changed(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS, KEY, [refused("encoding_format", "base64")], asynchronous=not sync
    )
    with pytest.raises(UnsupportedParameterError):
        await maybe_await(client.embed(["a"], encoding_format="base64"))
    assert len(rec.requests) == 1
    client, rec = make_client(
        SERVERLESS, KEY, [reply(body=embeddings_body([[1.0]]))], asynchronous=not sync
    )
    await maybe_await(client.embed(["a"], encoding_format="float"))
    assert rec.bodies()[0]["encoding_format"] == "float"


async def test_input_type_refused_is_dropped_and_remembered(sync: bool) -> None:
    ok = reply(body=embeddings_body([[1.0]]))
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [refused("encoding_format", "base64"), refused("input_type", "query"), ok],
        asynchronous=not sync,
    )
    await maybe_await(client.embed(["a"], input_type="query"))
    assert client.capabilities.input_type is False
    await maybe_await(client.embed(["b"], input_type="document"))
    assert rec.bodies() == [
        {"input": ["a"], "encoding_format": "base64", "input_type": "query"},
        {"input": ["a"], "input_type": "query"},
        {"input": ["a"]},
        {"input": ["b"]},
    ]


async def test_other_refusals_are_raised_not_retried(sync: bool) -> None:
    client, rec = make_client(SERVERLESS, KEY, [refused("dimensions", 7)], asynchronous=not sync)
    with pytest.raises(UnsupportedParameterError) as info:
        await maybe_await(client.embed(["a"], dimensions=7))
    assert info.value.param == "dimensions"
    assert len(rec.requests) == 1


async def test_embeddings_are_batched(sync: bool) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        import json

        inputs = json.loads(request.content)["input"]
        return reply(body=embeddings_body([[float(int(t))] for t in inputs]))

    client, rec = make_client(SERVERLESS, KEY, [answer], asynchronous=not sync, embed_batch_size=2)
    texts = [str(i) for i in range(5)]
    result = await maybe_await(client.embed(texts))
    assert sorted(len(b["input"]) for b in rec.bodies()) == [1, 2, 2]
    assert result.vectors == [[float(i)] for i in range(5)]
    assert [item.index for item in result.data or []] == [0, 1, 2, 3, 4]
    assert result.usage is not None
    assert result.usage.prompt_tokens == 5
    result = await maybe_await(client.embed(texts, batch_size=4))
    assert len(rec.requests) == 5


async def test_embed_rejects_a_single_string(sync: bool) -> None:
    client, _ = make_client(SERVERLESS, KEY, asynchronous=not sync)
    with pytest.raises(ConfigurationError, match="list of texts"):
        await maybe_await(client.embed("one text"))


async def test_image_embeddings_route(sync: bool) -> None:
    image = {"image": "data:image/png;base64,iVBORw0KGgo=", "text": "a pixel"}
    client, rec = make_client(
        SERVERLESS, KEY, [reply(body=embeddings_body([[0.1, 0.2]]))], asynchronous=not sync
    )
    result = await maybe_await(client.embed_images([image], dimensions=1024))
    assert rec.last.url.path == "/images/embeddings"
    assert rec.bodies()[0] == {"input": [image], "dimensions": 1024, "encoding_format": "base64"}
    assert result.vectors == [[0.1, 0.2]]


def test_bad_embed_batch_size() -> None:
    with pytest.raises(ConfigurationError, match="embed_batch_size"):
        Client(SERVERLESS, KEY, embed_batch_size=0)


# ---- chat fallbacks ----


async def test_stream_options_refused_is_dropped_and_remembered(sync: bool) -> None:
    no = reply(
        400,
        {
            "error": {
                "message": "Unrecognized request argument supplied: stream_options",
                "param": "stream_options",
                "code": None,
            }
        },
    )
    ok = reply(sse_body=sse(chunk("hi", finish_reason="stop")))
    client, rec = make_client(COMPATIBLE, KEY, [no, ok], asynchronous=not sync)
    await collect(await maybe_await(client.stream(HI, model="m")))
    assert client.capabilities.stream_options is False
    await collect(await maybe_await(client.stream(HI, model="m")))
    bodies = rec.bodies()
    assert "stream_options" in bodies[0]
    assert ["stream_options" in b for b in bodies[1:]] == [False, False]


async def test_json_schema_refusal_is_recorded_and_raised(sync: bool) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}
    client, rec = make_client(
        SERVERLESS, KEY, [refused("response_format", "json_schema")], asynchronous=not sync
    )
    assert client.capabilities == Capabilities()
    with pytest.raises(UnsupportedParameterError) as info:
        await maybe_await(client.complete(HI, response_format=schema))
    assert info.value.param == "response_format"
    assert client.capabilities.json_schema is False
    assert len(rec.requests) == 1


async def test_other_refusal_does_not_touch_capabilities(sync: bool) -> None:
    client, _ = make_client(SERVERLESS, KEY, [refused("tools")], asynchronous=not sync)
    with pytest.raises(UnsupportedParameterError):
        await maybe_await(client.complete(HI, response_format="json_object"))
    assert client.capabilities == Capabilities()


# ---- /info ----


async def test_model_info_is_fetched_once(sync: bool, sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``get_model_info_chat_client``: called twice, one request."""
    scenario = sdk_scenarios["get_model_info_chat_client"]
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(body=scenario["responses_served"][0]["body"])],
        asynchronous=not sync,
    )
    first = await maybe_await(client.get_model_info())
    second = await maybe_await(client.get_model_info())
    assert first is second
    assert [first.model_dump(mode="json", exclude_unset=True)] * 2 == scenario["sdk_result"]
    assert len(rec.requests) == 1
    assert rec.last.method == "GET"
    assert rec.last.url.path == "/info"


async def test_model_info_404_is_none_and_cached(sync: bool, sdk_scenarios: dict[str, Any]) -> None:
    """Scenario ``get_model_info_404``: the SDK raises; a missing /info is not an error here."""
    served = sdk_scenarios["get_model_info_404"]["responses_served"][0]
    client, rec = make_client(
        SERVERLESS, KEY, [reply(served["status"], served["body"])], asynchronous=not sync
    )
    assert await maybe_await(client.get_model_info()) is None
    assert await maybe_await(client.get_model_info()) is None
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        reply(405, {"error": "Method Not Allowed"}),
        reply(400, {"error": {"code": "BadRequest", "message": "model is required"}}),
        reply(422, {"detail": [{"loc": ["query", "model"]}]}),
        reply(200, raw=b"<html>no info here</html>", headers={"content-type": "text/html"}),
    ],
)
async def test_model_info_unavailable_is_none(sync: bool, answer: httpx2.Response) -> None:
    client, _ = make_client(SERVERLESS, KEY, [answer], asynchronous=not sync)
    assert await maybe_await(client.get_model_info()) is None


async def test_model_info_auth_failure_is_raised(sync: bool) -> None:
    client, _ = make_client(
        SERVERLESS, KEY, [reply(401, {"error": {"code": "Unauthorized"}})], asynchronous=not sync
    )
    with pytest.raises(AuthenticationError):
        await maybe_await(client.get_model_info())


async def test_model_info_without_an_info_route(sync: bool) -> None:
    client, rec = make_client(AOAI, KEY, asynchronous=not sync)
    assert await maybe_await(client.get_model_info()) is None
    assert rec.requests == []


async def test_model_info_cache_is_per_model(sync: bool) -> None:
    client, rec = make_client(
        AI_SERVICES,
        KEY,
        [reply(body={"model_name": "x", "model_type": "embeddings"})],
        asynchronous=not sync,
    )
    await maybe_await(client.get_model_info("a"))
    await maybe_await(client.get_model_info("b"))
    await maybe_await(client.get_model_info("a"))
    assert len(rec.requests) == 2


@pytest.mark.parametrize(
    ("name", "model_type"),
    [
        ("load_client", "chat-completion"),
        ("load_client_embeddings", "embeddings"),
        ("load_client_image_embeddings", "image-embeddings"),
        ("load_client_unknown_type", "audio-generation"),
    ],
)
def test_model_types_the_sdk_load_client_saw(
    sdk_scenarios: dict[str, Any], name: str, model_type: str
) -> None:
    """Each spelling is normalised; an unknown type is kept (the SDK's ``load_client`` raised)."""
    served = sdk_scenarios[name]["responses_served"][0]
    client, _ = make_client(SERVERLESS, KEY, [reply(body=served["body"])])
    info = client.get_model_info()
    assert info is not None
    assert info.model_type == model_type
    assert info.model_name == served["body"]["model_name"]


# ---- pooling, closing, loops, pickling ----


def test_sync_http_client_is_reused_and_recreated_after_close() -> None:
    client, _ = make_client(SERVERLESS, KEY)
    assert isinstance(client, Client)
    http = client.http
    client.complete(HI)
    assert client.http is http
    client.close()
    assert http.is_closed
    client.complete(HI)
    assert client.http is not http
    client.close()
    client.close()  # twice is fine


def test_context_manager_closes() -> None:
    client, _ = make_client(SERVERLESS, KEY)
    assert isinstance(client, Client)
    with client as c:
        c.complete(HI)
        http = c.http
    assert http.is_closed


async def test_async_http_client_is_per_loop_and_reused() -> None:
    client, _ = make_client(SERVERLESS, KEY, asynchronous=True)
    assert isinstance(client, AsyncClient)
    http = await client.http()
    await client.complete(HI)
    assert await client.http() is http
    async with client:
        pass
    assert http.is_closed
    await client.complete(HI)
    assert await client.http() is not http
    await client.aclose()


def test_async_client_works_across_two_asyncio_runs() -> None:
    client, rec = make_client(SERVERLESS, KEY, asynchronous=True)
    assert isinstance(client, AsyncClient)
    seen: list[httpx2.AsyncClient] = []

    async def one() -> str | None:
        seen.append(await client.http())
        result = await client.complete(HI)
        return result.id

    assert asyncio.run(one()) == COMPLETION["id"]
    assert asyncio.run(one()) == COMPLETION["id"]
    assert len(rec.requests) == 2
    assert seen[0] is not seen[1]
    # Each loop's client was closed when its loop shut down.
    assert all(h.is_closed for h in seen)


async def test_concurrent_calls_share_one_async_client() -> None:
    client, rec = make_client(SERVERLESS, KEY, asynchronous=True)
    assert isinstance(client, AsyncClient)
    results = await asyncio.gather(*(client.complete(HI) for _ in range(10)))
    assert len(results) == 10
    assert len(rec.requests) == 10
    await client.aclose()


def _pickle_handler(request: httpx2.Request) -> httpx2.Response:
    """Module level, so a client holding a MockTransport with it can be pickled."""
    return reply(body={**COMPLETION, "model": request.headers.get("authorization", "")[-4:]})


@dataclass
class Holder:
    """An object holding a client, as an adapter does."""

    client: Client | AsyncClient
    note: str = "x"


def _picklable(cls: type[Client] | type[AsyncClient], credential: Any = KEY, **kw: Any) -> Any:
    return cls(
        SERVERLESS,
        credential,
        httpx_kwargs={"transport": httpx2.MockTransport(_pickle_handler)},
        **kw,
    )


def test_client_pickles_before_and_after_use() -> None:
    client = _picklable(Client, model="m")
    copy = pickle.loads(pickle.dumps(Holder(client))).client
    assert copy.complete(HI).model == KEY[-4:]
    client.complete(HI)
    client.capabilities.base64_embeddings = False
    copy = pickle.loads(pickle.dumps(Holder(client))).client
    assert copy.model == "m"
    assert copy.capabilities.base64_embeddings is False
    assert copy.complete(HI).model == KEY[-4:]
    assert copy.http is not client.http
    client.close()
    copy.close()


def test_client_with_token_credential_pickles() -> None:
    client = _picklable(Client, FakeTokenCredential())
    client.complete(HI)
    data = pickle.dumps(client)
    assert f"{TOKEN}-1".encode() not in data  # the credential travels, its cached token not
    copy = pickle.loads(data)
    assert isinstance(copy, Client)
    assert copy.complete(HI).model == f"{TOKEN}-2"[-4:]


def test_async_client_pickles_after_use() -> None:
    client = _picklable(AsyncClient)

    async def use(c: AsyncClient) -> str | None:
        return (await c.complete(HI)).model

    assert asyncio.run(use(client)) == KEY[-4:]
    copy = pickle.loads(pickle.dumps(Holder(client))).client
    assert asyncio.run(use(copy)) == KEY[-4:]


# ---- logging ----


async def test_logs_never_carry_keys_or_tokens(
    sync: bool, caplog: pytest.LogCaptureFixture
) -> None:
    for credential in (KEY, f"api-key: {KEY}", FakeTokenCredential()):
        client, _ = make_client(
            AOAI,
            credential,
            [
                reply(503, {"error": {"code": "busy"}}),
                httpx2.ConnectError("refused"),
                reply(401, {"error": {"code": "Unauthorized"}}),
            ],
            asynchronous=not sync,
        )
        with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError):
            await maybe_await(client.complete(HI))
    assert caplog.records, "expected retry log lines"
    assert KEY not in caplog.text
    assert TOKEN not in caplog.text


async def test_each_answer_is_one_debug_line_without_query_or_headers(
    sync: bool, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = make_client(
        AOAI,
        KEY,
        [
            reply(503, {"error": {"code": "busy"}}),
            reply(headers={"apim-request-id": "req-42", "content-type": "application/json"}),
        ],
        asynchronous=not sync,
    )
    with caplog.at_level(logging.DEBUG, logger="azureinference"):
        await maybe_await(client.complete(HI))
    answers = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert len(answers) == 1
    line = answers[0]
    assert line.startswith("POST https://")
    assert "/chat/completions -> 200 after 1 retry" in line
    assert "apim-request-id=req-42" in line
    assert "x-ms-client-request-id=" not in line  # set on the request, not echoed by this server
    assert "api-version" not in line  # the query is left out: gateways carry keys in it
    assert KEY not in caplog.text


def test_repr_has_no_secrets() -> None:
    client, _ = make_client(AOAI, KEY, model="gpt-4o")
    text = repr(client)
    assert KEY not in text
    assert "azure_openai" in text
    assert "gpt-4o" in text


async def test_server_error_after_retries(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(500, {"error": {"code": "InternalServerError"}})],
        asynchronous=not sync,
    )
    with pytest.raises(ServerError):
        await maybe_await(client.complete(HI))
    assert len(rec.requests) == 3


async def test_bad_request_is_not_learned_from(sync: bool) -> None:
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [
            reply(
                400,
                {
                    "error": {
                        "code": "bad",
                        "message": "temperature out of range",
                        "param": "temperature",
                    }
                },
            )
        ],
        asynchronous=not sync,
    )
    with pytest.raises(BadRequestError) as info:
        await maybe_await(client.complete(HI, temperature=5))
    assert info.value.param == "temperature"
    assert len(rec.requests) == 1


@pytest.mark.parametrize("bad", ["not base64!!", "AAAA", "AAA="])
async def test_broken_base64_embedding_is_malformed(sync: bool, bad: str) -> None:
    from azureinference import MalformedResponseError

    client, _ = make_client(
        SERVERLESS, KEY, [reply(body=embeddings_body([bad]))], asynchronous=not sync
    )
    with pytest.raises(MalformedResponseError, match="Embedding 0 is not base64"):
        await maybe_await(client.embed(["a"]))


async def test_embed_nothing(sync: bool) -> None:
    client, rec = make_client(SERVERLESS, KEY, asynchronous=not sync)
    result = await maybe_await(client.embed([]))
    assert result.vectors == []
    assert rec.requests == []


def test_client_options_name_every_keyword_the_client_takes() -> None:
    """Adapters check ``client_kwargs`` against CLIENT_OPTIONS: it must match the signature."""
    import inspect

    from azureinference import CLIENT_OPTIONS
    from azureinference._base_client import _BaseClient

    keywords = {
        name
        for name, p in inspect.signature(_BaseClient.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert keywords - {"model"} == CLIENT_OPTIONS
