"""AzureAIEmbeddingsModel against the emulator."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

import pytest

from azureinference import ConfigurationError
from azureinference.emulator import Emulator
from llamaindex_azureinference import AzureAIEmbeddingsModel


def bodies(emu: Emulator) -> list[dict]:
    return [r.json for r in emu.requests if r.path.endswith("/embeddings")]


def test_texts_are_documents_and_queries_are_queries(
    embedder: AzureAIEmbeddingsModel, emu: Emulator
) -> None:
    doc = embedder.get_text_embedding("alpha")
    query = embedder.get_query_embedding("alpha")
    assert len(doc) == len(query) == 1024
    assert doc != query  # the emulator, like Cohere-style models, embeds them differently
    sent = bodies(emu)
    assert [b["input_type"] for b in sent] == ["document", "query"]
    assert all(b["encoding_format"] == "base64" for b in sent)  # the cheap transport


def test_batches_and_dimensions(emu: Emulator) -> None:
    embedder = AzureAIEmbeddingsModel(
        endpoint=emu.endpoint,
        credential=emu.key,
        model_name="emulator-embed",
        embed_batch_size=2,
        dimensions=32,
    )
    vectors = embedder.get_text_embedding_batch([f"text {i}" for i in range(5)])
    assert [len(v) for v in vectors] == [32] * 5
    # The first batch goes alone, the others concurrently: in any order.
    assert sorted((len(b["input"]) for b in bodies(emu)), reverse=True) == [2, 2, 1]
    assert vectors[0] == embedder.get_text_embedding("text 0")


async def test_async(embedder: AzureAIEmbeddingsModel) -> None:
    texts = await embedder.aget_text_embedding_batch(["a", "b"])
    assert texts[0] == embedder.get_text_embedding("a")
    assert await embedder.aget_query_embedding("a") == embedder.get_query_embedding("a")


def test_input_type_dropped_where_refused(emu: Emulator) -> None:
    basic = AzureAIEmbeddingsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-embed-basic"
    )
    assert len(basic.get_query_embedding("x")) == 256
    assert len(basic.get_query_embedding("y")) == 256
    last = bodies(emu)[-1]
    assert "input_type" not in last  # learned once, not retried each time
    assert "encoding_format" not in last


def test_images(emu: Emulator, tmp_path: Path) -> None:
    model = AzureAIEmbeddingsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name="emulator-image-embed"
    )
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    from_path = model.get_image_embedding(str(path))
    from_bytes = model.get_image_embedding(path.read_bytes())
    assert len(from_path) == 512
    assert from_path == from_bytes  # the same data URL
    assert emu.requests[-1].path == "/models/images/embeddings"
    assert len(model.get_image_embedding_batch([str(path), "https://example.com/b.png"])) == 2
    assert len(asyncio.run(model.aget_image_embedding(str(path)))) == 512


def test_unknown_argument(emu: Emulator) -> None:
    with pytest.raises(ConfigurationError, match="dimension"):
        AzureAIEmbeddingsModel(endpoint=emu.endpoint, credential=emu.key, dimension=3)


def test_pickles_and_hides_the_key(embedder: AzureAIEmbeddingsModel, emu: Emulator) -> None:
    asyncio.run(embedder.aget_query_embedding("warm"))
    clone = pickle.loads(pickle.dumps(embedder))
    assert clone.get_text_embedding("x") == embedder.get_text_embedding("x")
    assert emu.key not in repr(embedder)
    assert emu.key not in embedder.to_json()


def test_ingestion_pipeline_with_workers(embedder: AzureAIEmbeddingsModel) -> None:
    from llama_index.core import Document
    from llama_index.core.ingestion import IngestionPipeline

    # The embedder alone: LlamaIndex's SentenceSplitter loads a tiktoken encoding in each spawned
    # worker, which needs a download this offline machine cannot make.
    pipeline = IngestionPipeline(transformations=[embedder])
    docs = [Document(text=f"Document number {i}.") for i in range(6)]
    nodes = pipeline.run(documents=docs, num_workers=2)
    assert nodes
    assert all(node.embedding is not None and len(node.embedding) == 1024 for node in nodes)
    assert nodes[0].embedding == embedder.get_text_embedding(
        nodes[0].get_content(metadata_mode="embed")
    )
