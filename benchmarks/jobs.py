"""One benchmark job in a fresh process: ``python benchmarks/jobs.py CLIENT JOB --url URL``.

The job builds its client and makes one warm-up call of the same kind (async: three batches of
300) so imports, connection setup and lazy initialisation are not measured. It then runs the
measured work in slices (chat: 5 x 40 calls; the other jobs: up to 2 streams / embeds /
batches, no new one after 4 s) and reads the process's own CPU time
(``resource.getrusage(RUSAGE_SELF)``: user + system, every thread) around each slice. It prints
one JSON line: the slices' (CPU, wall) seconds, the units per slice, ``best`` (CPU seconds per
unit of the calmest slice: on a shared machine the others carry other processes' interference)
and ``maxrss_kb``. A client that is missing or broken prints ``{"ok": false, "error": "..."}``
instead: the run goes on and the table says n/a.

Jobs (units in brackets): ``chat`` (one call), ``stream`` (one chunk of a 3,000-chunk stream),
``embed`` (one text of 2,000, 1,024 dimensions), ``async`` (one call among 300 concurrent ones).

``--profile FILE`` runs the measured slices under pyinstrument and writes its text report to FILE
(``BENCH_PROFILE_ALL=1`` keeps library frames).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

KEY = "bench-key-0000"
MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
API_VERSION = "2024-05-01-preview"
STREAM_CHUNKS = 3000
N_TEXTS = 2000
DIMS = 1024
CONCURRENCY = 300

SYSTEM = "You are a helpful assistant."
USER = "Say hello in one short sentence."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
TEXTS = [
    f"Document {i}: a short passage of text to embed, about as long as one sentence is."
    for i in range(N_TEXTS)
]


@dataclass
class Ctx:
    """Where the server is and how much work one measurement does."""

    base: str  # http://127.0.0.1:PORT
    calls: int  # chat calls per slice
    slices: int  # chat slices
    reps: int  # slices of the other jobs: one stream, one 2,000-text embed, one batch of 300
    budget: float  # no further slice starts after this many seconds (one always runs)

    @property
    def azure(self) -> str:
        return self.base + "/models"

    @property
    def openai(self) -> str:
        return self.base + "/v1"


@dataclass
class Bench:
    """A prepared job: ``warm()`` once, then ``step()`` per measured slice of ``units``."""

    warm: Callable[[], Any]
    step: Callable[[], Any]
    units: int
    slices: int
    is_async: bool = False


def _sync(
    ctx: Ctx,
    job: str,
    call: Callable[[], Any],
    count: Callable[[Any], int],
    warm: Callable[[], Any] | None = None,
) -> Bench:
    """Wrap one unit of work into a Bench; each slice checks its last result."""
    reps = ctx.calls if job == "chat" else 1
    per = {"chat": 1, "stream": STREAM_CHUNKS, "embed": N_TEXTS}[job]

    def step() -> Any:
        result = None
        for _ in range(reps):
            result = call()
        n = count(result)
        if n < per:
            raise AssertionError(f"{job}: got {n} units, expected {per}")
        return n

    slices = ctx.slices if job == "chat" else ctx.reps
    return Bench(warm=warm or call, step=step, units=reps * per, slices=slices)


WARM_BATCHES = 3
"""Full batches before the async job's slices: the pool fills over the first batches (ours paces
a model's first seconds against a server that reports no rate limit: its slow start), and a
client's steady state is what is measured, as for the other jobs."""


def _gather(ctx: Ctx, make_call: Callable[[], Callable[[], Awaitable[Any]]]) -> Bench:
    """300 concurrent calls per slice, after `WARM_BATCHES` full batches (the pool warm too)."""
    state: dict[str, Any] = {}

    async def batch() -> list[Any]:
        call = state.get("call")
        if call is None:
            call = state["call"] = make_call()
        return await asyncio.gather(*(call() for _ in range(CONCURRENCY)))

    async def warm() -> None:
        for _ in range(WARM_BATCHES):
            await batch()

    async def step() -> int:
        results = await batch()
        if len(results) != CONCURRENCY or not all(results):
            raise AssertionError("async: empty answers")
        return len(results)

    return Bench(warm=warm, step=step, units=CONCURRENCY, slices=ctx.reps, is_async=True)


