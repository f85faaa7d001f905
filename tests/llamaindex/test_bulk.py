"""LlamaIndex batch embedding at a quota: concurrent, paced, in order, progress, failures named."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler

from azureinference import BadRequestError
from llamaindex_azureinference import AzureAIEmbeddingsModel
from tests.quota_server import corpus, quota_server

KEY = "local-quota-key"


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def batch(embed: AzureAIEmbeddingsModel, sync: bool, texts: list[str], **kw: Any) -> Any:
    if sync:
        return embed.get_text_embedding_batch(texts, **kw)
    return asyncio.run(embed.aget_text_embedding_batch(texts, **kw))


def test_batches_in_order_through_429s_with_progress_and_events(
    sync: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = corpus(500)
    debug = LlamaDebugHandler()
    with quota_server(240_000, 6_000, throttle_every=4) as server:
        embed = AzureAIEmbeddingsModel(
            endpoint=server.endpoint,
            credential=KEY,
            model_name="m",
            embed_batch_size=50,
            callback_manager=CallbackManager([debug]),
        )
        vectors = batch(embed, sync, texts, show_progress=True)
    assert [v[0] for v in vectors] == list(range(500))
    assert sorted(server.texts.values()) == [1] * 500
    assert server.throttled >= 2
    assert "Generating embeddings" in capsys.readouterr().err  # the tqdm bar
    events = debug.get_event_pairs(CBEventType.EMBEDDING)
    chunks = [text for start, end in events for text in end.payload["chunks"]]
    assert chunks == texts  # one event per batch, in order, as LlamaIndex sends them


def test_a_failed_batch_names_its_inputs(sync: bool) -> None:
    texts = corpus(300)
    texts[260] = "doc 260 FAIL"
    with quota_server(6_000_000, 60_000) as server:
        embed = AzureAIEmbeddingsModel(
            endpoint=server.endpoint, credential=KEY, model_name="m", embed_batch_size=50
        )
        with pytest.raises(BadRequestError, match=r"inputs 250-299 of 300"):
            batch(embed, sync, texts)


def test_set_limits_give_one_limiter_to_both_clients() -> None:
    embed = AzureAIEmbeddingsModel(
        endpoint="http://127.0.0.1:1", credential=KEY, client_kwargs={"tokens_per_minute": 500}
    )
    assert embed._client.rate_limiter is embed._aclient.rate_limiter
    assert embed._client.rate_limiter.limit("tokens") == 500


# ---- nothing configured, a 429 storm (issue 22) ---------------------------------------------


@pytest.mark.parametrize("headers", ["full", "remaining", "none"])
def test_nothing_configured_every_text_comes_back_whatever_the_headers(headers: str) -> None:
    texts = corpus(600)
    with quota_server(180_000, 60_000, headers=headers) as server:
        embed = AzureAIEmbeddingsModel(
            endpoint=server.endpoint, credential=KEY, model_name="m", embed_batch_size=40
        )
        vectors = embed.get_text_embedding_batch(texts)
        assert [v[0] for v in vectors] == list(range(600))
        assert server.texts == {t: 1 for t in texts}
        assert server.throttled <= 16


@pytest.mark.parametrize(("headers", "throttle_every"), [("full", 0), ("none", 0), ("full", 3)])
def test_achat_in_a_users_gather_loses_nothing_in_a_429_storm(
    headers: str, throttle_every: int
) -> None:
    from llama_index.core.llms import ChatMessage

    from llamaindex_azureinference import AzureAICompletionsModel

    questions = [f"question {i}" for i in range(100 if throttle_every else 300)]
    with quota_server(6_000_000, 3_000, headers=headers, throttle_every=throttle_every) as server:
        llm = AzureAICompletionsModel(endpoint=server.endpoint, credential=KEY, model_name="m")

        async def gather() -> list[str]:
            calls = [llm.achat([ChatMessage(role="user", content=q)]) for q in questions]
            return [str(r.message.content) for r in await asyncio.gather(*calls)]

        assert asyncio.run(gather()) == [f"You said: {q}" for q in questions]
        assert server.answered == len(questions)
        if throttle_every:  # a third refused whatever the pace: each retried, none lost
            assert server.throttled >= 30
        else:  # the first call went alone; what it taught (or a slow start) paced the rest
            assert server.throttled <= 15
