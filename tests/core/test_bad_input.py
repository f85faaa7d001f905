"""Issue 9, item 9 (core): every wrong argument is a clear error, before any I/O, naming it.

One table of bad calls against a local server on 127.0.0.1: each must raise `ConfigurationError`
whose message names the parameter, and the server must have seen nothing. Valid edge values
(``temperature=0``, ``seed=0``, ``max_retries=0``) must still work.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable
from typing import Any

import pytest

from azureinference import (
    AsyncClient,
    Client,
    ConfigurationError,
    MalformedResponseError,
    RetryPolicy,
)
from azureinference.endpoints import Endpoint, EndpointKind, parse_endpoint

from .core_server import LocalServer, send_raw

HI = [{"role": "user", "content": "hi"}]
KEY = "k3y-Secret-0123456789abcdef0123"

# (id, client options, call on the client or None for the constructor, words the message names)
CASES: list[tuple[str, dict[str, Any], Callable[[Any], Any] | None, str]] = [
    # constructor options
    ("max_retries str", {"max_retries": "3"}, None, "max_retries"),
    ("max_retries float", {"max_retries": 2.5}, None, "max_retries"),
    ("max_retries negative", {"max_retries": -1}, None, "max_retries"),
    ("max_retries None", {"max_retries": None}, None, "max_retries"),
    (
        "credential_scopes str",
        {"credential_scopes": "https://s/.default"},
        None,
        "credential_scopes",
    ),
    ("credential_scopes ints", {"credential_scopes": [1]}, None, "credential_scopes"),
    ("embed_batch_size zero", {"embed_batch_size": 0}, None, "embed_batch_size"),
    ("embed_batch_size negative", {"embed_batch_size": -5}, None, "embed_batch_size"),
    ("embed_batch_size str", {"embed_batch_size": "10"}, None, "embed_batch_size"),
    ("embed_batch_size float", {"embed_batch_size": 1.5}, None, "embed_batch_size"),
    ("timeout str", {"timeout": "30"}, None, "timeout"),
    ("timeout negative", {"timeout": -1}, None, "timeout"),
    ("timeout nan", {"timeout": math.nan}, None, "timeout"),
    ("timeout zero", {"timeout": 0}, None, "timeout"),
    ("headers list", {"headers": [("a", "b")]}, None, "headers"),
    ("headers value int", {"headers": {"x-a": 1}}, None, "headers"),
    ("headers name space", {"headers": {"x a": "b"}}, None, "headers"),
    ("headers value newline", {"headers": {"x-a": "b\r\nx-evil: 1"}}, None, "headers"),
    ("headers value trailing LF", {"headers": {"x-a": "b\n"}}, None, "headers"),
    ("headers name trailing LF", {"headers": {"x-a\n": "b"}}, None, "headers"),
    ("model int", {"model": 5}, None, "model"),
    ("user_agent int", {"user_agent": 5}, None, "user_agent"),
    ("extra_parameters unknown", {"extra_parameters": "keep"}, None, "extra_parameters"),
    ("retry_policy int", {"retry_policy": 3}, None, "retry_policy"),
    ("httpx_kwargs list", {"httpx_kwargs": [1]}, None, "httpx_kwargs"),
    ("endpoint int", {"endpoint": 5}, None, "endpoint must be"),
    (
        "endpoint CR LF",
        {"endpoint": "https://r.services.ai.azure.com/models\r\nX-Injected: 1"},
        None,
        "endpoint 'https://r.services.ai.azure.com/models\\r\\nX-Injected: 1' holds a control",
    ),
    ("endpoint LF", {"endpoint": "https://r.openai.azure.com/open\nai/v1"}, None, "control"),
    ("endpoint NUL", {"endpoint": "https://r.openai.azure.com/\x00/v1"}, None, "control"),
    ("endpoint NUL host", {"endpoint": "https://r\x00.openai.azure.com"}, None, "endpoint"),
    ("endpoint tab", {"endpoint": "https://r.openai.azure.com/\t/v1"}, None, "control"),
    ("endpoint bad A-label", {"endpoint": "https://xn--zz.example.com/v1"}, None, "'xn--zz'"),
    ("endpoint empty label", {"endpoint": "https://r..example.com/v1"}, None, "empty label"),
    ("endpoint long label", {"endpoint": f"https://{'a' * 64}.com/v1"}, None, "63 characters"),
    ("endpoint bad IDNA", {"endpoint": "https://\u0301a.example.com/v1"}, None, "IDNA"),
    ("endpoint bad char", {"endpoint": "https://r$x.example.com/v1"}, None, "host name"),
    ("api_version int", {"api_version": 2024}, None, "api_version"),
    ("credential_scopes empty", {"credential_scopes": [""]}, None, "credential_scopes"),
    ("credential int", {"credential": 5}, None, "credential"),
    ("credential bytes", {"credential": b"key"}, None, "credential"),
    # chat calls
    ("complete stream=True", {}, lambda c: c.complete(HI, stream=True), "stream"),
    ("messages generator", {}, lambda c: c.complete(m for m in HI), "messages"),
    ("messages str", {}, lambda c: c.complete("hello"), "messages"),
    ("messages dict", {}, lambda c: c.complete({"role": "user", "content": "x"}), "messages"),
    ("messages bytes", {}, lambda c: c.complete(b"hello"), "messages"),
    ("messages None", {}, lambda c: c.complete(None), "messages"),
    ("messages int", {}, lambda c: c.complete(5), "messages"),
    ("message str", {}, lambda c: c.complete(["hello"]), "messages[0]"),
    ("message without role", {}, lambda c: c.complete([{"content": "x"}]), "messages[0]"),
    ("messages empty", {}, lambda c: c.complete([]), "messages"),
    ("temperature nan", {}, lambda c: c.complete(HI, temperature=math.nan), "temperature"),
    ("temperature inf", {}, lambda c: c.complete(HI, temperature=math.inf), "temperature"),
    ("temperature str", {}, lambda c: c.complete(HI, temperature="0.5"), "temperature"),
    ("temperature bool", {}, lambda c: c.complete(HI, temperature=True), "temperature"),
    ("top_p -inf", {}, lambda c: c.complete(HI, top_p=-math.inf), "top_p"),
    (
        "presence_penalty list",
        {},
        lambda c: c.complete(HI, presence_penalty=[1]),
        "presence_penalty",
    ),
    (
        "frequency_penalty nan",
        {},
        lambda c: c.complete(HI, frequency_penalty=math.nan),
        "frequency_penalty",
    ),
    ("max_tokens float", {}, lambda c: c.complete(HI, max_tokens=10.5), "max_tokens"),
    ("max_tokens str", {}, lambda c: c.complete(HI, max_tokens="10"), "max_tokens"),
    ("seed str", {}, lambda c: c.complete(HI, seed="1"), "seed"),
    ("n float", {}, lambda c: c.complete(HI, n=1.0), "n"),
    ("stop int", {}, lambda c: c.complete(HI, stop=5), "stop"),
    ("stop list of ints", {}, lambda c: c.complete(HI, stop=[1, 2]), "stop[0]"),
    ("tools str", {}, lambda c: c.complete(HI, tools="abc"), "tools"),
    ("tools ints", {}, lambda c: c.complete(HI, tools=[123]), "tools[0]"),
    ("tools dict", {}, lambda c: c.complete(HI, tools={"type": "function"}), "tools"),
    ("tool_choice int", {}, lambda c: c.complete(HI, tool_choice=1), "tool_choice"),
    ("tool_choice unknown", {}, lambda c: c.complete(HI, tool_choice="always"), "tool_choice"),
    ("response_format int", {}, lambda c: c.complete(HI, response_format=1), "response_format"),
    (
        "response_format type",
        {},
        lambda c: c.complete(HI, response_format="xml"),
        "response_format",
    ),
    (
        "parallel_tool_calls str",
        {},
        lambda c: c.complete(HI, parallel_tool_calls="yes"),
        "parallel_tool_calls",
    ),
    ("logprobs int", {}, lambda c: c.complete(HI, logprobs=1), "logprobs"),
    ("user int", {}, lambda c: c.complete(HI, user=1), "user"),
    ("model in call int", {}, lambda c: c.complete(HI, model=1), "model"),
    ("stream_options str", {}, lambda c: c.stream(HI, stream_options="x"), "stream_options"),
    ("unknown parameter", {}, lambda c: c.complete(HI, temprature=0.1), "temprature"),
    ("model_extras str", {}, lambda c: c.complete(HI, model_extras="abc"), "model_extras"),
    ("model_extras list", {}, lambda c: c.complete(HI, model_extras=[("a", 1)]), "model_extras"),
    ("model_extras int key", {}, lambda c: c.complete(HI, model_extras={1: 2}), "model_extras"),
    ("model_extras object", {}, lambda c: c.complete(HI, model_extras={"k": object()}), "'k'"),
    ("model_extras nan", {}, lambda c: c.complete(HI, model_extras={"safe": math.nan}), "'safe'"),
    (
        "model_extras nested inf",
        {},
        lambda c: c.complete(HI, model_extras={"deep": {"a": [math.inf]}}),
        "'deep'",
    ),
    (
        "model_extras clash",
        {},
        lambda c: c.complete(HI, model_extras={"temperature": 1}),
        "temperature",
    ),
    (
        "extra_parameters call",
        {},
        lambda c: c.complete(HI, extra_parameters="keep"),
        "extra_parameters",
    ),
    ("headers call str", {}, lambda c: c.complete(HI, headers="x-a: b"), "headers"),
    ("headers call newline", {}, lambda c: c.complete(HI, headers={"x-a": "1\n2"}), "headers"),
    (
        "message content nan",
        {},
        lambda c: c.complete([{"role": "user", "content": math.nan}]),
        "messages",
    ),
    ("stream messages str", {}, lambda c: c.stream("hello"), "messages"),
    # embeddings
    ("embed str", {}, lambda c: c.embed("abc"), "input"),
    ("embed None", {}, lambda c: c.embed(None), "input"),
    ("embed ints", {}, lambda c: c.embed([1, 2]), "input[0]"),
    ("embed dict", {}, lambda c: c.embed({"a": 1}), "input"),
    ("embed batch_size -1", {}, lambda c: c.embed(["a", "b"], batch_size=-1), "batch_size"),
    ("embed batch_size 0", {}, lambda c: c.embed(["a", "b"], batch_size=0), "batch_size"),
    ("embed batch_size str", {}, lambda c: c.embed(["a", "b"], batch_size="1"), "batch_size"),
    ("embed dimensions 0", {}, lambda c: c.embed(["a"], dimensions=0), "dimensions"),
    ("embed dimensions bool", {}, lambda c: c.embed(["a"], dimensions=True), "dimensions"),
    ("embed input_type int", {}, lambda c: c.embed(["a"], input_type=1), "input_type"),
    ("embed model_extras str", {}, lambda c: c.embed(["a"], model_extras="abc"), "model_extras"),
    ("embed model_extras nan", {}, lambda c: c.embed(["a"], model_extras={"w": math.nan}), "'w'"),
    ("embed_images str", {}, lambda c: c.embed_images("abc"), "input"),
    ("embed_images no image", {}, lambda c: c.embed_images([{"text": "x"}]), "image input 0"),
]


@pytest.mark.parametrize(
    ("options", "call", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_clear_error_before_any_io(
    local_server: LocalServer, options: dict[str, Any], call: Any, names: str
) -> None:
    options = dict(options)
    endpoint = options.pop("endpoint", local_server.url)
    credential = options.pop("credential", KEY)

    def run() -> None:
        with Client(endpoint, credential, **options) as client:
            if call is not None:
                result = call(client)
                if result is not None and hasattr(result, "__iter__"):
                    list(result)

    with pytest.raises(ConfigurationError) as info:
        run()
    assert names in str(info.value)
    assert local_server.seen == []
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    ("options", "call", "names"),
    [c[1:] for c in CASES if c[2] is not None][::4],
    ids=[c[0] for c in CASES if c[2] is not None][::4],
)
async def test_bad_input_is_a_clear_error_before_any_io_async(
    local_server: LocalServer, options: dict[str, Any], call: Any, names: str
) -> None:
    client = AsyncClient(local_server.url, KEY, **options)
    with pytest.raises(ConfigurationError) as info:
        await call(client)
    assert names in str(info.value)
    assert local_server.seen == []
    await client.aclose()


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"max_retries": -5, "initial_delay": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": "2"}, "max_retries"),
        ({"initial_delay": -1}, "initial_delay"),
        ({"initial_delay": math.nan}, "initial_delay"),
        ({"max_delay": math.inf}, "max_delay"),
        ({"max_delay": "8"}, "max_delay"),
        ({"max_retry_after": math.nan}, "max_retry_after"),
        ({"max_retry_after": -1}, "max_retry_after"),
        ({"max_retry_after": math.inf}, "max_retry_after"),
    ],
)
def test_a_bad_retry_policy_is_refused_when_built(options: dict[str, Any], names: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        RetryPolicy(**options)
    assert names in str(info.value)


def test_retry_policy_edge_values_are_kept() -> None:
    policy = RetryPolicy(max_retries=0, initial_delay=0, max_delay=0, max_retry_after=0)
    assert policy.delay(0) is None
    assert RetryPolicy(max_retries=1, initial_delay=0, max_delay=0).delay(0) == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://bücher.example/v1",  # IDNA, encoded by the transport
        "https://xn--bcher-kva.example/v1",
        "http://my_service:8000/v1",  # a container name with an underscore
        "http://[::1]:8000/v1",
        "http://10.0.0.1:8000/v1",
        "https://r.openai.azure.com./openai/v1",  # a fully qualified name
        "https://r.services.ai.azure.com/models\n",  # a line end pasted after the URL
    ],
)
def test_valid_endpoint_hosts_are_kept(endpoint: str) -> None:
    assert parse_endpoint(endpoint).base_url == endpoint.strip()


def test_valid_edge_values_still_work(local_server: LocalServer) -> None:
    with Client(local_server.url, KEY, max_retries=0, timeout=5) as client:
        client.complete(
            HI,
            temperature=0,
            top_p=1,
            seed=0,
            max_tokens=1,
            presence_penalty=-2.0,
            stop="x",
            model_extras={"safe_mode": False, "k": 0, "when": None},
        )
        client.embed(["a", "b", "c"], batch_size=1)
    bodies = [r.body for r in local_server.seen]
    assert bodies[0]["temperature"] == 0
    assert bodies[0]["seed"] == 0
    assert bodies[0]["stop"] == ["x"]
    assert bodies[0]["safe_mode"] is False
    assert "when" not in bodies[0]
    # Batches after the first go out concurrently: which arrives first is free, none is lost.
    assert sorted(b["input"] for b in bodies[1:]) == [["a"], ["b"], ["c"]]


def test_a_message_text_that_reads_nan_is_sent(local_server: LocalServer) -> None:
    with Client(local_server.url, KEY) as client:
        client.complete([{"role": "user", "content": "NaN and Infinity"}])
    assert local_server.seen[0].body["messages"][0]["content"] == "NaN and Infinity"


def test_azure_openai_model_is_quoted_into_one_path_segment(local_server: LocalServer) -> None:
    endpoint = Endpoint(local_server.url, EndpointKind.AZURE_OPENAI, api_version="2024-10-21")
    with Client(endpoint, KEY) as client:
        client.complete(HI, model="../../admin?x=")
    assert local_server.seen[0].path.startswith(
        "/openai/deployments/..%2F..%2Fadmin%3Fx%3D/chat/completions?"
    )


@pytest.mark.parametrize("model", ["..", ".", ""])
def test_azure_openai_model_that_is_a_dot_segment_is_refused(model: str) -> None:
    with pytest.raises(ConfigurationError, match="model"):
        parse_endpoint("https://r.openai.azure.com").url("/chat/completions", model=model)


# ---- what the service sends: a vector with NaN or infinity is not an embedding ----

_NAN_F32 = base64.b64encode(struct.pack("<3f", 0.5, math.nan, 0.25)).decode()
_INF_F32 = base64.b64encode(struct.pack("<2f", math.inf, 0.5)).decode()


@pytest.mark.parametrize(
    ("embedding", "shown"),
    [
        ("[0.1, NaN, 0.3]", "nan at position 1"),
        ("[Infinity]", "inf at position 0"),
        ("[0.5, -Infinity]", "-inf at position 1"),
        ("[0.5, 1e999]", "inf at position 1"),
        (f'"{_NAN_F32}"', "nan at position 1"),
        (f'"{_INF_F32}"', "inf at position 0"),
    ],
)
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_an_embedding_with_nan_or_infinity_is_a_malformed_answer(
    local_server: LocalServer, embedding: str, shown: str, sync: bool
) -> None:
    body = (
        '{"object": "list", "model": "m", "data": [{"index": 0, "embedding": [0.5]},'
        f' {{"index": 1, "embedding": {embedding}}}]}}'
    ).encode()
    local_server.then(send_raw(200, body, "application/json"))

    async def embed() -> None:
        if sync:
            with Client(local_server.url, KEY, max_retries=0) as client:
                client.embed(["a", "b"])
        else:
            async with AsyncClient(local_server.url, KEY, max_retries=0) as aclient:
                await aclient.embed(["a", "b"])

    with pytest.raises(MalformedResponseError) as info:
        await embed()
    assert f"Embedding 1 holds {shown}" in str(info.value)


def test_finite_extreme_vectors_are_kept(local_server: LocalServer) -> None:
    big = 1.5e308  # two of them sum to infinity: each is still a finite number
    body = json.dumps({"data": [{"index": 0, "embedding": [big, big, -0.0, 5e-324]}]}).encode()
    local_server.then(send_raw(200, body, "application/json"))
    with Client(local_server.url, KEY, max_retries=0) as client:
        assert client.embed(["a"]).vectors == [[big, big, -0.0, 5e-324]]
