"""Deterministic answers: echo text, tool calls from schemas, JSON, image descriptions, vectors.

Pure functions of the request body, so the same request always gets the same answer (only the
ids of tool calls are fresh each time, as the services' are).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import itertools
import json
import math
import re
import secrets
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import ScriptedReply
from .schema_values import instance_of

__all__ = [
    "ChatAnswer",
    "cap_answer",
    "chat_answer",
    "count_tokens",
    "embedding",
    "encode_vector",
    "reasoned_answer",
]

_COUNT = re.compile(r"\bcount to (\d+)\b", re.IGNORECASE)
_MAX_COUNT = 100_000


@dataclass
class ChatAnswer:
    """What the emulated model says to one chat request."""

    content: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    reasoning_content: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int | None = None

    def message(self) -> dict[str, Any]:
        """The ``choices[0].message`` of a non-streamed answer."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = self.tool_calls
        if self.reasoning_content is not None:
            msg["reasoning_content"] = self.reasoning_content
        return msg


def count_tokens(text: str | None) -> int:
    """Tokens, as the emulator counts them: whitespace-separated words."""
    return len(text.split()) if text else 0


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
        )
    return ""


def _images_of(content: Any) -> list[str]:
    if not isinstance(content, Sequence) or isinstance(content, str):
        return []
    urls = []
    for part in content:
        if isinstance(part, Mapping) and part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            detail = image.get("detail") if isinstance(image, Mapping) else None
            urls.append(_describe_image(str(url), detail))
    return urls


def _describe_image(url: str, detail: str | None) -> str:
    suffix = f", detail {detail}" if detail else ""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media = header[5:].split(";")[0] or "unknown type"
        try:
            size = len(base64.b64decode(data, validate=True))
        except ValueError:
            return f"an undecodable {media} data URL{suffix}"
        return f"a {media} image of {size} bytes{suffix}"
    return f"the image at {url}{suffix}"


def _prompt_tokens(messages: Sequence[Any]) -> int:
    total = 0
    for msg in messages:
        if isinstance(msg, Mapping):
            total += 1 + count_tokens(_text_of(msg.get("content")))
            for call in msg.get("tool_calls") or []:
                total += count_tokens(str(call.get("function", {}).get("arguments", "")))
    return total


_NAME_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Words a tool's name or description shares with many requests: they alone call no tool.
_GENERIC = frozenset(
    re.findall(
        r"\w+",
        "get set fetch retrieve return returns tool tools function call run do make use given "
        "current value values data info information input output result results thing things "
        "some any all one two user text string number numbers",
    )
)


def _stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _content_words(text: str) -> set[str]:
    words = {_stem(w) for w in _NAME_PARTS.findall(text)}
    return {w for w in words if len(w) > 1 and w not in _STOPWORDS and w not in _GENERIC}


def _tool_score(tool: Mapping[str, Any], said: set[str]) -> int:
    """How well the user's words match a tool: 2 per word of its name, 1 per description word."""
    name_words = _content_words(str(tool.get("name", "")))
    description_words = _content_words(str(tool.get("description") or "")) - name_words
    return 2 * len(name_words & said) + len(description_words & said)


def _chosen_tools(body: Mapping[str, Any], user_text: str) -> list[Mapping[str, Any]]:
    """The tools the model calls: the forced one, else those the user's words point to.

    With ``"auto"`` a tool is called when a word of its name is in the user's text
    ("Weather in Paris?" calls ``get_weather``), or two words of its description are.
    """
    tools = [
        t["function"]
        for t in body.get("tools") or []
        if isinstance(t, Mapping) and isinstance(t.get("function"), Mapping)
    ]
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return []
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name")
        return [t for t in tools if t.get("name") == name][:1]
    said = _content_words(user_text)
    scored = [(score, i, t) for i, t in enumerate(tools) if (score := _tool_score(t, said)) >= 2]
    scored.sort(key=lambda item: (-item[0], item[1]))
    mentioned = [t for _, _, t in scored]
    if not mentioned and choice in ("required", "any"):
        mentioned = tools[:1]
    if body.get("parallel_tool_calls") is False:
        mentioned = mentioned[:1]
    return mentioned


def _tool_call(name: str, arguments: Any, call_id: str | None = None) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        # A fresh id per call, as the services give: an agent calling the same tool twice with
        # the same arguments must be able to tell the two results apart.
        "id": call_id or f"call_{secrets.token_hex(12)}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    }


def _apply_limits(text: str, body: Mapping[str, Any]) -> tuple[str, str]:
    """Cut ``text`` at the first stop sequence or after ``max_tokens`` words."""
    finish = "stop"
    stop = body.get("stop")
    for seq in [stop] if isinstance(stop, str) else stop or []:
        if seq and seq in text:
            text = text[: text.index(seq)]
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if isinstance(limit, int) and count_tokens(text) > limit:
        text = " ".join(text.split()[:limit])
        finish = "length"
    return text, finish


