"""The emulator keeps the API's contract: what our users' offline tests rely on."""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azureinference import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    Client,
    ContentFilterError,
    IncompleteStreamError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnsupportedParameterError,
)
from azureinference.emulator import (
    Emulator,
    EmulatorConfig,
    Fault,
    ScriptedReply,
    instance_of,
    running_emulator,
)

USER = [{"role": "user", "content": "Hello there"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[Client]:
    emu.reset()
    with Client(emu.endpoint, emu.key, model="emulator-chat", max_retries=2) as c:
        yield c
    emu.reset()


def raw(emu: Emulator, path: str, body: Any, **headers: str) -> httpx2.Response:
    headers.setdefault("authorization", f"Bearer {emu.key}")
    return httpx2.post(emu.url + path, json=body, headers=headers)


# --- routes and auth -------------------------------------------------------------------------


def test_chat_answers_with_echo_and_consistent_usage(client: Client) -> None:
    answer = client.complete(USER)
    assert answer.choices[0].message.content == "You said: Hello there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "emulator-chat"
    usage = answer.usage
    assert usage is not None
    assert usage.completion_tokens == 4
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_same_request_same_answer_with_its_own_id(client: Client) -> None:
    first = client.complete(USER)
    second = client.complete(USER)
    assert first.id != second.id
    assert first.choices[0].message == second.choices[0].message


@pytest.mark.parametrize(
    "endpoint",
    [
        "{url}/models",
        "{url}",
        "{url}/openai/v1",
        "{url}/openai/deployments/emulator-chat?api-version=2024-10-21",
        "{url}/models/chat/completions",
    ],
)
def test_every_endpoint_form_is_served(emu: Emulator, endpoint: str) -> None:
    with Client(endpoint.format(url=emu.url), emu.key, model="emulator-chat") as c:
        assert c.complete(USER).choices[0].message.content == "You said: Hello there"


def test_api_key_header_is_accepted(emu: Emulator) -> None:
    response = raw(emu, "/models/chat/completions", {"messages": USER}, authorization="")
    assert response.status_code == 401
    response = httpx2.post(
        emu.url + "/models/chat/completions", json={"messages": USER}, headers={"api-key": emu.key}
    )
    assert response.status_code == 200


def test_wrong_key_is_401_and_the_core_says_so(emu: Emulator) -> None:
    with (
        Client(emu.endpoint, "wrong-key", model="emulator-chat") as c,
        pytest.raises(AuthenticationError) as info,
    ):
        c.complete(USER)
    assert info.value.status_code == 401
    assert "wrong-key" not in str(info.value)


def test_deployment_route_needs_api_version(emu: Emulator) -> None:
    response = raw(emu, "/openai/deployments/emulator-chat/chat/completions", {"messages": USER})
    assert response.status_code == 404
    assert "api-version" in response.text


def test_unknown_route_and_model(emu: Emulator, client: Client) -> None:
    assert raw(emu, "/models/completions", {"prompt": "x"}).status_code == 404
    response = raw(emu, "/models/chat/completions", {"messages": USER, "model": "gpt-9"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_model"
    with pytest.raises(NotFoundError):
        client.complete(USER, model="emulator-embed")  # an embeddings model on the chat route


def test_info_names_the_model(emu: Emulator, client: Client) -> None:
    info = client.get_model_info()
    assert info is not None
    assert (info.model_name, info.model_type) == ("emulator-chat", "chat-completion")
    response = httpx2.get(
        emu.url + "/models/info",
        params={"model": "emulator-limited"},
        headers={"api-key": emu.key},
    )
    assert response.json()["model_provider_name"] == "EmulatorLimited"


def test_requests_are_logged_without_credentials(emu: Emulator, client: Client) -> None:
    client.complete(USER, temperature=0)
    seen = emu.requests[-1]
    assert seen.path == "/models/chat/completions"
    assert seen.json["temperature"] == 0
    assert "authorization" not in seen.headers
    assert emu.key not in repr(seen)
    assert emu.key not in repr(emu)


# --- parameters ------------------------------------------------------------------------------


def test_extra_parameters_rules(emu: Emulator, client: Client) -> None:
    body = {"messages": USER, "safe_prompt": True}
    refused = raw(emu, "/models/chat/completions", body)
    assert refused.status_code == 422
    assert refused.json()["detail"]["loc"] == ["body", "safe_prompt"]
    assert raw(emu, "/models/chat/completions", body, **{"extra-parameters": "drop"}).is_success
    passed = raw(emu, "/models/chat/completions", body, **{"extra-parameters": "pass-through"})
    assert passed.is_success
    # The core sets pass-through for model_extras.
    answer = client.complete(USER, model_extras={"safe_prompt": True})
    assert answer.choices[0].message.content
    assert emu.requests[-1].headers["extra-parameters"] == "pass-through"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"seed": 1}, "seed"),
        ({"tools": [WEATHER]}, "tools"),
        (
            {"response_format": {"type": "json_schema",
                                 "json_schema": {"name": "x", "schema": {"type": "object"}}}},
            "response_format",
        ),
    ],
)  # fmt: skip
def test_unsupported_parameter_is_422_naming_it(
    client: Client, params: dict[str, Any], param: str
) -> None:
    with pytest.raises(UnsupportedParameterError) as info:
        client.complete(USER, model="emulator-limited", **params)
    assert info.value.status_code == 422
    assert info.value.param == param
    assert param in str(info.value)


