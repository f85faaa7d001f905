"""The model's profile as LangChain reads it (``BaseChatModel.profile``, a ``ModelProfile``).

The facts come from `azureinference.profiles`; this module only renames them to LangChain's keys,
leaving out what is not known.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import ModelProfile

from azureinference.adapters import ModelProfile as Facts
from azureinference.adapters import find_profile

__all__ = ["langchain_profile"]

# LangChain's key -> the attribute of `azureinference.profiles.ModelProfile` it comes from.
_KEYS = {
    "image_inputs": "image_inputs",
    "audio_inputs": "audio_inputs",
    "tool_calling": "tool_calling",
    "tool_choice": "tool_calling",
    "structured_output": "structured_output",
    "reasoning_output": "reasoning",
    "temperature": "temperature",
    "open_weights": "open_weights",
}


def to_langchain_profile(facts: Facts) -> ModelProfile:
    """LangChain's ``ModelProfile`` for these facts (unknown capabilities left out)."""
    profile: dict[str, Any] = {
        "name": facts.display_name,
        "max_input_tokens": facts.input_limit,
        "text_inputs": True,
        "text_outputs": True,
    }
    if facts.max_output_tokens is not None:
        profile["max_output_tokens"] = facts.max_output_tokens
    for key, attribute in _KEYS.items():
        value = getattr(facts, attribute)
        if value is not None:
            profile[key] = value
    if facts.reasoning_effort_levels:
        profile["reasoning_effort_levels"] = list(facts.reasoning_effort_levels)
    return ModelProfile(**profile)  # type: ignore[typeddict-item,no-any-return]


def langchain_profile(*names: str | None) -> ModelProfile | None:
    """The profile of the first of ``names`` that is a known model, else None."""
    facts = find_profile(*names)
    return to_langchain_profile(facts) if facts is not None else None
