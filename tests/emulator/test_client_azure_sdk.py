"""The ``azure-ai-inference`` SDK against the emulator's Model Inference routes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from azureinference.emulator import Emulator, Fault, running_emulator

inference = pytest.importorskip("azure.ai.inference")
models = pytest.importorskip("azure.ai.inference.models")
credentials = pytest.importorskip("azure.core.credentials")
exceptions = pytest.importorskip("azure.core.exceptions")

WEATHER = models.ChatCompletionsToolDefinition(
    function=models.FunctionDefinition(
        name="get_weather",
        description="Get the current weather in a given city",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


def chat_client(emu: Emulator, key: str | None = None, **kwargs: Any) -> Any:
    credential = credentials.AzureKeyCredential(key or emu.key)
    kwargs.setdefault("model", "emulator-chat")
    return inference.ChatCompletionsClient(endpoint=emu.endpoint, credential=credential, **kwargs)


@pytest.fixture
def chat(emu: Emulator) -> Iterator[Any]:
    emu.reset()
    with chat_client(emu) as client:
        yield client


def test_complete_and_stream(chat: Any) -> None:
    answer = chat.complete(messages=[models.UserMessage("Hi")])
    assert answer.choices[0].message.content == "You said: Hi"
    assert answer.id != chat.complete(messages=[models.UserMessage("Hi")]).id
    updates = list(chat.complete(messages=[models.UserMessage("count to 4")], stream=True))
    text = "".join(u.choices[0].delta.content or "" for u in updates if u.choices)
    assert text == "1 2 3 4"
    assert updates[-1].usage.completion_tokens == 4


def test_tool_round_trip(chat: Any) -> None:
    messages: list[Any] = [models.UserMessage("Weather in Paris?")]
    first = chat.complete(messages=messages, tools=[WEATHER])
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        models.AssistantMessage(tool_calls=[call]),
        models.ToolMessage("sunny", tool_call_id=call.id),
    ]
    second = chat.complete(messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "The tool returned: sunny"


def test_structured_output_and_json_mode(chat: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    answer = chat.complete(
        messages=[models.UserMessage("Ada Lovelace was 36.")],
        response_format=models.JsonSchemaFormat(name="Person", schema=schema, strict=True),
    )
    assert json.loads(answer.choices[0].message.content) == {"name": "Ada Lovelace", "age": 36}
    joke = chat.complete(
        messages=[models.UserMessage("A joke as JSON with the keys 'setup' and 'punchline'.")],
        response_format="json_object",
    )
    assert set(json.loads(joke.choices[0].message.content)) == {"setup", "punchline"}


def test_embeddings_and_model_info_per_model(emu: Emulator) -> None:
    credential = credentials.AzureKeyCredential(emu.key)
    with inference.EmbeddingsClient(
        endpoint=emu.serverless_endpoint("emulator-embed"), credential=credential
    ) as embed:
        info = embed.get_model_info()
        assert (info.model_name, info.model_type) == ("emulator-embed", "embeddings")
        floats = embed.embed(input=["a cat"], dimensions=64)
        assert len(floats.data[0].embedding) == 64
        encoded = embed.embed(
            input=["a cat"], dimensions=64, encoding_format=models.EmbeddingEncodingFormat.BASE64
        )
        assert isinstance(encoded.data[0].embedding, str)
    with chat_client(emu) as chat:
        assert chat.get_model_info().model_type == "chat-completion"


def test_errors_are_the_sdks_classes_with_the_services_message(emu: Emulator, chat: Any) -> None:
    with pytest.raises(exceptions.HttpResponseError) as bad:
        chat.complete(messages=[models.UserMessage("Hi")], temperature=5)
    assert bad.value.status_code == 422
    assert bad.value.error.code == "invalid_value"
    assert "temperature must be a number between 0 and 2" in bad.value.message
    assert bad.value.response.json()["detail"]["loc"] == ["body", "temperature"]
    with pytest.raises(exceptions.HttpResponseError) as unsupported:
        chat.complete(messages=[models.UserMessage("Hi")], model="emulator-limited", seed=1)
    assert unsupported.value.error.code == "parameter_not_supported"
    assert unsupported.value.response.json()["detail"]["loc"] == ["body", "seed"]
    with (
        chat_client(emu, key="wrong") as wrong,
        pytest.raises(exceptions.ClientAuthenticationError) as denied,
    ):
        wrong.complete(messages=[models.UserMessage("Hi")])
    assert denied.value.status_code == 401
    emu.inject(Fault.rate_limit(retry_after=0.01, times=10))
    with (
        chat_client(emu, retry_total=0) as limited,
        pytest.raises(exceptions.HttpResponseError) as throttled,
    ):
        limited.complete(messages=[models.UserMessage("Hi")])
    assert throttled.value.status_code == 429