def _embed(ctx: Ctx, fn: Callable[[list[str]], list[list[float]]]) -> Bench:
    """An embed job; the warm-up embeds a few texts (the same code path, a fraction of the time)."""
    return _sync(ctx, "embed", lambda: fn(TEXTS), _n_vectors, warm=lambda: fn(TEXTS[:16]))


def _n_chunks(n: int) -> int:
    return n


def _n_vectors(vectors: list[list[float]]) -> int:
    if len(vectors) != N_TEXTS or len(vectors[0]) != DIMS:
        raise AssertionError(f"embed: {len(vectors)} vectors of {len(vectors[0])}")
    return len(vectors)


def _one(text: Any) -> int:
    if not text:
        raise AssertionError("chat: empty answer")
    return 1


# ---------------------------------------------------------------- floors: raw httpx2 / httpx


def floor(ctx: Ctx, job: str) -> Bench:
    """The floor: raw ``httpx2`` (sync), ``httpx2`` over httpx-aiohttp's transport (async)."""
    import httpx2
    from httpx_aiohttp.httpx2 import AiohttpTransport

    def transport(limits: Any) -> Any:
        return AiohttpTransport(limits=limits)

    return _raw(ctx, job, httpx2, transport)


def floor_httpx(ctx: Ctx, job: str) -> Bench:
    """Raw ``httpx`` 0.28, stock (the library the peers use), for reference."""
    import httpx

    return _raw(ctx, job, httpx, None)


def _raw(ctx: Ctx, job: str, httpx: Any, transport: Callable[[Any], Any] | None) -> Bench:
    headers = {"api-key": KEY, "Content-Type": "application/json"}
    chat_url = f"{ctx.azure}/chat/completions?api-version={API_VERSION}"
    chat_body = json.dumps({"messages": MESSAGES, "model": MODEL}).encode()
    if job == "async":
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)

        def make() -> Callable[[], Awaitable[Any]]:
            extra = {"transport": transport(limits)} if transport else {}
            client = httpx.AsyncClient(headers=headers, limits=limits, **extra)

            async def call() -> Any:
                r = await client.post(chat_url, content=chat_body)
                return json.loads(r.content)["choices"][0]["message"]["content"]

            return call

        return _gather(ctx, make)
    client = httpx.Client(headers=headers)
    if job == "chat":

        def chat() -> Any:
            r = client.post(chat_url, content=chat_body)
            return json.loads(r.content)["choices"][0]["message"]["content"]

        return _sync(ctx, job, chat, _one)
    if job == "stream":
        body = json.dumps({"messages": MESSAGES, "model": MODEL, "stream": True}).encode()

        def stream() -> int:
            n = 0
            parts = []
            with client.stream("POST", chat_url, content=body) as r:
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    obj = json.loads(data)
                    for choice in obj["choices"]:
                        content = choice["delta"].get("content")
                        if content:
                            parts.append(content)
                            n += 1
            return n

        return _sync(ctx, job, stream, _n_chunks)
    if job == "embed":
        from array import array
        from base64 import b64decode

        url = f"{ctx.azure}/embeddings?api-version={API_VERSION}"

        def embed(texts: list[str]) -> list[list[float]]:
            out: list[list[float]] = []
            for i in range(0, len(texts), 256):
                body = {
                    "input": texts[i : i + 256],
                    "model": EMBED_MODEL,
                    "encoding_format": "base64",
                }
                data = json.loads(client.post(url, content=json.dumps(body).encode()).content)
                for item in data["data"]:
                    out.append(array("f", b64decode(item["embedding"])).tolist())
            return out

        return _embed(ctx, embed)
    raise KeyError(job)


# ---------------------------------------------------------------- ours: the core


