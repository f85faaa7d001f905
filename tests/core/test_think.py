"""`<think>...</think>` split from the answer: whole texts, and pieces cut anywhere."""

from __future__ import annotations

import pytest

from azureinference.think import ThinkSplitter, separate_think, split_think
from azureinference.types import ChatCompletion

QWEN = "<think>\nThe user greets me. I greet back.\n</think>\n\nHello! How can I help?"


def _feed(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    reasoning = answer = ""
    for piece in pieces:
        r, a = splitter.feed(piece)
        reasoning += r
        answer += a
    r, a = splitter.flush()
    return reasoning + r, answer + a


@pytest.mark.parametrize(
    ("text", "reasoning", "answer"),
    [
        (QWEN, "The user greets me. I greet back.\n", "Hello! How can I help?"),
        ("<think></think>Just the answer.", "", "Just the answer."),
        ("  <think>a</think>b", "a", "b"),
        ("No reasoning here.", None, "No reasoning here."),
        ("An answer that mentions <think> tags.", None, "An answer that mentions <think> tags."),
        ("<thinking>not our tag</thinking>", None, "<thinking>not our tag</thinking>"),
        ("<think>cut off by max_tokens", "cut off by max_tokens", ""),
        ("<think>cut off inside the tag </thi", "cut off inside the tag </thi", ""),
        ("<th", None, "<th"),
        ("", None, ""),
        ("<think>a</think>b</think>c", "a", "b</think>c"),
    ],
)
def test_split_think(text: str, reasoning: str | None, answer: str) -> None:
    assert split_think(text) == (reasoning, answer)


@pytest.mark.parametrize("text", [QWEN, "<think>x</think>y", "plain <b>text</b>", "<think>open"])
def test_every_two_cuts_give_the_whole_texts_split(text: str) -> None:
    whole_reasoning, whole_answer = split_think(text)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            # An empty first piece, as servers send with the role.
            pieces = ["", text[:i], text[i:j], text[j:]]
            assert _feed(pieces) == (whole_reasoning or "", whole_answer), (i, j)


def test_pieces_are_given_out_as_soon_as_they_cannot_be_a_tag() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("") == ("", "")
    assert splitter.feed("<th") == ("", "")
    assert splitter.feed("ink>Let me") == ("Let me", "")
    assert splitter.thinking
    assert splitter.feed(" see</th") == (" see", "")
    assert splitter.feed("ink>\n\nThe") == ("", "The")  # the closing tag and the first word
    assert not splitter.thinking
    assert splitter.feed(" answer") == ("", " answer")
    assert splitter.flush() == ("", "")


def test_a_plain_answer_is_given_out_at_once() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello") == ("", "Hello")
    assert splitter.feed(" <think>") == ("", " <think>")


def test_separate_think_moves_the_block_to_reasoning() -> None:
    completion = ChatCompletion.model_validate(
        {
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": QWEN}},
                {"index": 1, "message": {"role": "assistant", "content": "No block."}},
                {
                    "index": 2,
                    "message": {
                        "role": "assistant",
                        "content": "<think>call the tool</think>",
                        "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}],
                    },
                },
            ]
        }
    )
    separate_think(completion)
    first, second, third = (c.message for c in completion.choices or ())
    assert (first.text, first.reasoning_text) == (
        "Hello! How can I help?",
        "The user greets me. I greet back.\n",
    )
    assert (second.text, second.reasoning_text) == ("No block.", None)
    assert (third.text, third.reasoning_text) == ("", "call the tool")
    assert third.tool_calls is not None
    assert third.tool_calls[0].function.name == "f"


def test_a_stream_that_ends_without_a_finish_reason_keeps_what_was_held() -> None:
    from azureinference.streaming import ChatStreamState
    from azureinference.types import ChatCompletionChunk

    state = ChatStreamState()
    for piece in ["<think>cut inside the tag </thi"]:
        state.handle_chunk(
            ChatCompletionChunk.model_validate(
                {"choices": [{"index": 0, "delta": {"content": piece}}]}
            )
        )
    state.done = True  # [DONE], and no finish_reason
    message = (state.final().choices or [])[0].message
    assert (message.text, message.reasoning_text) == (None, "cut inside the tag </thi")
