"""The emulator at a Foundry project path, and its Entra ID audience check, with our clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from azureinference import AsyncClient, AuthenticationError, Client
from azureinference.emulator import Emulator, EmulatorTokenCredential

HI = [{"role": "user", "content": "Hi"}]
AI = "https://ai.azure.com"


@pytest.fixture
def entra(azure_inference_emulator: Emulator) -> Iterator[Emulator]:
    """The emulator, accepting Entra ID tokens for https://ai.azure.com for this test."""
    azure_inference_emulator.config.entra_audience = AI
    try:
        yield azure_inference_emulator
    finally:
        azure_inference_emulator.config.entra_audience = None


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def call(sync: bool, endpoint: str, credential: Any, **kw: Any) -> Any:
    if sync:
        with Client(endpoint, credential, max_retries=0, **kw) as client:
            return client.complete(HI, model="emulator-chat")
    async with AsyncClient(endpoint, credential, max_retries=0, **kw) as aclient:
        return await aclient.complete(HI, model="emulator-chat")


async def test_project_endpoint_with_an_entra_token(entra: Emulator, sync: bool) -> None:
    credential = entra.token_credential()
    answer = await call(sync, entra.project_endpoint("my-project"), credential)
    assert answer.choices[0].message.content
    assert credential.scopes == [(f"{AI}/.default",)]
    (request,) = entra.requests
    assert request.path == "/api/projects/my-project/openai/v1/chat/completions"
    assert request.query == {}
    assert "authorization" not in request.headers  # the log never keeps credentials


async def test_token_for_another_audience_is_refused_naming_both(
    entra: Emulator, sync: bool
) -> None:
    with pytest.raises(AuthenticationError) as info:
        await call(
            sync,
            entra.project_endpoint(),
            entra.token_credential(),
            credential_scopes=["https://cognitiveservices.azure.com/.default"],
        )
    assert "https://cognitiveservices.azure.com" in str(info.value)
    assert AI in str(info.value)


async def test_entra_tokens_are_refused_when_no_audience_is_configured(
    azure_inference_emulator: Emulator, sync: bool
) -> None:
    with pytest.raises(AuthenticationError):
        await call(sync, azure_inference_emulator.project_endpoint(), EmulatorTokenCredential())


async def test_openai_v1_endpoint_takes_the_key_and_the_token(entra: Emulator, sync: bool) -> None:
    await call(sync, entra.openai_v1_endpoint, entra.key)
    await call(sync, entra.openai_v1_endpoint, entra.token_credential())
    assert [r.path for r in entra.requests] == ["/openai/v1/chat/completions"] * 2


def test_project_path_serves_only_the_openai_v1_routes(azure_inference_emulator: Emulator) -> None:
    emu = azure_inference_emulator
    headers = {"api-key": emu.key}
    ok = httpx2.post(
        emu.project_endpoint("p") + "/openai/v1/chat/completions",
        json={"model": "emulator-chat", "messages": HI},
        headers=headers,
    )
    assert ok.status_code == 200
    for path in ("/models/chat/completions", "/chat/completions", "/openai/v1"):
        missing = httpx2.post(emu.project_endpoint("p") + path, json={}, headers=headers)
        assert missing.status_code == 404, path