def core(ctx: Ctx, job: str) -> Bench:
    import azureinference

    if job == "async":

        def make() -> Callable[[], Awaitable[Any]]:
            client = azureinference.AsyncClient(ctx.azure, KEY, model=MODEL)

            async def call() -> Any:
                return (await client.complete(MESSAGES)).choices[0].message.content

            return call

        return _gather(ctx, make)
    client = azureinference.Client(ctx.azure, KEY, model=MODEL)
    if job == "chat":
        return _sync(ctx, job, lambda: client.complete(MESSAGES).choices[0].message.content, _one)
    if job == "stream":

        def stream() -> int:
            n = 0
            for chunk in client.stream(MESSAGES):
                for choice in chunk.choices or ():
                    if choice.delta.content:
                        n += 1
            return n

        return _sync(ctx, job, stream, _n_chunks)
    if job == "embed":
        return _embed(ctx, lambda texts: client.embed(texts, model=EMBED_MODEL).vectors)
    raise KeyError(job)


# ---------------------------------------------------------------- azure-ai-inference SDK


def azure_sdk(ctx: Ctx, job: str) -> Bench:
    from azure.ai.inference.models import SystemMessage, UserMessage
    from azure.core.credentials import AzureKeyCredential

    cred = AzureKeyCredential(KEY)
    messages = [SystemMessage(content=SYSTEM), UserMessage(content=USER)]
    if job == "async":
        from azure.ai.inference.aio import ChatCompletionsClient as AsyncChat

        def make() -> Callable[[], Awaitable[Any]]:
            client = AsyncChat(endpoint=ctx.azure, credential=cred, model=MODEL)

            async def call() -> Any:
                return (await client.complete(messages=messages)).choices[0].message.content

            return call

        return _gather(ctx, make)
    from azure.ai.inference import ChatCompletionsClient, EmbeddingsClient

    if job == "chat":
        client = ChatCompletionsClient(endpoint=ctx.azure, credential=cred, model=MODEL)
        return _sync(
            ctx, job, lambda: client.complete(messages=messages).choices[0].message.content, _one
        )
    if job == "stream":
        client = ChatCompletionsClient(endpoint=ctx.azure, credential=cred, model=MODEL)

        def stream() -> int:
            n = 0
            for update in client.complete(messages=messages, stream=True):
                for choice in update.choices or ():
                    if choice.delta.content:
                        n += 1
            return n

        return _sync(ctx, job, stream, _n_chunks)
    if job == "embed":
        emb = EmbeddingsClient(endpoint=ctx.azure, credential=cred, model=EMBED_MODEL)
        return _embed(ctx, lambda texts: [d.embedding for d in emb.embed(input=texts).data])
    raise KeyError(job)


# ---------------------------------------------------------------- openai SDK


def openai_sdk(ctx: Ctx, job: str) -> Bench:
    import openai

    if job == "async":

        def make() -> Callable[[], Awaitable[Any]]:
            client = openai.AsyncOpenAI(base_url=ctx.openai, api_key=KEY)

            async def call() -> Any:
                r = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
                return r.choices[0].message.content

            return call

        return _gather(ctx, make)
    client = openai.OpenAI(base_url=ctx.openai, api_key=KEY)
    if job == "chat":
        return _sync(
            ctx,
            job,
            lambda: (
                client.chat.completions.create(model=MODEL, messages=MESSAGES)
                .choices[0]
                .message.content
            ),
            _one,
        )
    if job == "stream":

        def stream() -> int:
            n = 0
            for chunk in client.chat.completions.create(
                model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
            ):
                for choice in chunk.choices:
                    if choice.delta.content:
                        n += 1
            return n

        return _sync(ctx, job, stream, _n_chunks)
    if job == "embed":
        return _embed(
            ctx,
            lambda texts: [
                d.embedding for d in client.embeddings.create(model=EMBED_MODEL, input=texts).data
            ],
        )
    raise KeyError(job)


# ---------------------------------------------------------------- LangChain


def _lc_messages() -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=SYSTEM), HumanMessage(content=USER)]