def test_limited_model_still_takes_json_object(client: Client) -> None:
    answer = client.complete(
        USER, model="emulator-limited", response_format={"type": "json_object"}
    )
    assert json.loads(answer.choices[0].message.content or "")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": USER, "temperature": 3}, "temperature"),
        ({"messages": USER, "max_tokens": "ten"}, "max_tokens"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.tool_call_id"),
    ],
)
def test_invalid_values_name_the_parameter(emu: Emulator, body: Any, param: str) -> None:
    response = raw(emu, "/models/chat/completions", body)
    assert response.status_code == 422
    assert response.json()["detail"]["loc"] == ["body", param]


def test_max_tokens_and_stop(client: Client) -> None:
    cut = client.complete([{"role": "user", "content": "count to 20"}], max_tokens=5)
    assert cut.choices[0].message.content == "1 2 3 4 5"
    assert cut.choices[0].finish_reason == "length"
    stopped = client.complete([{"role": "user", "content": "count to 20"}], stop=" 4")
    assert stopped.choices[0].message.content == "1 2 3"


# --- tools, JSON, images ---------------------------------------------------------------------


def test_tool_call_arguments_satisfy_the_schema(client: Client) -> None:
    answer = client.complete(
        [{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER],
        tool_choice="required",
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = (choice.message.tool_calls or [])[0]
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])


def test_tools_are_called_only_when_chosen(client: Client) -> None:
    plain = client.complete(USER, tools=[WEATHER])
    assert not plain.choices[0].message.tool_calls
    mentioned = client.complete([{"role": "user", "content": "call get_weather"}], tools=[WEATHER])
    assert mentioned.choices[0].message.tool_calls
    refused = client.complete(
        [{"role": "user", "content": "call get_weather"}], tools=[WEATHER], tool_choice="none"
    )
    assert not refused.choices[0].message.tool_calls


def test_after_a_tool_result_it_answers_in_text(client: Client) -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny, 21 C"},
    ]  # fmt: skip
    answer = client.complete(messages, tools=[WEATHER], tool_choice="required")
    assert answer.choices[0].message.content == "The tool returned: sunny, 21 C"


def test_json_schema_answer_validates(client: Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "minItems": 2},
        },
        "required": ["name", "age", "tags"],
        "$defs": {"Tag": {"type": "string", "enum": ["a", "b"]}},
        "additionalProperties": False,
    }
    answer = client.complete(
        USER,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "P", "schema": schema, "strict": True}},
    )  # fmt: skip
    jsonschema.validate(json.loads(answer.choices[0].message.content or ""), schema)


