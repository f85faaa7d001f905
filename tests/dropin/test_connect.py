"""Connecting as Microsoft's pages show (issue 20): both adapters, sync and async, on the emulator.

Project endpoints with Entra ID, the conflicts named before any I/O, bearer token providers called
per request, ``base_url``/``api_key`` and the ``OPENAI_*`` pair, constructor arguments that must
never reach the body, ``include_response_headers`` and ``logging_enable``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from azureinference.emulator import Emulator, EmulatorTokenCredential
from langchain_azureinference import AzureAIChatCompletionsModel as LCChat
from llamaindex_azureinference import AzureAICompletionsModel as LIChat

MODEL = "emulator-chat"
AI = "https://ai.azure.com"
ENV_VARS = (
    "AZURE_INFERENCE_ENDPOINT",
    "AZURE_AI_INFERENCE_ENDPOINT",
    "AZURE_AI_PROJECT_ENDPOINT",
    "AZURE_INFERENCE_CREDENTIAL",
    "AZURE_AI_INFERENCE_CREDENTIAL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def entra(azure_inference_emulator: Emulator) -> Iterator[Emulator]:
    azure_inference_emulator.config.entra_audience = AI
    try:
        yield azure_inference_emulator
    finally:
        azure_inference_emulator.config.entra_audience = None


KINDS = ["langchain", "llamaindex"]
_BUILT: list[Any] = []


@pytest.fixture(autouse=True)
async def close_models() -> Any:
    """Every model a test built closes its connections when the test ends (no stray sockets)."""
    yield
    while _BUILT:
        llm = _BUILT.pop()
        connection = llm.connection if isinstance(llm, LCChat) else llm._connection
        connection.close()
        await connection.aclose()


def build(kind: str, **kwargs: Any) -> Any:
    if kind == "langchain":
        llm: Any = LCChat(model=MODEL, max_retries=0, **kwargs)
    else:
        llm = LIChat(model_name=MODEL, max_retries=0, **kwargs)
    _BUILT.append(llm)
    return llm


async def ask(kind: str, llm: Any, sync: bool, text: str = "hi") -> Any:
    """One call; the answer's text (LangChain: the AIMessage too, for its metadata)."""
    if kind == "langchain":
        return llm.invoke(text) if sync else await llm.ainvoke(text)
    messages = [ChatMessage(role="user", content=text)]
    return llm.chat(messages) if sync else await llm.achat(messages)


def text_of(kind: str, answer: Any) -> str:
    return str(answer.content if kind == "langchain" else answer.message.content)


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# ---- item 2: project endpoints ----


@pytest.mark.parametrize("kind", KINDS)
async def test_project_endpoint_with_entra_id(entra: Emulator, kind: str, sync: bool) -> None:
    credential = EmulatorTokenCredential()
    llm = build(kind, project_endpoint=entra.project_endpoint("proj"), credential=credential)
    assert text_of(kind, await ask(kind, llm, sync)) == "You said: hi"
    (request,) = entra.requests
    assert request.path == "/api/projects/proj/openai/v1/chat/completions"
    assert request.query == {}  # no api-version on the v1 routes
    assert credential.scopes == [(f"{AI}/.default",)]