def _lc_bench(
    ctx: Ctx, job: str, make_chat: Callable[[], Any], make_emb: Callable[[], Any]
) -> Bench:
    messages = _lc_messages()
    if job == "async":

        def make() -> Callable[[], Awaitable[Any]]:
            llm = make_chat()

            async def call() -> Any:
                return (await llm.ainvoke(messages)).content

            return call

        return _gather(ctx, make)
    if job == "chat":
        llm = make_chat()
        return _sync(ctx, job, lambda: llm.invoke(messages).content, _one)
    if job == "stream":
        llm = make_chat()

        def stream() -> int:
            n = 0
            for chunk in llm.stream(messages):
                if chunk.content:
                    n += 1
            return n

        return _sync(ctx, job, stream, _n_chunks)
    if job == "embed":
        emb = make_emb()
        return _embed(ctx, emb.embed_documents)
    raise KeyError(job)


def lc_ours(ctx: Ctx, job: str) -> Bench:
    from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel

    return _lc_bench(
        ctx,
        job,
        lambda: AzureAIChatCompletionsModel(endpoint=ctx.azure, credential=KEY, model=MODEL),
        lambda: AzureAIEmbeddingsModel(endpoint=ctx.azure, credential=KEY, model=EMBED_MODEL),
    )


def lc_azure_ai(ctx: Ctx, job: str) -> Bench:
    # The inference-based classes: langchain_azure_ai.chat_models.AzureAIChatCompletionsModel
    # now resolves to the OpenAI-API class, so they are imported from their modules.
    from langchain_azure_ai.chat_models.inference import AzureAIChatCompletionsModel
    from langchain_azure_ai.embeddings.inference import AzureAIEmbeddingsModel

    return _lc_bench(
        ctx,
        job,
        lambda: AzureAIChatCompletionsModel(endpoint=ctx.azure, credential=KEY, model=MODEL),
        lambda: AzureAIEmbeddingsModel(endpoint=ctx.azure, credential=KEY, model=EMBED_MODEL),
    )


def lc_openai(ctx: Ctx, job: str) -> Bench:
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings

    return _lc_bench(
        ctx,
        job,
        lambda: ChatOpenAI(base_url=ctx.openai, api_key=KEY, model=MODEL),
        lambda: OpenAIEmbeddings(
            base_url=ctx.openai, api_key=KEY, model=EMBED_MODEL, check_embedding_ctx_length=False
        ),
    )


