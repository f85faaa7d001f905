"""LangChain calls are traced by the core, without a callback: our spans nest under the span
that is current when the chain runs (as LangChain's own OpenTelemetry tracing would make it)."""

from __future__ import annotations

from typing import Any

import pytest

from azureinference.emulator import Emulator
from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_langchain_calls_are_spans_under_the_current_span(
    azure_inference_emulator: Emulator, otel: Any, mode: str
) -> None:
    emu = azure_inference_emulator
    llm = AzureAIChatCompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model="emulator-chat"
    )
    emb = AzureAIEmbeddingsModel(endpoint=emu.endpoint, credential=emu.key, model="emulator-embed")
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("chain") as parent:
        if mode == "sync":
            llm.invoke("Hello")
            for _ in llm.stream("Hello"):
                pass
            emb.embed_documents(["a", "b"])
        else:
            await llm.ainvoke("Hello")
            async for _ in llm.astream("Hello"):
                pass
            await emb.aembed_documents(["a", "b"])
    ours = otel.children(parent)
    assert [s.name for s in ours] == [
        "chat emulator-chat",
        "chat emulator-chat",
        "embeddings emulator-embed",
    ]
    assert ours[1].attributes["gen_ai.request.stream"] is True
    assert ours[1].attributes["gen_ai.usage.output_tokens"] > 0
