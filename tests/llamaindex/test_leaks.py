"""A LlamaIndex model built per request and dropped releases its connections (issue 21 item 7).

Counted as this process's open file descriptors (the emulator runs in a thread here).
"""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

import pytest
from llama_index.core.llms import ChatMessage

from azureinference.emulator import Emulator
from llamaindex_azureinference import AzureAICompletionsModel

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc fds")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def make(emu: Emulator) -> AzureAICompletionsModel:
    return AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-chat", max_retries=0
    )


async def test_models_built_per_request_release_their_connections(emu: Emulator) -> None:
    await make(emu).achat([ChatMessage(role="user", content="warm up")])
    baseline = open_fds()
    for i in range(20):
        model = make(emu)
        await model.achat([ChatMessage(role="user", content=f"request {i}")])
        del model
    gc.collect()  # the dropped models (they sit in reference cycles)
    for _ in range(50):  # loop turns: each dropped model's sessions close in a task
        await asyncio.sleep(0)
        if open_fds() <= baseline + 2:
            break
    assert open_fds() - baseline <= 2
