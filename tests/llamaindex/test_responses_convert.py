"""LlamaIndex messages <-> the Responses API (pure functions of `_responses`, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from azureinference.responses_api import Response
from llamaindex_azureinference._responses import (
    message_from_items,
    new_turns,
    reasoning_item,
    response_kwargs,
    to_responses_input,
)

REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Think."}],
    "encrypted_content": "gAAAAAopaque",
    "status": "completed",
}
ANSWER = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "output": [
        REASONING,
        {
            "type": "message",
            "id": "msg_1",
            "content": [{"type": "output_text", "text": "Checking."}],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "Oslo"}',
        },
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    ],
    "usage": {
        "input_tokens": 10,
        "output_tokens": 20,
        "total_tokens": 30,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens_details": {"reasoning_tokens": 12},
    },
}


def test_an_answer_becomes_blocks_in_its_order() -> None:
    response = Response.model_validate(ANSWER)
    message = message_from_items(response.output, reasoning_tokens=12)
    thinking, text, call = message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.content, thinking.num_tokens) == ("Think.", 12)
    assert thinking.additional_information["encrypted_content"] == "gAAAAAopaque"
    assert isinstance(text, TextBlock)
    assert text.text == "Checking."
    assert isinstance(call, ToolCallBlock)
    assert (call.tool_call_id, call.tool_name, call.tool_kwargs) == (
        "call_1",
        "get_weather",
        {"city": "Oslo"},
    )
    assert message.additional_kwargs["built_in_tool_calls"][0]["type"] == "web_search_call"
    assert message.additional_kwargs["tool_calls"][0]["function"]["name"] == "get_weather"
    assert response_kwargs(response) == {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "total_tokens": 30,
        "cached_tokens": 4,
        "reasoning_tokens": 12,
        "response_id": "resp_1",
    }


def test_partial_arguments_mid_stream() -> None:
    response = Response.model_validate(
        {
            "output": [
                {
                    "type": "function_call",
                    "call_id": "c",
                    "name": "f",
                    "arguments": '{"a": "Oslo", "b',
                }
            ]
        }
    )
    call = message_from_items(response.output, partial=True).blocks[0]
    assert isinstance(call, ToolCallBlock)
    assert call.tool_kwargs == {"a": "Oslo"}


def test_a_refusal_and_raw_reasoning() -> None:
    response = Response.model_validate(
        {
            "output": [
                {
                    "type": "reasoning",
                    "id": "rs",
                    "content": [{"type": "reasoning_text", "text": "Hm"}],
                },
                {"type": "message", "content": [{"type": "refusal", "refusal": "No."}]},
            ]
        }
    )
    message = message_from_items(response.output)
    assert [type(b) for b in message.blocks] == [ThinkingBlock]
    assert message.blocks[0].content == "Hm"  # type: ignore[union-attr]
    assert message.additional_kwargs["refusal"] == "No."


def _thinking(**info: Any) -> ThinkingBlock:
    return ThinkingBlock(content="Think.", additional_information=info)


@pytest.mark.parametrize(
    ("block", "store", "sent"),
    [
        (_thinking(**REASONING), False, True),  # encrypted: goes back even unstored
        (_thinking(type="reasoning", id="rs_1", summary=[]), None, True),  # by id, stored
        (_thinking(type="reasoning", id="rs_1", summary=[]), False, False),  # nothing to find
        (ThinkingBlock(content="chat's reasoning_content"), None, False),  # not an item
    ],
)
def test_which_reasoning_goes_back(block: ThinkingBlock, store: bool | None, sent: bool) -> None:
    item = reasoning_item(block, store=store)
    assert (item is not None) == sent
    if item is not None:
        assert "status" not in item
        assert item["id"] == "rs_1"


def test_input_puts_reasoning_before_its_message() -> None:
    assistant = ChatMessage(
        role="assistant",
        blocks=[
            _thinking(**REASONING),
            ToolCallBlock(tool_call_id="call_1", tool_name="f", tool_kwargs={"a": 1}),
        ],
    )
    tool = ChatMessage(role="tool", content="done", additional_kwargs={"tool_call_id": "call_1"})
    wire = to_responses_input(
        [ChatMessage(role="user", content="Hi"), assistant, tool], store=False
    )
    assert wire[0] == {"role": "user", "content": "Hi"}
    assert wire[1]["encrypted_content"] == "gAAAAAopaque"
    assert wire[2]["role"] == "assistant"
    assert wire[2]["tool_calls"][0]["id"] == "call_1"
    assert wire[3] == {"role": "tool", "tool_call_id": "call_1", "content": "done"}


def test_new_turns_are_the_messages_after_the_last_answer() -> None:
    u1, a1, u2 = (
        ChatMessage(role="user", content="1"),
        ChatMessage(role="assistant", content="a"),
        ChatMessage(role="user", content="2"),
    )
    assert new_turns([u1, a1, u2]) == [u2]
    assert new_turns([u1]) == [u1]
    assert new_turns([u1, a1]) == []
