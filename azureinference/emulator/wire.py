"""Answer bodies: chat completions (plain and streamed), legacy completions, embeddings, models.

Pure functions from an answer to the JSON the services send, so the app only routes.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .answers import ChatAnswer
from .config import ModelSpec

__all__ = [
    "chat_chunks",
    "chat_payload",
    "completion_id",
    "completions_chunks",
    "completions_payload",
    "logprobs_of",
    "model_object",
    "sse",
    "usage_of",
]

_PIECES = re.compile(r"\s*\S+|\s+$")
_CREATED = 1_700_000_000


def completion_id(prefix: str = "chatcmpl") -> str:
    """A fresh id: every completion gets its own, as the services give."""
    return f"{prefix}-{secrets.token_hex(12)}"


def pieces(text: str | None) -> list[str]:
    """Text as the emulator streams and counts it: word by word, leading space kept."""
    return _PIECES.findall(text or "")


def usage_of(answer: ChatAnswer, n: int = 1) -> dict[str, Any]:
    """The ``usage`` object: the prompt once, the completion once per choice.

    A reasoning model's reasoning tokens (counted in ``completion_tokens``) are also given in
    ``completion_tokens_details``, as Azure OpenAI and OpenAI give them.
    """
    completion = answer.completion_tokens * n
    usage: dict[str, Any] = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": answer.prompt_tokens + completion,
    }
    if answer.reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": answer.reasoning_tokens * n}
        usage["prompt_tokens_details"] = {"cached_tokens": 0}
    return usage


def _logprob(token: str, rank: int) -> float:
    """A deterministic log probability for ``token`` at ``rank`` among the candidates."""
    return -round(0.01 * (len(token) % 7) + 1.5 * rank, 4)


def _candidate(token: str, rank: int) -> dict[str, Any]:
    text = token if rank == 0 else f"{token.rstrip()}#{rank}"
    return {"token": text, "logprob": _logprob(token, rank), "bytes": list(text.encode())}


def logprobs_of(text: str | None, top: int) -> dict[str, Any]:
    """A chat ``logprobs`` object for ``text``: one entry per streamed piece, ``top`` candidates."""
    content = [
        {**_candidate(piece, 0), "top_logprobs": [_candidate(piece, r) for r in range(top)]}
        for piece in pieces(text)
    ]
    return {"content": content, "refusal": None}


def _message(answer: ChatAnswer, legacy_functions: bool) -> dict[str, Any]:
    msg = answer.message()
    if legacy_functions and answer.tool_calls:
        # The request used ``functions``: answer as OpenAI's legacy function calling does.
        msg.pop("tool_calls")
        msg["function_call"] = answer.tool_calls[0]["function"]
    return msg


def _finish(answer: ChatAnswer, legacy_functions: bool) -> str:
    if legacy_functions and answer.tool_calls:
        return "function_call"
    return answer.finish_reason


def chat_payload(
    answer: ChatAnswer, base: Mapping[str, Any], body: Mapping[str, Any], legacy_functions: bool
) -> dict[str, Any]:
    """A ``chat.completion`` with ``n`` choices (and ``logprobs`` when asked)."""
    n = body.get("n") or 1
    logprobs = logprobs_of(answer.content, body.get("top_logprobs") or 0)
    choices = [
        {
            "index": i,
            "message": _message(answer, legacy_functions),
            "logprobs": logprobs if body.get("logprobs") else None,
            "finish_reason": _finish(answer, legacy_functions),
        }
        for i in range(n)
    ]
    return {**base, "object": "chat.completion", "usage": usage_of(answer, n), "choices": choices}


def chat_chunks(
    answer: ChatAnswer,
    base: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    usage_last: bool,
    legacy_functions: bool,
) -> list[dict[str, Any]]:
    """The stream of an answer, per choice: role, reasoning, text word by word, tool calls."""
    n = body.get("n") or 1
    top = body.get("top_logprobs") or 0
    want_logprobs = bool(body.get("logprobs"))

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**base, "object": "chat.completion.chunk", "choices": [choice]}

    out = []
    for index in range(n):
        out.append(chunk(index, {"role": "assistant", "content": ""}))
        for piece in pieces(answer.reasoning_content):
            out.append(chunk(index, {"reasoning_content": piece}))
        for piece in pieces(answer.content):
            item = chunk(index, {"content": piece})
            if want_logprobs:
                item["choices"][0]["logprobs"] = logprobs_of(piece, top)
            out.append(item)
        for call_index, call in enumerate(answer.tool_calls):
            fn = call["function"]
            args = fn["arguments"]
            if legacy_functions:
                out.append(chunk(index, {"function_call": {"name": fn["name"], "arguments": ""}}))
                for start in range(0, len(args), 8):
                    part = {"arguments": args[start : start + 8]}
                    out.append(chunk(index, {"function_call": part}))
                break
            head = {
                "index": call_index,
                "id": call["id"],
                "type": "function",
                "function": {"name": fn["name"], "arguments": ""},
            }
            out.append(chunk(index, {"tool_calls": [head]}))
            for start in range(0, len(args), 8):
                part = {"index": call_index, "function": {"arguments": args[start : start + 8]}}
                out.append(chunk(index, {"tool_calls": [part]}))
        out.append(chunk(index, {}, _finish(answer, legacy_functions)))
    if usage_last:
        out[-1]["usage"] = usage_of(answer, n)
    return out


def usage_chunk(base: Mapping[str, Any], usage: dict[str, int], obj: str) -> dict[str, Any]:
    """The last chunk of ``include_usage``: no choices, the usage."""
    return {**base, "object": obj, "choices": [], "usage": usage}


def _completion_logprobs(text: str, top: int) -> dict[str, Any]:
    tokens = pieces(text)
    offsets, at = [], 0
    for token in tokens:
        offsets.append(at)
        at += len(token)
    return {
        "tokens": tokens,
        "token_logprobs": [_logprob(t, 0) for t in tokens],
        "top_logprobs": [
            {_candidate(t, r)["token"]: _logprob(t, r) for r in range(top)} for t in tokens
        ],
        "text_offset": offsets,
    }


def completions_payload(
    answers: list[ChatAnswer], base: Mapping[str, Any], body: Mapping[str, Any]
) -> dict[str, Any]:
    """A legacy ``text_completion``: one choice per prompt and per ``n``."""
    n = body.get("n") or 1
    logprobs = body.get("logprobs")
    choices = [
        {
            "text": answer.content or "",
            "index": p * n + k,
            "logprobs": None
            if logprobs is None
            else _completion_logprobs(answer.content or "", logprobs),
            "finish_reason": answer.finish_reason,
        }
        for p, answer in enumerate(answers)
        for k in range(n)
    ]
    prompt = sum(a.prompt_tokens for a in answers)
    completion = sum(a.completion_tokens for a in answers) * n
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    return {**base, "object": "text_completion", "choices": choices, "usage": usage}


def completions_chunks(payload: Mapping[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    """The stream of a legacy completion: each choice's text piece by piece, then its finish."""
    base = {k: v for k, v in payload.items() if k not in ("choices", "usage")}
    out = []
    for choice in payload["choices"]:
        for piece in pieces(choice["text"]):
            item = {"text": piece, "index": choice["index"], "logprobs": None}
            out.append({**base, "choices": [{**item, "finish_reason": None}]})
        final = {"text": "", "index": choice["index"], "logprobs": None}
        out.append({**base, "choices": [{**final, "finish_reason": choice["finish_reason"]}]})
    if include_usage:
        out.append(usage_chunk(base, payload["usage"], "text_completion"))
    return out


