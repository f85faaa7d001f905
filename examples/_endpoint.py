"""Where the LangChain examples run: your endpoint, or the bundled emulator.

With ``AZURE_INFERENCE_ENDPOINT`` (and ``AZURE_INFERENCE_CREDENTIAL``) set, the examples call your
endpoint, with ``AZURE_INFERENCE_MODEL`` naming the model where the endpoint serves several.
Otherwise they start the local emulator in this process: no credentials, no network.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from langchain_azureinference import AzureAIChatCompletionsModel


@contextlib.contextmanager
def chat_model(**kwargs: object) -> Iterator[AzureAIChatCompletionsModel]:
    """Yield a chat model for the real endpoint if configured, else for a local emulator."""
    if os.environ.get("AZURE_INFERENCE_ENDPOINT"):
        # endpoint and credential come from the environment variables.
        yield AzureAIChatCompletionsModel(model=os.environ.get("AZURE_INFERENCE_MODEL"), **kwargs)
        return
    from azureinference.emulator import running_emulator

    with running_emulator() as emu:
        print(f"(no AZURE_INFERENCE_ENDPOINT: using the local emulator at {emu.url})\n")
        yield AzureAIChatCompletionsModel(
            endpoint=emu.url + "/models", credential=emu.key, model="emulator-chat", **kwargs
        )
