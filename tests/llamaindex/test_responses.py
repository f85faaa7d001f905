"""`AzureAICompletionsModel` in Responses API mode (issue 23, items 3 and 4).

Every Responses recording served from a local server and read through LlamaIndex's ``chat`` /
``achat`` / ``stream_chat`` / ``astream_chat``, compared with what the recorded body says; then
the emulator: tools and a `FunctionAgent`, structured predict, reasoning passed back, the tracked
response id; and the chat fallback for a model (or an endpoint) without the Responses API.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from core.responses_wire import (
    RECORDINGS,
    Answer,
    answer_of,
    expected,
    final_json,
    is_stream,
    serve,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from azureinference import APIStatusError, ConfigurationError, RateLimitError, ServerError
from azureinference.emulator import Emulator, EmulatorConfig, ModelSpec, running_emulator
from azureinference.emulator.config import default_models
from llamaindex_azureinference import AzureAICompletionsModel

KEY = "test-key-not-a-secret"
CHAT_ONLY = "emulator-chat-only"
SYNC = pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])


class Person(BaseModel):
    name: str
    age: int


def get_weather(city: str) -> str:
    """Get the current weather in a given city."""
    return f"sunny in {city}"


WEATHER = FunctionTool.from_defaults(fn=get_weather)


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def run(
    llm: AzureAICompletionsModel,
    sync: bool,
    stream: bool,
    messages: list[ChatMessage],
    **kwargs: Any,
) -> list[ChatResponse]:
    """One call (sync or async, streamed or not); every response it gave."""
    if sync:
        if stream:
            return list(llm.stream_chat(messages, **kwargs))
        return [llm.chat(messages, **kwargs)]

    async def go() -> list[ChatResponse]:
        if stream:
            return [r async for r in await llm.astream_chat(messages, **kwargs)]
        return [await llm.achat(messages, **kwargs)]

    return asyncio.run(go())


# ---- the recordings ----------------------------------------------------------------------------


def _served(rec: dict[str, Any]) -> Any:
    def responder(path: str, body: Any) -> Answer:
        return answer_of(rec)

    return serve(responder)


def _said(response: ChatResponse, llm: AzureAICompletionsModel) -> dict[str, Any]:
    """What the LlamaIndex response says, in the shape `expected` gives."""
    blocks = response.message.blocks
    thinking = [b for b in blocks if isinstance(b, ThinkingBlock)]
    extra = response.additional_kwargs
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    return {
        "id": extra.get("response_id"),
        "text": "".join(b.text for b in blocks if isinstance(b, TextBlock)),
        "refusal": response.message.additional_kwargs.get("refusal"),
        "calls": [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls],
        "summaries": [p["text"] for b in thinking for p in b.additional_information["summary"]],
        "encrypted": [b.additional_information.get("encrypted_content") for b in thinking],
        "incomplete_reason": extra.get("incomplete_reason"),
        "usage": (
            extra["prompt_tokens"],
            extra["completion_tokens"],
            extra["total_tokens"],
            extra["cached_tokens"],
            extra["reasoning_tokens"],
        )
        if "prompt_tokens" in extra
        else None,
    }


def _wanted(answer: dict[str, Any]) -> dict[str, Any]:
    said = expected(answer)
    return {
        "id": said.id,
        "text": said.text,
        "refusal": said.refusal,
        "calls": [(c[0], c[1], c[2]) for c in said.calls],
        "summaries": said.summaries,
        "encrypted": said.encrypted,
        "incomplete_reason": said.incomplete_reason,
        "usage": said.usage,
    }


@SYNC
@pytest.mark.skipif(not RECORDINGS, reason="The Responses recordings are not beside the checkout.")
@pytest.mark.parametrize("rec_id", sorted(RECORDINGS))
def test_recording_through_llamaindex(rec_id: str, sync: bool) -> None:
    rec = RECORDINGS[rec_id]
    request = rec["request"]
    stream = is_stream(rec)
    tools = [t for t in request.get("tools") or () if t.get("type") == "function"]
    kwargs = {"tools": tools} if tools else {}
    with _served(rec) as (url, seen):
        llm = AzureAICompletionsModel(
            endpoint=url + (rec["endpoint_path"] or ""),
            credential=KEY,
            model_name=request.get("model") or "gpt-4o",
            use_responses_api=True,
            max_retries=0,
        )
        try:
            responses = run(llm, sync, stream, [user("Hi")], **kwargs)
        except APIStatusError as err:
            error: APIStatusError | None = err
        else:
            error = None
    assert seen[0][0].split("?")[0].endswith("/responses")
    status = rec["response"]["status"]
    if status >= 400:
        from core.responses_wire import body_bytes

        body = json.loads(body_bytes(rec))["error"]
        assert error is not None
        assert (error.status_code, error.code) == (status, body["code"])
        return
    final = final_json(rec)
    assert final is not None
    if final["status"] == "failed":
        assert isinstance(error, (RateLimitError, ServerError))
        return
    assert error is None
    last = responses[-1]
    assert _said(last, llm) == _wanted(final)
    reasons = {"max_output_tokens": "length", "content_filter": "content_filter"}
    if final["status"] == "incomplete":
        reason = reasons[final["incomplete_details"]["reason"]]
        assert last.message.additional_kwargs["finish_reason"] == reason
    if stream:
        assert "".join(r.delta or "" for r in responses) == _wanted(final)["text"]


# ---- the emulator ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    config = EmulatorConfig(
        models=[*default_models(), ModelSpec(CHAT_ONLY, unsupported=frozenset({"responses"}))]
    )
    with running_emulator(config) as emulator:
        yield emulator


def make(emu: Emulator, model: str = "emulator-chat", **kwargs: Any) -> AzureAICompletionsModel:
    emu.reset()
    kwargs.setdefault("use_responses_api", True)
    return AzureAICompletionsModel(
        endpoint=emu.endpoint, credential=emu.key, model_name=model, max_retries=0, **kwargs
    )


def paths(emu: Emulator) -> list[str]:
    return [r.path.split("?")[0] for r in emu.requests]


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_chat_through_the_responses_route(emu: Emulator, sync: bool, stream: bool) -> None:
    llm = make(emu)
    responses = run(llm, sync, stream, [user("Hi")])
    last = responses[-1]
    assert last.message.content == "You said: Hi"
    assert last.message.additional_kwargs["finish_reason"] == "stop"
    extra = last.additional_kwargs
    assert extra["total_tokens"] == extra["prompt_tokens"] + extra["completion_tokens"] > 0
    assert extra["response_id"].startswith("resp_")
    raw = last.raw["response"] if stream else last.raw  # the terminal event, or the answer
    assert raw["id"] == extra["response_id"]
    assert paths(emu) == ["/openai/v1/responses"]
    body = emu.requests[0].json
    assert "temperature" not in body  # LlamaIndex's default is not sent to a reasoning model
    if stream:
        assert "".join(r.delta or "" for r in responses) == "You said: Hi"


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_tool_calls(emu: Emulator, sync: bool, stream: bool) -> None:
    llm = make(emu)
    if sync:
        if stream:
            response = list(
                llm.stream_chat_with_tools(
                    [WEATHER], user_msg="Weather in Oslo", tool_required=True
                )
            )[-1]
        else:
            response = llm.chat_with_tools(
                [WEATHER], user_msg="Weather in Oslo", tool_required=True
            )
    else:

        async def go() -> ChatResponse:
            if stream:
                gen = await llm.astream_chat_with_tools(
                    [WEATHER], user_msg="Weather in Oslo", tool_required=True
                )
                return [r async for r in gen][-1]
            return await llm.achat_with_tools(
                [WEATHER], user_msg="Weather in Oslo", tool_required=True
            )

        response = asyncio.run(go())
    calls = llm.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("get_weather", {"city": "Oslo"})]
    assert response.message.additional_kwargs["finish_reason"] == "tool_calls"
    body = emu.requests[0].json
    assert body["tools"][0]["name"] == "get_weather"  # the Responses API's flat tool
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}


def test_tool_round_trip(emu: Emulator) -> None:
    llm = make(emu)
    response = llm.chat_with_tools([WEATHER], user_msg="Weather in Lima", tool_required=True)
    stored = ChatMessage.model_validate_json(response.message.model_dump_json())  # a chat store
    call = next(b for b in stored.blocks if isinstance(b, ToolCallBlock))
    history = [
        user("Weather in Lima"),
        stored,
        ChatMessage(
            role="tool",
            content="sunny in Lima",
            additional_kwargs={"tool_call_id": call.tool_call_id},
        ),
    ]
    assert llm.chat(history).message.content == "The tool returned: sunny in Lima"
    sent = emu.requests[-1].json["input"]
    assert [i.get("type", i.get("role")) for i in sent] == [
        "user",
        "function_call",
        "function_call_output",
    ]


# llama-index's workflows inspect the agent's members, touching pydantic's deprecated __fields__.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_function_agent(emu: Emulator) -> None:
    from llama_index.core.agent.workflow import FunctionAgent

    llm = make(emu)
    agent = FunctionAgent(tools=[WEATHER], llm=llm, system_prompt="Use get_weather.")
    result = await agent.run(user_msg="What is the weather? use get_weather for Paris")
    assert str(result) == "The tool returned: sunny in Paris"
    assert [c.tool_name for c in result.tool_calls] == ["get_weather"]
    assert set(paths(emu)) == {"/openai/v1/responses"}


def test_complete_and_stream_complete(emu: Emulator) -> None:
    llm = make(emu)
    assert llm.complete("Hello").text == "You said: Hello"
    assert "".join(r.delta or "" for r in llm.stream_complete("Hello")) == "You said: Hello"
    assert asyncio.run(llm.acomplete("Hey")).text == "You said: Hey"


def test_structured_predict_as_text_format(emu: Emulator) -> None:
    llm = make(emu)
    prompt = PromptTemplate("{text}")
    assert llm.structured_predict(Person, prompt, text="Ada Lovelace was 36.") == Person(
        name="Ada Lovelace", age=36
    )
    text = emu.requests[-1].json["text"]
    assert (text["format"]["type"], text["format"]["name"]) == ("json_schema", "Person")
    streamed = list(llm.stream_structured_predict(Person, prompt, text="Alan Turing was 41."))
    assert streamed[-1] == Person(name="Alan Turing", age=41)
    assert asyncio.run(
        llm.astructured_predict(Person, prompt, text="Grace Hopper was 85.")
    ) == Person(name="Grace Hopper", age=85)


def test_tracked_response_id_continues_the_conversation(emu: Emulator) -> None:
    llm = make(emu, track_previous_responses=True)
    first = llm.chat([user("Hi")])
    assert llm.previous_response_id == first.additional_kwargs["response_id"]
    history = [user("Hi"), first.message, user("And again")]
    second = llm.chat(history)
    body = emu.requests[-1].json
    assert body["previous_response_id"] == first.additional_kwargs["response_id"]
    assert body["input"] == [{"role": "user", "content": "And again"}]  # only the new turn
    assert llm.previous_response_id == second.additional_kwargs["response_id"]
    streamed = list(llm.stream_chat([*history, second.message, user("Once more")]))
    assert llm.previous_response_id == streamed[-1].additional_kwargs["response_id"]
    assert pickle.loads(pickle.dumps(llm)).previous_response_id == llm.previous_response_id


def test_instructions_reach_either_api(emu: Emulator) -> None:
    # As OpenAIResponses' instructions; in chat completions (the fallback too) a first system
    # message, never dropped.
    llm = make(emu, instructions="Answer in French.")
    llm.chat([user("Hi")])
    body = emu.requests[-1].json
    assert body["instructions"] == "Answer in French."
    assert body["input"] == [{"role": "user", "content": "Hi"}]
    chat = make(emu, use_responses_api=False, instructions="Answer in French.")
    list(chat.stream_chat([user("Hi")]))
    assert paths(emu)[-1].endswith("/chat/completions")
    assert emu.requests[-1].json["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hi"},
    ]


def test_responses_only_parameters_choose_the_responses_api(emu: Emulator) -> None:
    llm = make(emu, use_responses_api=None, store=True)
    llm.chat([user("Hi")])
    assert paths(emu) == ["/openai/v1/responses"]
    assert make(emu, use_responses_api=None).chat([user("Hi")]).message.content == "You said: Hi"
    assert paths(emu) == ["/models/chat/completions"]
    with pytest.raises(ConfigurationError, match="include"):
        make(emu, use_responses_api=False, include=["reasoning.encrypted_content"])


# ---- the chat fallback (item 4) ----------------------------------------------------------------


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_a_model_without_the_responses_api_falls_back_once(
    emu: Emulator, sync: bool, stream: bool
) -> None:
    llm = make(emu, CHAT_ONLY)
    with pytest.warns(UserWarning, match=f"chat completions for model '{CHAT_ONLY}'"):
        first = run(llm, sync, stream, [user("Hi")])[-1]
    assert first.message.content == "You said: Hi"
    second = run(llm, sync, stream, [user("Again")])[-1]  # no warning (errors would fail it)
    assert second.message.content == "You said: Again"
    chat = "/models/chat/completions"
    assert paths(emu) == ["/openai/v1/responses", chat, chat]


@SYNC
def test_responses_only_features_are_named_after_a_fallback(emu: Emulator, sync: bool) -> None:
    llm = make(emu, CHAT_ONLY, reasoning_options={"effort": "low", "summary": "auto"})
    with (
        pytest.warns(UserWarning, match="chat completions"),
        pytest.raises(ConfigurationError, match=rf"'{CHAT_ONLY}'.*reasoning summaries"),
    ):
        run(llm, sync, False, [user("Hi")])
    with pytest.raises(ConfigurationError, match="previous_response_id"):
        run(llm, sync, True, [user("Hi")], previous_response_id="resp_1")
    assert paths(emu) == ["/openai/v1/responses"]  # nothing sent after the refusal


CHAT_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "local",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "From chat"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


@SYNC
def test_an_endpoint_without_the_route_falls_back(sync: bool) -> None:
    def responder(path: str, body: Any) -> Answer:
        json_headers = {"content-type": "application/json"}
        if path.split("?")[0].endswith("/responses"):
            return 404, json_headers, b'{"detail": "Not Found"}', None
        return 200, json_headers, json.dumps(CHAT_ANSWER).encode(), None

    with serve(responder) as (url, seen):
        llm = AzureAICompletionsModel(
            endpoint=url + "/v1", credential=KEY, model_name="local", use_responses_api=True
        )
        with pytest.warns(UserWarning, match="no Responses route"):
            assert run(llm, sync, False, [user("Hi")])[-1].message.content == "From chat"
        assert run(llm, sync, False, [user("Hi")])[-1].message.content == "From chat"
    assert [p.split("?")[0] for p, _ in seen] == [
        "/v1/responses",
        "/v1/chat/completions",
        "/v1/chat/completions",
    ]


# ---- reasoning carried across turns ------------------------------------------------------------

REASONER = "emulator-reasoner"
THINKING = {"effort": "low", "summary": "auto"}


def _reasoner(emu: Emulator, **kwargs: Any) -> AzureAICompletionsModel:
    return make(
        emu,
        REASONER,
        reasoning_options=THINKING,
        include=["reasoning.encrypted_content"],
        store=False,
        **kwargs,
    )


@SYNC
def test_a_tool_loop_passes_encrypted_reasoning_back(emu: Emulator, sync: bool) -> None:
    llm = _reasoner(emu)

    async def achat_with_tools(**kwargs: Any) -> ChatResponse:
        return await llm.achat_with_tools([WEATHER], **kwargs)

    def ask(**kwargs: Any) -> ChatResponse:
        if sync:
            return llm.chat_with_tools([WEATHER], **kwargs)
        return asyncio.run(achat_with_tools(**kwargs))

    first = ask(user_msg="Weather in Oslo", tool_required=True)
    thinking = [b for b in first.message.blocks if isinstance(b, ThinkingBlock)]
    assert [type(b) for b in first.message.blocks] == [ThinkingBlock, ToolCallBlock]
    assert thinking[0].content  # the summary
    assert thinking[0].num_tokens == first.additional_kwargs["reasoning_tokens"] > 0
    encrypted = thinking[0].additional_information["encrypted_content"]
    call = llm.get_tool_calls_from_response(first)[0]
    stored = ChatMessage.model_validate_json(first.message.model_dump_json())  # a chat store
    history = [
        user("Weather in Oslo"),
        stored,
        ChatMessage(
            role="tool",
            content=get_weather(**call.tool_kwargs),
            additional_kwargs={"tool_call_id": call.tool_id},
        ),
    ]
    second = ask(chat_history=history)
    assert second.message.content == "The tool returned: sunny in Oslo"
    sent = emu.requests[-1].json
    assert [i.get("type", i.get("role")) for i in sent["input"]] == [
        "user",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert sent["input"][1]["encrypted_content"] == encrypted  # as it came, opaque
    assert sent["store"] is False


# llama-index's workflows inspect the agent's members, touching pydantic's deprecated __fields__.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_function_agent_on_a_reasoning_model_keeps_its_reasoning(emu: Emulator) -> None:
    from llama_index.core.agent.workflow import FunctionAgent

    llm = _reasoner(emu)
    agent = FunctionAgent(tools=[WEATHER], llm=llm, system_prompt="Use get_weather.")
    result = await agent.run(user_msg="What is the weather? use get_weather for Paris")
    assert str(result) == "The tool returned: sunny in Paris"
    bodies = [r.json for r in emu.requests]
    assert len(bodies) == 2
    kinds = [i.get("type", i.get("role")) for i in bodies[1]["input"]]
    assert kinds[kinds.index("reasoning") + 1] == "function_call"
    reasoning = bodies[1]["input"][kinds.index("reasoning")]
    assert reasoning["encrypted_content"].startswith("gAAAAA")  # the emulator's, checked by it
    assert set(paths(emu)) == {"/openai/v1/responses"}


def test_reasoning_goes_back_by_id_where_answers_are_stored(emu: Emulator) -> None:
    llm = make(emu, REASONER, reasoning_options=THINKING)
    first = llm.chat_with_tools([WEATHER], user_msg="Weather in Rome", tool_required=True)
    thinking = next(b for b in first.message.blocks if isinstance(b, ThinkingBlock))
    assert "encrypted_content" not in thinking.additional_information
    call = llm.get_tool_calls_from_response(first)[0]
    history = [
        user("Weather in Rome"),
        first.message,
        ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": call.tool_id}),
    ]
    assert llm.chat(history).message.content == "The tool returned: sunny"
    reasoning = emu.requests[-1].json["input"][1]
    assert (reasoning["type"], reasoning["id"]) == (
        "reasoning",
        thinking.additional_information["id"],
    )


def test_built_in_tools_go_with_every_call() -> None:
    rec = RECORDINGS.get("openai_web_search")
    if rec is None:
        pytest.skip("The Responses recordings are not beside the checkout.")
    with _served(rec) as (url, seen):
        llm = AzureAICompletionsModel(
            endpoint=url + "/v1",
            credential=KEY,
            model_name="gpt-4o",
            built_in_tools=[{"type": "web_search"}],
        )
        response = llm.chat_with_tools([WEATHER], user_msg="News?")
    assert [t["type"] for t in seen[0][1]["tools"]] == ["web_search", "function"]
    calls = response.message.additional_kwargs["built_in_tool_calls"]
    assert [c["type"] for c in calls] == ["web_search_call"]
    assert response.message.content


def test_built_in_tools_are_named_after_a_fallback(emu: Emulator) -> None:
    llm = make(emu, CHAT_ONLY, use_responses_api=None, built_in_tools=[{"type": "web_search"}])
    with (
        pytest.warns(UserWarning, match="chat completions"),
        pytest.raises(ConfigurationError, match="built-in tool 'web_search'"),
    ):
        llm.chat([user("Hi")])
