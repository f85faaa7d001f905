"""One regression test per wire defect of issue 14 (and issue 9 item 10, issue 15 items 1-2).

Hand-written answers in the shape real services sent (see ``../shared/realwire/INDEX.md``), so
the behaviour is pinned without the shared recordings. Each runs through the core, LangChain and
LlamaIndex, sync and async, on a local server.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from realwire_support import ADAPTER_OPTIONS, KEY, LAYERS, OPTIONS, RUNNERS, Answer, Got, serve

from azureinference import APIStatusError, Client, MalformedResponseError

_QUEUE: deque[Answer] = deque()


def _next(path: str) -> Answer:
    return _QUEUE.popleft()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    with serve(_next) as running:
        yield running


@pytest.fixture
def endpoint(server: tuple[str, list[tuple[str, Any]]]) -> Iterator[str]:
    _QUEUE.clear()
    server[1].clear()
    yield server[0] + "/v1"
    _QUEUE.clear()


def answer(body: dict[str, Any], status: int = 200) -> None:
    _QUEUE.append((status, {"content-type": "application/json"}, json.dumps(body).encode(), None))


def stream(*events: dict[str, Any] | str) -> None:
    pieces = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    _QUEUE.append((200, {"content-type": "text/event-stream"}, b"", pieces))


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **kw: Any) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c-1", "object": "chat.completion.chunk", "model": "m", "choices": choices, **kw}


def completion(message: dict[str, Any], finish: str = "stop", **kw: Any) -> dict[str, Any]:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    return {"id": "c-1", "model": "m", "choices": [choice], "usage": usage, **kw}


def run(layer: str, sync: bool, endpoint: str, *, streamed: bool = False) -> Got:
    rec = {"id": "x", "route": "chat", "request": {"model": "m", "stream": streamed}}
    got = asyncio.run(RUNNERS[layer](rec, endpoint, sync))
    assert isinstance(got, Got)
    return got


EVERY = pytest.mark.parametrize(
    ("layer", "sync"),
    [(layer, sync) for layer in LAYERS for sync in (True, False)],
    ids=[f"{layer}-{mode}" for layer in LAYERS for mode in ("sync", "async")],
)

THINKING = [{"type": "thinking", "thinking": [{"type": "text", "text": "Look both ways."}]}]


# ---- 1. content as a list of thinking/text parts (Mistral) --------------------------------


@EVERY
def test_content_parts_answer(endpoint: str, layer: str, sync: bool) -> None:
    content = [*THINKING, {"type": "text", "text": "Cross "}, {"type": "text", "text": "now."}]
    answer(completion({"content": content}))
    got = run(layer, sync, endpoint)
    assert (got.text, got.reasoning) == ("Cross now.", "Look both ways.")


@EVERY
def test_content_parts_stream(endpoint: str, layer: str, sync: bool) -> None:
    stream(
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": THINKING}),
        chunk({"content": [{"type": "text", "text": "Cross"}]}),
        chunk({"content": " now."}, "stop"),
        "[DONE]",
    )
    got = run(layer, sync, endpoint, streamed=True)
    assert (got.text, got.reasoning, got.finish_reason) == ("Cross now.", "Look both ways.", "stop")


# ---- 2. an error inside a chunk that also carries choices (OpenRouter) ---------------------


@EVERY
def test_error_chunk_with_choices_raises_the_service_error(
    endpoint: str, layer: str, sync: bool
) -> None:
    stream(
        chunk({"role": "assistant", "content": "", "reasoning": "We need"}, "length"),
        {**chunk({"content": ""}), "error": {"code": 400, "message": "Token limit reached"}},
        "[DONE]",
    )
    with pytest.raises(APIStatusError, match="Token limit reached") as caught:
        run(layer, sync, endpoint, streamed=True)
    assert caught.value.status_code == 400


# ---- 3. streamed refusals -------------------------------------------------------------------


@EVERY
def test_streamed_refusal(endpoint: str, layer: str, sync: bool) -> None:
    stream(
        chunk({"role": "assistant", "content": None, "refusal": ""}),
        chunk({"content": None, "refusal": "I'm sorry, "}),
        chunk({"content": None, "refusal": "I can't help."}),
        chunk({}, "stop"),
        "[DONE]",
    )
    got = run(layer, sync, endpoint, streamed=True)
    assert (got.text, got.refusal) == (None, "I'm sorry, I can't help.")


# ---- 4. `reasoning` (Groq, OpenRouter, Cerebras, Ollama), answered and streamed -----------


@EVERY
def test_reasoning_spelling(endpoint: str, layer: str, sync: bool) -> None:
    answer(completion({"content": "4", "reasoning": "2 + 2 is 4."}))
    assert (run(layer, sync, endpoint).reasoning) == "2 + 2 is 4."
    stream(
        chunk({"reasoning": "2 + 2"}),
        chunk({"reasoning": " is 4."}),
        chunk({"content": "4"}, "stop"),
        "[DONE]",
    )
    got = run(layer, sync, endpoint, streamed=True)
    assert (got.text, got.reasoning) == ("4", "2 + 2 is 4.")


# ---- 5. usage kept when a chunk follows the usage chunk (OpenAI's moderation chunk) -------


@EVERY
def test_usage_before_a_last_chunk(endpoint: str, layer: str, sync: bool) -> None:
    usage = {"prompt_tokens": 13, "completion_tokens": 11, "total_tokens": 24}
    stream(
        chunk({"role": "assistant", "content": "Paris."}),
        chunk({}, "stop"),
        chunk(usage=usage),
        chunk(moderation={"input": {"flagged": False}}),
        "[DONE]",
    )
    assert run(layer, sync, endpoint, streamed=True).usage == (13, 11, 24)


# ---- 6. a server that repeats function.name and id in every delta (llama.cpp) -------------


@EVERY
def test_repeated_tool_name_is_not_concatenated(endpoint: str, layer: str, sync: bool) -> None:
    def piece(args: str) -> dict[str, Any]:
        call = {"index": 0, "id": "call_1", "type": "function"}
        return chunk(
            {"tool_calls": [{**call, "function": {"name": "get_weather", "arguments": args}}]}
        )

    stream(piece('{"city"'), piece(': "Paris"'), piece("}"), chunk({}, "tool_calls"), "[DONE]")
    got = run(layer, sync, endpoint, streamed=True)
    assert got.tool_calls == [("call_1", "get_weather", {"city": "Paris"})]


# ---- issue 9 item 10: choices: [] and negative token counts ------------------------------


@EVERY
def test_no_choices_is_malformed(endpoint: str, layer: str, sync: bool) -> None:
    answer({"id": "c-1", "model": "m", "choices": []})
    with pytest.raises(MalformedResponseError, match="choices"):
        run(layer, sync, endpoint)
    stream(chunk(usage={"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}), "[DONE]")
    with pytest.raises(MalformedResponseError, match="choice"):
        run(layer, sync, endpoint, streamed=True)


@EVERY
def test_negative_token_counts_are_malformed(endpoint: str, layer: str, sync: bool) -> None:
    body = completion({"content": "hi"})
    body["usage"]["completion_tokens"] = -2
    answer(body)
    with pytest.raises(MalformedResponseError, match="completion_tokens"):
        run(layer, sync, endpoint)


# ---- 8. Azure content filter results, where users look (and issue 15 items 1-2) ----------

PROMPT_FILTER = [{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False}}}]
SAFE = {"filtered": False, "severity": "safe"}
LOW = {"filtered": False, "severity": "low"}


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_langchain_filter_results_and_peer_keys(endpoint: str, sync: bool) -> None:
    from langchain_azureinference import AzureAIChatCompletionsModel

    llm = AzureAIChatCompletionsModel(
        endpoint=endpoint, credential=KEY, model="m", client_kwargs=ADAPTER_OPTIONS
    )
    body = completion({"content": "hi"}, prompt_filter_results=PROMPT_FILTER)
    body["choices"][0]["content_filter_results"] = {"violence": SAFE}
    answer(body)
    message = llm.invoke("hi") if sync else asyncio.run(llm.ainvoke("hi"))
    meta = message.response_metadata
    assert meta["prompt_filter_results"] == PROMPT_FILTER
    assert meta["content_filter_results"] == {"violence": SAFE}
    assert meta["model"] == meta["model_name"] == "m"  # the peer's key and ChatOpenAI's
    assert meta["token_usage"]["input_tokens"] == meta["token_usage"]["prompt_tokens"] == 3
    assert meta["token_usage"]["output_tokens"] == meta["token_usage"]["completion_tokens"] == 2
    if sync:  # llm_output says the same
        answer(body)
        from langchain_core.messages import HumanMessage

        output = llm.generate([[HumanMessage("hi")]]).llm_output or {}
        assert output["model"] == output["model_name"] == "m"
        assert output["token_usage"]["input_tokens"] == 3


def stream_with_filters() -> None:
    events: list[dict[str, Any] | str] = [
        {**chunk(), "id": "", "model": "", "prompt_filter_results": PROMPT_FILTER},
    ]
    for delta, finish, results in (
        ({"role": "assistant", "content": "a"}, None, {"violence": SAFE}),
        ({"content": "b"}, None, {"violence": LOW}),
        ({"content": "c"}, None, {"violence": SAFE}),
        ({}, "stop", {}),
    ):
        event = chunk(delta, finish)
        event["choices"][0]["content_filter_results"] = results
        events.append(event)
    stream(*events, "[DONE]")


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_langchain_streamed_filter_results(endpoint: str, sync: bool) -> None:
    from langchain_azureinference import AzureAIChatCompletionsModel

    llm = AzureAIChatCompletionsModel(
        endpoint=endpoint, credential=KEY, model="m", client_kwargs=ADAPTER_OPTIONS
    )
    stream_with_filters()

    async def collect() -> list[Any]:
        return [c async for c in llm.astream("hi")]

    chunks = list(llm.stream("hi")) if sync else asyncio.run(collect())
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert total.content == "abc"
    meta = total.response_metadata
    assert meta["prompt_filter_results"] == PROMPT_FILTER
    assert meta["content_filter_results"] == {"violence": LOW}  # the most severe piece


@pytest.mark.parametrize("streamed", [False, True], ids=["answer", "stream"])
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_llamaindex_filter_results_and_raw_dict(endpoint: str, sync: bool, streamed: bool) -> None:
    from llama_index.core.base.llms.types import ChatMessage

    from llamaindex_azureinference import AzureAICompletionsModel

    llm = AzureAICompletionsModel(
        endpoint=endpoint, credential=KEY, model_name="m", client_kwargs=ADAPTER_OPTIONS
    )
    messages = [ChatMessage(role="user", content="hi")]
    if streamed:
        stream_with_filters()

        async def collect() -> list[Any]:
            return [r async for r in await llm.astream_chat(messages)]

        responses = list(llm.stream_chat(messages)) if sync else asyncio.run(collect())
        last = responses[-1]
        expected = {"violence": LOW}
        assert all(isinstance(r.raw, dict) for r in responses)  # each chunk's dict
        assert last.raw["choices"][0]["finish_reason"] == "stop"
    else:
        body = completion({"content": "hi"}, prompt_filter_results=PROMPT_FILTER)
        body["choices"][0]["content_filter_results"] = expected = {"violence": SAFE}
        answer(body)
        last = llm.chat(messages) if sync else asyncio.run(llm.achat(messages))
        assert last.raw["usage"]["total_tokens"] == 5  # the peer's raw: a dict
        assert last.raw.usage.total_tokens == 5  # typed access kept
    assert last.additional_kwargs["prompt_filter_results"] == PROMPT_FILTER
    assert last.additional_kwargs["content_filter_results"] == expected


# ---- 7. fallbacks behind a gateway that names no parameter (LiteLLM) ----------------------

LITELLM_422 = {
    "error": {
        "message": "litellm.BadRequestError: OpenAIException - One of the parameters contain "
        "invalid values.",
        "type": None,
        "param": None,
        "code": "422",
    }
}


def test_embeddings_behind_litellm_retry_once_without_base64(
    endpoint: str, server: tuple[str, list[tuple[str, Any]]]
) -> None:
    vectors = {"data": [{"index": 0, "embedding": [0.5, 0.25]}], "model": "m"}
    answer(LITELLM_422, status=422)
    answer(vectors)
    answer(vectors)
    with Client(endpoint, KEY, model="m", **OPTIONS) as client:
        assert client.embed(["a"]).vectors == [[0.5, 0.25]]
        assert client.capabilities.base64_embeddings is False  # remembered
        assert client.embed(["b"]).vectors == [[0.5, 0.25]]
    sent = [body for _, body in server[1]]
    assert [b.get("encoding_format") for b in sent] == ["base64", None, None]


def test_stream_options_behind_litellm_retry_once_without(
    endpoint: str, server: tuple[str, list[tuple[str, Any]]]
) -> None:
    answer(LITELLM_422, status=422)
    stream(chunk({"role": "assistant", "content": "hi"}, "stop"), "[DONE]")
    with Client(endpoint, KEY, model="m", **OPTIONS) as client:
        with client.stream([{"role": "user", "content": "hi"}]) as chunks:
            assert [c.choices[0].delta.content for c in chunks if c.choices] == ["hi"]
        assert client.capabilities.stream_options is False
    sent = [body for _, body in server[1]]
    assert ["stream_options" in b for b in sent] == [True, False]


def test_a_nameless_refusal_is_no_reason_to_drop_what_the_user_asked(
    endpoint: str, server: tuple[str, list[tuple[str, Any]]]
) -> None:
    answer(LITELLM_422, status=422)
    with (
        Client(endpoint, KEY, model="m", **OPTIONS) as client,
        pytest.raises(APIStatusError, match="One of the parameters"),
    ):
        client.embed(["a"], encoding_format="float")
    assert len(server[1]) == 1  # no retry: the user chose the encoding


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_json_schema_falls_back_to_tools_behind_litellm(
    endpoint: str, server: tuple[str, list[tuple[str, Any]]], sync: bool
) -> None:
    from pydantic import BaseModel

    from langchain_azureinference import AzureAIChatCompletionsModel

    class Person(BaseModel):
        name: str

    llm = AzureAIChatCompletionsModel(
        endpoint=endpoint, credential=KEY, model="m", client_kwargs=ADAPTER_OPTIONS
    )
    fn = {"name": "Person", "arguments": '{"name": "Ada"}'}
    call = {"id": "t1", "type": "function", "function": fn}
    answer(LITELLM_422, status=422)
    answer(completion({"content": None, "tool_calls": [call]}, finish="tool_calls"))
    structured = llm.with_structured_output(Person)
    result = structured.invoke("Ada?") if sync else asyncio.run(structured.ainvoke("Ada?"))
    assert result == Person(name="Ada")
    sent = [body for _, body in server[1]]
    assert sent[0]["response_format"]["type"] == "json_schema"
    assert "response_format" not in sent[1]
    assert sent[1]["tool_choice"]["function"]["name"] == "Person"
