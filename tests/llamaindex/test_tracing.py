"""LlamaIndex calls are traced by the core, without a callback: our spans nest under the span
that is current (a LlamaIndex workflow or agent span exported through OpenTelemetry)."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_llamaindex_calls_are_spans_under_the_current_span(
    llm: AzureAICompletionsModel, embedder: AzureAIEmbeddingsModel, otel: Any, mode: str
) -> None:
    messages = [ChatMessage(role="user", content="Hello")]
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("query") as parent:
        if mode == "sync":
            llm.chat(messages)
            for _ in llm.stream_chat(messages):
                pass
            embedder.get_text_embedding_batch(["a", "b"])
        else:
            await llm.achat(messages)
            async for _ in await llm.astream_chat(messages):
                pass
            await embedder.aget_text_embedding_batch(["a", "b"])
    ours = otel.children(parent)
    assert [s.name for s in ours] == [
        "chat emulator-chat",
        "chat emulator-chat",
        "embeddings emulator-embed",
    ]
    assert ours[1].attributes["gen_ai.request.stream"] is True