def test_images_are_described(client: Client) -> None:
    png = base64.b64encode(b"\x89PNG" + b"\0" * 96).decode()
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]
    text = client.complete([{"role": "user", "content": content}]).choices[0].message.content
    assert text is not None
    assert "2 images" in text
    assert "image/png image of 100 bytes" in text
    assert "https://example.com/cat.jpg, detail low" in text


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.recursive(
        st.sampled_from(
            [
                {"type": "string"},
                {"type": "integer", "minimum": 3, "maximum": 9},
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "boolean"},
                {"type": "string", "format": "date"},
                {"type": "string", "minLength": 5, "maxLength": 8},
                {"enum": ["x", "y"]},
                {"type": ["string", "null"]},
            ]
        ),
        lambda inner: st.one_of(
            st.builds(lambda s: {"type": "array", "items": s, "minItems": 1}, inner),
            st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), inner, max_size=4).map(
                lambda props: {"type": "object", "properties": props, "required": list(props)}
            ),
            st.lists(inner, min_size=1, max_size=3).map(lambda opts: {"anyOf": opts}),
        ),
        max_leaves=8,
    )
)
def test_generated_values_validate_for_any_schema(schema: dict[str, Any]) -> None:
    jsonschema.validate(instance_of(schema, "some hint"), schema)


# --- streaming -------------------------------------------------------------------------------


def test_stream_ends_with_usage_and_done(emu: Emulator) -> None:
    body = {"messages": USER, "stream": True, "stream_options": {"include_usage": True}}
    response = raw(emu, "/openai/v1/chat/completions", {**body, "model": "emulator-chat"})
    lines = [line for line in response.text.split("\n") if line]
    assert lines[-1] == "data: [DONE]"
    usage_chunk = json.loads(lines[-2][len("data: ") :])
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 4
    text = "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in (json.loads(line[6:]) for line in lines[:-2])
    )
    assert text == "You said: Hello there"


def test_streamed_answer_equals_the_plain_one(client: Client) -> None:
    stream = client.stream([{"role": "user", "content": "count to 300"}])
    chunks = list(stream)
    final = stream.state.final()
    assert len(chunks) > 300
    assert (
        final.choices[0].message.content
        == client.complete([{"role": "user", "content": "count to 300"}]).choices[0].message.content
    )
    assert final.usage is not None
    assert final.usage.completion_tokens == 300


def test_streamed_tool_call_assembles(client: Client) -> None:
    stream = client.stream(
        [{"role": "user", "content": "weather in Oslo"}], tools=[WEATHER], tool_choice="required"
    )
    list(stream)
    call = (stream.state.final().choices[0].message.tool_calls or [])[0]
    jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])


async def test_async_client_streams(emu: Emulator) -> None:
    client = AsyncClient(emu.endpoint, emu.key, model="emulator-chat")
    try:
        stream = await client.stream(USER)
        pieces = [c.choices[0].delta.content async for c in stream if c.choices]
        assert "".join(p or "" for p in pieces) == "You said: Hello there"
    finally:
        await client.aclose()


def test_envelope_mode_is_unwrapped_by_the_core() -> None:
    with running_emulator(EmulatorConfig(envelope=True)) as emu:
        wrapped = raw(emu, "/v1/chat/completions", {"messages": USER})
        assert wrapped.json()["code"] == 200
        assert "data" in wrapped.json()
        streamed = raw(emu, "/v1/chat/completions", {"messages": USER, "stream": True})
        assert streamed.text.startswith("event:messages\ndata:{")
        with Client(emu.url + "/v1", emu.key) as c:
            assert c.complete(USER).choices[0].message.content == "You said: Hello there"
            stream = c.stream(USER)
            list(stream)
            assert stream.state.final().choices[0].message.content == "You said: Hello there"


# --- embeddings ------------------------------------------------------------------------------


def test_embeddings_are_deterministic_and_sized(client: Client) -> None:
    first = client.embed(["alpha", "beta"], model="emulator-embed", dimensions=64)
    again = client.embed(["alpha"], model="emulator-embed", dimensions=64)
    assert len(first.data[0].embedding) == 64
    assert first.data[0].embedding == again.data[0].embedding
    assert first.data[0].embedding != first.data[1].embedding
    default = client.embed(["alpha"], model="emulator-embed")
    assert len(default.data[0].embedding) == 1024


def test_texts_that_share_words_are_near_so_retrieval_demos_work(client: Client) -> None:
    docs = ["The Eiffel Tower is in Paris.", "Mount Fuji is in Japan.", "The Nile is in Egypt."]
    vectors = client.embed(docs, model="emulator-embed", input_type="document").vectors
    query = client.embed(["Where is the Eiffel Tower?"], model="emulator-embed").vectors[0]
    scores = [sum(q * d for q, d in zip(query, doc, strict=True)) for doc in vectors]
    assert max(range(3), key=scores.__getitem__) == 0
    assert scores[0] > 0.5 > max(scores[1:])