@pytest.mark.parametrize("kind", KINDS)
async def test_project_endpoint_from_the_environment(
    entra: Emulator, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", entra.project_endpoint("envproj"))
    llm = build(kind, credential=EmulatorTokenCredential())
    await ask(kind, llm, True)
    assert entra.requests[-1].path == "/api/projects/envproj/openai/v1/chat/completions"


@pytest.mark.parametrize("kind", KINDS)
def test_conflicts_are_named_before_any_io(
    kind: str, silent_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, connected = silent_endpoint
    base = url.removesuffix("/models")
    project = base + "/api/projects/p"
    token = EmulatorTokenCredential()
    with pytest.raises(ValueError, match=r"project_endpoint= and endpoint="):
        build(kind, project_endpoint=project, endpoint=base + "/openai/v1", credential=token)
    with pytest.raises(ValueError, match=r"Entra ID only.*credential="):
        build(kind, project_endpoint=project, credential="a-key")
    with pytest.raises(ValueError, match=r"endpoint= and base_url="):
        build(kind, endpoint=base + "/openai/v1", base_url=base + "/v1", credential="k")
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", base + "/openai/v1")
    with pytest.raises(ValueError, match=r"project_endpoint=.*AZURE_INFERENCE_ENDPOINT"):
        build(kind, project_endpoint=project, credential=token)
    assert token.scopes == []
    assert not connected()


# ---- item 3: the OpenAI-style spellings ----


class Provider:
    """A refreshing bearer token provider minting tokens the emulator accepts."""

    def __init__(self) -> None:
        self.credential = EmulatorTokenCredential()
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.credential.get_token(f"{AI}/.default").token


class AsyncProvider(Provider):
    async def __call__(self) -> str:  # type: ignore[override]
        return super().__call__()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spelling", ["azure_ad_token_provider", "api_key", "credential"])
async def test_token_provider_is_called_per_request(
    entra: Emulator, kind: str, sync: bool, spelling: str
) -> None:
    provider = Provider()
    llm = build(kind, base_url=entra.openai_v1_endpoint, **{spelling: provider})
    for _ in range(3):
        await ask(kind, llm, sync)
    assert provider.calls == 3
    assert len(entra.requests) == 3


@pytest.mark.parametrize("kind", KINDS)
async def test_async_token_provider_for_async_calls(entra: Emulator, kind: str) -> None:
    sync_provider, async_provider = Provider(), AsyncProvider()
    kwargs = {
        "azure_ad_token_provider": sync_provider,
        "azure_ad_async_token_provider": async_provider,
    }
    llm = build(kind, endpoint=entra.openai_v1_endpoint, **kwargs)
    await ask(kind, llm, False)
    await ask(kind, llm, True)
    assert (sync_provider.calls, async_provider.calls) == (1, 1)
    only_async = build(
        kind, endpoint=entra.openai_v1_endpoint, azure_ad_async_token_provider=AsyncProvider()
    )
    await ask(kind, only_async, False)
    with pytest.raises(ValueError, match="async"):
        await ask(kind, only_async, True)


@pytest.mark.parametrize("kind", KINDS)
async def test_base_url_and_api_key(
    azure_inference_emulator: Emulator, kind: str, sync: bool
) -> None:
    emu = azure_inference_emulator
    llm = build(kind, base_url=emu.openai_v1_endpoint, api_key=emu.key)
    assert text_of(kind, await ask(kind, llm, sync)) == "You said: hi"
    assert emu.requests[-1].path == "/openai/v1/chat/completions"


@pytest.mark.parametrize("kind", KINDS)
async def test_openai_variables_where_none_of_ours_is_set(
    azure_inference_emulator: Emulator, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = azure_inference_emulator
    monkeypatch.setenv("OPENAI_BASE_URL", emu.openai_v1_endpoint)
    monkeypatch.setenv("OPENAI_API_KEY", emu.key)
    await ask(kind, build(kind), True)
    assert emu.requests[-1].path == "/openai/v1/chat/completions"
    # Ours win where set.
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", emu.key)
    await ask(kind, build(kind), True)
    assert emu.requests[-1].path == "/models/chat/completions"


# ---- item 4: nothing meant for the client reaches the service ----

CLIENT_SIDE = {
    "use_responses_api": False,
    "streaming": False,
    "stream_usage": True,
    "include_response_headers": True,
    "output_version": "v0",
    "disabled_params": {"parallel_tool_calls": None},
    "metadata": {"run": "mine"},
    "tags": ["t"],
}


async def test_client_side_arguments_are_not_sent(
    azure_inference_emulator: Emulator, sync: bool
) -> None:
    emu = azure_inference_emulator
    llm = LCChat(endpoint=emu.openai_v1_endpoint, credential=emu.key, model=MODEL, **CLIENT_SIDE)
    answer = await ask("langchain", llm, sync)
    body = emu.requests[-1].json
    assert set(body) <= {"messages", "model", "stream", "stream_options"}
    assert "extra-parameters" not in emu.requests[-1].headers
    headers = answer.response_metadata["headers"]
    assert headers["x-request-id"]
    assert not {"api-key", "authorization"} & set(headers)


async def test_api_fields_are_sent_and_disabled_params_dropped(
    azure_inference_emulator: Emulator, sync: bool
) -> None:
    emu = azure_inference_emulator
    llm = LCChat(
        endpoint=emu.openai_v1_endpoint,
        credential=emu.key,
        model=MODEL,
        logprobs=True,
        top_logprobs=2,
        store=False,
        service_tier="auto",
        disabled_params={"seed": None, "top_p": [0.5]},
        seed=3,
        top_p=0.5,
    )
    await ask("langchain", llm, sync)
    body = emu.requests[-1].json
    assert body["logprobs"] is True
    assert body["top_logprobs"] == 2
    assert body["store"] is False
    assert body["service_tier"] == "auto"
    assert "seed" not in body
    assert "top_p" not in body


async def test_response_headers_on_streams(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    llm = LCChat(
        endpoint=emu.openai_v1_endpoint,
        credential=emu.key,
        model=MODEL,
        include_response_headers=True,
    )
    merged: Any = None
    for chunk in llm.stream("hi"):
        merged = chunk if merged is None else merged + chunk
    assert merged.response_metadata["headers"]["x-request-id"]
    merged = None
    async for chunk in llm.astream("hi"):
        merged = chunk if merged is None else merged + chunk
    assert merged.response_metadata["headers"]["x-request-id"]
    plain = LCChat(endpoint=emu.openai_v1_endpoint, credential=emu.key, model=MODEL)
    assert "headers" not in plain.invoke("hi").response_metadata


def test_client_objects_are_refused_clearly() -> None:
    # use_responses_api=True is served now (tests/langchain/test_responses.py).
    with pytest.raises(ValueError, match=r"http_client.*httpx_kwargs"):
        LCChat(endpoint="http://127.0.0.1:9/openai/v1", credential="k", http_client=object())
    with pytest.raises(ValueError, match=r"openai_api_key: pass api_key="):
        LCChat(endpoint="http://127.0.0.1:9/openai/v1", openai_api_key="k")


# ---- item 5: logging_enable ----


@pytest.mark.parametrize("kind", KINDS)
async def test_logging_enable_logs_the_exchange_for_that_model_only(
    azure_inference_emulator: Emulator,
    kind: str,
    sync: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = azure_inference_emulator
    logged = build(
        kind,
        endpoint=emu.openai_v1_endpoint,
        credential=emu.key,
        client_kwargs={"logging_enable": True},
    )
    quiet = build(kind, endpoint=emu.openai_v1_endpoint, credential=emu.key)
    with caplog.at_level(logging.DEBUG, logger="azureinference"):
        await ask(kind, quiet, sync, "quiet one")
        await ask(kind, logged, sync, "logged one")
        if kind == "langchain":
            for _ in logged.stream("streamed one"):
                pass
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Request: POST" in text
    assert "logged one" in text
    assert "You said: logged one" in text  # the answer's body
    assert "quiet one" not in text
    if kind == "langchain":
        assert "Stream event: [DONE]" in text
    assert emu.key not in text


# ---- the embedders take the same spellings ----


async def test_embedders_take_project_endpoints_and_base_url(entra: Emulator, sync: bool) -> None:
    from langchain_azureinference import AzureAIEmbeddingsModel as LCEmbeddings
    from llamaindex_azureinference import AzureAIEmbeddingsModel as LIEmbeddings

    lc = LCEmbeddings(
        project_endpoint=entra.project_endpoint("p"),
        credential=EmulatorTokenCredential(),
        model="emulator-embed",
    )
    li = LIEmbeddings(
        base_url=entra.openai_v1_endpoint, api_key=entra.key, model_name="emulator-embed"
    )
    if sync:
        assert len(lc.embed_query("a")) > 0
        assert len(li.get_text_embedding("a")) > 0
    else:
        assert len(await lc.aembed_query("a")) > 0
        assert len(await li.aget_text_embedding("a")) > 0
    assert [r.path for r in entra.requests] == [
        "/api/projects/p/openai/v1/embeddings",
        "/openai/v1/embeddings",
    ]
    lc.close()
    await lc.aclose()
    li._connection.close()
    await li._connection.aclose()
