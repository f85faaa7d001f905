"""What a request may hold: known fields per route family, each model's refusals, valid values.

Checks raise `BadParam` (answered per route family by `refusals.bad_param`) or a `Refusal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azureinference.requests import CHAT_FIELDS, EMBEDDINGS_FIELDS

from .config import ModelSpec
from .refusals import BadParam, Style, extra_fields, nested_error

__all__ = [
    "OPENAI_CHAT_FIELDS",
    "OPENAI_COMPLETIONS_FIELDS",
    "apply_extra_parameters",
    "check_chat",
    "check_supported",
    "known_fields",
]

OPENAI_CHAT_FIELDS = CHAT_FIELDS | frozenset(
    {
        "audio",
        "function_call",
        "functions",
        "metadata",
        "moderation",
        "prediction",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "safety_identifier",
        "service_tier",
        "store",
        "verbosity",
        "web_search_options",
        # Azure OpenAI's own
        "data_sources",
        "user_security_context",
    }
)
"""The chat fields of OpenAI's API (and Azure OpenAI's): standard on the OpenAI-style routes."""

OPENAI_COMPLETIONS_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "best_of",
        "echo",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "presence_penalty",
        "seed",
        "stop",
        "stream",
        "stream_options",
        "suffix",
        "temperature",
        "top_p",
        "user",
    }
)
"""The legacy ``/completions`` fields."""

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def known_fields(route: str, style: Style) -> frozenset[str]:
    """The body fields a route knows without ``extra-parameters``."""
    if route == "chat":
        return OPENAI_CHAT_FIELDS if style.openai_rules else CHAT_FIELDS
    if route == "completions":
        return OPENAI_COMPLETIONS_FIELDS
    return EMBEDDINGS_FIELDS


def apply_extra_parameters(
    body: dict[str, Any], known: frozenset[str], mode: str | None, style: Style
) -> None:
    """Apply the ``extra-parameters`` header to fields outside ``known``: refuse, drop or pass."""
    extras = sorted(set(body) - known)
    if mode not in (None, "error", "drop", "pass-through"):
        raise nested_error(
            400, "invalid_header", f"extra-parameters must be error, drop or pass-through: {mode}"
        )
    if not extras:
        return
    if mode in (None, "error"):
        raise extra_fields(style, extras, body[extras[0]])
    if mode == "drop":
        for name in extras:
            del body[name]


def check_supported(spec: ModelSpec, body: Mapping[str, Any]) -> None:
    """Refuse the parameters (or parameter values) the model does not support."""
    for param in sorted(spec.unsupported):
        name, _, value = param.partition(".")
        if name not in body:
            continue
        given = body[name]
        if not value:
            raise BadParam(name, f"{name} is not supported", given, unsupported=True)
        actual = given.get("type") if isinstance(given, Mapping) else given
        if actual == value:
            raise BadParam(name, f"{name} {value} is not supported", actual, unsupported=True)


def _number(body: Mapping[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is not None and (
        not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high
    ):
        raise BadParam(name, f"{name} must be a number between {low} and {high}", value)


def _integer(body: Mapping[str, Any], name: str, low: int | None = None) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or (low is not None and value < low):
        bound = f" of at least {low}" if low is not None else ""
        raise BadParam(name, f"{name} must be an integer{bound}", value)


def check_sampling(body: Mapping[str, Any]) -> None:
    """Sampling values shared by chat and completions."""
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    _integer(body, "max_tokens", 1)
    _integer(body, "max_completion_tokens", 1)
    _integer(body, "seed")
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128):
        raise BadParam("n", "n must be an integer from 1 to 128", n)


def check_chat(body: Mapping[str, Any]) -> None:
    """Check a chat body's messages and values (raises `BadParam` naming the parameter)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadParam("messages", "messages must be a non-empty list", messages)
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping) or msg.get("role") not in _ROLES:
            raise BadParam(f"messages.{i}.role", "each message needs a known role", msg)
        if msg["role"] == "tool" and not msg.get("tool_call_id"):
            raise BadParam(f"messages.{i}.tool_call_id", "a tool message needs tool_call_id")
    check_sampling(body)
    logprobs = body.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise BadParam("logprobs", "logprobs must be a boolean", logprobs)
    top = body.get("top_logprobs")
    if top is not None:
        if not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= 20:
            raise BadParam("top_logprobs", "top_logprobs must be an integer from 0 to 20", top)
        if not logprobs:
            raise BadParam("top_logprobs", "top_logprobs needs logprobs set to true", top)
    rf = body.get("response_format")
    if rf is not None:
        kind = rf.get("type") if isinstance(rf, Mapping) else None
        if kind not in ("text", "json_object", "json_schema"):
            raise BadParam("response_format", "unknown response_format type", rf)
        if kind == "json_schema" and not isinstance(
            (rf.get("json_schema") or {}).get("schema"), Mapping
        ):
            raise BadParam("response_format.json_schema", "json_schema needs a schema", rf)
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping):
        chosen = (choice.get("function") or {}).get("name")
        names = {(t.get("function") or {}).get("name") for t in body.get("tools") or []}
        if chosen not in names:
            raise BadParam("tool_choice", f"tool_choice names an unknown tool: {chosen}", choice)
    elif choice is not None and choice not in ("auto", "none", "required"):
        raise BadParam("tool_choice", "tool_choice must be auto, none, required or a tool", choice)


def check_completions(body: Mapping[str, Any]) -> None:
    """Check a legacy ``/completions`` body."""
    prompt = body.get("prompt")
    if not (
        isinstance(prompt, str)
        or (
            isinstance(prompt, list)
            and prompt
            and all(isinstance(p, (str, int, list)) for p in prompt)
        )
    ):
        raise BadParam("prompt", "prompt must be a string, a list of strings or tokens", prompt)
    check_sampling(body)
    logprobs = body.get("logprobs")
    if logprobs is not None and (
        not isinstance(logprobs, int) or isinstance(logprobs, bool) or not 0 <= logprobs <= 5
    ):
        raise BadParam("logprobs", "logprobs must be an integer from 0 to 5", logprobs)
