"""Fixtures for the LlamaIndex adapter tests: models pointed at the package's emulator."""

from __future__ import annotations

import pytest

from azureinference.emulator import Emulator
from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel


@pytest.fixture
def emu(azure_inference_emulator: Emulator) -> Emulator:
    return azure_inference_emulator


@pytest.fixture
def llm(emu: Emulator) -> AzureAICompletionsModel:
    return AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-chat", max_retries=0
    )


@pytest.fixture
def embedder(emu: Emulator) -> AzureAIEmbeddingsModel:
    return AzureAIEmbeddingsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-embed"
    )