def test_base64_and_float_carry_the_same_vector(emu: Emulator) -> None:
    body = {"input": ["alpha"], "model": "emulator-embed", "dimensions": 16}
    floats = raw(emu, "/models/embeddings", {**body, "encoding_format": "float"}).json()
    packed = raw(emu, "/models/embeddings", {**body, "encoding_format": "base64"}).json()
    decoded = struct.unpack("<16f", base64.b64decode(packed["data"][0]["embedding"]))
    assert list(decoded) == floats["data"][0]["embedding"]


def test_input_type_changes_the_vector_and_basic_models_refuse_it(client: Client) -> None:
    query = client.embed(["alpha"], model="emulator-embed", input_type="query")
    doc = client.embed(["alpha"], model="emulator-embed", input_type="document")
    assert query.data[0].embedding != doc.data[0].embedding
    # A model that refuses input_type and base64: the core learns both and still succeeds.
    basic = client.embed(["alpha"], model="emulator-embed-basic", input_type="query")
    assert len(basic.data[0].embedding) == 256


def test_image_embeddings(emu: Emulator, client: Client) -> None:
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    result = client.embed_images([{"image": png}], model="emulator-image-embed")
    assert len(result.data[0].embedding) == 512
    bad = raw(emu, "/models/images/embeddings", {"input": ["not an object"],
                                                 "model": "emulator-image-embed"})  # fmt: skip
    assert bad.status_code == 422


# --- faults and scripts ----------------------------------------------------------------------


def test_rate_limit_is_retried_after_retry_after(emu: Emulator, client: Client) -> None:
    emu.inject(Fault.rate_limit(retry_after=0.05))
    assert client.complete(USER).choices[0].message.content == "You said: Hello there"
    assert len(emu.requests) == 2


def test_rate_limit_headers(emu: Emulator) -> None:
    emu.inject(Fault.rate_limit(retry_after=2.5))
    response = raw(emu, "/models/chat/completions", {"messages": USER})
    assert response.status_code == 429
    assert response.headers["retry-after-ms"] == "2500"
    assert response.headers["retry-after"] == "3"  # whole seconds, rounded up


def test_rate_limit_surfaces_when_retries_run_out(emu: Emulator) -> None:
    # Unpaced (rate_limit=False): max_retries is the whole budget.
    emu.inject(Fault.rate_limit(retry_after=0.01, times=3))
    client = Client(emu.endpoint, emu.key, max_retries=1, rate_limit=False)
    with client as c, pytest.raises(RateLimitError) as info:
        c.complete(USER)
    assert info.value.retry_after == pytest.approx(0.01)
    emu.reset()


def test_after_a_429_calls_are_paced_and_its_429s_waited_out(emu: Emulator) -> None:
    emu.inject(Fault.rate_limit(retry_after=0.01, times=3))
    with Client(emu.endpoint, emu.key, max_retries=1) as c:
        assert c.complete(USER).choices  # the limiter waited the 429s out (8 on top)
        assert c.rate_limiter.engaged
        assert c.rate_limiter.throttled == 3
        sent = c.rate_limiter.sent
        c.complete(USER)
        assert c.rate_limiter.sent == sent + 1  # a single call is paced from now on
    emu.reset()


def test_a_retry_after_past_the_timeout_fails_at_once_and_others_wait_no_longer(
    emu: Emulator,
) -> None:
    with Client(emu.endpoint, emu.key, timeout=5) as c:
        emu.inject(Fault.rate_limit(retry_after=30))
        with pytest.raises(RateLimitError, match="retry after 30s"):
            c.complete(USER)  # 30 s asked, 5 s of timeout: at once, not after 5 s
        # The limiter is paused (30 s <= max_retry_after): a call that cannot wait fails at once,
        # saying how long the service asked to wait.
        with pytest.raises(RateLimitError, match=r"asked to wait 3\ds"):
            c.complete(USER)
    with Client(emu.endpoint, emu.key) as c:
        emu.inject(Fault.rate_limit(retry_after=3600))
        with pytest.raises(RateLimitError, match="retry after 3600s"):
            c.complete(USER)  # beyond max_retry_after: not waited
        assert c.rate_limiter.paused_for(time.monotonic()) == 0  # nor is the limiter paused
        assert c.complete(USER).choices  # the next call goes at once
    emu.reset()