def model_object(spec: ModelSpec) -> dict[str, Any]:
    """A model in ``GET /models``: OpenAI's fields, and Azure's ``capabilities``."""
    return {
        "id": spec.name,
        "object": "model",
        "created": _CREATED,
        "owned_by": spec.provider,
        "capabilities": {
            "chat_completion": spec.kind == "chat",
            "completion": spec.kind == "chat",
            "embeddings": spec.kind != "chat",
        },
    }


def chat_base(spec: ModelSpec) -> dict[str, Any]:
    """The fields every chat answer and chunk share."""
    return {
        "id": completion_id(),
        "created": int(time.time()),
        "model": spec.name,
        "system_fingerprint": "emulator",
    }


async def sse(
    chunks: list[dict[str, Any]], envelope: bool, limit: int | None
) -> AsyncIterator[str]:
    """Server-sent events of ``chunks``; stop the connection after ``limit`` chunks if set."""
    for sent, chunk in enumerate(chunks):
        if limit is not None and sent >= limit:
            raise ConnectionAbortedError("emulator fault: stream dropped")
        if envelope:
            yield f"event:messages\ndata:{json.dumps(chunk)}\n\n"
        else:
            yield f"data: {json.dumps(chunk)}\n\n"
        await asyncio.sleep(0)
    if not envelope:
        yield "data: [DONE]\n\n"
