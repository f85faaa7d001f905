"""``langchain-openai`` (and our LangChain class) against the emulator.

Offline: ``OpenAIEmbeddings`` tokenizes with tiktoken by default, which downloads its encoding;
the test hands it a byte-level tiktoken ``Encoding`` built in `clients_support` instead, and
points ``TIKTOKEN_CACHE_DIR`` at an empty directory so no cached download is ever read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from azureinference.emulator import Emulator, running_emulator

from .clients_support import CHAT, EMBED, JOKE_PROMPT, byte_encoding, clients_config

langchain_openai = pytest.importorskip("langchain_openai")
openai = pytest.importorskip("openai")
messages = pytest.importorskip("langchain_core.messages")
tools = pytest.importorskip("langchain_core.tools")
parsers = pytest.importorskip("langchain_core.output_parsers")


class Person(BaseModel):
    """A person."""

    name: str
    age: int


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


@tools.tool
def get_weather(city: str) -> str:
    """Get the current weather in a given city."""
    return f"sunny in {city}"


@pytest.fixture(autouse=True)
def _no_tiktoken_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(clients_config()) as emulator:
        yield emulator


@pytest.fixture
def llm(emu: Emulator) -> Any:
    emu.reset()
    return langchain_openai.ChatOpenAI(
        model=CHAT, base_url=emu.openai_base_url, api_key=emu.key, max_retries=0
    )


@pytest.fixture
def ours(emu: Emulator) -> Any:
    from langchain_azureinference import AzureAIChatCompletionsModel

    emu.reset()
    return AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-chat", max_retries=0
    )


def test_invoke_and_stream_with_usage(llm: Any) -> None:
    assert llm.invoke("Hi").content == "You said: Hi"
    chunks = list(llm.stream("count to 3", stream_usage=True))
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert full.content == "1 2 3"
    assert full.usage_metadata["output_tokens"] == 3


@pytest.mark.parametrize("model", ["llm", "ours"])
def test_readme_bind_tools_calls_the_tool_and_round_trips(
    request: pytest.FixtureRequest, model: str
) -> None:
    chat = request.getfixturevalue(model).bind_tools([get_weather])
    asked = messages.HumanMessage("Weather in Paris?")
    call = chat.invoke([asked])
    assert [(c["name"], c["args"]) for c in call.tool_calls] == [("get_weather", {"city": "Paris"})]
    result = get_weather.invoke(call.tool_calls[0])
    answer = chat.invoke([asked, call, result])
    assert answer.content == "The tool returned: sunny in Paris"


@pytest.mark.parametrize("model", ["llm", "ours"])
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_with_structured_output(request: pytest.FixtureRequest, model: str, method: str) -> None:
    chat = request.getfixturevalue(model)
    structured = chat.with_structured_output(Person, method=method)
    assert structured.invoke("Ada Lovelace was 36.") == Person(name="Ada Lovelace", age=36)
    raw = chat.with_structured_output(Person, method=method, include_raw=True)
    assert raw.invoke("Ada Lovelace was 36.")["parsing_error"] is None


@pytest.mark.parametrize("model", ["llm", "ours"])
def test_with_structured_output_json_mode(request: pytest.FixtureRequest, model: str) -> None:
    chat = request.getfixturevalue(model)
    joke = chat.with_structured_output(Joke, method="json_mode").invoke(JOKE_PROMPT)
    assert isinstance(joke, Joke)
    as_dict = chat.with_structured_output(method="json_mode").invoke(JOKE_PROMPT)
    assert set(as_dict) == {"setup", "punchline"}
    streamed = list(chat.with_structured_output(Joke, method="json_mode").stream(JOKE_PROMPT))
    assert isinstance(streamed[-1], Joke)


def test_format_instructions_in_the_prompt_get_an_instance(llm: Any) -> None:
    parser = parsers.PydanticOutputParser(pydantic_object=Person)
    prompt = "Ada Lovelace was 36.\n" + parser.get_format_instructions()
    assert (llm | parser).invoke(prompt) == Person(name="Ada Lovelace", age=36)
    json_mode = llm.bind(response_format={"type": "json_object"})
    assert (json_mode | parser).invoke(prompt) == Person(name="Ada Lovelace", age=36)


def test_embeddings_token_arrays_by_default(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken

    encoding = byte_encoding()
    monkeypatch.setattr(tiktoken, "encoding_for_model", lambda _name: encoding)
    embeddings = langchain_openai.OpenAIEmbeddings(
        model=EMBED, base_url=emu.openai_base_url, api_key=emu.key, max_retries=0
    )
    vectors = embeddings.embed_documents(["a cat", "a dog"])
    assert [len(v) for v in vectors] == [1536, 1536]
    sent = emu.requests[-1].json["input"]
    assert sent == [list(b"a cat"), list(b"a dog")]  # token arrays, as langchain-openai sends
    assert embeddings.embed_query("a cat") == vectors[0]


def test_embeddings_text_and_dimensions(emu: Emulator) -> None:
    embeddings = langchain_openai.OpenAIEmbeddings(
        model=EMBED,
        base_url=emu.openai_base_url,
        api_key=emu.key,
        check_embedding_ctx_length=False,
        dimensions=256,
    )
    vectors = embeddings.embed_documents(["a cat", "a dog"])
    assert [len(v) for v in vectors] == [256, 256]
    assert emu.requests[-1].json["input"] == ["a cat", "a dog"]


def test_errors_are_openais_classes_with_message_and_parameter(llm: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        llm.bind(temperature=5).invoke("Hi")
    assert caught.value.param == "temperature"
    assert "temperature must be a number" in caught.value.message
    assert json.loads(caught.value.response.text)["error"]["type"] == "invalid_request_error"


def test_azure_chat_openai_on_the_deployment_route(emu: Emulator) -> None:
    emu.reset()
    azure = langchain_openai.AzureChatOpenAI(
        azure_endpoint=emu.url,
        api_key=emu.key,
        api_version="2024-10-21",
        azure_deployment=CHAT,
        max_retries=0,
    )
    assert azure.invoke("Hi").content == "You said: Hi"
    assert emu.requests[-1].path == f"/openai/deployments/{CHAT}/chat/completions"
    person = azure.with_structured_output(Person).invoke("Ada Lovelace was 36.")
    assert person == Person(name="Ada Lovelace", age=36)
    embeddings = langchain_openai.AzureOpenAIEmbeddings(
        azure_endpoint=emu.url,
        api_key=emu.key,
        api_version="2024-10-21",
        azure_deployment=EMBED,
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    assert len(embeddings.embed_query("a cat")) == 1536
