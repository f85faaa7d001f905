"""The official ``openai`` SDK's Responses API against the emulator (issue 23, item 5).

``client.responses.create`` / ``.stream`` / ``.parse`` on ``/v1``, ``/openai/v1`` and Azure's
``/openai/responses?api-version=...``: the chat route's answers, tool calls and structured
output; the recordings' event order; ``previous_response_id``; reasoning items; the refusal of a
model without the Responses API; and OpenAI's error bodies, raised as the SDK's own errors.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from azureinference.emulator import Emulator, EmulatorConfig, ModelSpec, running_emulator
from azureinference.emulator.responses_api import ResponseStore

from .clients_support import CHAT, WEATHER_TOOL, clients_config

openai = pytest.importorskip("openai")

FLAT_WEATHER = {"type": "function", **WEATHER_TOOL["function"]}
CHAT_ONLY = "emulator-chat-only"
HAS_REASONING = "reasoning" in {f.name for f in dataclasses.fields(ModelSpec)}
REASONER = "emulator-reasoner"


class Person(BaseModel):
    name: str
    age: int


def _config() -> EmulatorConfig:
    config = clients_config()
    config.models.append(ModelSpec(CHAT_ONLY, unsupported=frozenset({"responses"})))
    if HAS_REASONING and not any(m.name == REASONER for m in config.models):
        config.models.append(ModelSpec(REASONER, reasoning="reasoning_content"))  # type: ignore[call-arg]
    return config


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(_config()) as emulator:
        yield emulator


def _client(emu: Emulator, route: str) -> Any:
    if route == "azure":
        return openai.AzureOpenAI(
            azure_endpoint=emu.url,
            api_key=emu.key,
            api_version="2025-03-01-preview",
            max_retries=0,
        )
    return openai.OpenAI(base_url=emu.url + route, api_key=emu.key, max_retries=0)


@pytest.fixture(params=["/v1", "/openai/v1", "azure"])
def client(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Any]:
    emu.reset()
    with _client(emu, request.param) as c:
        yield c


def test_create_answers_as_the_chat_route_does(client: Any) -> None:
    answer = client.responses.create(model=CHAT, input="Hi")
    assert answer.output_text == "You said: Hi"
    assert answer.status == "completed"
    assert answer.output[0].type == "message"
    assert answer.id.startswith("resp_")
    assert answer.output[0].id.startswith("msg_")
    usage = answer.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    chat = client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "Hi"}])
    assert chat.choices[0].message.content == answer.output_text


def test_stream_events_in_the_recordings_order(client: Any) -> None:
    with client.responses.stream(model=CHAT, input="count to 3") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "1 2 3"
    assert final.output_text == "1 2 3"
    assert events[0].response.status == "in_progress"
    assert events[0].response.usage is None


def test_tool_calls_and_a_round_trip(client: Any) -> None:
    first = client.responses.create(
        model=CHAT, input="What is the weather in Paris?", tools=[FLAT_WEATHER]
    )
    calls = [i for i in first.output if i.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert calls[0].call_id.startswith("call_")
    assert calls[0].id.startswith("fc_")
    second = client.responses.create(
        model=CHAT,
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            *[c.model_dump(exclude_none=True) for c in calls],
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "Sunny"},
        ],
        tools=[FLAT_WEATHER],
    )
    assert second.output_text == "The tool returned: Sunny"


def test_streamed_tool_call_arguments(client: Any) -> None:
    with client.responses.stream(
        model=CHAT,
        input="What is the weather in Paris?",
        tools=[FLAT_WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert len(deltas) > 1
    assert "".join(deltas) == done.arguments == final.output[0].arguments
    assert json.loads(done.arguments) == {"city": "Paris"}


def test_parse_with_a_pydantic_model(client: Any) -> None:
    parsed = client.responses.parse(
        model=CHAT, input="Alice is 31 years old.", text_format=Person
    ).output_parsed
    assert isinstance(parsed, Person)
    with client.responses.stream(
        model=CHAT, input="Alice is 31 years old.", text_format=Person
    ) as stream:
        for _ in stream:
            pass
        assert stream.get_final_response().output_parsed == parsed


def test_max_output_tokens_ends_incomplete(client: Any) -> None:
    answer = client.responses.create(model=CHAT, input="count to 50", max_output_tokens=5)
    assert answer.status == "incomplete"
    assert answer.incomplete_details.reason == "max_output_tokens"
    assert answer.output_text == "1 2 3 4 5"
    assert answer.output[0].status == "incomplete"
    with client.responses.stream(model=CHAT, input="count to 50", max_output_tokens=5) as s:
        kinds = [e.type for e in s]
    assert kinds[-1] == "response.incomplete"


def test_previous_response_id_continues_the_conversation(client: Any) -> None:
    first = client.responses.create(
        model=CHAT, input="What is the weather in Paris?", tools=[FLAT_WEATHER]
    )
    call = first.output[0]
    second = client.responses.create(
        model=CHAT,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Rain"}],
        tools=[FLAT_WEATHER],
    )
    assert second.previous_response_id == first.id
    assert second.output_text == "The tool returned: Rain"
    # A stored answer's items can be referred to by id.
    third = client.responses.create(
        model=CHAT,
        input=[
            {"type": "item_reference", "id": second.output[0].id},
            {"role": "user", "content": "Hi"},
        ],
    )
    assert third.output_text == "You said: Hi"


def test_unknown_or_unstored_previous_response(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as unknown:
        client.responses.create(model=CHAT, input="Hi", previous_response_id="resp_nope")
    assert unknown.value.code == "previous_response_not_found"
    assert unknown.value.param == "previous_response_id"
    unstored = client.responses.create(model=CHAT, input="Hi", store=False)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=CHAT, input="Hi", previous_response_id=unstored.id)


def test_a_model_without_the_responses_api_refuses(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=CHAT_ONLY, input="Hi")
    assert "not supported by the Responses API" in refused.value.message
    assert refused.value.status_code == 400
    # Its chat route answers.
    chat = client.chat.completions.create(
        model=CHAT_ONLY, messages=[{"role": "user", "content": "Hi"}]
    )
    assert chat.choices[0].message.content == "You said: Hi"


@pytest.mark.parametrize(
    ("extra", "param", "says"),
    [
        ({"max_tokens": 5}, "max_tokens", "moved to 'max_output_tokens'"),
        ({"messages": []}, "messages", "moved to 'input'"),
        ({"bogus": 1}, "bogus", "Unknown parameter"),
        ({"include": ["nothing.at_all"]}, "include[0]", "Invalid value"),
        ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name", ""),
    ],
)
def test_refused_parameters_as_openai_names_them(
    client: Any, extra: dict[str, Any], param: str, says: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=CHAT, input="Hi", extra_body=extra)
    assert refused.value.param == param
    assert says in refused.value.message


def test_model_inference_prefixes_have_no_responses_route(emu: Emulator) -> None:
    for path in ("/models/responses", "/responses", "/openai/deployments/x/responses"):
        answer = httpx.post(
            emu.url + path, json={"model": CHAT, "input": "Hi"}, headers={"api-key": emu.key}
        )
        assert answer.status_code == 404, path
    no_version = httpx.post(
        emu.url + "/openai/responses",
        json={"model": CHAT, "input": "Hi"},
        headers={"api-key": emu.key},
    )
    assert no_version.status_code == 404


def test_a_model_that_does_not_reason_refuses_reasoning(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=CHAT, input="Hi", reasoning={"effort": "low"})
    assert refused.value.param == "reasoning.effort"
    assert refused.value.code == "unsupported_parameter"


@pytest.mark.skipif(not HAS_REASONING, reason="the emulator has no reasoning models yet")
def test_reasoning_summary_and_encrypted_content_round_trip(client: Any) -> None:
    first = client.responses.create(
        model=REASONER,
        input="What is the weather in Paris?",
        tools=[FLAT_WEATHER],
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    )
    reasoning, call = first.output[0], first.output[1]
    assert reasoning.type == "reasoning"
    assert reasoning.summary
    assert reasoning.encrypted_content.startswith("gAAAAA")
    assert first.usage.output_tokens_details.reasoning_tokens > 0
    assert call.type == "function_call"
    follow_up = [
        {"role": "user", "content": "What is the weather in Paris?"},
        reasoning.model_dump(exclude_none=True),
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"},
    ]
    second = client.responses.create(
        model=REASONER, input=follow_up, tools=[FLAT_WEATHER], store=False
    )
    assert "Sunny" in second.output_text
    # Without its encrypted content, an unstored reasoning item cannot be found.
    bare = {k: v for k, v in follow_up[1].items() if k != "encrypted_content"}
    with pytest.raises(openai.NotFoundError):
        client.responses.create(
            model=REASONER, input=[follow_up[0], bare, *follow_up[2:]], store=False
        )
    with client.responses.stream(
        model=REASONER, input="Hi", reasoning={"summary": "detailed"}
    ) as stream:
        events = list(stream)
    kinds = [e.type for e in events]
    first_done = kinds.index("response.output_item.done")
    assert events[2].type == "response.output_item.added"
    assert events[2].item.type == "reasoning"
    assert all(k.startswith("response.reasoning_summary") for k in kinds[3:first_done])
    summary = [e.delta for e in events if e.type == "response.reasoning_summary_text.delta"]
    assert summary
    final = stream.get_final_response()
    assert "".join(summary).replace(" ", "") == "".join(
        p.text for p in final.output[0].summary
    ).replace(" ", "")


def test_the_store_is_bounded() -> None:
    store = ResponseStore(limit=2)
    for n in range(3):
        store.put(f"resp_{n}", [{"role": "user", "content": str(n)}], [{"id": f"msg_{n}"}])
    assert store.conversation("resp_0") is None
    assert store.item("msg_0") is None
    assert store.conversation("resp_2") == [{"role": "user", "content": "2"}]


def test_the_answer_bound_holds_on_the_responses_route() -> None:
    with (
        running_emulator(EmulatorConfig(max_answer_tokens=3)) as small,
        _client(small, "/v1") as c,
    ):
        answer = c.responses.create(model="emulator-chat", input="count to 50")
    assert answer.output_text == "1 2 3"
    assert answer.status == "incomplete"
