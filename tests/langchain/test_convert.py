"""Table tests of the pure conversion functions (no client, no HTTP)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from lc_support import PNG
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from azureinference.streaming import ChatStreamState
from azureinference.types import ChatCompletion, ChatCompletionChunk, CompletionUsage
from azureinference.types import ToolCall as WireToolCall
from langchain_azureinference import image_from_file
from langchain_azureinference._convert import (
    MODEL_PROVIDER,
    final_chunk_from_state,
    from_wire_completion,
    from_wire_delta,
    to_wire_content,
    to_wire_message,
    to_wire_messages,
    to_wire_tool,
    tool_calls_from_wire,
    usage_from_wire,
)
from langchain_azureinference._structured import StructuredOutputParser, to_response_format

PNG_URL = f"data:image/png;base64,{PNG}"

# ---- messages ---------------------------------------------------------------------------------

MESSAGE_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("system", SystemMessage("Be brief."), {"role": "system", "content": "Be brief."}),
    (
        "developer",
        SystemMessage("Be brief.", additional_kwargs={"__openai_role__": "developer"}),
        {"role": "developer", "content": "Be brief."},
    ),
    (
        "system blocks",
        SystemMessage([{"type": "text", "text": "A"}, "B"]),
        {"role": "system", "content": "AB"},
    ),
    ("user", HumanMessage("Hi"), {"role": "user", "content": "Hi"}),
    ("user name", HumanMessage("Hi", name="ada"), {"role": "user", "content": "Hi", "name": "ada"}),
    (
        "user text blocks",
        HumanMessage(
            ["Hi", {"type": "text", "text": "there", "cache_control": {"type": "ephemeral"}}]
        ),
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}],
        },
    ),
    ("assistant", AIMessage("Hello"), {"role": "assistant", "content": "Hello"}),
    (
        "assistant tool calls",
        AIMessage(
            "", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
        ),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1}'},
                }
            ],
        },
    ),
    (
        "assistant list content with tool_use (Anthropic style)",
        AIMessage(
            [
                {"type": "text", "text": "some text"},
                {"type": "tool_use", "id": "c1", "name": "add", "input": {"a": 1}},
            ],
            tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1", "type": "tool_call"}],
        ),
        {
            "role": "assistant",
            "content": "some text",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1}'},
                }
            ],
        },
    ),
    (
        "assistant invalid tool call sent back as written",
        AIMessage(
            "",
            invalid_tool_calls=[
                {
                    "name": "add",
                    "args": "{bad",
                    "id": "c2",
                    "error": "x",
                    "type": "invalid_tool_call",
                }
            ],
        ),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c2", "type": "function", "function": {"name": "add", "arguments": "{bad"}}
            ],
        },
    ),
    (
        "assistant chunk from an aggregated stream",
        AIMessageChunk(content="Hi") + AIMessageChunk(content=" you"),
        {"role": "assistant", "content": "Hi you"},
    ),
    (
        "assistant with reasoning and v1 blocks",
        AIMessage([{"type": "reasoning", "reasoning": "hmm"}, {"type": "text", "text": "Yes"}]),
        {"role": "assistant", "content": "Yes"},
    ),
    (
        "tool",
        ToolMessage('{"result": 3}', tool_call_id="c1", name="add"),
        {"role": "tool", "tool_call_id": "c1", "content": '{"result": 3}'},
    ),
    (
        "tool with text blocks",
        ToolMessage([{"type": "text", "text": "3"}], tool_call_id="c1"),
        {"role": "tool", "tool_call_id": "c1", "content": "3"},
    ),
    (
        "tool error status keeps the content",
        ToolMessage("Error: missing b", tool_call_id="c1", status="error"),
        {"role": "tool", "tool_call_id": "c1", "content": "Error: missing b"},
    ),
    ("chat message", ChatMessage(content="Hi", role="user"), {"role": "user", "content": "Hi"}),
    (
        "function",
        FunctionMessage(content="3", name="add"),
        {"role": "function", "name": "add", "content": "3"},
    ),
]


@pytest.mark.parametrize(
    ("message", "wire"), [c[1:] for c in MESSAGE_CASES], ids=[c[0] for c in MESSAGE_CASES]
)
def test_to_wire_message(message: Any, wire: dict[str, Any]) -> None:
    assert to_wire_message(message) == wire


def test_to_wire_messages_keeps_order() -> None:
    out = to_wire_messages([SystemMessage("s"), HumanMessage("u"), AIMessage("a")])
    assert [m["role"] for m in out] == ["system", "user", "assistant"]


def test_unsupported_message_type() -> None:
    from langchain_core.messages import RemoveMessage

    with pytest.raises(ValueError, match="RemoveMessage"):
        to_wire_message(RemoveMessage(id="1"))


# ---- content blocks ---------------------------------------------------------------------------

IMAGE_PART = {"type": "image_url", "image_url": {"url": PNG_URL}}
URL_PART = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}

CONTENT_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("openai image_url data URL", {"type": "image_url", "image_url": {"url": PNG_URL}}, IMAGE_PART),
    (
        "openai image_url with detail",
        {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
    ),
    ("openai image_url as a string", {"type": "image_url", "image_url": PNG_URL}, IMAGE_PART),
    (
        "v0 base64",
        {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},
        IMAGE_PART,
    ),
    (
        "v0 url",
        {"type": "image", "source_type": "url", "url": "https://example.com/cat.png"},
        URL_PART,
    ),
    ("v1 base64", {"type": "image", "base64": PNG, "mime_type": "image/png"}, IMAGE_PART),
    ("v1 base64 without mime type (sniffed)", {"type": "image", "base64": PNG}, IMAGE_PART),
    ("v1 url", {"type": "image", "url": "https://example.com/cat.png"}, URL_PART),
    (
        "anthropic base64 source",
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        IMAGE_PART,
    ),
    (
        "audio block",
        {"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    ),
    (
        "input_audio kept",
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "mp3"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "mp3"}},
    ),
    (
        "file block",
        {"type": "file", "base64": "JVBER", "mime_type": "application/pdf", "filename": "a.pdf"},
        {
            "type": "file",
            "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBER"},
        },
    ),
]


@pytest.mark.parametrize(
    ("block", "part"), [c[1:] for c in CONTENT_CASES], ids=[c[0] for c in CONTENT_CASES]
)
def test_to_wire_content_blocks(block: dict[str, Any], part: dict[str, Any]) -> None:
    assert to_wire_content([{"type": "text", "text": "Look:"}, block]) == [
        {"type": "text", "text": "Look:"},
        part,
    ]


@pytest.mark.parametrize(
    "message",
    [
        SystemMessage([{"type": "text", "text": "Be brief."}, {"type": "image", "url": "u"}]),
        AIMessage([{"type": "text", "text": "A cat:"}, {"type": "image", "base64": PNG}]),
    ],
    ids=["system", "assistant"],
)
def test_media_in_a_text_only_role_is_an_error_not_dropped(message: Any) -> None:
    with pytest.raises(ValueError, match="can only carry text") as info:
        to_wire_message(message)
    assert PNG not in str(info.value)


def test_assistant_only_blocks_are_left_out_of_user_content() -> None:
    blocks = [{"type": "thinking", "thinking": "..."}, {"type": "text", "text": "Hi"}]
    assert to_wire_content(blocks) == [{"type": "text", "text": "Hi"}]


def test_image_block_without_data_names_the_problem_without_echoing_payloads() -> None:
    with pytest.raises(ValueError, match="file ids") as info:
        to_wire_content([{"type": "image", "file_id": "file-123", "extras": {"x": "y" * 500}}])
    assert "y" * 100 not in str(info.value)


def test_tool_message_with_image_keeps_parts() -> None:
    wire = to_wire_message(
        ToolMessage([{"type": "image", "base64": PNG, "mime_type": "image/png"}], tool_call_id="1")
    )
    assert wire["content"] == [IMAGE_PART]


def test_image_from_file(tmp_path: Any) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(base64.b64decode(PNG))
    assert image_from_file(path) == IMAGE_PART
    assert image_from_file(str(path), detail="high")["image_url"]["detail"] == "high"
    assert to_wire_content([image_from_file(path)]) == [IMAGE_PART]


# ---- tools ------------------------------------------------------------------------------------


class Person(BaseModel):
    """A person."""

    name: str = Field(description="The name")
    age: int


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


PARAMS = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}


@pytest.mark.parametrize(
    "tool_like",
    [
        add,
        tool(add),
        {
            "type": "function",
            "function": {"name": "add", "description": "Add two numbers.", "parameters": PARAMS},
        },
    ],
    ids=["function", "langchain tool", "openai dict"],
)
def test_to_wire_tool(tool_like: Any) -> None:
    wire = to_wire_tool(tool_like)
    assert wire["type"] == "function"
    assert wire["function"]["name"] == "add"
    assert wire["function"]["parameters"]["properties"].keys() == {"a", "b"}


@pytest.mark.parametrize("schema", [Person, PersonDict], ids=["pydantic", "typeddict"])
def test_to_wire_tool_schemas(schema: Any) -> None:
    wire = to_wire_tool(schema, strict=True)
    assert wire["function"]["name"] in ("Person", "PersonDict")
    assert wire["function"]["strict"] is True


# ---- answers ----------------------------------------------------------------------------------


def _calls(*pairs: tuple[str | None, str | None]) -> list[WireToolCall]:
    return [
        WireToolCall.model_validate({"id": f"c{i}", "function": {"name": n, "arguments": a}})
        for i, (n, a) in enumerate(pairs)
    ]


TOOL_CALL_CASES = [
    ("object", ("add", '{"a": 1, "b": 2}'), {"a": 1, "b": 2}, None),
    ("empty string means no arguments", ("ping", ""), {}, None),
    ("null arguments", ("ping", None), {}, None),
    ("raw newline inside a string", ("say", '{"text": "a\nb"}'), {"text": "a\nb"}, None),
    ("unicode", ("hi", '{"name": "你好"}'), {"name": "你好"}, None),
    ("broken JSON", ("add", '{"a": 1,'), None, "not JSON"),
    ("not an object", ("add", "[1, 2]"), None, "not a JSON object"),
    ("no name", (None, "{}"), None, "No function name"),
]


@pytest.mark.parametrize(
    ("pair", "args", "error"), [c[1:] for c in TOOL_CALL_CASES], ids=[c[0] for c in TOOL_CALL_CASES]
)
def test_tool_calls_from_wire(pair: tuple[str, str], args: Any, error: str | None) -> None:
    calls, invalid = tool_calls_from_wire(_calls(pair))
    if error is None:
        assert calls == [{"name": pair[0], "args": args, "id": "c0", "type": "tool_call"}]
        assert invalid == []
    else:
        assert calls == []
        assert invalid[0]["args"] == pair[1]
        assert error in (invalid[0]["error"] or "")


USAGE_CASES = [
    (
        {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    ),
    (
        {"prompt_tokens": 5, "completion_tokens": 2},
        {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    ),
    (
        {
            "prompt_tokens": 5,
            "completion_tokens": 4,
            "total_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 2},
            "completion_tokens_details": {"reasoning_tokens": 3},
        },
        {
            "input_tokens": 5,
            "output_tokens": 4,
            "total_tokens": 9,
            "input_token_details": {"cache_read": 2},
            "output_token_details": {"reasoning": 3},
        },
    ),
    (  # OpenRouter in front of Anthropic: cache writes; OpenAI audio on both sides
        {
            "prompt_tokens": 50,
            "completion_tokens": 9,
            "total_tokens": 59,
            "prompt_tokens_details": {
                "cached_tokens": 0,
                "cache_write_tokens": 40,
                "audio_tokens": 3,
            },
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 4},
        },
        {
            "input_tokens": 50,
            "output_tokens": 9,
            "total_tokens": 59,
            "input_token_details": {"audio": 3, "cache_read": 0, "cache_creation": 40},
            "output_token_details": {"audio": 4, "reasoning": 0},
        },
    ),
    (  # nulls where a detail is not counted (Hugging Face / Nebius)
        {
            "prompt_tokens": 5,
            "completion_tokens": 2,
            "total_tokens": 7,
            "prompt_tokens_details": None,
            "completion_tokens_details": {"reasoning_tokens": None},
        },
        {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    ),
]


@pytest.mark.parametrize(("wire", "usage"), USAGE_CASES)
def test_usage_from_wire(wire: dict[str, Any], usage: dict[str, Any]) -> None:
    assert usage_from_wire(CompletionUsage.model_validate(wire)) == usage


def test_from_wire_completion() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "cmpl-9",
            "model": "m-1",
            "system_fingerprint": "fp",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": "Let me think.",
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "add", "arguments": '{"a": 1}'},
                            }
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }
    )
    result = from_wire_completion(completion, model="asked")
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    assert message.content == ""
    assert message.tool_calls == [
        {"name": "add", "args": {"a": 1}, "id": "c1", "type": "tool_call"}
    ]
    assert message.additional_kwargs == {"reasoning_content": "Let me think."}
    assert message.usage_metadata == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    # ChatOpenAI's keys and the peer's (model, input_tokens/output_tokens) side by side.
    token_usage = {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "input_tokens": 3,
        "output_tokens": 4,
    }
    assert message.response_metadata == {
        "model_name": "m-1",
        "model": "m-1",
        "model_provider": MODEL_PROVIDER,
        "id": "cmpl-9",
        "system_fingerprint": "fp",
        "token_usage": token_usage,
        "finish_reason": "tool_calls",
    }
    assert result.llm_output == {
        "model_name": "m-1",
        "model": "m-1",
        "token_usage": token_usage,
        "system_fingerprint": "fp",
    }


def test_from_wire_completion_without_model_uses_the_asked_one() -> None:
    completion = ChatCompletion.model_validate(
        {"choices": [{"index": 0, "message": {"content": "x"}}]}
    )
    message = from_wire_completion(completion, model="asked").generations[0].message
    assert isinstance(message, AIMessage)
    assert message.response_metadata["model_name"] == "asked"
    assert message.usage_metadata is None


def test_assistant_audio_goes_back_by_id() -> None:
    v1 = AIMessage([{"type": "audio", "id": "au_1"}, {"type": "text", "text": "Hi"}])
    assert to_wire_message(v1) == {"role": "assistant", "content": "Hi", "audio": {"id": "au_1"}}
    no_id = AIMessage("", additional_kwargs={"audio": {"data": "AAAA"}})
    wire = to_wire_message(no_id)
    assert wire == {"role": "assistant", "content": None, "audio": {"data": "AAAA"}}


def test_from_wire_completion_reasoning_field_and_refusal() -> None:
    completion = ChatCompletion.model_validate(
        {"choices": [{"index": 0, "message": {"content": "", "reasoning": "r", "refusal": "no"}}]}
    )
    message = from_wire_completion(completion).generations[0].message
    assert message.additional_kwargs == {"reasoning_content": "r", "refusal": "no"}


CHUNK_CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    ("text", {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}, {"content": "Hi"}),
    ("role only", {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}, None),
    ("finish only", {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, None),
    ("usage only", {"choices": [], "usage": {"prompt_tokens": 1}}, None),
    (
        "tool call start",
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "c1", "function": {"name": "add", "arguments": ""}}
                        ]
                    },
                }
            ]
        },
        {
            "tool_call_chunks": [
                {"name": "add", "args": "", "id": "c1", "index": 0, "type": "tool_call_chunk"}
            ]
        },
    ),
    (
        "reasoning",
        {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]},
        {"additional_kwargs": {"reasoning_content": "hmm"}},
    ),
    ("second choice ignored", {"choices": [{"index": 1, "delta": {"content": "x"}}]}, None),
]


@pytest.mark.parametrize(
    ("wire", "expected"), [c[1:] for c in CHUNK_CASES], ids=[c[0] for c in CHUNK_CASES]
)
def test_from_wire_delta(wire: dict[str, Any], expected: dict[str, Any] | None) -> None:
    state = ChatStreamState()
    state.handle_chunk(ChatCompletionChunk.model_validate({"id": "x", **wire}))
    generation = from_wire_delta(state.delta(0))
    if expected is None:
        assert generation is None
        return
    assert generation is not None
    message = generation.message
    assert isinstance(message, AIMessageChunk)
    for key, value in expected.items():
        assert getattr(message, key) == value


def test_stream_chunks_aggregate_into_tool_calls() -> None:
    state = ChatStreamState()
    wire: list[dict[str, Any]] = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {"index": 0, "id": "c1", "function": {"name": "add", "arguments": ""}}
                        ],
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]},
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 1, "id": "c2", "function": {"name": "ping", "arguments": ""}}
                        ]
                    },
                }
            ]
        },
        {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
        },
    ]
    chunks = []
    for body in wire:
        state.handle_chunk(ChatCompletionChunk.model_validate({"id": "s1", "model": "m", **body}))
        generation = from_wire_delta(state.delta(0))
        if generation is not None:
            chunks.append(generation.message)
    chunks.append(final_chunk_from_state(state, model="asked").message)
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert isinstance(full, AIMessageChunk)
    assert full.tool_calls == [
        {"name": "add", "args": {"a": 1}, "id": "c1", "type": "tool_call"},
        {"name": "ping", "args": {}, "id": "c2", "type": "tool_call"},
    ]
    assert full.usage_metadata == {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.response_metadata["model_name"] == "m"
    assert full.chunk_position == "last"


# ---- structured output ------------------------------------------------------------------------

RESPONSE_FORMAT_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("pydantic", Person, {"name": "Person", "description": "A person."}),
    ("typeddict", PersonDict, {"name": "PersonDict", "description": "A person."}),
    (
        "json schema",
        {"title": "P", "type": "object", "properties": {"x": {"type": "integer"}}},
        {"name": "P"},
    ),
    (
        "create_agent dict",
        {
            "type": "json_schema",
            "json_schema": {"name": "R", "schema": {"type": "object"}, "strict": True},
        },
        {"name": "R", "schema": {"type": "object"}, "strict": True},
    ),
    (
        "name and schema",
        {"name": "R", "schema": {"type": "object"}},
        {"name": "R", "schema": {"type": "object"}},
    ),
]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [c[1:] for c in RESPONSE_FORMAT_CASES],
    ids=[c[0] for c in RESPONSE_FORMAT_CASES],
)
def test_to_response_format(schema: Any, expected: dict[str, Any]) -> None:
    rf = to_response_format(schema)
    assert rf["type"] == "json_schema"
    for key, value in expected.items():
        assert rf["json_schema"][key] == value
    assert isinstance(rf["json_schema"]["schema"], dict)


def test_to_response_format_strict() -> None:
    rf = to_response_format(Person, strict=True)
    assert rf["json_schema"]["strict"] is True
    assert rf["json_schema"]["schema"]["additionalProperties"] is False
    with pytest.raises(ValueError, match="strict"):
        to_response_format(
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {}, "strict": True}},
            strict=False,
        )


def _generation(message: AIMessage) -> Any:
    from langchain_core.outputs import ChatGeneration

    return ChatGeneration(message=message)


PARSE_CASES: list[tuple[str, dict[str, Any], AIMessage, Any]] = [
    (
        "json text to pydantic",
        {"pydantic_schema": Person},
        AIMessage('{"name": "Ada", "age": 36}'),
        Person(name="Ada", age=36),
    ),
    ("json in a markdown fence", {}, AIMessage('```json\n{"a": 1}\n```'), {"a": 1}),
    (
        "tool call (fallback) to pydantic",
        {"pydantic_schema": Person, "tool_name": "Person"},
        AIMessage(
            "",
            tool_calls=[
                {
                    "name": "Person",
                    "args": {"name": "Ada", "age": 36},
                    "id": "1",
                    "type": "tool_call",
                }
            ],
        ),
        Person(name="Ada", age=36),
    ),
    (
        "function calling without a call",
        {"tool_name": "Person", "require_tool": True},
        AIMessage("I cannot."),
        None,
    ),
    (
        "another tool called instead",
        {"tool_name": "Person"},
        AIMessage("", tool_calls=[{"name": "search", "args": {}, "id": "1", "type": "tool_call"}]),
        None,
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "message", "expected"), [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES]
)
def test_structured_output_parser(
    kwargs: dict[str, Any], message: AIMessage, expected: Any
) -> None:
    assert StructuredOutputParser(**kwargs).parse_result([_generation(message)]) == expected


@pytest.mark.parametrize(
    "message",
    [
        AIMessage("not json"),
        AIMessage('{"name": "Ada"}'),
        AIMessage("", additional_kwargs={"refusal": "No."}),
    ],
    ids=["not json", "missing field", "refusal"],
)
def test_structured_output_parser_errors(message: AIMessage) -> None:
    from langchain_core.exceptions import OutputParserException

    parser = StructuredOutputParser(pydantic_schema=Person)
    with pytest.raises(OutputParserException):
        parser.parse_result([_generation(message)])
    assert parser.parse_result([_generation(message)], partial=True) is None
