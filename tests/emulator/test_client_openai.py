"""The official ``openai`` SDK against the emulator's ``/v1``, ``/openai/v1`` and deployment routes.

What its users do: create and stream, tools and a tool round trip, ``parse`` with a pydantic
model, JSON mode, embeddings, model listing, legacy completions, and errors raised as the SDK's
own classes with the service's message and parameter.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from azureinference.emulator import Emulator, Fault, running_emulator

from .clients_support import CHAT, EMBED, JOKE_PROMPT, WEATHER_TOOL, clients_config

openai = pytest.importorskip("openai")

HI = [{"role": "user", "content": "Hi"}]


class Person(BaseModel):
    name: str
    age: int


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(clients_config()) as emulator:
        yield emulator


@pytest.fixture(params=["/v1", "/openai/v1", "deployment"])
def client(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Any]:
    """An OpenAI client on each OpenAI-style route family."""
    emu.reset()
    with _client(emu, request.param) as c:
        yield c


@pytest.fixture(params=["/v1", "/openai/v1"])
def v1(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Any]:
    """An OpenAI client on ``/v1`` or ``/openai/v1`` (the routes with a model listing)."""
    emu.reset()
    with _client(emu, request.param) as c:
        yield c


# --- chat ------------------------------------------------------------------------------------


def test_create_answers_with_fresh_ids_and_request_ids(client: Any) -> None:
    raw = client.chat.completions.with_raw_response.create(model=CHAT, messages=HI)
    first = raw.parse()
    assert first.choices[0].message.content == "You said: Hi"
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens
    assert raw.headers["x-request-id"] == raw.headers["apim-request-id"]
    assert raw.request_id == raw.headers["x-request-id"]
    second = client.chat.completions.create(model=CHAT, messages=HI)
    assert second.id != first.id


def test_standard_openai_fields_are_accepted(client: Any) -> None:
    answer = client.chat.completions.create(
        model=CHAT,
        messages=HI,
        store=False,
        metadata={"purpose": "test"},
        service_tier="auto",
        prompt_cache_key="k",
        safety_identifier="user-1",
        verbosity="low",
        prediction={"type": "content", "content": "You said: Hi"},
        user="u",
    )
    assert answer.choices[0].message.content == "You said: Hi"


def test_n_choices_and_logprobs(client: Any) -> None:
    answer = client.chat.completions.create(
        model=CHAT, messages=HI, n=2, logprobs=True, top_logprobs=2
    )
    assert [c.index for c in answer.choices] == [0, 1]
    assert all(c.message.content == "You said: Hi" for c in answer.choices)
    logprobs = answer.choices[0].logprobs.content
    assert "".join(t.token for t in logprobs) == "You said: Hi"
    assert all(len(t.top_logprobs) == 2 and t.logprob <= 0 for t in logprobs)
    assert answer.usage.completion_tokens == 2 * 3


def test_stream_with_include_usage(client: Any) -> None:
    stream = client.chat.completions.create(
        model=CHAT,
        messages=[{"role": "user", "content": "count to 5"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "1 2 3 4 5"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 5
    assert all(c.usage is None for c in chunks[:-1])


def test_tools_and_a_tool_round_trip(client: Any) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model=CHAT, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    second = client.chat.completions.create(model=CHAT, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "The tool returned: sunny, 21 C"


def test_streamed_tool_call_assembles(client: Any) -> None:
    with client.chat.completions.stream(
        model=CHAT,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_legacy_functions(client: Any) -> None:
    answer = client.chat.completions.create(
        model=CHAT,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        functions=[WEATHER_TOOL["function"]],
        function_call="auto",
    )
    assert answer.choices[0].finish_reason == "function_call"
    assert answer.choices[0].message.function_call.name == "get_weather"


def test_parse_with_a_pydantic_model(client: Any) -> None:
    messages = [{"role": "user", "content": "Ada Lovelace was 36."}]
    answer = client.chat.completions.parse(model=CHAT, messages=messages, response_format=Person)
    assert answer.choices[0].message.parsed == Person(name="Ada Lovelace", age=36)
    tool = openai.pydantic_function_tool(Person)
    called = client.chat.completions.parse(
        model=CHAT, messages=messages, tools=[tool], tool_choice="required"
    )
    parsed = called.choices[0].message.tool_calls[0].function.parsed_arguments
    assert parsed == Person(name="Ada Lovelace", age=36)


def test_json_mode_answers_the_keys_asked_for(client: Any) -> None:
    answer = client.chat.completions.create(
        model=CHAT,
        messages=[{"role": "user", "content": JOKE_PROMPT}],
        response_format={"type": "json_object"},
    )
    assert set(json.loads(answer.choices[0].message.content)) == {"setup", "punchline"}


# --- embeddings, models, completions ---------------------------------------------------------


def test_embeddings_floats_base64_tokens_and_dimensions(client: Any) -> None:
    floats = client.embeddings.create(model=EMBED, input=["a cat"], encoding_format="float")
    vector = floats.data[0].embedding
    assert len(vector) == 1536
    raw = client.embeddings.with_raw_response.create(
        model=EMBED, input=["a cat"], encoding_format="base64"
    )
    encoded = json.loads(raw.http_response.text)["data"][0]["embedding"]
    assert list(struct.unpack("<1536f", base64.b64decode(encoded))) == vector
    default = client.embeddings.create(model=EMBED, input="a cat")  # the SDK asks for base64
    assert default.data[0].embedding == vector
    tokens = client.embeddings.create(model=EMBED, input=[[15339, 1917], [15339]])
    assert [d.index for d in tokens.data] == [0, 1]
    assert tokens.usage.prompt_tokens == 3
    single = client.embeddings.create(model=EMBED, input=[15339, 1917])
    assert single.data[0].embedding == tokens.data[0].embedding
    short = client.embeddings.create(model=EMBED, input=["a cat"], dimensions=256)
    assert len(short.data[0].embedding) == 256


def test_model_listing(v1: Any) -> None:
    ids = [m.id for m in v1.models.list()]
    assert ids[:2] == [CHAT, EMBED]
    assert v1.models.retrieve(EMBED).id == EMBED
    with pytest.raises(openai.NotFoundError):
        v1.models.retrieve("no-such-model")


def test_legacy_completions(v1: Any) -> None:
    answer = v1.completions.create(model=CHAT, prompt="Say hi")
    assert answer.choices[0].text == "You said: Say hi"
    assert answer.id.startswith("cmpl-")
    pieces = list(
        v1.completions.create(
            model=CHAT, prompt="count to 3", stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].text for c in pieces if c.choices) == "1 2 3"
    assert pieces[-1].usage.completion_tokens == 3


# --- errors ----------------------------------------------------------------------------------


def test_bad_values_are_400_naming_the_parameter(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=CHAT, messages=HI, temperature=5)
    assert caught.value.param == "temperature"
    assert caught.value.code == "invalid_value"
    assert "temperature must be a number between 0 and 2" in caught.value.message
    with pytest.raises(openai.BadRequestError) as unknown:
        client.chat.completions.create(model=CHAT, messages=HI, extra_body={"foo": 1})
    assert unknown.value.param == "foo"
    assert "Unrecognized request argument supplied: foo" in unknown.value.message


def test_unsupported_parameter_is_400_unsupported_parameter(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="emulator-limited", messages=HI, seed=1)
    assert (caught.value.code, caught.value.param) == ("unsupported_parameter", "seed")
    assert "Unsupported parameter: 'seed'" in caught.value.message


def _client(emu: Emulator, route: str = "/v1", key: str | None = None) -> Any:
    if route == "deployment":
        return openai.AzureOpenAI(
            azure_endpoint=emu.url, api_key=key or emu.key, api_version="2024-10-21", max_retries=0
        )
    return openai.OpenAI(base_url=emu.url + route, api_key=key or emu.key, max_retries=0)


def test_wrong_key_is_the_sdks_authentication_error(emu: Emulator) -> None:
    with _client(emu, key="wrong") as c, pytest.raises(openai.AuthenticationError) as caught:
        c.chat.completions.create(model=CHAT, messages=HI)
    assert caught.value.code == "invalid_api_key"
    assert "wrong" not in str(caught.value)
    with (
        _client(emu, "/openai/v1", key="wrong") as c,
        pytest.raises(openai.AuthenticationError) as azure,
    ):
        c.models.list()
    assert azure.value.code == "401"
    assert "Access denied" in azure.value.message


def test_unknown_model_as_each_service_answers(emu: Emulator) -> None:
    with _client(emu) as c, pytest.raises(openai.NotFoundError) as caught:
        c.chat.completions.create(model="nope", messages=HI)
    assert caught.value.code == "model_not_found"
    assert "The model `nope` does not exist" in caught.value.message
    # Azure OpenAI's /openai/v1 answers 400 unknown_model (shared/realwire: aoai_v1_unknown_model).
    with _client(emu, "/openai/v1") as c, pytest.raises(openai.BadRequestError) as azure:
        c.chat.completions.create(model="nope", messages=HI)
    assert azure.value.code == "unknown_model"
    with _client(emu, "deployment") as c, pytest.raises(openai.NotFoundError) as deployment:
        c.chat.completions.create(model="nope", messages=HI)
    assert deployment.value.code == "DeploymentNotFound"


def test_faults_raise_the_sdks_classes(emu: Emulator, client: Any) -> None:
    emu.inject(Fault.rate_limit(retry_after=0.01), Fault.content_filter(), Fault.server_error())
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=CHAT, messages=HI)
    assert limited.value.response.headers["retry-after-ms"] == "10"
    with pytest.raises(openai.BadRequestError) as filtered:
        client.chat.completions.create(model=CHAT, messages=HI)
    assert filtered.value.code == "content_filter"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=CHAT, messages=HI)


def test_quota_429_is_the_sdks_rate_limit_error_with_retry_after_ms(emu: Emulator) -> None:
    emu.set_quota(requests_per_minute=1, model=EMBED)
    with _client(emu) as c:
        c.embeddings.create(model=EMBED, input="a")
        with pytest.raises(openai.RateLimitError) as caught:
            c.embeddings.create(model=EMBED, input="a")
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after-ms"]) > 0
    assert caught.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    emu.reset()


async def test_async_client_creates_and_streams(emu: Emulator) -> None:
    emu.reset()
    async with openai.AsyncOpenAI(
        base_url=emu.openai_base_url, api_key=emu.key, max_retries=0
    ) as c:
        answer = await c.chat.completions.create(model=CHAT, messages=HI)
        assert answer.choices[0].message.content == "You said: Hi"
        stream = await c.chat.completions.create(
            model=CHAT, messages=HI, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
            "You said: Hi"
        )
        assert chunks[-1].usage.total_tokens > 0
        vectors = await c.embeddings.create(model=EMBED, input=["a", "b"], dimensions=8)
        assert [len(d.embedding) for d in vectors.data] == [8, 8]
