"""AzureAIChatCompletionsModel against a scripted endpoint: what goes on the wire, what comes back.

Tests that take the ``mode`` fixture run twice, through the sync and the async methods.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
import sys
from typing import Any

import pytest
from langchain_core._api.beta_decorator import LangChainBetaWarning
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from lc_support import (
    MODEL,
    PNG,
    FakeEndpoint,
    aggregate,
    call_invoke,
    call_stream,
    chunk,
    completion,
    make_llm,
    text_chunks,
    unused_local_url,
    wire_call,
)
from pydantic import BaseModel, Field, SecretStr
from typing_extensions import TypedDict

from azureinference import ConfigurationError, UnsupportedParameterError
from langchain_azureinference import AzureAIChatCompletionsModel
from langchain_azureinference._convert import to_wire_message
from tests.conftest import PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY, load_json

# ---- construction ---------------------------------------------------------------------------


def test_peer_constructor_arguments() -> None:
    llm = AzureAIChatCompletionsModel(
        endpoint=PLACEHOLDER_ENDPOINT,
        credential="k",
        model_name="mistral-large",
        api_version="2024-05-01-preview",
        client_kwargs={"headers": {"x-test": "1"}},
        model_kwargs={"safe_prompt": True},
        temperature=0.5,
        top_p=0.9,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        max_tokens=10,
        stop="END",
        seed=1,
        service="inference",
        project_endpoint=None,
    )  # no warning: none of langchain-azure-ai's arguments is taken for a model_kwargs entry
    assert llm.model_kwargs == {"safe_prompt": True}
    assert llm.model_name == "mistral-large"
    assert llm.stop == ["END"]
    assert isinstance(llm.credential, SecretStr)
    assert AzureAIChatCompletionsModel(endpoint=PLACEHOLDER_ENDPOINT, model="m").model_name == "m"


def test_api_key_is_an_alias_of_credential() -> None:
    llm = AzureAIChatCompletionsModel(endpoint=PLACEHOLDER_ENDPOINT, api_key="secret-1")
    assert llm.credential.get_secret_value() == "secret-1"


def test_unknown_constructor_keyword_moves_to_model_kwargs_with_a_warning(
    fake: FakeEndpoint,
) -> None:
    with pytest.warns(UserWarning, match="safe_prompt"):
        llm = make_llm(fake, safe_prompt=True)
    assert llm.model_kwargs == {"safe_prompt": True}
    fake.reply(completion())
    llm.invoke("hi")
    assert fake.body["safe_prompt"] is True
    assert fake.headers["extra-parameters"] == "pass-through"


def test_keyword_given_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="given twice"):
        AzureAIChatCompletionsModel(endpoint=PLACEHOLDER_ENDPOINT, foo=1, model_kwargs={"foo": 2})


@pytest.mark.parametrize(
    ("env", "endpoint", "key"),
    [
        (
            {
                "AZURE_INFERENCE_ENDPOINT": "https://a.services.ai.azure.com/models",
                "AZURE_INFERENCE_CREDENTIAL": "k1",
            },
            "https://a.services.ai.azure.com/models",
            "k1",
        ),
        (
            {
                "AZURE_AI_INFERENCE_ENDPOINT": "https://b.services.ai.azure.com/models",
                "AZURE_AI_INFERENCE_CREDENTIAL": "k2",
            },
            "https://b.services.ai.azure.com/models",
            "k2",
        ),
        (
            {
                "AZURE_INFERENCE_ENDPOINT": "https://a.services.ai.azure.com/models",
                "AZURE_AI_INFERENCE_ENDPOINT": "https://b.services.ai.azure.com/models",
                "AZURE_INFERENCE_CREDENTIAL": "k1",
                "AZURE_AI_INFERENCE_CREDENTIAL": "k2",
            },
            "https://a.services.ai.azure.com/models",
            "k1",
        ),
    ],
    ids=["ours", "langchain-azure-ai spelling", "ours first"],
)
def test_environment_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], endpoint: str, key: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    llm = AzureAIChatCompletionsModel(model="m")
    assert llm.endpoint == endpoint
    assert llm.credential.get_secret_value() == key
    explicit = AzureAIChatCompletionsModel(endpoint=PLACEHOLDER_ENDPOINT, credential="mine")
    assert explicit.endpoint == PLACEHOLDER_ENDPOINT
    assert explicit.credential.get_secret_value() == "mine"


def test_missing_endpoint_names_the_environment_variables() -> None:
    with pytest.raises(
        ValueError, match="AZURE_INFERENCE_ENDPOINT, AZURE_AI_INFERENCE_ENDPOINT, AZURE_AI_PROJECT_"
    ):
        AzureAIChatCompletionsModel(credential="k")


def test_bad_endpoint_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="not an http"):
        AzureAIChatCompletionsModel(endpoint="ftp://nowhere", credential="k")


def test_missing_credential_names_the_environment_variable(
    fake: FakeEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without azure-identity (a None entry makes the import fail): with it, a missing credential
    # means DefaultAzureCredential(), as in langchain-azure-ai.
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    # A remote endpoint: the local one of the other tests is allowed to go without a key.
    llm = make_llm(fake, credential=None, endpoint=PLACEHOLDER_ENDPOINT)
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_CREDENTIAL"):
        llm.invoke("hi")


def test_unknown_client_kwargs_warn_at_construction(fake: FakeEndpoint) -> None:
    with pytest.warns(UserWarning, match="retry_mode"):
        llm = make_llm(fake, client_kwargs={"retry_mode": "exponential"})
    fake.reply(completion())
    assert llm.invoke("hi").content == "Hello!"


def test_peer_service_argument_is_accepted() -> None:
    llm = AzureAIChatCompletionsModel(
        endpoint=PLACEHOLDER_ENDPOINT, credential="k", service="inference"
    )
    assert llm.model_kwargs == {}
    with pytest.raises(ValueError, match="service"):
        AzureAIChatCompletionsModel(endpoint=PLACEHOLDER_ENDPOINT, credential="k", service="x")


# ---- secrets --------------------------------------------------------------------------------


def test_secrets_never_shown(fake: FakeEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-very-secret-value"
    llm = make_llm(
        fake,
        credential=secret,
        client_kwargs={"headers": {"x-api-key": secret}},
    )
    assert isinstance(llm.credential, SecretStr)
    for text in (
        repr(llm),
        str(llm),
        str(llm.model_dump()),
        llm.model_dump_json(),
        dumps(llm),
        repr(llm.client),
    ):
        assert secret not in text
    assert dumpd(llm)["kwargs"]["credential"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AZURE_INFERENCE_CREDENTIAL"],
    }
    fake.reply(completion())
    with caplog.at_level(logging.DEBUG):
        llm.invoke("hi")
    assert secret not in caplog.text
    assert fake.headers["authorization"] == f"Bearer {secret}"


def test_serialization_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = AzureAIChatCompletionsModel(
        endpoint=PLACEHOLDER_ENDPOINT, credential="k", model="m", temperature=0.1
    )
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", "from-env")
    with pytest.warns(LangChainBetaWarning):
        revived = load(
            dumpd(llm),
            valid_namespaces=["langchain_azureinference"],
            allowed_objects=[AzureAIChatCompletionsModel],
            secrets_from_env=True,
        )
    assert isinstance(revived, AzureAIChatCompletionsModel)
    assert revived.model_name == "m"
    assert revived.temperature == 0.1
    assert revived.credential.get_secret_value() == "from-env"
    assert AzureAIChatCompletionsModel.is_lc_serializable()


# ---- client lifecycle -----------------------------------------------------------------------


def test_client_built_once_and_reused(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    first = llm.client
    fake.reply(completion())
    fake.reply(completion())
    llm.invoke("a")
    llm.invoke("b")
    assert llm.client is first
    assert llm.async_client is llm.async_client


def test_pickle_and_copies_drop_the_client(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    client = llm.client
    for other in (
        pickle.loads(pickle.dumps(llm)),
        copy.copy(llm),
        copy.deepcopy(llm),
        llm.model_copy(),
    ):
        assert other.client is not client
        assert other.model_name == MODEL


def test_model_copy_with_a_new_endpoint_uses_it(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    llm.client  # noqa: B018 - build the original's client
    other = llm.model_copy(update={"endpoint": "https://other.services.ai.azure.com/models"})
    assert other.client.endpoint.base_url == "https://other.services.ai.azure.com/models"
    assert llm.client.endpoint.base_url == fake.endpoint


def test_assigning_a_connection_field_rebuilds_the_client(llm: AzureAIChatCompletionsModel) -> None:
    client = llm.client
    llm.temperature = 0.3
    assert llm.client is client
    llm.api_version = "2025-01-01"
    assert llm.client is not client
    assert llm.client.endpoint.api_version == "2025-01-01"


def test_pickled_model_still_works(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    fake.reply(completion("after pickle"))
    llm.client  # noqa: B018 - a live client, which is not pickled
    revived = pickle.loads(pickle.dumps(llm))
    assert revived.invoke("hi").content == "after pickle"


# ---- invoke ---------------------------------------------------------------------------------


async def test_invoke(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str) -> None:
    fake.reply(completion("Hi there", reasoning_content="I should greet."))
    message = await call_invoke(llm, mode, [SystemMessage("Be kind."), HumanMessage("Hello")])
    assert isinstance(message, AIMessage)
    assert message.content == "Hi there"
    assert message.usage_metadata == {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}
    assert message.additional_kwargs["reasoning_content"] == "I should greet."
    meta = message.response_metadata
    assert meta["model_name"] == MODEL
    assert meta["model_provider"] == "azure_ai"
    assert meta["finish_reason"] == "stop"
    assert meta["id"] == "cmpl-1"
    assert meta["system_fingerprint"] == "fp-1"
    assert fake.body == {
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Hello"},
        ],
        "model": MODEL,
    }
    assert fake.requests[-1].url.path == "/models/chat/completions"
    assert "extra-parameters" not in fake.headers


async def test_constructor_defaults_and_per_call_overrides(fake: FakeEndpoint, mode: str) -> None:
    llm = make_llm(
        fake,
        temperature=0.5,
        top_p=0.9,
        max_tokens=100,
        stop=["END"],
        seed=1,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        reasoning_effort="low",
    )
    fake.reply(completion())
    await call_invoke(llm, mode, "hi")
    assert {k: v for k, v in fake.body.items() if k != "messages"} == {
        "model": MODEL,
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 100,
        "stop": ["END"],
        "seed": 1,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "reasoning_effort": "low",
    }
    fake.reply(completion(model="other-model"))
    message = await call_invoke(
        llm, mode, "hi", temperature=0, top_p=1, max_tokens=5, stop=["STOP"], seed=0,
        presence_penalty=0, frequency_penalty=0, model="other-model",
    )  # fmt: skip
    body = fake.body
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"]) == (
        0,
        1,
        5,
        ["STOP"],
    )
    assert (body["seed"], body["presence_penalty"], body["frequency_penalty"]) == (0, 0, 0)
    assert body["model"] == "other-model"
    assert message.response_metadata["model_name"] == "other-model"


async def test_zero_values_are_sent(fake: FakeEndpoint, mode: str) -> None:
    llm = make_llm(fake, temperature=0, seed=0)
    fake.reply(completion())
    await call_invoke(llm, mode, "hi")
    assert fake.body["temperature"] == 0
    assert fake.body["seed"] == 0


async def test_model_extras_and_model_kwargs(fake: FakeEndpoint, mode: str) -> None:
    llm = make_llm(fake, model_extras={"safe_prompt": True}, model_kwargs={"n": 1, "top_k": 5})
    fake.reply(completion())
    await call_invoke(llm, mode, "hi", model_extras={"guidance": "x"})
    body = fake.body
    assert body["safe_prompt"] is True
    assert body["top_k"] == 5  # not an API parameter: an extra
    assert body["guidance"] == "x"
    assert body["n"] == 1  # an API parameter: sent as one
    assert fake.headers["extra-parameters"] == "pass-through"


async def test_unknown_call_keyword_is_an_error(
    llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"safe_prompt.*model_extras"):
        await call_invoke(llm, mode, "hi", safe_prompt=True)


async def test_extra_that_names_a_standard_parameter_is_an_error(
    llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    with pytest.raises(ConfigurationError, match="temperature"):
        await call_invoke(llm, mode, "hi", model_extras={"temperature": 1})


async def test_batch(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str) -> None:
    fake.reply(completion("one"))
    fake.reply(completion("two"))
    if mode == "sync":
        results = llm.batch(["a", "b"], config={"max_concurrency": 1})
    else:
        results = await llm.abatch(["a", "b"], config={"max_concurrency": 1})
    assert [r.content for r in results] == ["one", "two"]


def test_generate_combines_token_usage(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    fake.reply(completion("one"))
    fake.reply(completion("two"))
    result = llm.generate([[HumanMessage("a")], [HumanMessage("b")]])
    assert result.llm_output is not None
    assert result.llm_output["token_usage"] == {
        "prompt_tokens": 18,
        "completion_tokens": 6,
        "total_tokens": 24,
        "input_tokens": 18,  # the peer's spelling too
        "output_tokens": 6,
    }
    assert result.llm_output["model"] == result.llm_output["model_name"]


def test_ls_params(llm: AzureAIChatCompletionsModel) -> None:
    tuned = llm.model_copy(update={"temperature": 0.2, "max_tokens": 9, "stop": ["x"]})
    assert tuned._get_ls_params() == {
        "ls_provider": "azure_ai",
        "ls_model_name": MODEL,
        "ls_model_type": "chat",
        "ls_temperature": 0.2,
        "ls_max_tokens": 9,
        "ls_stop": ["x"],
    }
    assert tuned._get_ls_params(model="other", temperature=0.7)["ls_model_name"] == "other"
    assert tuned._get_ls_params(temperature=0.7)["ls_temperature"] == 0.7


def _logprob(token: str) -> dict[str, Any]:
    return {"token": token, "logprob": -0.5, "bytes": list(token.encode()), "top_logprobs": []}


async def test_logprobs_in_response_metadata(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    body = completion("Hi")
    body["choices"][0]["logprobs"] = {"content": [_logprob("Hi")]}
    fake.reply(body)
    message = await call_invoke(llm, mode, "hi", logprobs=True, top_logprobs=2)
    assert (fake.body["logprobs"], fake.body["top_logprobs"]) == (True, 2)
    assert message.response_metadata["logprobs"] == {"content": [_logprob("Hi")]}
    streamed = text_chunks("Hel", "lo")
    for part, token in zip(streamed[1:3], ("Hel", "lo"), strict=True):
        part["choices"][0]["logprobs"] = {"content": [_logprob(token)]}
    fake.reply_stream(streamed)
    full = aggregate(await call_stream(llm, mode, "hi", logprobs=True))
    assert full.response_metadata["logprobs"] == {"content": [_logprob("Hel"), _logprob("lo")]}


# ---- streaming ------------------------------------------------------------------------------


class _Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.tokens.append(token)


class _AsyncTokens(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.tokens.append(token)


async def test_stream(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str) -> None:
    fake.reply_stream(text_chunks("Hel", "lo", "!"))
    handler = _Tokens() if mode == "sync" else _AsyncTokens()
    chunks = await call_stream(llm, mode, "hi", config={"callbacks": [handler]})
    assert [c.content for c in chunks] == ["Hel", "lo", "!", ""]
    assert handler.tokens == ["Hel", "lo", "!", ""]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert chunks[-1].chunk_position == "last"
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    full = aggregate(chunks)
    assert full.content == "Hello!"
    assert full.usage_metadata == {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}
    assert full.response_metadata["model_name"] == MODEL
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.response_metadata["model_provider"] == "azure_ai"
    assert full.id == "cmpl-1"  # the answer's id wins over LangChain's run id
    assert fake.body["stream"] is True


async def test_invoke_with_streaming_true_streams(fake: FakeEndpoint, mode: str) -> None:
    llm = make_llm(fake, streaming=True)
    fake.reply_stream(text_chunks("a", "b"))
    handler = _Tokens() if mode == "sync" else _AsyncTokens()
    message = await call_invoke(llm, mode, "hi", config={"callbacks": [handler]})
    assert message.content == "ab"
    assert message.usage_metadata["total_tokens"] == 11
    assert handler.tokens[:2] == ["a", "b"]


async def test_stream_with_cumulative_usage_on_every_chunk(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    # Some gateways repeat running totals on every chunk (seed 002): counted once, the last.
    fake.reply_stream(
        [
            chunk(
                {"role": "assistant", "content": "Hi"},
                usage={"prompt_tokens": 16, "completion_tokens": 1, "total_tokens": 17},
            ),
            chunk(
                {"content": "!"},
                usage={"prompt_tokens": 16, "completion_tokens": 2, "total_tokens": 18},
            ),
            chunk(
                {},
                finish_reason="stop",
                usage={"prompt_tokens": 16, "completion_tokens": 2, "total_tokens": 18},
            ),
        ]
    )
    full = aggregate(await call_stream(llm, mode, "hi"))
    assert full.usage_metadata == {"input_tokens": 16, "output_tokens": 2, "total_tokens": 18}


async def test_stream_usage_option(fake: FakeEndpoint, mode: str) -> None:
    llm = make_llm(fake, stream_usage=True)
    fake.reply_stream(text_chunks("a"))
    await call_stream(llm, mode, "hi")
    assert fake.body["stream_options"] == {"include_usage": True}
    fake.reply_stream(text_chunks("a"))
    await call_stream(llm, mode, "hi", stream_usage=False)
    assert "stream_options" not in fake.body


async def test_stream_tool_calls_aggregate(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply_stream(
        [
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "add", "arguments": ""},
                        }
                    ],
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1, '}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"b": 2}'}}]}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "c2",
                            "type": "function",
                            "function": {"name": "add", "arguments": '{"a": 3, "b": 4}'},
                        }
                    ]
                }
            ),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    chunks = await call_stream(llm.bind_tools([add_tool]), mode, "add")
    assert any(c.tool_call_chunks for c in chunks)
    full = aggregate(chunks)
    assert full.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"},
        {"name": "add", "args": {"a": 3, "b": 4}, "id": "c2", "type": "tool_call"},
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"


async def test_stream_malformed_tool_arguments_become_invalid_calls(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply_stream(
        [
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "function": {"name": "add", "arguments": "not json"},
                        }
                    ]
                }
            ),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    full = aggregate(await call_stream(llm, mode, "add"))
    assert full.tool_calls == []
    assert full.invalid_tool_calls[0]["name"] == "add"


async def test_stream_reasoning_content(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply_stream(
        [
            chunk({"reasoning_content": "Think"}),
            chunk({"reasoning_content": "ing."}),
            chunk({"content": "42"}),
            chunk({}, finish_reason="stop"),
        ]
    )
    full = aggregate(await call_stream(llm, mode, "q"))
    assert full.additional_kwargs["reasoning_content"] == "Thinking."
    assert full.content == "42"


async def test_cut_stream_raises(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    from langchain_core.exceptions import ModelAPIError

    from azureinference import IncompleteStreamError

    fake.reply_stream([chunk({"content": "Hel"})], done=False)
    with pytest.raises(IncompleteStreamError) as info:
        await call_stream(llm, mode, "hi")
    assert isinstance(info.value, ModelAPIError)


# ---- tools ----------------------------------------------------------------------------------


@tool
def add_tool(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class GetWeather(BaseModel):
    """Get the weather in a city."""

    city: str = Field(description="The city")


RAW_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look up a word.",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
    },
}


async def test_bind_tools_sends_every_kind_of_tool(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(
        completion(
            None, tool_calls=[wire_call("add", '{"a": 1, "b": 2}')], finish_reason="tool_calls"
        )
    )
    message = await call_invoke(
        llm.bind_tools([add_tool, multiply, GetWeather, RAW_TOOL]), mode, "1 + 2?"
    )
    names = [t["function"]["name"] for t in fake.body["tools"]]
    assert names == ["add_tool", "multiply", "GetWeather", "lookup"]
    assert all(t["type"] == "function" for t in fake.body["tools"])
    assert "tool_choice" not in fake.body
    assert "parallel_tool_calls" not in fake.body
    assert message.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        (True, "required"),
        ("multiply", {"type": "function", "function": {"name": "multiply"}}),
        (
            {"type": "function", "function": {"name": "multiply"}},
            {"type": "function", "function": {"name": "multiply"}},
        ),
    ],
)
def test_tool_choice(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, choice: Any, wire: Any
) -> None:
    fake.reply(completion())
    llm.bind_tools([add_tool, multiply], tool_choice=choice).invoke("x")
    assert fake.body["tool_choice"] == wire


def test_parallel_tool_calls_sent_when_set(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    fake.reply(completion())
    llm.bind_tools([add_tool], parallel_tool_calls=False).invoke("x")
    assert fake.body["parallel_tool_calls"] is False


def test_strict_tools(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    fake.reply(completion())
    llm.bind_tools([GetWeather], strict=True).invoke("x")
    assert fake.body["tools"][0]["function"]["strict"] is True


def test_tool_choice_naming_an_unbound_tool(llm: AzureAIChatCompletionsModel) -> None:
    with pytest.raises(ValueError, match="names none of the bound tools"):
        llm.bind_tools([add_tool], tool_choice="multiply")


async def test_malformed_tool_arguments_never_raise(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(
        completion(
            None,
            tool_calls=[
                wire_call("add", '{"a": 1, "b": 2}', "c1"),
                wire_call("add", "{not json", "c2"),
            ],
            finish_reason="tool_calls",
        )
    )
    message = await call_invoke(llm.bind_tools([add_tool]), mode, "x")
    assert [c["id"] for c in message.tool_calls] == ["c1"]
    assert message.invalid_tool_calls[0]["id"] == "c2"
    assert message.invalid_tool_calls[0]["args"] == "{not json"


async def test_tool_round_trip_wire_form(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(
        completion(
            None, tool_calls=[wire_call("add_tool", '{"a": 1, "b": 2}')], finish_reason="tool_calls"
        )
    )
    fake.reply(completion("It is 3."))
    bound = llm.bind_tools([add_tool])
    history: list[Any] = [HumanMessage("What is 1 + 2?")]
    ai = await call_invoke(bound, mode, history)
    history.append(ai)
    history.extend(add_tool.invoke(call) for call in ai.tool_calls)
    assert isinstance(history[-1], ToolMessage)
    answer = await call_invoke(bound, mode, history)
    assert answer.content == "It is 3."
    assert fake.body["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "add_tool", "arguments": '{"a": 1, "b": 2}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "3"},
    ]


# ---- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ],
    ids=["openai", "v0", "v1"],
)
def test_image_input(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, block: dict[str, Any]
) -> None:
    fake.reply(completion("A dot."))
    llm.invoke([HumanMessage([{"type": "text", "text": "Describe:"}, block])])
    assert fake.body["messages"][0]["content"] == [
        {"type": "text", "text": "Describe:"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]


def test_image_url_input(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    fake.reply(completion("A cat."))
    llm.invoke([HumanMessage([{"type": "image", "url": "https://example.com/cat.png"}])])
    assert fake.body["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    ]


AUDIO_EXAMPLE = load_json(
    "spec_examples/data-plane/ModelInference/stable/2025-05-01/examples/"
    "GetChatCompletions_AudioModality_Gen.json"
)


async def test_audio_in_and_out_as_the_spec_example(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    spec = AUDIO_EXAMPLE["parameters"]["body"]
    fake.reply(AUDIO_EXAMPLE["responses"]["200"]["body"])
    audio_block = spec["messages"][1]["content"][0]
    history = [
        SystemMessage(spec["messages"][0]["content"]),
        HumanMessage([audio_block]),
        AIMessage("", additional_kwargs={"audio": {"id": "abcdef1234", "data": "...", "x": 1}}),
        HumanMessage([{"type": "audio", "base64": audio_block["input_audio"]["data"]}]),
    ]
    message = await call_invoke(llm, mode, history, modalities=["text", "audio"])
    assert fake.body["messages"] == spec["messages"]  # the spoken answer goes back by its id
    assert fake.body["modalities"] == ["text", "audio"]
    assert message.additional_kwargs["audio"]["transcript"] == "This is a sample transcript"
    assert message.usage_metadata["input_token_details"] == {"audio": 10, "cache_read": 0}
    assert message.usage_metadata["output_token_details"] == {"audio": 5, "reasoning": 0}
    # The answer itself, sent back in the next turn: by its id too.
    assert to_wire_message(message)["audio"] == {"id": "abcdef1234"}


# ---- structured output ----------------------------------------------------------------------


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(description="The setup")
    punchline: str = Field(description="The punchline")


class JokeDict(TypedDict):
    """A joke."""

    setup: str
    punchline: str


JOKE = {"setup": "Why?", "punchline": "Because."}
JOKE_SCHEMA = Joke.model_json_schema()


@pytest.mark.parametrize(
    ("schema", "expected"),
    [(Joke, Joke(**JOKE)), (JokeDict, JOKE), (JOKE_SCHEMA, JOKE)],
    ids=["pydantic", "typeddict", "json schema"],
)
async def test_structured_output_json_schema_is_the_default(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str, schema: Any, expected: Any
) -> None:
    fake.reply(completion(json.dumps(JOKE)))
    result = await call_invoke(llm.with_structured_output(schema), mode, "A joke")
    assert result == expected
    rf = fake.body["response_format"]
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["name"] in ("Joke", "JokeDict")
    assert set(rf["json_schema"]["schema"]["properties"]) == {"setup", "punchline"}
    assert "tools" not in fake.body


async def test_structured_output_function_calling(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(
        completion(
            None, tool_calls=[wire_call("Joke", json.dumps(JOKE))], finish_reason="tool_calls"
        )
    )
    result = await call_invoke(
        llm.with_structured_output(Joke, method="function_calling"), mode, "A joke"
    )
    assert result == Joke(**JOKE)
    assert fake.body["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}
    assert fake.body["tools"][0]["function"]["name"] == "Joke"
    assert "response_format" not in fake.body


async def test_structured_output_json_mode(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(completion(json.dumps(JOKE)))
    result = await call_invoke(
        llm.with_structured_output(Joke, method="json_mode"), mode, "A joke as JSON"
    )
    assert result == Joke(**JOKE)
    assert fake.body["response_format"] == {"type": "json_object"}


async def test_structured_output_include_raw(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(completion(json.dumps(JOKE)))
    out = await call_invoke(llm.with_structured_output(Joke, include_raw=True), mode, "A joke")
    assert out["parsed"] == Joke(**JOKE)
    assert out["parsing_error"] is None
    assert isinstance(out["raw"], AIMessage)
    fake.reply(completion("not json"))
    out = await call_invoke(llm.with_structured_output(Joke, include_raw=True), mode, "A joke")
    assert out["parsed"] is None
    assert out["parsing_error"] is not None
    assert out["raw"].content == "not json"


REFUSAL_422 = {
    "status": 422,
    "code": "parameter_not_supported",
    "detail": {"loc": ["body", "response_format"], "input": "json_schema"},
    "message": "One of the parameters contain invalid values.",
}


async def test_structured_output_falls_back_to_tools_where_json_schema_is_refused(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    structured = llm.with_structured_output(Joke)
    fake.reply(REFUSAL_422, status=422)
    fake.reply(
        completion(
            None, tool_calls=[wire_call("Joke", json.dumps(JOKE))], finish_reason="tool_calls"
        )
    )
    assert await call_invoke(structured, mode, "A joke") == Joke(**JOKE)
    first, second = fake.bodies
    assert first["response_format"]["type"] == "json_schema"
    assert "response_format" not in second
    assert second["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}
    client = llm.client if mode == "sync" else llm.async_client
    assert client.capabilities.json_schema is False
    # Learned: the next call goes straight to the tool.
    fake.reply(
        completion(
            None, tool_calls=[wire_call("Joke", json.dumps(JOKE))], finish_reason="tool_calls"
        )
    )
    assert await call_invoke(structured, mode, "Another") == Joke(**JOKE)
    assert "response_format" not in fake.body
    assert len(fake.requests) == 3


async def test_structured_output_stream_falls_back_too(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    fake.reply(REFUSAL_422, status=422)
    fake.reply_stream(
        [
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "function": {"name": "Joke", "arguments": '{"setup": "Why?", '},
                        }
                    ]
                }
            ),
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "function": {"arguments": '"punchline": "Because."}'}}
                    ]
                }
            ),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    parts = await call_stream(llm.with_structured_output(Joke), mode, "A joke")
    assert parts[-1] == Joke(**JOKE)


async def test_structured_output_stream_json_schema(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    text = json.dumps(JOKE)
    fake.reply_stream(
        [
            chunk({"content": text[:10]}),
            chunk({"content": text[10:]}),
            chunk({}, finish_reason="stop"),
        ]
    )
    parts = await call_stream(llm.with_structured_output(JOKE_SCHEMA), mode, "A joke")
    assert parts[-1] == JOKE


def test_structured_output_other_422_is_raised(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    fake.reply({**REFUSAL_422, "detail": {"loc": ["body", "seed"]}}, status=422)
    with pytest.raises(UnsupportedParameterError, match="seed"):
        llm.with_structured_output(Joke).invoke("x")
    assert len(fake.requests) == 1


def test_structured_output_pydantic_v1(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    from pydantic.v1 import BaseModel as BaseModelV1

    class JokeV1(BaseModelV1):
        """A joke."""

        setup: str
        punchline: str

    fake.reply(completion(json.dumps(JOKE)))
    result = llm.with_structured_output(JokeV1).invoke("x")
    assert isinstance(result, JokeV1)
    assert result.punchline == "Because."


def test_structured_output_arguments(llm: AzureAIChatCompletionsModel) -> None:
    with pytest.raises(ValueError, match="Unknown method"):
        llm.with_structured_output(Joke, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strict"):
        llm.with_structured_output(Joke, method="json_mode", strict=True)
    with pytest.raises(ValueError, match="needs a schema"):
        llm.with_structured_output(None)


def test_json_mode_through_bind(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    fake.reply(completion('{"a": 1}'))
    llm.bind(response_format={"type": "json_object"}).invoke("JSON please")
    assert fake.body["response_format"] == {"type": "json_object"}


def test_response_format_class_through_bind_is_parsed(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    fake.reply(completion(json.dumps(JOKE)))
    message = llm.bind(response_format=Joke).invoke("A joke")
    assert fake.body["response_format"]["json_schema"]["name"] == "Joke"
    assert message.additional_kwargs["parsed"] == Joke(**JOKE)


def test_create_agent_response_format(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    # langchain.agents.create_agent's ProviderStrategy binds tools and an OpenAI-style dict.
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "Joke", "schema": JOKE_SCHEMA, "strict": True},
    }
    fake.reply(completion(json.dumps(JOKE)))
    message = llm.bind_tools([add_tool], response_format=response_format).invoke("A joke")
    assert fake.body["response_format"] == response_format
    assert json.loads(message.text) == JOKE


# ---- errors on the way ------------------------------------------------------------------------


async def test_unsupported_parameter_names_it(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel, mode: str
) -> None:
    from langchain_core.exceptions import ModelInvalidRequestError

    fake.reply({**REFUSAL_422, "detail": {"loc": ["body", "seed"], "input": 1}}, status=422)
    with pytest.raises(ModelInvalidRequestError) as info:
        await call_invoke(llm, mode, "hi", seed=1)
    err = info.value
    assert isinstance(err, UnsupportedParameterError)
    assert err.param == "seed"
    assert err.status_code == 422
    assert "seed" in str(err)
    assert "422" in str(err)


def test_requests_carry_the_credential_and_the_path(
    fake: FakeEndpoint, llm: AzureAIChatCompletionsModel
) -> None:
    fake.reply(completion())
    llm.invoke("hi")
    request = fake.requests[-1]
    assert request.headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"
    assert request.url.params["api-version"]
    assert request.headers["user-agent"].startswith("langchain-azureinference/")


def test_close_and_aclose(fake: FakeEndpoint, llm: AzureAIChatCompletionsModel) -> None:
    """close() and aclose() close the connections the model opened: the server sees them go."""
    import asyncio

    llm.invoke("hi")
    (sync_connection,) = fake.server.connections()
    llm.close()
    assert fake.server.wait_closed({sync_connection})

    async def use_and_close() -> None:
        await llm.ainvoke("hi")
        opened = fake.server.connections() - {sync_connection}
        assert len(opened) == 1
        await llm.aclose()
        # Waited for inside the loop: its end would close the session's connections anyway.
        assert await asyncio.to_thread(fake.server.wait_closed, opened)

    asyncio.run(use_and_close())


def test_timeout_and_retries_reach_the_core(fake: FakeEndpoint) -> None:
    llm = make_llm(fake, timeout=7, max_retries=4)
    assert llm.client.timeout == 7
    assert llm.client.retry_policy.max_retries == 4
    assert make_llm(fake, request_timeout=3).timeout == 3


def test_retries_on_429(fake: FakeEndpoint) -> None:
    llm = make_llm(fake, max_retries=1)
    fake.reply({"error": {"message": "slow down"}}, status=429, headers={"retry-after-ms": "1"})
    fake.reply(completion("finally"))
    assert llm.invoke("hi").content == "finally"
    assert len(fake.requests) == 2


def test_transport_error_maps(fake: FakeEndpoint) -> None:
    from langchain_core.exceptions import ModelConnectionError

    from azureinference import APIConnectionError

    llm = make_llm(fake, endpoint=unused_local_url())
    with pytest.raises(APIConnectionError) as info:
        llm.invoke("hi")
    assert isinstance(info.value, ModelConnectionError)


def test_core_call_options_through_model_kwargs(fake: FakeEndpoint) -> None:
    llm = make_llm(
        fake,
        model_kwargs={"extra_parameters": "drop", "headers": {"x-trace": "1"}},
        model_extras={"safe_prompt": True},
    )
    fake.reply(completion())
    llm.invoke("hi")
    assert fake.headers["extra-parameters"] == "drop"
    assert fake.headers["x-trace"] == "1"
    assert "extra_parameters" not in fake.body
    assert "headers" not in fake.body
