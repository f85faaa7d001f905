"""LlamaIndex messages <-> the API's wire form (pure functions, no I/O)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from azureinference import ChatStreamState, ConfigurationError
from azureinference.types import ChatCompletionChunk, ChatResponseMessage, FunctionCall, ToolCall
from llamaindex_azureinference._convert import (
    from_wire_message,
    message_from_state,
    to_wire_messages,
    tool_selections,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


def test_roles_and_plain_text() -> None:
    wire = to_wire_messages(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="developer", content="Dev note."),
            ChatMessage(role="user", content="Hi"),
            ChatMessage(role="assistant", content="Hello"),
        ]
    )
    assert wire == [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Dev note."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]


def test_images_become_image_url_parts(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What are these?"),
            ImageBlock(image=PNG, image_mimetype="image/png", detail="high"),
            ImageBlock(path=path),
            ImageBlock(url="https://example.com/dog.jpg", detail="low"),
        ],
    )
    parts = to_wire_messages([message])[0]["content"]
    assert parts[0] == {"type": "text", "text": "What are these?"}
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert parts[1] == {"type": "image_url", "image_url": {"url": data_url, "detail": "high"}}
    assert parts[2]["image_url"]["url"] == data_url  # from the file, type sniffed
    assert parts[3] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/dog.jpg", "detail": "low"},
    }


def test_tool_calls_and_results_go_back_in_wire_form() -> None:
    history = [
        ChatMessage(role="user", content="Weather in Paris?"),
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(
                    tool_call_id="c1", tool_name="get_weather", tool_kwargs={"city": "Paris"}
                )
            ],
        ),
        ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": "c1"}),
    ]
    wire = to_wire_messages(history)
    assert wire[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    assert wire[2] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}


def test_openai_style_additional_kwargs_tool_calls_are_understood() -> None:
    message = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [
                {"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]
        },
    )
    assert to_wire_messages([message])[0]["tool_calls"][0]["id"] == "c9"


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        (ChatMessage(role="tool", content="x"), "tool_call_id"),
        (ChatMessage(role="user", blocks=[AudioBlock(audio=b"RIFF")]), "AudioBlock"),
        (ChatMessage(role="assistant", blocks=[ImageBlock(image=PNG)]), "user messages only"),
        (ChatMessage(role="user", blocks=[ImageBlock()]), "ImageBlock needs"),
    ],
)
def test_what_the_api_cannot_take_is_an_error_not_dropped(
    message: ChatMessage, needle: str
) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        to_wire_messages([message])


def test_answers_become_serializable_blocks() -> None:
    message = from_wire_message(
        ChatResponseMessage(
            content="Calling.",
            reasoning_content="I should call it.",
            tool_calls=[ToolCall(id="c1", function=FunctionCall(name="f", arguments='{"a": 1}'))],
        )
    )
    kinds = [type(b) for b in message.blocks]
    assert kinds == [ThinkingBlock, TextBlock, ToolCallBlock]
    assert message.content == "Calling."
    restored = ChatMessage.model_validate_json(message.model_dump_json())
    assert restored.blocks[2].tool_kwargs == {"a": 1}  # type: ignore[union-attr]
    assert message.role == MessageRole.ASSISTANT


def test_tool_calls_are_also_in_additional_kwargs_for_llamaindex_own_readers() -> None:
    """``process_streaming_objects`` (streamed structured output) reads them there."""
    call = ToolCall(id="c1", function=FunctionCall(name="f", arguments='{"a": 1}'))
    message = from_wire_message(ChatResponseMessage(tool_calls=[call]))
    assert message.additional_kwargs["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    # Sent back once, from the blocks, not twice.
    assert len(to_wire_messages([message])[0]["tool_calls"]) == 1
    assert from_wire_message(ChatResponseMessage(content="hi")).additional_kwargs == {}


def test_malformed_tool_arguments_are_kept_and_reported() -> None:
    message = from_wire_message(
        ChatResponseMessage(
            tool_calls=[ToolCall(id="c1", function=FunctionCall(name="f", arguments='{"a": '))]
        )
    )
    assert message.blocks[0].tool_kwargs == '{"a": '  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not a JSON object"):
        tool_selections(message)


def _feed(state: ChatStreamState, delta: dict[str, Any], finish_reason: str | None = None) -> None:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    state.handle_chunk(ChatCompletionChunk.model_validate({"choices": [choice]}))


def _so_far(state: ChatStreamState) -> ChatMessage:
    choice = state.choice(0)
    return message_from_state(choice, finished=bool(choice and choice.finish_reason))


def test_stream_state_builds_the_message() -> None:
    state = ChatStreamState()
    _feed(state, {"content": "Hel"})
    _feed(state, {"content": "lo", "reasoning_content": "hm"})
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}
    _feed(state, {"tool_calls": [call]})
    _feed(state, {"tool_calls": [{"index": 0, "function": {"arguments": ": 2}"}}]})
    message = _so_far(state)
    assert message.content == "Hello"
    assert json.loads(message.model_dump_json())["blocks"][2]["tool_kwargs"] == {"a": 2}


def test_mid_stream_arguments_parse_partially_and_broken_ones_are_reported_at_the_end() -> None:
    state = ChatStreamState()
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a": 1, "b'}}
    _feed(state, {"tool_calls": [call]})
    assert _so_far(state).blocks[0].tool_kwargs == {"a": 1}  # type: ignore[union-attr]
    _feed(state, {}, finish_reason="tool_calls")
    with pytest.raises(ValueError, match="not a JSON object"):
        tool_selections(_so_far(state))
