"""One `EmbeddingsResult` from the results of a bulk call's batches, base64 vectors decoded."""

from __future__ import annotations

import math

from .errors import MalformedResponseError
from .types import CompletionUsage, EmbeddingItem, EmbeddingsResult, decode_base64_embedding

__all__ = ["merge_embeddings"]


def merge_embeddings(results: list[EmbeddingsResult], model: str | None) -> EmbeddingsResult:
    """The batches' vectors in input order, their usage summed, base64 vectors decoded.

    Raises:
        MalformedResponseError: A vector that is not base64 of float32 values, or that holds
            NaN or infinity.
    """
    items: list[EmbeddingItem] = []
    prompt = total = 0
    for result in results:
        for item in sorted(result.data or [], key=lambda d: d.index):
            vector = item.embedding
            if isinstance(vector, str):
                vector = _decode(item.index, vector)
            _check_finite(item.index, vector)
            # Built without validation: the vector is already a list of floats, and checking
            # 1,024 floats again cost more than decoding them.
            items.append(EmbeddingItem.model_construct(index=len(items), embedding=vector))
        if result.usage is not None:
            prompt += result.usage.prompt_tokens
            total += result.usage.total_tokens
    first = results[0] if results else None
    return EmbeddingsResult(
        id=first.id if first else None,
        object="list",
        model=(first.model if first else None) or model,
        data=items,
        usage=CompletionUsage(prompt_tokens=prompt, total_tokens=total),
    )


def _decode(index: int, vector: str) -> list[float]:
    try:
        return decode_base64_embedding(vector)
    except ValueError as exc:  # binascii.Error, or bytes that are not float32s
        raise MalformedResponseError(
            f"Embedding {index} is not base64 of float32 values: {exc}",
            status_code=200,
            body=vector[:100],
        ) from exc


def _check_finite(index: int, vector: list[float]) -> None:
    """Refuse NaN or infinity in a vector (JSON ``NaN``/``Infinity``, or float32 bit patterns).

    A vector search would rank such a vector anywhere (or fail far from here); the service did
    not answer an embedding. The sum is finite for every sane vector: one pass in C, and a
    search for the position only when it is not.
    """
    if math.isfinite(sum(vector)):
        return
    bad = next((i for i, v in enumerate(vector) if not math.isfinite(v)), None)
    if bad is None:
        return  # finite values whose sum overflowed
    raise MalformedResponseError(
        f"Embedding {index} holds {vector[bad]!r} at position {bad}: the service answered a "
        "vector with NaN or infinity, which is not an embedding.",
        status_code=200,
    )
