"""LlamaIndex's ``OpenAI``, ``OpenAILike`` and ``OpenAIEmbedding`` against the emulator.

Offline: ``OpenAILike`` counts prompt tokens with the tokenizer it is given (a byte-level tiktoken
``Encoding`` built by the test), never a downloaded one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from azureinference.emulator import Emulator, running_emulator

from .clients_support import CHAT, EMBED, JOKE_PROMPT, byte_encoding, clients_config

llms_openai = pytest.importorskip("llama_index.llms.openai")
openai_like = pytest.importorskip("llama_index.llms.openai_like")
embeddings_openai = pytest.importorskip("llama_index.embeddings.openai")
core_llms = pytest.importorskip("llama_index.core.llms")
core_tools = pytest.importorskip("llama_index.core.tools")
core_prompts = pytest.importorskip("llama_index.core.prompts")
core_types = pytest.importorskip("llama_index.core.types")
openai = pytest.importorskip("openai")


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def get_weather(city: str) -> str:
    """Get the current weather in a given city."""
    return f"sunny in {city}"


@pytest.fixture(autouse=True)
def _no_tiktoken_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))


# One http client for the module's LlamaIndex objects, closed with the module: the ones they make
# are never closed, and their sockets, collected during some later test, fail it with a
# ResourceWarning.
_HTTP: list[httpx.Client] = []


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(clients_config()) as emulator, httpx.Client() as http:
        _HTTP[:] = [http]
        yield emulator
        _HTTP.clear()


def make_llm(emu: Emulator, model: str = CHAT, **kwargs: Any) -> Any:
    emu.reset()
    kwargs.setdefault("http_client", _HTTP[0])
    return llms_openai.OpenAI(
        model=model, api_base=emu.openai_base_url, api_key=emu.key, max_retries=0, **kwargs
    )


def user(text: str) -> Any:
    return core_llms.ChatMessage(role="user", content=text)


def test_chat_complete_and_stream(emu: Emulator) -> None:
    llm = make_llm(emu)
    assert llm.complete("Hi").text == "You said: Hi"
    assert llm.chat([user("Hi")]).message.content == "You said: Hi"
    deltas = [r.delta for r in llm.stream_chat([user("count to 3")])]
    assert "".join(d or "" for d in deltas) == "1 2 3"


async def test_async_chat(emu: Emulator) -> None:
    import httpx

    # Our own http client, closed before this test's loop ends (the one the LLM would make is
    # never closed: its socket would outlive the loop).
    async with httpx.AsyncClient() as http:
        llm = make_llm(emu, async_http_client=http)
        assert (await llm.achat([user("Hi")])).message.content == "You said: Hi"


def test_tools_and_a_round_trip(emu: Emulator) -> None:
    llm = make_llm(emu)
    tool = core_tools.FunctionTool.from_defaults(get_weather)
    response = llm.chat_with_tools([tool], user_msg="Weather in Paris?")
    calls = llm.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert str(llm.predict_and_call([tool], "Weather in Paris?")) == "sunny in Paris"


@pytest.mark.parametrize(
    "mode", [core_types.PydanticProgramMode.DEFAULT, core_types.PydanticProgramMode.LLM]
)
def test_structured_predict(emu: Emulator, mode: Any) -> None:
    # DEFAULT calls a function; LLM puts the schema in the prompt and parses the text answer.
    llm = make_llm(emu, pydantic_program_mode=mode)
    prompt = core_prompts.PromptTemplate("{text}")
    person = llm.structured_predict(Person, prompt, text="Ada Lovelace was 36.")
    assert person == Person(name="Ada Lovelace", age=36)


def test_structured_llm(emu: Emulator) -> None:
    structured = make_llm(emu).as_structured_llm(Person)
    assert structured.complete("Ada Lovelace was 36.").raw == Person(name="Ada Lovelace", age=36)


def test_json_mode(emu: Emulator) -> None:
    import json

    llm = make_llm(emu, additional_kwargs={"response_format": {"type": "json_object"}})
    answer = llm.complete(JOKE_PROMPT).text
    assert set(json.loads(answer)) == {"setup", "punchline"}


def test_openai_like_completions_route(emu: Emulator) -> None:
    like = openai_like.OpenAILike(
        model=CHAT,
        api_base=emu.openai_base_url,
        api_key=emu.key,
        is_chat_model=False,
        tokenizer=byte_encoding(),
        max_retries=0,
        http_client=_HTTP[0],
    )
    assert like.complete("Say hi").text == "You said: Say hi"
    assert emu.requests[-1].path == "/v1/completions"
    assert emu.requests[-1].json["max_tokens"] > 0  # counted with the test's tokenizer
    assert "".join(r.delta or "" for r in like.stream_complete("count to 3")) == "1 2 3"


def test_embeddings_with_dimensions(emu: Emulator) -> None:
    embed = embeddings_openai.OpenAIEmbedding(
        model=EMBED,
        api_base=emu.openai_base_url,
        api_key=emu.key,
        dimensions=256,
        max_retries=0,
        http_client=_HTTP[0],
    )
    one = embed.get_text_embedding("a cat")
    assert len(one) == 256
    batch = embed.get_text_embedding_batch(["a cat", "a dog"])
    assert batch[0] == one
    assert len(batch) == 2


def test_errors_are_openais_classes(emu: Emulator) -> None:
    llm = make_llm(emu, additional_kwargs={"top_logprobs": 50, "logprobs": True})
    with pytest.raises(openai.BadRequestError) as caught:
        llm.complete("Hi")
    assert caught.value.param == "top_logprobs"
    assert "top_logprobs must be an integer from 0 to 20" in caught.value.message
    with pytest.raises(openai.NotFoundError) as unknown:
        make_llm(emu, model="gpt-4o").complete("Hi")  # a known name the emulator does not serve
    assert unknown.value.code == "model_not_found"
