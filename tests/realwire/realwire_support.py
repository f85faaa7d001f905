"""Shared by the real-wire tests: a local server, and each layer's reading in one shape.

`serve` starts a stdlib HTTP server on 127.0.0.1 in a thread; a ``responder(path)`` says what
each request gets (status, headers, body, or pieces sent as one HTTP chunk each). The runners
call a layer (the core, LangChain, LlamaIndex), sync or async, and return what it made of the
answer as a `Got` (or the vectors of an embeddings call).
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from azureinference import AsyncClient, Client

KEY = "test-key-not-a-secret"
# One TLS context for every client: each client would otherwise load the system's certificates
# (a third of a second each), for plain http on 127.0.0.1 that never uses them.
_TLS = ssl.create_default_context()
OPTIONS: dict[str, Any] = {"max_retries": 0, "httpx_kwargs": {"verify": _TLS}}
ADAPTER_OPTIONS: dict[str, Any] = {"httpx_kwargs": {"verify": _TLS}}
LAYERS = ("core", "langchain", "llamaindex")

Answer = tuple[int, dict[str, str], bytes, "list[str] | None"]
"""(status, headers, body, pieces or None)."""


def args_of(text: str | None) -> Any:
    """Tool-call arguments parsed (an empty text is no arguments)."""
    return json.loads(text) if text and text.strip() else {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    responder: Callable[[str], Answer]
    seen: list[tuple[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        sent = self.rfile.read(length)
        self.seen.append((self.path.split("?")[0], json.loads(sent) if sent else None))
        status, headers, body, pieces = type(self).responder(self.path)
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        if pieces:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in pieces:
                data = piece.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        self.wfile.flush()


@contextmanager
def serve(responder: Callable[[str], Answer]) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """Serve ``responder``'s answers on 127.0.0.1; yields (base URL, the requests seen)."""
    seen: list[tuple[str, Any]] = []
    handler = type("Handler", (_Handler,), {"responder": staticmethod(responder), "seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# ---- what each layer made of it, in one shape ----------------------------------------------


@dataclass
class Got:
    text: str | None
    reasoning: str | None
    refusal: str | None
    tool_calls: list[tuple[str | None, str | None, Any]]
    finish_reason: str | None
    usage: tuple[int, int, int] | None


def _core_got(completion: Any) -> Got:
    choice = completion.choices[0]
    message = choice.message
    usage = completion.usage
    return Got(
        message.text or None,
        message.reasoning_text,
        message.refusal,
        [(c.id, c.function.name, args_of(c.function.arguments)) for c in message.tool_calls or ()],
        choice.finish_reason,
        (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) if usage else None,
    )


def _lc_got(message: Any) -> Got:
    usage = message.usage_metadata
    assert not message.invalid_tool_calls
    return Got(
        message.content or None,
        message.additional_kwargs.get("reasoning_content"),
        message.additional_kwargs.get("refusal"),
        [(c["id"], c["name"], c["args"]) for c in message.tool_calls],
        message.response_metadata.get("finish_reason"),
        (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) if usage else None,
    )


def _li_got(llm: Any, response: Any) -> Got:
    from llama_index.core.base.llms.types import TextBlock, ThinkingBlock

    message = response.message
    text = "".join(b.text for b in message.blocks if isinstance(b, TextBlock))
    thinking = "".join(b.content or "" for b in message.blocks if isinstance(b, ThinkingBlock))
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    extra = response.additional_kwargs
    usage = (
        (extra["prompt_tokens"], extra["completion_tokens"], extra["total_tokens"])
        if "total_tokens" in extra
        else None
    )
    return Got(
        text or None,
        thinking or None,
        message.additional_kwargs.get("refusal"),
        [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls],
        message.additional_kwargs.get("finish_reason"),
        usage,
    )


def _chat_kwargs(rec: dict[str, Any]) -> dict[str, Any]:
    tools = rec["request"].get("tools")
    if not tools:
        return {}
    # The recorded request of some services' clients leaves out "type" (Mistral's): the API's.
    return {"tools": [{"type": "function", **t} for t in tools]}


async def _run_core(rec: dict[str, Any], endpoint: str, sync: bool) -> Got | list[list[float]]:
    model = rec["request"].get("model")
    messages = [{"role": "user", "content": rec["request"].get("prompt") or "Hi"}]
    if sync:
        with Client(endpoint, KEY, model=model, **OPTIONS) as client:
            if rec["route"] == "embeddings":
                return client.embed(rec["request"]["input"]).vectors
            if rec["request"].get("stream"):
                with client.stream(messages, **_chat_kwargs(rec)) as stream:
                    for _ in stream:
                        pass
                return _core_got(stream.state.final())
            return _core_got(client.complete(messages, **_chat_kwargs(rec)))
    aclient = AsyncClient(endpoint, KEY, model=model, **OPTIONS)
    try:
        if rec["route"] == "embeddings":
            return (await aclient.embed(rec["request"]["input"])).vectors
        if rec["request"].get("stream"):
            astream = await aclient.stream(messages, **_chat_kwargs(rec))
            async with astream:
                async for _ in astream:
                    pass
            return _core_got(astream.state.final())
        return _core_got(await aclient.complete(messages, **_chat_kwargs(rec)))
    finally:
        await aclient.aclose()


async def _run_langchain(rec: dict[str, Any], endpoint: str, sync: bool) -> Got | list[list[float]]:
    from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel

    model = rec["request"].get("model")
    prompt = rec["request"].get("prompt") or "Hi"
    if rec["route"] == "embeddings":
        embedder = AzureAIEmbeddingsModel(
            endpoint=endpoint,
            credential=KEY,
            model=model,
            max_retries=0,
            client_kwargs=ADAPTER_OPTIONS,
        )
        texts = rec["request"]["input"]
        if sync:
            return embedder.embed_documents(texts)
        return await embedder.aembed_documents(texts)
    llm = AzureAIChatCompletionsModel(
        endpoint=endpoint, credential=KEY, model=model, max_retries=0, client_kwargs=ADAPTER_OPTIONS
    )
    kwargs = _chat_kwargs(rec)
    if rec["request"].get("stream"):
        if sync:
            chunks = list(llm.stream(prompt, **kwargs))
        else:
            chunks = [c async for c in llm.astream(prompt, **kwargs)]
        total = chunks[0]
        for chunk in chunks[1:]:
            total = total + chunk
        return _lc_got(total)
    message = llm.invoke(prompt, **kwargs) if sync else await llm.ainvoke(prompt, **kwargs)
    return _lc_got(message)


async def _run_llamaindex(
    rec: dict[str, Any], endpoint: str, sync: bool
) -> Got | list[list[float]]:
    from llama_index.core.base.llms.types import ChatMessage

    from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

    model = rec["request"].get("model")
    if rec["route"] == "embeddings":
        embedder = AzureAIEmbeddingsModel(
            endpoint=endpoint,
            credential=KEY,
            model_name=model,
            max_retries=0,
            client_kwargs=ADAPTER_OPTIONS,
        )
        texts = rec["request"]["input"]
        if sync:
            return embedder.get_text_embedding_batch(texts)
        return await embedder.aget_text_embedding_batch(texts)
    llm = AzureAICompletionsModel(
        endpoint=endpoint,
        credential=KEY,
        model_name=model,
        max_retries=0,
        client_kwargs=ADAPTER_OPTIONS,
    )
    messages = [ChatMessage(role="user", content=rec["request"].get("prompt") or "Hi")]
    kwargs = _chat_kwargs(rec)
    if rec["request"].get("stream"):
        if sync:
            responses = list(llm.stream_chat(messages, **kwargs))
        else:
            responses = [r async for r in await llm.astream_chat(messages, **kwargs)]
        last = responses[-1]
        assert "".join(r.delta or "" for r in responses) == (last.message.content or "")
        return _li_got(llm, last)
    response = llm.chat(messages, **kwargs) if sync else await llm.achat(messages, **kwargs)
    assert isinstance(response.raw, dict)  # the peer's raw: the answer as a dict
    return _li_got(llm, response)


RUNNERS = {"core": _run_core, "langchain": _run_langchain, "llamaindex": _run_llamaindex}
