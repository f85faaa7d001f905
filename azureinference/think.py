"""Reasoning written into the text: ``<think>...</think>`` split from the answer.

DeepSeek-R1, MAI-DS-R1, QwQ, Qwen3 and Phi-4-reasoning, served by Foundry and by
OpenAI-compatible servers (vLLM, llama.cpp, Ollama's ``/v1``) without a reasoning parser, write
their reasoning into ``content`` as ``<think>...</think>`` before the answer. `ThinkSplitter`
separates the two as the text arrives, piece by piece, whatever the pieces: the tags may come
split across chunks at any character (``<th`` + ``ink>``), after an empty first chunk, or with
the closing tag and the first word of the answer in one chunk.

Rules, the same for a whole answer (`split_think`) and for a stream fed piece by piece:

- only a text that *opens* with ``<think>`` (after whitespace) has a reasoning block; any other
  text is the answer as sent, tags and all;
- the reasoning is the text between the tags, without the whitespace right after ``<think>``;
  the answer is what follows ``</think>``, without the whitespace right after it;
- a block that is never closed (the answer was cut off by ``max_tokens``: finish reason
  ``length``) is reasoning to the end, and the answer is empty.

Pure and incremental: no I/O, and each piece is given out as soon as it cannot be part of a tag
(at most ``len("</think>") - 1`` characters are held back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import ChatCompletion

__all__ = ["CLOSE_TAG", "OPEN_TAG", "ThinkSplitter", "separate_think", "split_think"]

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

_START, _OPENED, _THINKING, _AFTER, _ANSWER = range(5)


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that is a proper beginning of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Splits one choice's text into reasoning and answer as it arrives (see the module).

    ``feed(piece)`` returns ``(reasoning, answer)``: what of each can be given out now (either may
    be empty); ``flush()`` gives out what was held back, at the end of the text.
    """

    __slots__ = ("_held", "_state", "saw_block")

    def __init__(self) -> None:
        self._state = _START
        self._held = ""
        self.saw_block = False
        """True once the text opened with ``<think>``."""

    @property
    def thinking(self) -> bool:
        """True inside a ``<think>`` block that has not been closed (yet)."""
        return self._state in (_OPENED, _THINKING)

    @property
    def answering(self) -> bool:
        """True once the rest of the text is answer (nothing is held back any more)."""
        return self._state == _ANSWER

    def feed(self, piece: str) -> tuple[str, str]:
        """Take the next piece of text; return the ``(reasoning, answer)`` to give out now."""
        if self._state == _ANSWER:
            return "", piece
        text = self._held + piece
        self._held = ""
        reasoning = answer = ""
        while text:
            if self._state == _START:
                head = text.lstrip()
                if head.startswith(OPEN_TAG):
                    self._state = _OPENED
                    self.saw_block = True
                    text = head[len(OPEN_TAG) :]
                    continue
                if OPEN_TAG.startswith(head):  # "", "  ", "<th": not known yet
                    self._held = text
                    return reasoning, answer
                self._state = _ANSWER
                return reasoning, answer + text
            if self._state in (_OPENED, _AFTER):
                # The whitespace right after either tag is left out, however it is chunked.
                text = text.lstrip()
                if not text:
                    return reasoning, answer
                if self._state == _AFTER:
                    self._state = _ANSWER
                    return reasoning, answer + text
                self._state = _THINKING
            end = text.find(CLOSE_TAG)
            if end == -1:
                keep = _partial_suffix(text, CLOSE_TAG)
                reasoning += text[: len(text) - keep]
                self._held = text[len(text) - keep :]
                return reasoning, answer
            reasoning += text[:end]
            self._state = _AFTER
            text = text[end + len(CLOSE_TAG) :]
        return reasoning, answer

    def held(self) -> tuple[str, str]:
        """What `flush` would give out now, as ``(reasoning, answer)``, without giving it out."""
        if self._state in (_OPENED, _THINKING):
            return self._held, ""
        return "", self._held

    def flush(self) -> tuple[str, str]:
        """The end of the text: give out what was held back, as ``(reasoning, answer)``."""
        held, self._held = self._held, ""
        if self._state == _START:
            return "", held  # the whole text was "<thi" or whitespace: an answer as sent
        if self._state in (_OPENED, _THINKING):
            return held, ""  # a block never closed: reasoning to the end
        return "", held


def split_think(text: str) -> tuple[str | None, str]:
    """``(reasoning, answer)`` of a whole text; reasoning is None when it has no block."""
    splitter = ThinkSplitter()
    reasoning, answer = splitter.feed(text)
    more_reasoning, more_answer = splitter.flush()
    if not splitter.saw_block:
        return None, text
    return reasoning + more_reasoning, answer + more_answer


def separate_think(completion: ChatCompletion) -> ChatCompletion:
    """Move a ``<think>`` block at the start of each choice's text into its reasoning, in place.

    The message's ``content`` becomes the answer alone; the block's text goes into
    ``reasoning_content`` (after any reasoning the service sent apart). Tool calls and other
    fields are left as they are. Returns ``completion``.
    """
    for choice in completion.choices or ():
        message = choice.message
        content = message.content
        if not isinstance(content, str) or OPEN_TAG not in content:
            continue
        reasoning, answer = split_think(content)
        if reasoning is None:
            continue
        message.content = answer
        message.reasoning_content = (message.reasoning_content or "") + reasoning
    return completion