def cap_answer(answer: ChatAnswer, shares: int, max_tokens: int, max_chars: int) -> ChatAnswer:
    """``answer`` cut to its share of the request's output bound, ``finish_reason: "length"``.

    ``shares`` is how many times the answer is sent (``n`` choices, times prompts for the legacy
    route): the whole request stays within ``max_tokens`` words and ``max_chars`` characters (for
    the text, and again for the reasoning), so one request cannot make the emulator build (or
    stream) an unbounded answer.
    """
    tokens, chars = max(1, max_tokens // shares), max(1, max_chars // shares)
    content = _cut(answer.content, tokens, chars)
    reasoning = _cut(answer.reasoning_content, tokens, chars)
    if content is None and reasoning is None:
        return answer
    text = answer.content if content is None else content
    thought = answer.reasoning_content if reasoning is None else reasoning
    return dataclasses.replace(
        answer,
        content=text,
        reasoning_content=thought,
        finish_reason="length",
        completion_tokens=count_tokens(text) + count_tokens(thought),
    )


_WORD = re.compile(r"\S+")


def _cut(text: str | None, tokens: int, chars: int) -> str | None:
    """``text`` cut after ``tokens`` words and within ``chars`` characters; None if it fits."""
    if text is None or (len(text) <= chars and count_tokens(text) <= tokens):
        return None
    head = text[:chars]
    words = list(itertools.islice(_WORD.finditer(head), tokens))
    cut_through = words and words[-1].end() == len(head) < len(text)
    if cut_through and len(words) > 1 and not text[len(head)].isspace():
        words.pop()  # the last word was cut through (one very long word is kept in part)
    return text[: words[-1].end()] if words else ""


def _scripted(reply: ScriptedReply, prompt_tokens: int) -> ChatAnswer:
    calls = [
        _tool_call(c["name"], c.get("arguments", {}), c.get("id")) for c in reply.tool_calls or []
    ]
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    completion = count_tokens(reply.content) + sum(
        count_tokens(c["function"]["arguments"]) for c in calls
    )
    usage = reply.usage or {}
    return ChatAnswer(
        content=reply.content,
        tool_calls=calls,
        finish_reason=finish,
        reasoning_content=reply.reasoning_content,
        prompt_tokens=usage.get("prompt_tokens", prompt_tokens),
        completion_tokens=usage.get("completion_tokens", completion),
    )


def chat_answer(body: Mapping[str, Any], scripted: ScriptedReply | None = None) -> ChatAnswer:
    """The answer to a (validated) chat request body."""
    messages = body.get("messages") or []
    prompt_tokens = _prompt_tokens(messages)
    if scripted is not None:
        return _scripted(scripted, prompt_tokens)
    last = messages[-1] if messages else {}
    user = next(
        (m for m in reversed(messages) if isinstance(m, Mapping) and m.get("role") == "user"), {}
    )
    user_text = _text_of(user.get("content")).strip()
    if last.get("role") == "tool":
        results = [
            _text_of(m.get("content"))
            for m in reversed(messages)
            if isinstance(m, Mapping) and m.get("role") == "tool"
        ]
        text = "The tool returned: " + "; ".join(reversed(results))
    else:
        tools = _chosen_tools(body, user_text)
        if tools:
            calls = [
                _tool_call(str(t["name"]), instance_of(t.get("parameters") or {}, user_text))
                for t in tools
            ]
            completion = sum(count_tokens(c["function"]["arguments"]) for c in calls)
            return ChatAnswer(None, calls, "tool_calls", None, prompt_tokens, completion)
        text = _text_answer(body, user_text, user.get("content"))
    text, finish = _apply_limits(text, body)
    return ChatAnswer(text, [], finish, None, prompt_tokens, count_tokens(text))


# How long the emulated reasoning is, by reasoning_effort: sentences of _THOUGHTS.
_EFFORT_SENTENCES = {"none": 0, "minimal": 1, "low": 1, "medium": 2, "high": 3, "xhigh": 4}
_THOUGHTS = (
    "The user wrote to me, and I read the request once.",
    "The emulator answers deterministically, so I know what to say.",
    "I check that the answer follows the request.",
    "I check it once more, as a careful model does.",
)


def _reasoning(body: Mapping[str, Any], answer: ChatAnswer) -> str:
    effort = body.get("reasoning_effort")
    count = _EFFORT_SENTENCES.get(effort, 2) if isinstance(effort, str) else 2
    thoughts = list(_THOUGHTS[:count])
    if answer.tool_calls:
        names = ", ".join(c["function"]["name"] for c in answer.tool_calls)
        thoughts.append(f"A tool can answer this: I call {names}.")
    return " ".join(thoughts)


def _words(text: str, limit: int) -> str:
    return " ".join(text.split()[:limit])


def reasoned_answer(
    body: Mapping[str, Any], style: str, scripted: ScriptedReply | None = None
) -> ChatAnswer:
    """The answer of a reasoning model: reasoning (as long as ``reasoning_effort`` says), then text.

    ``max_completion_tokens`` (or ``max_tokens``) counts both. ``style`` ``"reasoning_content"``
    gives the reasoning apart (and ``reasoning_tokens``); ``"think"`` writes it into the text as
    ``<think>...</think>``. A scripted reply is as scripted.
    """
    if scripted is not None:
        return chat_answer(body, scripted)
    unlimited = {k: v for k, v in body.items() if k not in ("max_tokens", "max_completion_tokens")}
    answer = chat_answer(unlimited)
    reasoning = _reasoning(body, answer)
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    spent = count_tokens(reasoning)
    text = answer.content or ""
    if isinstance(budget, int) and spent >= budget:
        # The budget went on reasoning: no answer, as gpt-5 answers a small max_completion_tokens.
        reasoning, text, spent = _words(reasoning, budget), "", budget
        answer.tool_calls, answer.finish_reason = [], "length"
    elif isinstance(budget, int) and count_tokens(text) > budget - spent:
        text, answer.finish_reason = _words(text, budget - spent), "length"
    answered = count_tokens(text) + sum(
        count_tokens(c["function"]["arguments"]) for c in answer.tool_calls
    )
    if style == "think":
        closed = "\n</think>\n\n" if answer.finish_reason != "length" or text else ""
        content: str | None = f"<think>\n{reasoning}{closed}{text}"
        return ChatAnswer(
            content,
            answer.tool_calls,
            answer.finish_reason,
            None,
            answer.prompt_tokens,
            min(spent + answered + 2, budget) if isinstance(budget, int) else spent + answered + 2,
        )
    return ChatAnswer(
        text if text or not answer.tool_calls else None,
        answer.tool_calls,
        answer.finish_reason,
        reasoning,
        answer.prompt_tokens,
        spent + answered,
        reasoning_tokens=spent,
    )


def _text_answer(body: Mapping[str, Any], user_text: str, content: Any) -> str:
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}  # type: ignore[union-attr]
        return json.dumps(instance_of(schema, user_text))
    if kind == "json_object":
        return json.dumps(json_answer(body.get("messages") or [], user_text))
    schema = _schema_in_prompt(body.get("messages") or [])
    if schema is not None:  # a prompt that gives a JSON schema to follow gets JSON
        return json.dumps(instance_of(schema, _hint_text(user_text)))
    images = _images_of(content)
    if images:
        seen = "; ".join(images)
        plural = "s" if len(images) > 1 else ""
        return f"I see {len(images)} image{plural}: {seen}. You said: {user_text}"
    counted = _COUNT.search(user_text)
    if counted:
        n = min(int(counted.group(1)), _MAX_COUNT)
        return " ".join(str(i) for i in range(1, n + 1))
    return f"You said: {user_text}" if user_text else "Hello! How can I help?"


