"""AzureAIEmbeddingsModel against a scripted endpoint."""

from __future__ import annotations

import base64
import pickle
import struct
from typing import Any

import pytest
from lc_support import FakeEndpoint, make_embeddings
from pydantic import SecretStr

from langchain_azureinference import AzureAIEmbeddingsModel
from tests.conftest import PLACEHOLDER_ENDPOINT


def vectors_body(n: int, *, dims: int = 3, start: int = 0, b64: bool = True) -> dict[str, Any]:
    """An embeddings answer with ``n`` vectors [i, i, i] (base64 float32 or float lists)."""
    data = []
    for i in range(n):
        values = [float(start + i)] * dims
        embedding: Any = (
            base64.b64encode(struct.pack(f"<{dims}f", *values)).decode() if b64 else values
        )
        data.append({"index": i, "object": "embedding", "embedding": embedding})
    return {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": data,
        "usage": {"prompt_tokens": n, "total_tokens": n},
    }


async def embed_documents(
    emb: AzureAIEmbeddingsModel, mode: str, texts: list[str]
) -> list[list[float]]:
    return emb.embed_documents(texts) if mode == "sync" else await emb.aembed_documents(texts)


async def embed_query(emb: AzureAIEmbeddingsModel, mode: str, text: str) -> list[float]:
    return emb.embed_query(text) if mode == "sync" else await emb.aembed_query(text)


async def test_documents_and_query_input_types(fake: FakeEndpoint, mode: str) -> None:
    emb = make_embeddings(fake)
    fake.reply(vectors_body(2))
    assert await embed_documents(emb, mode, ["a", "b"]) == [[0.0] * 3, [1.0] * 3]
    assert fake.body == {
        "input": ["a", "b"],
        "model": "text-embedding-3-small",
        "encoding_format": "base64",
        "input_type": "document",
    }
    fake.reply(vectors_body(1, start=7, b64=False))
    assert await embed_query(emb, mode, "q") == [7.0] * 3
    assert fake.body["input_type"] == "query"
    assert fake.requests[-1].url.path == "/models/embeddings"


async def test_batching(fake: FakeEndpoint, mode: str) -> None:
    emb = make_embeddings(fake, embed_batch_size=2)
    for _ in range(3):  # the async batches go out together: each answer reads its request
        fake.reply_with(
            lambda body: vectors_body(len(body["input"]), start=int(body["input"][0][1:]))
        )
    vectors = await embed_documents(emb, mode, ["t0", "t1", "t2", "t3", "t4"])
    assert [v[0] for v in vectors] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sorted(len(b["input"]) for b in fake.bodies) == [1, 2, 2]


async def test_dimensions_and_extras(fake: FakeEndpoint, mode: str) -> None:
    emb = make_embeddings(
        fake,
        dimensions=3,
        model_kwargs={"user": "u1", "truncate": "END"},
        model_extras={"normalize": True},
    )
    fake.reply(vectors_body(1))
    await embed_query(emb, mode, "q")
    body = fake.body
    assert body["dimensions"] == 3
    assert body["user"] == "u1"  # an API parameter
    assert body["truncate"] == "END"  # not one: an extra
    assert body["normalize"] is True
    assert fake.headers["extra-parameters"] == "pass-through"


async def test_input_type_dropped_where_refused(fake: FakeEndpoint, mode: str) -> None:
    emb = make_embeddings(fake)
    fake.reply(
        {
            "status": 422,
            "code": "parameter_not_supported",
            "detail": {"loc": ["body", "input_type"]},
            "message": "invalid",
        },
        status=422,
    )
    fake.reply(vectors_body(1))
    assert await embed_query(emb, mode, "q") == [0.0] * 3
    assert "input_type" in fake.bodies[0]
    assert "input_type" not in fake.bodies[1]
    fake.reply(vectors_body(1))
    await embed_documents(emb, mode, ["d"])
    assert "input_type" not in fake.body  # learned once


async def test_input_types_can_be_turned_off(fake: FakeEndpoint, mode: str) -> None:
    emb = make_embeddings(fake, input_type_documents=None, input_type_query=None)
    fake.reply(vectors_body(1))
    await embed_documents(emb, mode, ["d"])
    assert "input_type" not in fake.body


async def test_empty_input_sends_nothing(fake: FakeEndpoint, mode: str) -> None:
    assert await embed_documents(make_embeddings(fake), mode, []) == []
    assert fake.requests == []


def test_peer_constructor_arguments() -> None:
    emb = AzureAIEmbeddingsModel(
        endpoint=PLACEHOLDER_ENDPOINT,
        credential="k",
        model_name="cohere-embed-v3-multilingual",
        embed_batch_size=16,
        dimensions=256,
        api_version="2024-05-01-preview",
        client_kwargs={},
        model_kwargs={},
        service="inference",
        project_endpoint=None,
    )  # no warning: none of langchain-azure-ai's arguments is taken for a model_kwargs entry
    assert emb.model_kwargs == {}
    assert emb.model_name == "cohere-embed-v3-multilingual"
    assert isinstance(emb.credential, SecretStr)
    assert (
        AzureAIEmbeddingsModel(endpoint=PLACEHOLDER_ENDPOINT, api_key="k", model="m").model_name
        == "m"
    )


def test_unknown_keyword_moves_to_model_kwargs(fake: FakeEndpoint) -> None:
    with pytest.warns(UserWarning, match="truncate"):
        emb = make_embeddings(fake, truncate="END")
    assert emb.model_kwargs == {"truncate": "END"}


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        AzureAIEmbeddingsModel(endpoint=PLACEHOLDER_ENDPOINT, credential="k", embed_batch_size=0)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_AI_INFERENCE_ENDPOINT", PLACEHOLDER_ENDPOINT)
    monkeypatch.setenv("AZURE_AI_INFERENCE_CREDENTIAL", "env-key")
    emb = AzureAIEmbeddingsModel()
    assert emb.endpoint == PLACEHOLDER_ENDPOINT
    assert emb.credential.get_secret_value() == "env-key"


def test_secret_hidden_and_client_dropped_on_pickle(fake: FakeEndpoint) -> None:
    emb = make_embeddings(fake, credential="sk-hidden-value")
    assert "sk-hidden-value" not in repr(emb)
    assert "sk-hidden-value" not in emb.model_dump_json()
    client = emb.client
    assert emb.client is client
    assert pickle.loads(pickle.dumps(emb)).client is not client
