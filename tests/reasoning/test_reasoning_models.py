"""Reasoning models through every layer, sync and async, streamed and not (issue 19).

Against a local server answering as Azure OpenAI answers a gpt-5-mini deployment (the recorded
400s), as LiteLLM answers a model it does not know (a 400 naming no parameter), and with a
Qwen3-style ``<think>`` block cut inside the stream's pieces.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, TextBlock, ThinkingBlock

from azureinference import AsyncClient, BadRequestError, Client
from langchain_azureinference import AzureAIChatCompletionsModel
from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

from .gpt5_server import KEY, SERVED, State, serving

LAYERS = ("core", "langchain", "llamaindex")
# One TLS context for all clients (each would load the system's certificates otherwise).
_HTTPX = {"verify": ssl.create_default_context()}
WAYS = [
    pytest.param(
        layer,
        sync,
        stream,
        id=f"{layer}-{'sync' if sync else 'async'}-{'stream' if stream else 'once'}",
    )
    for layer in LAYERS
    for sync in (True, False)
    for stream in (False, True)
]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, State]]:
    with serving() as served:
        yield served


@pytest.fixture
def gpt5(server: tuple[str, State]) -> tuple[str, State]:
    url, state = server
    state.requests.clear()
    state.mode = "gpt5"
    return url + "/openai/v1", state


class Layer:
    """One model object of a layer, asked the same question in one of the eight ways."""

    def __init__(self, layer: str, endpoint: str, model: str, **settings: Any) -> None:
        self.layer = layer
        options: dict[str, Any] = {"max_retries": 0}
        if layer == "core":
            self.settings = settings
            self.sync = Client(endpoint, KEY, model=model, httpx_kwargs=_HTTPX, **options)
            self.async_ = AsyncClient(endpoint, KEY, model=model, httpx_kwargs=_HTTPX, **options)
            return
        options["client_kwargs"] = {"httpx_kwargs": _HTTPX}
        if layer == "langchain":
            self.llm = AzureAIChatCompletionsModel(
                endpoint=endpoint, credential=KEY, model=model, **options, **settings
            )
        else:
            self.li = AzureAICompletionsModel(
                endpoint=endpoint, credential=KEY, model_name=model, **options, **settings
            )

    def ask(self, sync: bool, stream: bool) -> tuple[str, str | None]:
        """(text, reasoning) of one answer to "2 + 2?"."""
        return asyncio.run(self._ask(sync, stream))

    async def _ask(self, sync: bool, stream: bool) -> tuple[str, str | None]:
        messages = [{"role": "user", "content": "2 + 2?"}]
        if self.layer == "core":
            if stream:
                if sync:
                    with self.sync.stream(messages, **self.settings) as s:
                        for _ in s:
                            pass
                else:
                    a = await self.async_.stream(messages, **self.settings)
                    async with a:
                        async for _ in a:
                            pass
                    s = a  # type: ignore[assignment]
                message = s.state.final().choices[0].message  # type: ignore[index]
            else:
                call = (
                    self.sync.complete(messages, **self.settings)
                    if sync
                    else await self.async_.complete(messages, **self.settings)
                )
                message = call.choices[0].message  # type: ignore[index]
            return message.text or "", message.reasoning_text
        if self.layer == "langchain":
            if stream:
                chunks = (
                    list(self.llm.stream("2 + 2?"))
                    if sync
                    else [c async for c in self.llm.astream("2 + 2?")]
                )
                out = sum(chunks[1:], chunks[0])
            else:
                out = self.llm.invoke("2 + 2?") if sync else await self.llm.ainvoke("2 + 2?")
            return str(out.content), out.additional_kwargs.get("reasoning_content")
        li_messages = [ChatMessage(role="user", content="2 + 2?")]
        if stream:
            responses = (
                list(self.li.stream_chat(li_messages))
                if sync
                else [r async for r in await self.li.astream_chat(li_messages)]
            )
            assert "".join(r.delta or "" for r in responses) == responses[-1].message.content
            response = responses[-1]
        else:
            response = self.li.chat(li_messages) if sync else await self.li.achat(li_messages)
        blocks = response.message.blocks
        thinking = [b.content for b in blocks if isinstance(b, ThinkingBlock)]
        assert all(isinstance(b, (ThinkingBlock, TextBlock)) for b in blocks)
        assert [type(b) for b in blocks] == sorted(
            (type(b) for b in blocks), key=lambda t: t is TextBlock
        )
        return "".join(b.text for b in blocks if isinstance(b, TextBlock)), "".join(
            thinking
        ) or None


@pytest.mark.parametrize(("layer", "sync", "stream"), WAYS)
def test_a_deployment_of_unknown_name_learns_max_completion_tokens_in_one_request(
    gpt5: tuple[str, State], layer: str, sync: bool, stream: bool
) -> None:
    endpoint, state = gpt5
    model = Layer(layer, endpoint, "my-reasoner", max_tokens=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # renaming max_tokens is no loss: no warning
        assert model.ask(sync, stream) == ("4", None)
    sent = state.bodies()
    assert len(sent) == 2  # the recorded 400, then the resend
    assert sent[0]["max_tokens"] == 100
    assert "max_tokens" not in sent[1]
    assert sent[1]["max_completion_tokens"] == 100
    state.requests.clear()
    assert model.ask(sync, stream) == ("4", None)
    assert len(state.bodies()) == 1  # learned: no extra request any more
    assert state.bodies()[0]["max_completion_tokens"] == 100


@pytest.mark.parametrize(("layer", "sync", "stream"), WAYS)
def test_an_explicit_temperature_is_dropped_with_one_warning(
    gpt5: tuple[str, State], layer: str, sync: bool, stream: bool
) -> None:
    endpoint, state = gpt5
    model = Layer(layer, endpoint, "my-reasoner", temperature=0, max_tokens=50)
    with pytest.warns(UserWarning, match=r"temperature=0(\.0)? was not sent to my-reasoner") as got:
        assert model.ask(sync, stream) == ("4", None)
    assert len(got) == 1
    assert "Only the default (1) value is supported." in str(got[0].message)  # the service's
    assert len(state.bodies()) == 3  # max_tokens refused, temperature refused, answered
    state.requests.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.ask(sync, stream) == ("4", None)
    (sent,) = state.bodies()
    assert "temperature" not in sent
    assert sent["max_completion_tokens"] == 50


@pytest.mark.parametrize("layer", LAYERS)
def test_a_known_model_is_right_from_the_first_request(gpt5: tuple[str, State], layer: str) -> None:
    endpoint, state = gpt5
    model = Layer(layer, endpoint, "gpt-5-mini", max_tokens=100, temperature=0.2, top_p=1)
    with pytest.warns(
        UserWarning,
        match=r"temperature=0.2 was not sent to gpt-5-mini: .*take only the default temperature",
    ):
        assert model.ask(True, False) == ("4", None)
    (sent,) = state.bodies()
    assert sent["max_completion_tokens"] == 100
    assert sent["top_p"] == 1  # the default is taken: sent
    assert "temperature" not in sent
    assert "max_tokens" not in sent


def test_the_model_the_first_answer_named_is_recognised(gpt5: tuple[str, State]) -> None:
    endpoint, state = gpt5
    with Client(endpoint, KEY, model="my-reasoner", max_retries=0) as client:
        client.complete([{"role": "user", "content": "Hi"}], max_completion_tokens=10)
        assert client.capabilities.served == {"my-reasoner": SERVED}
        state.requests.clear()
        with pytest.warns(UserWarning, match="top_p=0.5 was not sent"):
            client.complete([{"role": "user", "content": "Hi"}], top_p=0.5, max_tokens=9)
    (sent,) = state.bodies()  # known as a gpt-5 from its answer: no refusal needed
    assert sent == {
        "messages": [{"role": "user", "content": "Hi"}],
        "model": "my-reasoner",
        "max_completion_tokens": 9,
    }


def test_reasoning_effort_none_keeps_temperature(gpt5: tuple[str, State]) -> None:
    endpoint, state = gpt5
    state.mode = "think"  # answers anything
    with Client(endpoint, KEY, model="gpt-5.2", max_retries=0) as client:
        client.complete(
            [{"role": "user", "content": "Hi"}], temperature=0.3, reasoning_effort="none"
        )
    assert state.bodies()[0]["temperature"] == 0.3


@pytest.mark.parametrize("layer", LAYERS)
def test_defaults_send_nothing_a_reasoning_model_refuses(
    gpt5: tuple[str, State], layer: str
) -> None:
    endpoint, state = gpt5
    model = Layer(layer, endpoint, "gpt-5-mini")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for sync in (True, False):
            for stream in (False, True):
                assert model.ask(sync, stream) == ("4", None)
    assert len(state.bodies()) == 4
    for sent in state.bodies():
        assert not {"temperature", "top_p", "max_tokens"} & set(sent)


def test_llamaindex_complete_and_stream_complete_with_defaults(gpt5: tuple[str, State]) -> None:
    endpoint, state = gpt5
    llm = AzureAICompletionsModel(endpoint=endpoint, credential=KEY, model_name="gpt-5-mini")
    assert llm.complete("hi").text == "4"
    assert "".join(r.delta or "" for r in llm.stream_complete("hi")) == "4"
    assert asyncio.run(llm.acomplete("hi")).text == "4"
    assert len(state.bodies()) == 3


# ---- item 6: learn only what the resend proves -------------------------------------------


@pytest.fixture
def litellm(server: tuple[str, State]) -> tuple[str, State]:
    url, state = server
    state.requests.clear()
    state.mode = "litellm"
    return url + "/v1", state


@pytest.mark.parametrize("sync", [True, False])
def test_a_nameless_400_the_resend_does_not_cure_teaches_nothing(
    litellm: tuple[str, State], sync: bool
) -> None:
    endpoint, state = litellm
    messages = [{"role": "user", "content": "Hi"}]

    async def stream_once() -> None:
        if sync:
            with Client(endpoint, KEY, model="my-model", max_retries=0) as client:
                for _ in range(2):
                    with pytest.raises(BadRequestError, match="Invalid model name"):
                        client.stream(messages)
                assert client.capabilities.stream_options is None
        else:
            client = AsyncClient(endpoint, KEY, model="my-model", max_retries=0)
            for _ in range(2):
                with pytest.raises(BadRequestError, match="Invalid model name"):
                    await client.stream(messages)
            assert client.capabilities.stream_options is None
            await client.aclose()

    asyncio.run(stream_once())
    sent = state.bodies()
    # Each call: with stream_options, then once without; the next call asks for usage again.
    assert ["stream_options" in b for b in sent] == [True, False, True, False]


def test_embeddings_keep_base64_after_a_nameless_400(litellm: tuple[str, State]) -> None:
    endpoint, state = litellm
    with Client(endpoint, KEY, model="my-model", max_retries=0) as client:
        for _ in range(2):
            with pytest.raises(BadRequestError, match="Invalid model name"):
                client.embed(["a"])
        assert client.capabilities.base64_embeddings is None
    assert [b.get("encoding_format") for b in state.bodies()] == ["base64", None, "base64", None]


def test_a_nameless_400_the_resend_cures_is_learned(server: tuple[str, State]) -> None:
    url, state = server
    state.requests.clear()
    state.mode = "gpt5"
    with Client(url + "/v1", KEY, model="m", max_retries=0) as client:
        # gpt5 mode refuses max_tokens by name: cured by the resend, learned.
        client.complete([{"role": "user", "content": "Hi"}], max_tokens=5)
        assert client.capabilities.models["m"].completion_tokens
    embedder = AzureAIEmbeddingsModel(endpoint=url + "/v1", credential=KEY, model_name="m")
    assert embedder.get_text_embedding("a") == [0.5, 0.5]


# ---- <think> in the text, cut inside the stream's pieces -----------------------------------


@pytest.fixture
def think(server: tuple[str, State]) -> tuple[str, State]:
    url, state = server
    state.requests.clear()
    state.mode = "think"
    return url + "/v1", state


@pytest.mark.parametrize(("layer", "sync", "stream"), WAYS)
def test_think_is_separated_in_every_layer(
    think: tuple[str, State], layer: str, sync: bool, stream: bool
) -> None:
    endpoint, _ = think
    model = Layer(layer, endpoint, "qwen3-32b")
    assert model.ask(sync, stream) == ("It is 4.", "I add 2 and 2.")


@pytest.mark.parametrize("layer", LAYERS)
def test_keep_think_tags_keeps_the_text_as_sent(think: tuple[str, State], layer: str) -> None:
    endpoint, _ = think
    settings = {"keep_think_tags": True}
    model = Layer(layer, endpoint, "qwen3-32b", **settings)
    sent_as = "<think>\nI add 2 and 2.</think>\n\nIt is 4."
    assert model.ask(True, False) == (sent_as, None)
    assert model.ask(False, True) == (sent_as, None)


def test_langchain_reasoning_block_and_token_details(think: tuple[str, State]) -> None:
    endpoint, _ = think
    llm = AzureAIChatCompletionsModel(endpoint=endpoint, credential=KEY, model="qwen3-32b")
    message = llm.invoke("2 + 2?")
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "I add 2 and 2."},
        {"type": "text", "text": "It is 4."},
    ]
    assert message.usage_metadata == {
        "input_tokens": 8,
        "output_tokens": 30,
        "total_tokens": 38,
        "input_token_details": {"audio": 0, "cache_read": 4},
        "output_token_details": {"audio": 0, "reasoning": 20},
    }
    chunks = list(llm.stream("2 + 2?"))
    assert sum(chunks[1:], chunks[0]).usage_metadata == message.usage_metadata


def test_llamaindex_token_details(think: tuple[str, State]) -> None:
    endpoint, _ = think
    llm = AzureAICompletionsModel(endpoint=endpoint, credential=KEY, model_name="qwen3-32b")
    for extra in (
        llm.chat([ChatMessage(role="user", content="Hi")]).additional_kwargs,
        list(llm.stream_chat([ChatMessage(role="user", content="Hi")]))[-1].additional_kwargs,
    ):
        assert extra == {
            "prompt_tokens": 8,
            "completion_tokens": 30,
            "total_tokens": 38,
            "cached_tokens": 4,
            "prompt_audio_tokens": 0,
            "reasoning_tokens": 20,
            "completion_audio_tokens": 0,
            **({"finish_reason": "stop"} if "finish_reason" in extra else {}),
        }