def lc_fake(ctx: Ctx, job: str) -> Bench:
    """LangChain's own per-call cost: a minimal chat model that returns a fixed answer."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    answer = "Hello! Here is a short, friendly answer."
    usage = {"input_tokens": 25, "output_tokens": 40, "total_tokens": 65}
    meta = {"model_name": MODEL, "finish_reason": "stop", "id": "chatcmpl-bench-0001"}

    class FakeChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "bench-fake"

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            message = AIMessage(content=answer, usage_metadata=usage, response_metadata=meta)
            return ChatResult(generations=[ChatGeneration(message=message)])

        async def _agenerate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            return self._generate(messages)

        def _stream(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            for i in range(STREAM_CHUNKS):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=f" w{i}"))
                if run_manager is not None:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk

    return _lc_bench(ctx, job, FakeChat, lambda: None)


def lc_min(ctx: Ctx, job: str) -> Bench:
    """A reference: the leanest LangChain chat model and embedder on our core (no features)."""
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    import azureinference

    roles = {"system": "system", "human": "user", "ai": "assistant"}

    def wire(messages: Any) -> list[dict[str, Any]]:
        return [{"role": roles[m.type], "content": m.content} for m in messages]

    def usage(u: Any) -> Any:
        if u is None:
            return None
        return {
            "input_tokens": u.prompt_tokens,
            "output_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens,
        }

    def result(answer: Any) -> Any:
        choice = answer.choices[0]
        message = AIMessage(
            content=choice.message.content or "",
            usage_metadata=usage(answer.usage),
            response_metadata={"model_name": answer.model, "finish_reason": choice.finish_reason},
            id=answer.id,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    class MinChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "bench-min"

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            return result(sync_client.complete(wire(messages)))

        async def _agenerate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            return result(await async_client.complete(wire(messages)))

        def _stream(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            for chunk in sync_client.stream(wire(messages)):
                choice = chunk.choices[0] if chunk.choices else None
                content = choice.delta.content if choice is not None else None
                message = AIMessageChunk(content=content or "", usage_metadata=usage(chunk.usage))
                gen = ChatGenerationChunk(message=message)
                if run_manager is not None and content:
                    run_manager.on_llm_new_token(content, chunk=gen)
                yield gen

    class MinEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return sync_client.embed(texts, model=EMBED_MODEL).vectors

        def embed_query(self, text: str) -> list[float]:
            return self.embed_documents([text])[0]

    sync_client = azureinference.Client(ctx.azure, KEY, model=MODEL)
    async_client = azureinference.AsyncClient(ctx.azure, KEY, model=MODEL)
    return _lc_bench(ctx, job, MinChat, MinEmbeddings)


# ---------------------------------------------------------------- LlamaIndex


def _li_bench(
    ctx: Ctx, job: str, make_llm: Callable[[], Any], make_emb: Callable[[], Any]
) -> Bench:
    from llama_index.core.llms import ChatMessage

    messages = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=USER)]
    if job == "async":

        def make() -> Callable[[], Awaitable[Any]]:
            llm = make_llm()

            async def call() -> Any:
                return (await llm.achat(messages)).message.content

            return call

        return _gather(ctx, make)
    if job == "chat":
        llm = make_llm()
        return _sync(ctx, job, lambda: llm.chat(messages).message.content, _one)
    if job == "stream":
        llm = make_llm()

        def stream() -> int:
            n = 0
            for r in llm.stream_chat(messages):
                if r.delta:
                    n += 1
            return n

        return _sync(ctx, job, stream, _n_chunks)
    if job == "embed":
        emb = make_emb()
        return _embed(ctx, emb.get_text_embedding_batch)
    raise KeyError(job)


def li_ours(ctx: Ctx, job: str) -> Bench:
    from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

    return _li_bench(
        ctx,
        job,
        lambda: AzureAICompletionsModel(endpoint=ctx.azure, credential=KEY, model_name=MODEL),
        lambda: AzureAIEmbeddingsModel(endpoint=ctx.azure, credential=KEY, model_name=EMBED_MODEL),
    )


def li_azure_inference(ctx: Ctx, job: str) -> Bench:
    from llama_index.embeddings.azure_inference import AzureAIEmbeddingsModel
    from llama_index.llms.azure_inference import AzureAICompletionsModel

    return _li_bench(
        ctx,
        job,
        lambda: AzureAICompletionsModel(endpoint=ctx.azure, credential=KEY, model_name=MODEL),
        lambda: AzureAIEmbeddingsModel(endpoint=ctx.azure, credential=KEY, model_name=EMBED_MODEL),
    )


def li_min(ctx: Ctx, job: str) -> Bench:
    """A reference: the leanest LlamaIndex LLM and embedder on our core (no features)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        CompletionResponse,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_chat_callback
    from llama_index.core.llms.llm import LLM

    import azureinference

    def wire(messages: Any) -> list[dict[str, Any]]:
        return [{"role": m.role.value, "content": m.content} for m in messages]

    def response(answer: Any) -> Any:
        choice = answer.choices[0]
        return ChatResponse(
            message=ChatMessage(role="assistant", content=choice.message.content),
            raw=answer,
        )

    class MinLLM(LLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(is_chat_model=True, model_name=MODEL)

        @llm_chat_callback()
        def chat(self, messages: Any, **kw: Any) -> Any:
            return response(sync_client.complete(wire(messages)))

        @llm_chat_callback()
        async def achat(self, messages: Any, **kw: Any) -> Any:
            return response(await async_client.complete(wire(messages)))

        @llm_chat_callback()
        def stream_chat(self, messages: Any, **kw: Any) -> Any:
            stream = sync_client.stream(wire(messages))

            def gen() -> Any:
                text = ""
                for chunk in stream:
                    delta = chunk.choices[0].delta.content if chunk.choices else None
                    if delta is None:
                        continue
                    text += delta
                    yield ChatResponse(
                        message=ChatMessage(role="assistant", content=text), delta=delta, raw=chunk
                    )

            return gen()

        def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            return CompletionResponse(text=self.chat([ChatMessage(content=prompt)]).message.content)

        def stream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            raise NotImplementedError

        async def acomplete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            raise NotImplementedError

        async def astream_chat(self, messages: Any, **kw: Any) -> Any:
            raise NotImplementedError

        async def astream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            raise NotImplementedError

    class MinEmbedding(BaseEmbedding):
        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return sync_client.embed(texts, model=EMBED_MODEL).vectors

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

    sync_client = azureinference.Client(ctx.azure, KEY, model=MODEL)
    async_client = azureinference.AsyncClient(ctx.azure, KEY, model=MODEL)
    return _li_bench(
        ctx, job, MinLLM, lambda: MinEmbedding(model_name=EMBED_MODEL, embed_batch_size=256)
    )


CLIENTS: dict[str, Callable[[Ctx, str], Bench]] = {
    "httpx2": floor,
    "httpx": floor_httpx,
    "azureinference": core,
    "azure-ai-inference": azure_sdk,
    "openai": openai_sdk,
    "lc-fake": lc_fake,
    "lc-min": lc_min,
    "lc-ours": lc_ours,
    "langchain-azure-ai": lc_azure_ai,
    "langchain-openai": lc_openai,
    "li-min": li_min,
    "li-ours": li_ours,
    "llama-index-azure-inference": li_azure_inference,
}
JOBS = ("chat", "stream", "embed", "async")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _measure(bench: Bench, budget: float, profile: str | None) -> list[tuple[float, float]]:
    """Warm up, then run the slices; return each slice's (CPU seconds, wall seconds)."""
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="enabled")
    slices: list[tuple[float, float]] = []

    def record(w0: float, c0: float) -> bool:
        """Record one slice; True while another slice fits in the budget."""
        now = time.perf_counter()
        slices.append((_cpu() - c0, now - w0))
        return len(slices) < bench.slices and sum(w for _, w in slices) < budget

    if bench.is_async:

        async def main() -> None:
            await bench.warm()
            if profiler:
                profiler.start()
            while True:
                w0, c0 = time.perf_counter(), _cpu()
                await bench.step()
                if not record(w0, c0):
                    break
            if profiler:
                profiler.stop()

        asyncio.run(main())
    else:
        bench.warm()
        if profiler:
            profiler.start()
        while True:
            w0, c0 = time.perf_counter(), _cpu()
            bench.step()
            if not record(w0, c0):
                break
        if profiler:
            profiler.stop()
    if profiler and profile:
        show_all = bool(os.environ.get("BENCH_PROFILE_ALL"))
        with open(profile, "w") as f:
            f.write(profiler.output_text(unicode=False, color=False, show_all=show_all))
    return slices


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one benchmark job in this process.")
    parser.add_argument("client", choices=sorted(CLIENTS))
    parser.add_argument("job", choices=JOBS)
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8765")
    parser.add_argument("--calls", type=int, default=40, help="chat calls per slice")
    parser.add_argument("--slices", type=int, default=5, help="chat slices")
    parser.add_argument("--reps", type=int, default=2, help="slices of the other jobs")
    parser.add_argument("--budget", type=float, default=4.0, help="seconds; then no new slice")
    parser.add_argument("--profile", help="write a pyinstrument text report of the loop here")
    args = parser.parse_args()
    os.environ.pop("AZURE_INFERENCE_ENDPOINT", None)
    os.environ.pop("AZURE_INFERENCE_CREDENTIAL", None)
    ctx = Ctx(args.url.rstrip("/"), args.calls, args.slices, args.reps, args.budget)
    try:
        bench = CLIENTS[args.client](ctx, args.job)
        slices = _measure(bench, args.budget, args.profile)
    except BaseException as exc:  # any failure is reported, never fatal to the run
        traceback.print_exc(file=sys.stderr)
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        print(json.dumps({"ok": False, "error": msg}))
        sys.exit(0)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "ok": True,
        "units": bench.units,  # per slice
        "slices": slices,  # [(cpu s, wall s), ...]
        "best": min(cpu for cpu, _ in slices) / bench.units,  # CPU s per unit, calmest slice
        "cpu": sum(cpu for cpu, _ in slices),
        "wall": sum(wall for _, wall in slices),
        "maxrss_kb": maxrss,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
