"""Constructor arguments: the peers' and ChatOpenAI's habits, the same in both adapters.

Issue 15, items 3 (azure-core ``client_kwargs``) and 4 (unknown keywords, ``extra_body``,
``default_headers``, ``default_query``, the environment spellings), against the emulator.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from azureinference import ConfigurationError, ServerError
from azureinference.emulator import Emulator, Fault
from langchain_azureinference import AzureAIChatCompletionsModel as LCChat
from langchain_azureinference import AzureAIEmbeddingsModel as LCEmbeddings
from llamaindex_azureinference import AzureAICompletionsModel as LIChat
from llamaindex_azureinference import AzureAIEmbeddingsModel as LIEmbeddings

CHAT_CLASSES = {"langchain": LCChat, "llamaindex": LIChat}


def _chat(kind: str, emu: Emulator, **kwargs: Any) -> Any:
    model = "model" if kind == "langchain" else "model_name"
    options = {"endpoint": emu.endpoint, "credential": emu.key, model: "emulator-chat", **kwargs}
    return CHAT_CLASSES[kind](**options)


def _call(kind: str, llm: Any) -> str:
    if kind == "langchain":
        return str(llm.invoke("hi").content)
    return str(llm.complete("hi").text)


# ---- item 3: azure-core options in client_kwargs --------------------------------------------


@pytest.mark.parametrize("kind", ["langchain", "llamaindex"])
def test_retry_total_zero_sends_exactly_one_request(
    azure_inference_emulator: Emulator, kind: str
) -> None:
    emu = azure_inference_emulator
    llm = _chat(kind, emu, client_kwargs={"retry_total": 0})
    assert llm.max_retries == 0
    emu.inject(Fault.server_error(503, times=3))
    with pytest.raises(ServerError):
        _call(kind, llm)
    assert len(emu.requests) == 1


@pytest.mark.parametrize("kind", ["langchain", "llamaindex"])
def test_an_explicit_max_retries_wins_over_retry_total(
    azure_inference_emulator: Emulator, kind: str
) -> None:
    llm = _chat(kind, azure_inference_emulator, max_retries=1, client_kwargs={"retry_total": 0})
    assert llm.max_retries == 1


@pytest.mark.parametrize("kind", ["langchain", "llamaindex"])
def test_azure_core_timeouts_set_the_timeout(azure_inference_emulator: Emulator, kind: str) -> None:
    llm = _chat(kind, azure_inference_emulator, client_kwargs={"connection_timeout": 7})
    assert llm.timeout == 7
    llm = _chat(
        kind, azure_inference_emulator, client_kwargs={"connection_timeout": 7, "read_timeout": 9}
    )
    assert llm.timeout == 9


@pytest.mark.parametrize("kind", ["langchain", "llamaindex"])
def test_options_without_a_meaning_here_warn_and_are_ignored(
    azure_inference_emulator: Emulator, kind: str
) -> None:
    with pytest.warns(UserWarning, match=r"retry_mode.*ignored") as record:
        llm = _chat(kind, azure_inference_emulator, client_kwargs={"retry_mode": "exponential"})
    assert len(record) == 1
    assert _call(kind, llm) == "You said: hi"


@pytest.mark.parametrize("kind", ["langchain", "llamaindex"])
def test_core_options_in_client_kwargs_are_used(
    azure_inference_emulator: Emulator, kind: str
) -> None:
    emu = azure_inference_emulator
    llm = _chat(kind, emu, client_kwargs={"headers": {"x-team": "a"}, "user_agent": "my-app"})
    _call(kind, llm)
    headers = emu.requests[-1].headers
    assert headers["x-team"] == "a"
    assert headers["user-agent"].startswith("my-app")


# ---- item 4: unknown keywords --------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "model_arg"),
    [(LCChat, "model"), (LIChat, "model_name"), (LCEmbeddings, "model"), (LIEmbeddings, None)],
    ids=["langchain-chat", "llamaindex-chat", "langchain-embeddings", "llamaindex-embeddings"],
)
def test_a_near_miss_is_an_error_naming_the_argument_meant(
    azure_inference_emulator: Emulator, cls: Any, model_arg: str | None
) -> None:
    emu = azure_inference_emulator
    typo, meant = (
        ("temprature", "temperature")
        if cls in CHAT_CLASSES.values()
        else (
            "dimensons",
            "dimensions",
        )
    )
    # LlamaIndex raises the ConfigurationError itself, LangChain (pydantic) a ValidationError
    # with its text: both are ValueErrors.
    with pytest.raises(ValueError, match=rf"'{typo}' \(did you mean '{meant}'\?\)"):
        cls(endpoint=emu.endpoint, credential=emu.key, **{typo: 1})
    assert not emu.requests


def test_langchain_moves_other_keywords_to_model_kwargs_as_chatopenai_does(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    with pytest.warns(UserWarning, match=r"'top_k'.*pass-through"):
        llm = _chat("langchain", emu, top_k=40)
    assert llm.model_kwargs == {"top_k": 40}
    llm.invoke("hi")
    assert emu.requests[-1].json["top_k"] == 40
    assert emu.requests[-1].headers["extra-parameters"] == "pass-through"


def test_llamaindex_refuses_other_keywords_and_says_where_they_go(
    azure_inference_emulator: Emulator,
) -> None:
    with pytest.raises(ConfigurationError, match=r"'top_k'.*model_kwargs"):
        _chat("llamaindex", azure_inference_emulator, top_k=40)


def test_extra_body_is_sent_in_the_body(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = _chat("langchain", emu, extra_body={"safe_prompt": True, "seed": 3})
    llm.invoke("hi", extra_body={"top_k": 5})
    body = emu.requests[-1].json
    assert (body["safe_prompt"], body["seed"], body["top_k"]) == (True, 3, 5)
    assert "extra_body" not in body
    assert emu.requests[-1].headers["extra-parameters"] == "pass-through"


def test_default_headers_and_default_query_go_on_every_request(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "moved to model_kwargs" warning for these
        llm = _chat(
            "langchain", emu, default_headers={"x-team": "a"}, default_query={"tenant": "t1"}
        )
        aliased = _chat("langchain", emu, headers={"x-team": "b"})
    llm.invoke("hi")
    request = emu.requests[-1]
    assert request.headers["x-team"] == "a"
    assert request.query["tenant"] == "t1"
    assert "api-version" in request.query  # merged with, not instead of, the endpoint's query
    assert "default_headers" not in request.json
    assert "x-team" not in request.json
    aliased.invoke("hi")
    assert emu.requests[-1].headers["x-team"] == "b"
    assert "headers" not in emu.requests[-1].json
    embeddings = LCEmbeddings(
        endpoint=emu.endpoint,
        credential=emu.key,
        model="emulator-embed",
        default_headers={"x": "e"},
    )
    embeddings.embed_query("hi")
    assert emu.requests[-1].headers["x"] == "e"


@pytest.mark.parametrize("spelling", ["AZURE_INFERENCE", "AZURE_AI_INFERENCE"])
def test_both_environment_spellings_in_both_adapters(
    azure_inference_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    emu = azure_inference_emulator
    monkeypatch.setenv(f"{spelling}_ENDPOINT", emu.endpoint)
    monkeypatch.setenv(f"{spelling}_CREDENTIAL", emu.key)
    assert LCChat(model="emulator-chat").invoke("hi").content == "You said: hi"
    assert LIChat(model_name="emulator-chat").complete("hi").text == "You said: hi"
    assert len(LCEmbeddings(model="emulator-embed").embed_query("hi")) == 1024
    assert len(LIEmbeddings(model_name="emulator-embed").get_query_embedding("hi")) == 1024


def test_our_spelling_wins_over_the_peers(
    azure_inference_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = azure_inference_emulator
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_AI_INFERENCE_ENDPOINT", "https://other.services.ai.azure.com/models")
    assert LIChat(credential=emu.key).endpoint == emu.endpoint
    assert LCChat(credential=emu.key).endpoint == emu.endpoint


@pytest.mark.parametrize("kind", ["langchain", "llamaindex"])
def test_client_kwargs_that_are_not_a_dict_are_named(
    azure_inference_emulator: Emulator, kind: str
) -> None:
    with pytest.raises(ValueError, match="client_kwargs must be a dict"):
        _chat(kind, azure_inference_emulator, client_kwargs=["retry_total"])