_KEYS_SENTENCE = re.compile(
    r"[^.!?\n]*\b(?:keys?|fields?|propert(?:y|ies)|attributes?|entries)\b[^.!?\n]*",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"""["'`]([A-Za-z_][\w-]{0,63})["'`]""")
_LISTED = re.compile(
    r"\b(?:keys?|fields?|properties|attributes)\s*(?::|named|called)?\s+"
    r"([A-Za-z_]\w*(?:\s*(?:,|and|or)\s*[A-Za-z_]\w*)*)",
    re.IGNORECASE,
)
_SCHEMA_WORDS = re.compile(r"\bschema\b", re.IGNORECASE)
_MAX_KEYS = 20


def _json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects written in ``text``, in order (nested ones only inside their parent)."""
    if "{{" in text:
        # A template's escaped braces left in the prompt, as LlamaIndex's LLM programs send it.
        text = text.replace("{{", "{").replace("}}", "}")
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    at = text.find("{")
    while at != -1 and len(found) < 50:
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        at = text.find("{", end)
    return found


def _is_schema(obj: Mapping[str, Any]) -> bool:
    return isinstance(obj.get("properties"), Mapping) and (
        obj.get("type") in (None, "object") or "required" in obj
    )


def _message_texts(messages: Sequence[Any]) -> list[str]:
    """The system and user texts of a conversation, latest first."""
    return [
        _text_of(m.get("content"))
        for m in reversed(messages)
        if isinstance(m, Mapping) and m.get("role") in ("system", "developer", "user")
    ]


def _schema_in_prompt(messages: Sequence[Any]) -> dict[str, Any] | None:
    """The JSON schema a prompt asks to follow (the last one written), or None.

    LangChain's and LlamaIndex's format instructions write an example schema, then the schema.
    """
    for text in _message_texts(messages):
        if not _SCHEMA_WORDS.search(text):
            continue
        schemas = [o for o in _json_objects(text) if _is_schema(o)]
        if schemas:
            return schemas[-1]
    return None


def _hint_text(text: str) -> str:
    """The user's words without the JSON and the format instructions around it."""
    cut = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    sentences = re.findall(r"[^.!?\n]+[.!?]?", cut)
    kept = [
        s.strip()
        for s in sentences
        if "{" not in s
        and "}" not in s
        and not re.search(r"json|schema|format|\bkeys?\b|\bfields?\b", s, re.IGNORECASE)
    ]
    return " ".join(k for k in kept if k)


