"""LangChain bulk calls at a quota: embed_documents and batch, in order, through 429s."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.exceptions import ModelInvalidRequestError

from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel
from tests.quota_server import corpus, quota_server

KEY = "local-quota-key"


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_embed_documents_keeps_order_and_count_through_429s(sync: bool) -> None:
    texts = corpus(600)
    with quota_server(240_000, 6_000, throttle_every=5) as server:
        emb = AzureAIEmbeddingsModel(
            endpoint=server.endpoint, credential=KEY, model="m", embed_batch_size=40
        )
        vectors = emb.embed_documents(texts) if sync else asyncio.run(emb.aembed_documents(texts))
    assert [v[0] for v in vectors] == list(range(600))
    assert sorted(server.texts.values()) == [1] * 600
    assert server.throttled >= 3
    assert emb.client.rate_limiter is emb.async_client.rate_limiter  # one limiter per model
    assert emb.client.rate_limiter.throttled + emb.client.rate_limiter.sent > 15


def test_a_failed_batch_names_its_inputs(sync: bool) -> None:
    texts = corpus(200)
    texts[95] = "doc 95 FAIL"
    with quota_server(6_000_000, 60_000) as server:
        emb = AzureAIEmbeddingsModel(
            endpoint=server.endpoint, credential=KEY, model="m", embed_batch_size=40
        )
        call = emb.embed_documents if sync else lambda t: asyncio.run(emb.aembed_documents(t))
        with pytest.raises(ModelInvalidRequestError, match=r"inputs 80-119 of 200"):
            call(texts)


def test_batch_and_abatch_are_paced_and_keep_order(sync: bool) -> None:
    prompts = [f"prompt {i}" for i in range(40)]
    with quota_server(600_000, 60_000, throttle_every=6) as server:
        llm = AzureAIChatCompletionsModel(endpoint=server.endpoint, credential=KEY, model="m")
        answers = llm.batch(prompts) if sync else asyncio.run(llm.abatch(prompts))
        limiter = llm.client.rate_limiter
        assert [a.content for a in answers] == [f"You said: {p}" for p in prompts]
        assert server.throttled >= 40 // 6  # retried without failing the batch
        assert limiter.sent == server.seen  # every request of the batch went through it
        assert 30_000 <= limiter.limit("requests") <= 60_000  # learned; slower after 429s
        sent = limiter.sent
        llm.invoke("single")
        assert limiter.sent > sent  # the service answered 429: a single call is paced too


def test_set_limits_reach_the_shared_limiter() -> None:
    emb = AzureAIEmbeddingsModel(
        endpoint="http://127.0.0.1:1",
        credential=KEY,
        client_kwargs={"tokens_per_minute": 1_000, "requests_per_minute": 10},
    )
    limiter = emb.client.rate_limiter
    assert limiter is emb.async_client.rate_limiter
    assert (limiter.limit("tokens"), limiter.limit("requests")) == (1_000, 10)


# ---- nothing configured, a 429 storm (issue 22) ---------------------------------------------


@pytest.mark.parametrize("headers", ["full", "remaining", "none"])
def test_nothing_configured_every_text_comes_back_whatever_the_headers(headers: str) -> None:
    # 3,000 tokens a second (a second's burst), 40 texts of 8 words a batch: 15 batches, 5 the
    # window holds; the other 11 meet the window's limit if they go at once.
    texts = corpus(600)
    with quota_server(180_000, 60_000, headers=headers) as server:
        emb = AzureAIEmbeddingsModel(
            endpoint=server.endpoint, credential=KEY, model="m", embed_batch_size=40
        )
        vectors = emb.embed_documents(texts)
        assert [v[0] for v in vectors] == list(range(600))
        assert server.texts == {t: 1 for t in texts}  # each text embedded once
        assert server.throttled <= 16  # no stampede: at most a first round of refusals


@pytest.mark.parametrize(
    ("headers", "throttle_every"), [("remaining", 0), ("none", 0), ("full", 3)]
)
def test_nothing_configured_abatch_loses_no_prompt_in_a_429_storm(
    headers: str, throttle_every: int
) -> None:
    # 300 prompts at once against 50 requests a second.
    prompts = [f"prompt {i}" for i in range(100 if throttle_every else 300)]
    with quota_server(6_000_000, 3_000, headers=headers, throttle_every=throttle_every) as server:
        llm = AzureAIChatCompletionsModel(endpoint=server.endpoint, credential=KEY, model="m")
        answers = asyncio.run(llm.abatch(prompts))
        assert [a.content for a in answers] == [f"You said: {p}" for p in prompts]
        assert server.answered == len(prompts)
        assert llm.client.rate_limiter.engaged  # and every call from now on is paced
        if throttle_every:  # a third refused whatever the pace: each retried, none lost
            assert server.throttled >= 30
        else:  # what the first answer taught (or a slow start, with nothing): no storm at all
            assert server.throttled <= 15
