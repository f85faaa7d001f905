"""Embed a corpus into a Ray dataset, then label it with a chat model, on Ray Data workers.

pip install -e '.[ray]' && python examples/ray_embed.py

Each stage is a callable class given to ``map_batches``: Ray builds it once per worker, so each
worker keeps one model (one connection pool, one rate limiter) for all the batches it gets.

How the workers share the deployment's quota: each builds its model with its share,
``tokens_per_minute = quota / workers`` (and ``requests_per_minute`` likewise). A set limit paces
every call of that model, so the workers together stay under the quota without talking to each
other. The service's headers still correct each worker: the ``remaining`` it reports is the
whole deployment's, so a worker slows down when it finds less left than its own share suggests,
and a 429 pauses the worker that got it for the ``retry-after-ms`` given. (A set limit is a cap:
a worker never takes more than its share, even when the others are idle.)

With no ``AZURE_INFERENCE_ENDPOINT`` set it runs against the local emulator.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from _endpoint import connection

QUOTA_TOKENS_PER_MINUTE = 600_000
QUOTA_REQUESTS_PER_MINUTE = 600


class Embedder:
    """A Ray Data worker that embeds the ``text`` column (its model built once)."""

    def __init__(self, endpoint: str, credential: str, model: str | None, share: Any) -> None:
        from langchain_azureinference import AzureAIEmbeddingsModel

        self.embeddings = AzureAIEmbeddingsModel(
            endpoint=endpoint, credential=credential, model=model, client_kwargs=share
        )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embeddings.embed_documents([str(t) for t in batch["text"]])
        return {**batch, "embedding": np.asarray(vectors, dtype=np.float32)}


class Labeller:
    """A Ray Data worker that asks a chat model for one word per text (``llm.batch``)."""

    def __init__(self, endpoint: str, credential: str, model: str | None, share: Any) -> None:
        from langchain_azureinference import AzureAIChatCompletionsModel

        self.llm = AzureAIChatCompletionsModel(
            endpoint=endpoint,
            credential=credential,
            model=model,
            max_tokens=16,
            client_kwargs=share,
        )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        prompts = [f"One word for the topic of: {t}" for t in batch["text"]]
        answers = self.llm.batch(prompts)
        return {**batch, "label": np.asarray([str(a.content) for a in answers])}


def run(
    endpoint: str,
    credential: str,
    texts: list[str],
    *,
    workers: int = 2,
    embeddings_model: str | None = None,
    chat_model: str | None = None,
    label: bool = True,
    tokens_per_minute: float = QUOTA_TOKENS_PER_MINUTE,
    requests_per_minute: float = QUOTA_REQUESTS_PER_MINUTE,
) -> list[dict[str, Any]]:
    """Embed (and label) ``texts`` on Ray Data; rows come back with ``id``, in order."""
    import ray.data

    share = {  # each worker's part of the deployment's quota
        "tokens_per_minute": tokens_per_minute / workers,
        "requests_per_minute": requests_per_minute / workers,
    }
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)])
    ds = ds.map_batches(
        Embedder,
        fn_constructor_args=(endpoint, credential, embeddings_model, share),
        batch_size=64,
        concurrency=workers,
        num_cpus=0.5,
    )
    if label:
        ds = ds.map_batches(
            Labeller,
            fn_constructor_args=(endpoint, credential, chat_model, share),
            batch_size=32,
            concurrency=workers,
            num_cpus=0.5,
        )
    return sorted(ds.take_all(), key=lambda row: int(row["id"]))


def main() -> None:
    import ray

    n = int(os.environ.get("RAY_EXAMPLE_TEXTS", "300"))
    texts = [f"Passage {i} about {('rivers', 'mountains', 'cities')[i % 3]}." for i in range(n)]
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
    try:
        with connection() as c:
            rows = run(
                c.endpoint,
                c.credential,
                texts,
                embeddings_model=c.embeddings_model,
                chat_model=c.chat_model,
            )
    finally:
        ray.shutdown()
    print(f"{len(rows)} rows; ids in order: {[r['id'] for r in rows] == list(range(n))}")
    print(f"embedding size: {len(rows[0]['embedding'])}; first label: {rows[0]['label']}")


if __name__ == "__main__":
    main()