def test_server_errors_json_and_html(emu: Emulator) -> None:
    emu.inject(Fault.server_error(503, times=5))
    with Client(emu.endpoint, emu.key, max_retries=0) as c:
        with pytest.raises(ServerError) as info:
            c.complete(USER)
        assert info.value.status_code == 503
        emu.reset()
        emu.inject(Fault.server_error(502, html=True))
        with pytest.raises(ServerError) as html:
            c.complete(USER)
        assert "502 Bad Gateway" in str(html.value)
    emu.reset()


def test_content_filter(emu: Emulator, client: Client) -> None:
    emu.inject(Fault.content_filter())
    with pytest.raises(ContentFilterError) as info:
        client.complete(USER)
    assert info.value.param == "messages"


def test_dropped_stream_and_body_raise(emu: Emulator, client: Client) -> None:
    emu.inject(Fault.drop_stream(after_chunks=2))
    with pytest.raises(IncompleteStreamError):
        list(client.stream([{"role": "user", "content": "count to 10"}]))
    emu.inject(Fault.drop_stream(), Fault.drop_stream(), Fault.drop_stream())
    # A body cut off halfway is a connection error (retried, then raised), never a short answer.
    with pytest.raises(APIConnectionError, match="peer closed connection") as info:
        client.complete(USER)
    assert emu.url.removeprefix("http://") in str(info.value)  # names host and port


def test_latency_hits_the_timeout(emu: Emulator) -> None:
    emu.inject(Fault.latency(1.0, times=3))
    with (
        Client(emu.endpoint, emu.key, timeout=0.2, max_retries=0) as c,
        pytest.raises(APITimeoutError, match="timed out"),
    ):
        c.complete(USER)
    emu.reset()


def test_faults_match_route_and_model(emu: Emulator, client: Client) -> None:
    emu.inject(Fault.content_filter(route="embeddings"))
    assert client.complete(USER).choices  # the chat call is not affected
    with pytest.raises(ContentFilterError):
        client.embed(["x"], model="emulator-embed")


def test_scripted_replies_in_order(emu: Emulator, client: Client) -> None:
    emu.script([
        ScriptedReply(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}, "id": "call_1"}]),
        ScriptedReply(content="Done.", reasoning_content="I looked it up."),
    ])  # fmt: skip
    first = client.complete(USER)
    assert first.choices[0].finish_reason == "tool_calls"
    assert (first.choices[0].message.tool_calls or [])[0].id == "call_1"
    stream = client.stream(USER)
    list(stream)
    final = stream.state.final().choices[0].message
    assert final.content == "Done."
    assert final.reasoning_content == "I looked it up."
    assert client.complete(USER).choices[0].message.content == "You said: Hello there"


# --- ways to run it --------------------------------------------------------------------------


def test_pytest_fixture_is_reset_per_test(azure_inference_emulator: Emulator) -> None:
    assert azure_inference_emulator.requests == []
    with Client(azure_inference_emulator.endpoint, azure_inference_emulator.key) as c:
        assert c.complete(USER).choices[0].message.content == "You said: Hello there"


def test_cli_serves_until_stopped() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "azureinference.emulator", "--port", "0", "--key", "cli-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert "AZURE_INFERENCE_ENDPOINT" in proc.stdout.readline()
        with Client(url + "/models", "cli-key") as c:
            assert c.complete(USER).choices[0].message.content == "You said: Hello there"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode in (0, -15)


def test_importing_the_core_does_not_import_the_emulator() -> None:
    code = (
        "import azureinference, sys; "
        "print('starlette' in sys.modules, 'azureinference.emulator' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_values_come_from_the_users_words(client: Client) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
    }
    answer = client.complete(
        [{"role": "user", "content": "Ada Lovelace was 36."}],
        response_format={"type": "json_schema", "json_schema": {"name": "P", "schema": schema}},
    )
    assert json.loads(answer.choices[0].message.content or "") == {
        "name": "Ada Lovelace",
        "age": 36,
    }
    call = client.complete(
        [{"role": "user", "content": "What is the weather in Oslo for 3 days?"}],
        tools=[WEATHER],
        tool_choice="required",
    )
    args = json.loads((call.choices[0].message.tool_calls or [])[0].function.arguments)
    assert args == {"city": "Oslo", "unit": "celsius", "days": 3}
