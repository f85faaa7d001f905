"""Where the examples run: your endpoint, or the bundled emulator.

With ``AZURE_INFERENCE_ENDPOINT`` (such as ``https://<resource>.services.ai.azure.com/openai/v1``)
and ``AZURE_INFERENCE_CREDENTIAL`` set, the examples call your endpoint, with
``AZURE_INFERENCE_MODEL`` / ``AZURE_INFERENCE_EMBEDDINGS_MODEL`` naming the models (the
deployments) where the endpoint serves several. Otherwise they start the local emulator in this
process, at its ``/openai/v1`` endpoint: no credentials, no network.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from langchain_azureinference import AzureAIChatCompletionsModel
    from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel


class Connection(NamedTuple):
    endpoint: str
    credential: str
    chat_model: str | None
    embeddings_model: str | None


@contextlib.contextmanager
def connection() -> Iterator[Connection]:
    """Yield the real endpoint's settings if configured, else a running emulator's."""
    real = os.environ.get("AZURE_INFERENCE_ENDPOINT")
    if real:
        yield Connection(
            real,
            os.environ.get("AZURE_INFERENCE_CREDENTIAL", ""),
            os.environ.get("AZURE_INFERENCE_MODEL"),
            os.environ.get("AZURE_INFERENCE_EMBEDDINGS_MODEL"),
        )
        return
    from azureinference.emulator import running_emulator

    with running_emulator() as emu:
        print(f"(no AZURE_INFERENCE_ENDPOINT: using the local emulator at {emu.url})\n")
        yield Connection(emu.openai_v1_endpoint, emu.key, "emulator-chat", "emulator-embed")


@contextlib.contextmanager
def chat_model(**kwargs: Any) -> Iterator[AzureAIChatCompletionsModel]:
    """Yield a LangChain chat model for the real endpoint if configured, else for the emulator."""
    from langchain_azureinference import AzureAIChatCompletionsModel

    with connection() as c:
        yield AzureAIChatCompletionsModel(
            endpoint=c.endpoint, credential=c.credential, model=c.chat_model, **kwargs
        )


@contextlib.contextmanager
def llamaindex_models(
    **kwargs: Any,
) -> Iterator[tuple[AzureAICompletionsModel, AzureAIEmbeddingsModel]]:
    """Yield a LlamaIndex LLM and embedder for the real endpoint if set, else the emulator."""
    from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

    with connection() as c:
        llm = AzureAICompletionsModel(
            endpoint=c.endpoint, credential=c.credential, model_name=c.chat_model, **kwargs
        )
        embedder = AzureAIEmbeddingsModel(
            endpoint=c.endpoint, credential=c.credential, model_name=c.embeddings_model
        )
        yield llm, embedder