def _named_keys(text: str) -> list[str]:
    """Keys a prompt names: "with 'setup' and 'punchline' keys", "keys: name, age"."""
    keys: list[str] = []
    for sentence in _KEYS_SENTENCE.findall(text):
        quoted = _QUOTED.findall(sentence)
        if not quoted:
            listed = _LISTED.search(sentence)
            quoted = re.split(r"\s*(?:,|\band\b|\bor\b)\s*", listed.group(1)) if listed else []
        keys.extend(k for k in quoted if k and k not in keys)
    return keys[:_MAX_KEYS]


def json_answer(messages: Sequence[Any], user_text: str) -> Any:
    """What JSON mode answers.

    An instance of the schema the prompt gives, else an object with the keys it names (or those
    of an example object it shows), else ``{"answer": ...}``.
    """
    hint = _hint_text(user_text)
    schema = _schema_in_prompt(messages)
    if schema is not None:
        return instance_of(schema, hint)
    for text in _message_texts(messages):
        keys = _named_keys(text)
        if keys:
            props = {k: {"type": "string"} for k in keys}
            return instance_of({"type": "object", "properties": props}, hint)
        if re.search(r"\bjson\b", text, re.IGNORECASE):
            examples = [o for o in _json_objects(text) if o and not _is_schema(o)]
            if examples:
                return instance_of(_schema_of_example(examples[-1]), hint)
    return {"answer": f"You said: {user_text}"}


def _schema_of_example(example: Any) -> dict[str, Any]:
    """A schema whose instances look like ``example`` (same keys, same kinds of values)."""
    if isinstance(example, dict):
        props = {k: _schema_of_example(v) for k, v in example.items()}
        return {"type": "object", "properties": props}
    if isinstance(example, list):
        return {"type": "array", "items": _schema_of_example(example[0]) if example else {}}
    if isinstance(example, bool):
        return {"type": "boolean"}
    if isinstance(example, int):
        return {"type": "integer"}
    if isinstance(example, float):
        return {"type": "number"}
    return {"type": "string"}


_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by do does for from has have how in is it its of on or the this "
        "that to was were what when where which who why with",
    )
)


@functools.lru_cache(maxsize=8192)
def _direction(token: str, dimensions: int) -> tuple[int, ...]:
    """A random direction for ``token``: ``dimensions`` int16 values from its SHAKE-256 stream."""
    raw = hashlib.shake_256(token.encode()).digest(2 * dimensions)
    return struct.unpack(f"<{dimensions}h", raw)


def embedding(text: str, dimensions: int, input_type: str | None = None) -> list[float]:
    """A unit vector of ``dimensions`` floats, a pure function of the text and input type.

    A bag of words: each content word adds its own random direction, so texts that share words
    point the same way and a retrieval demo finds the passage that mentions what was asked. The
    whole text and the input type add smaller directions of their own: different texts, or a query
    and a document of the same text, never get the same vector. Built with C-level loops (about
    0.1 ms for 1,024 dimensions), so the emulator keeps up with bulk embedding jobs.
    """
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    whole = _direction("t:" + text, dimensions)
    if words:
        # Each word weighs 1, the whole text 0.5: sum the words, then add half the text.
        directions = [_direction("w:" + w, dimensions) for w in words]
        summed = [sum(col) for col in zip(*directions, strict=True)]
        vector = [w + 0.5 * t for w, t in zip(summed, whole, strict=True)]
    else:
        vector = [float(t) for t in whole]
    if input_type:
        kind = _direction("i:" + input_type, dimensions)
        vector = [v + 0.2 * k for v, k in zip(vector, kind, strict=True)]
    norm = math.hypot(*vector) or 1.0
    # Rounded through float32, so the float and base64 forms carry the very same values.
    packed = struct.pack(f"<{dimensions}f", *[v / norm for v in vector])
    return list(struct.unpack(f"<{dimensions}f", packed))


def encode_vector(vector: list[float], encoding_format: str | None) -> list[float] | str:
    """The vector as floats, or as base64 of little-endian float32 values."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector
