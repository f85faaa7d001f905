"""What the models people deploy can do: context window, output limit and capabilities, as data.

Each `ModelProfile` holds public facts about one model family, with the page they were read from
(``source``). `find_profile` matches a model or deployment name to one (``gpt-4o-mini``,
``gpt-4o-2024-08-06``, ``Meta-Llama-3.1-405B-Instruct``, ``openai/gpt-4.1``...): the longest
known name that equals the name or starts it followed by ``-``. A name it does not know gives
None, and the frameworks keep their own defaults.

The adapters turn a profile into what their framework reads: LangChain's ``profile``
(``max_input_tokens``, ``tool_calling``, ``structured_output``...) and LlamaIndex's
``LLMMetadata`` (``context_window``, ``num_output``, ``is_function_calling_model``). A user's own
value always wins (``profile=`` in LangChain, ``context_window=``/``num_output=`` in
LlamaIndex). A capability left as None is not known here and is left out.

Limits are those of the model; a deployment may be set lower (Azure OpenAI's provisioned
deployments of ``gpt-4.1`` take 128,000 tokens, for example): pass your own then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "PROFILES",
    "REASONING_FAMILIES",
    "SAMPLING_DEFAULTS",
    "ModelProfile",
    "ReasoningRules",
    "find_profile",
    "find_reasoning_rules",
]

_OPENAI = "https://developers.openai.com/api/docs/models/"
_AZURE_OPENAI = (
    "https://learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/"
    "models-sold-directly-by-azure"
)
_HF = "https://huggingface.co/"
_AZURE_REASONING = "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning"
_MISTRAL = "https://docs.mistral.ai/getting-started/models/"
_COHERE = "https://docs.cohere.com/docs/models"
_REASONING_EFFORT = ("low", "medium", "high")


@dataclass(frozen=True)
class ModelProfile:
    """Public facts about one model family.

    Attributes:
        name: The name matched (lower case), e.g. ``gpt-4o-mini``.
        display_name: The model's name as its maker writes it.
        context_window: Tokens of input and output together.
        max_output_tokens: The most tokens one answer may have, where stated.
        max_input_tokens: The most input tokens, where stated apart from the window.
        image_inputs: Takes images.
        audio_inputs: Takes audio.
        tool_calling: Calls tools (function calling).
        structured_output: Takes ``response_format`` of type ``json_schema``.
        reasoning: A reasoning model (thinks before answering).
        reasoning_effort_levels: The ``reasoning_effort`` values it takes.
        temperature: Takes a ``temperature`` other than its default.
        open_weights: Its weights are published.
        source: Where these facts come from.
    """

    name: str
    display_name: str
    context_window: int
    source: str
    max_output_tokens: int | None = None
    max_input_tokens: int | None = None
    image_inputs: bool | None = None
    audio_inputs: bool | None = None
    tool_calling: bool | None = None
    structured_output: bool | None = None
    reasoning: bool | None = None
    reasoning_effort_levels: tuple[str, ...] = ()
    temperature: bool | None = None
    open_weights: bool | None = None

    @property
    def input_limit(self) -> int:
        """The most input tokens: ``max_input_tokens`` where stated, else the window."""
        return self.max_input_tokens or self.context_window

    def output_reserve(self) -> int | None:
        """Tokens to keep free for an answer when packing a prompt (LlamaIndex's ``num_output``).

        The model's output limit, but at most a quarter of the window: some models may answer
        with their whole window (``gpt-oss``), and reserving all of it would leave no room for
        the prompt. None where the output limit is not known.
        """
        if self.max_output_tokens is None:
            return None
        return min(self.max_output_tokens, self.context_window // 4)


def _gpt(name: str, display: str, window: int, output: int, **caps: object) -> ModelProfile:
    """An OpenAI model (sold on Azure OpenAI and in Foundry under the same name)."""
    facts: dict[str, object] = {
        "image_inputs": True,
        "tool_calling": True,
        "structured_output": True,
        "temperature": True,
        "reasoning": False,
        "open_weights": False,
        **caps,
    }
    return ModelProfile(name, display, window, _OPENAI + name, output, **facts)  # type: ignore[arg-type]


def _reasoning(name: str, display: str, window: int, output: int, **caps: object) -> ModelProfile:
    """An OpenAI reasoning model: no temperature, a reasoning_effort."""
    facts: dict[str, object] = {
        "reasoning": True,
        "reasoning_effort_levels": _REASONING_EFFORT,
        "temperature": False,
        **caps,
    }
    return _gpt(name, display, window, output, **facts)


PROFILES: tuple[ModelProfile, ...] = (
    # ---- OpenAI, on Azure OpenAI and Foundry ----
    _gpt("gpt-4o", "GPT-4o", 128_000, 16_384),
    _gpt("gpt-4o-mini", "GPT-4o mini", 128_000, 16_384),
    _gpt("gpt-4.1", "GPT-4.1", 1_047_576, 32_768),
    _gpt("gpt-4.1-mini", "GPT-4.1 mini", 1_047_576, 32_768),
    _gpt("gpt-4.1-nano", "GPT-4.1 nano", 1_047_576, 32_768),
    _gpt("gpt-4-turbo", "GPT-4 Turbo", 128_000, 4_096, structured_output=False),
    _gpt(
        "gpt-35-turbo", "GPT-3.5 Turbo", 16_385, 4_096, image_inputs=False, structured_output=False
    ),
    _gpt(
        "gpt-3.5-turbo", "GPT-3.5 Turbo", 16_385, 4_096, image_inputs=False, structured_output=False
    ),
    _reasoning(
        "gpt-5",
        "GPT-5",
        400_000,
        128_000,
        max_input_tokens=272_000,
        reasoning_effort_levels=("minimal", *_REASONING_EFFORT),
    ),
    _reasoning(
        "gpt-5-mini",
        "GPT-5 mini",
        400_000,
        128_000,
        max_input_tokens=272_000,
        reasoning_effort_levels=("minimal", *_REASONING_EFFORT),
    ),
    _reasoning(
        "gpt-5-nano",
        "GPT-5 nano",
        400_000,
        128_000,
        max_input_tokens=272_000,
        reasoning_effort_levels=("minimal", *_REASONING_EFFORT),
    ),
    ModelProfile(
        "gpt-5-chat",
        "GPT-5 Chat",
        128_000,
        _OPENAI + "gpt-5-chat-latest",
        max_output_tokens=16_384,
        image_inputs=True,
        reasoning=False,
        open_weights=False,
    ),
    _reasoning("o1", "o1", 200_000, 100_000),
    _reasoning(
        "o1-mini",
        "o1-mini",
        128_000,
        65_536,
        image_inputs=False,
        tool_calling=False,
        structured_output=False,
        reasoning_effort_levels=(),
    ),
    _reasoning("o3", "o3", 200_000, 100_000),
    _reasoning("o3-mini", "o3-mini", 200_000, 100_000, image_inputs=False),
    _reasoning("o4-mini", "o4-mini", 200_000, 100_000),
    ModelProfile(
        "gpt-oss",
        "gpt-oss (120b, 20b)",
        131_072,
        _OPENAI + "gpt-oss-120b",
        max_output_tokens=131_072,
        image_inputs=False,
        tool_calling=True,
        structured_output=True,
        reasoning=True,
        reasoning_effort_levels=_REASONING_EFFORT,
        open_weights=True,
    ),
    # ---- Meta Llama (serverless in Foundry) ----
    ModelProfile(
        "meta-llama-3",
        "Meta Llama 3 (8B, 70B) Instruct",
        8_192,
        _HF + "meta-llama/Meta-Llama-3-8B-Instruct",
        image_inputs=False,
        open_weights=True,
    ),
    ModelProfile(
        "meta-llama-3.1",
        "Meta Llama 3.1 (8B, 70B, 405B) Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.1-8B-Instruct",
        image_inputs=False,
        tool_calling=True,
        open_weights=True,
    ),
    ModelProfile(
        "llama-3.2-11b-vision",
        "Llama 3.2 11B Vision Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.2-11B-Vision-Instruct",
        image_inputs=True,
        open_weights=True,
    ),
    ModelProfile(
        "llama-3.2-90b-vision",
        "Llama 3.2 90B Vision Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.2-90B-Vision-Instruct",
        image_inputs=True,
        open_weights=True,
    ),
    ModelProfile(
        "llama-3.3",
        "Llama 3.3 70B Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.3-70B-Instruct",
        image_inputs=False,
        tool_calling=True,
        open_weights=True,
    ),
    # ---- Mistral ----
    ModelProfile(
        "mistral-large",
        "Mistral Large (2407, 2411)",
        131_072,
        _MISTRAL,
        image_inputs=False,
        tool_calling=True,
    ),
    ModelProfile("mistral-large-2402", "Mistral Large (2402)", 32_768, _MISTRAL, tool_calling=True),
    ModelProfile("mistral-small", "Mistral Small (2402)", 32_768, _MISTRAL, tool_calling=True),
    ModelProfile(
        "mistral-small-2503",
        "Mistral Small 3.1",
        131_072,
        _MISTRAL,
        image_inputs=True,
        tool_calling=True,
        open_weights=True,
    ),
    ModelProfile(
        "mistral-medium-2505",
        "Mistral Medium 3",
        131_072,
        _MISTRAL,
        image_inputs=True,
        tool_calling=True,
    ),
    ModelProfile(
        "mistral-nemo", "Mistral NeMo", 131_072, _MISTRAL, tool_calling=True, open_weights=True
    ),
    ModelProfile("ministral-3b", "Ministral 3B", 131_072, _MISTRAL, tool_calling=True),
    ModelProfile("codestral-2501", "Codestral (2501)", 262_144, _MISTRAL, tool_calling=True),
    # ---- DeepSeek (and Microsoft's post-trained R1) ----
    ModelProfile(
        "deepseek-r1",
        "DeepSeek-R1",
        131_072,
        _HF + "deepseek-ai/DeepSeek-R1",
        image_inputs=False,
        reasoning=True,
        open_weights=True,
    ),
    ModelProfile(
        "deepseek-v3",
        "DeepSeek-V3",
        131_072,
        _HF + "deepseek-ai/DeepSeek-V3",
        image_inputs=False,
        reasoning=False,
        open_weights=True,
    ),
    # ---- Qwen (reasoning in <think> blocks) ----
    ModelProfile(
        "qwq-32b",
        "QwQ-32B",
        131_072,
        _HF + "Qwen/QwQ-32B",
        image_inputs=False,
        tool_calling=True,
        reasoning=True,
        open_weights=True,
    ),
    # ---- Microsoft Phi ----
    ModelProfile(
        "phi-4",
        "Phi-4",
        16_384,
        _HF + "microsoft/phi-4",
        image_inputs=False,
        open_weights=True,
    ),
    ModelProfile(
        "phi-4-mini",
        "Phi-4-mini-instruct",
        131_072,
        _HF + "microsoft/Phi-4-mini-instruct",
        image_inputs=False,
        tool_calling=True,
        open_weights=True,
    ),
    ModelProfile(
        "phi-4-multimodal",
        "Phi-4-multimodal-instruct",
        131_072,
        _HF + "microsoft/Phi-4-multimodal-instruct",
        image_inputs=True,
        audio_inputs=True,
        open_weights=True,
    ),
    ModelProfile(
        "phi-4-reasoning",
        "Phi-4-reasoning",
        32_768,
        _HF + "microsoft/Phi-4-reasoning",
        image_inputs=False,
        reasoning=True,
        open_weights=True,
    ),
    ModelProfile(
        "phi-4-mini-reasoning",
        "Phi-4-mini-reasoning",
        131_072,
        _HF + "microsoft/Phi-4-mini-reasoning",
        image_inputs=False,
        reasoning=True,
        open_weights=True,
    ),
    ModelProfile(
        "phi-3.5-mini",
        "Phi-3.5-mini-instruct",
        131_072,
        _HF + "microsoft/Phi-3.5-mini-instruct",
        open_weights=True,
    ),
    ModelProfile(
        "phi-3.5-moe",
        "Phi-3.5-MoE-instruct",
        131_072,
        _HF + "microsoft/Phi-3.5-MoE-instruct",
        open_weights=True,
    ),
    ModelProfile(
        "phi-3.5-vision",
        "Phi-3.5-vision-instruct",
        131_072,
        _HF + "microsoft/Phi-3.5-vision-instruct",
        image_inputs=True,
        open_weights=True,
    ),
    *(
        ModelProfile(
            f"phi-3-{size}-{window}k",
            f"Phi-3-{size}-{window}k-instruct",
            window * 1024,
            f"{_HF}microsoft/Phi-3-{size}-{window}k-instruct",
            open_weights=True,
        )
        for size, window in (
            ("mini", 4),
            ("mini", 128),
            ("small", 8),
            ("small", 128),
            ("medium", 4),
            ("medium", 128),
        )
    ),
    # ---- Cohere ----
    *(
        ModelProfile(
            f"{prefix}{name}",
            display,
            window,
            _COHERE,
            max_output_tokens=output,
            image_inputs=False,
            tool_calling=True,
        )
        for prefix in ("", "cohere-")
        for name, display, window, output in (
            ("command-r", "Command R", 128_000, 4_000),
            ("command-r-plus", "Command R+", 128_000, 4_000),
            ("command-a", "Command A", 256_000, 8_000),
        )
    ),
)
"""Every known profile."""

_BY_NAME = {profile.name: profile for profile in PROFILES}
_LONGEST_FIRST = sorted(_BY_NAME, key=len, reverse=True)


def find_profile(*names: str | None) -> ModelProfile | None:
    """The profile of the first of ``names`` that matches one, else None.

    Args:
        *names: Model or deployment names, most telling first (the user's ``model``, the model
            an answer named, ``/info``'s ``model_name``, the deployment in the endpoint URL).
    """
    for name in names:
        if not name:
            continue
        for part in reversed(name.strip().lower().split("/")):
            profile = _match(part)
            if profile is not None:
                return profile
    return None


def _match(name: str) -> ModelProfile | None:
    exact = _BY_NAME.get(name)
    if exact is not None:
        return exact
    for known in _LONGEST_FIRST:
        if name.startswith(known + "-"):
            return _BY_NAME[known]
    return None


# ---- reasoning models: what they refuse, how they write their reasoning ----


@dataclass(frozen=True)
class ReasoningRules:
    """What a family of reasoning models takes and how it answers.

    Attributes:
        family: The family's name, e.g. ``openai-reasoning`` or ``deepseek-r1``.
        completion_tokens: Refuses ``max_tokens``: the answer's limit (reasoning included) goes
            as ``max_completion_tokens``.
        fixed_sampling: Parameters taken only at their default value (or not at all):
            ``temperature``, ``top_p``, the penalties, ``logprobs``...
        think_tags: Writes its reasoning into the text as ``<think>...</think>`` where the
            server has no reasoning parser (see `azureinference.think`).
        source: Where these facts come from.
    """

    family: str
    source: str
    completion_tokens: bool = False
    fixed_sampling: tuple[str, ...] = ()
    think_tags: bool = False


SAMPLING_DEFAULTS: dict[str, object] = {
    "temperature": 1,
    "top_p": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logprobs": False,
}
"""The sampling parameters a reasoning model may refuse, with the one value it takes for each;
``top_logprobs`` and ``logit_bias`` have none (taken only when absent)."""

_OPENAI_REASONING = ReasoningRules(
    "openai-reasoning",
    _AZURE_REASONING,
    completion_tokens=True,
    fixed_sampling=(*SAMPLING_DEFAULTS, "top_logprobs", "logit_bias"),
)

REASONING_FAMILIES: tuple[tuple[str, ReasoningRules], ...] = (
    # o1, o1-mini, o3-pro, o4-mini-2025-04-16...; gpt-5, gpt-5.1, gpt-5.2-codex... but not the
    # gpt-5-chat models, which are not reasoning models and take temperature.
    (r"o[1-9][0-9]*(-.*)?", _OPENAI_REASONING),
    (r"gpt-5(\.[0-9]+)?(?!.*-chat)(-.*)?", _OPENAI_REASONING),
    (r"codex-mini(-.*)?", _OPENAI_REASONING),
    (
        r"(mai-ds-r1|deepseek-r1)(-.*)?",
        ReasoningRules("deepseek-r1", _HF + "deepseek-ai/DeepSeek-R1", think_tags=True),
    ),
    (r"qwq(-.*)?", ReasoningRules("qwq", _HF + "Qwen/QwQ-32B", think_tags=True)),
    (r"qwen3(-.*)?", ReasoningRules("qwen3", _HF + "Qwen/Qwen3-32B", think_tags=True)),
    (
        r"phi-4(-mini)?-reasoning(-.*)?",
        ReasoningRules("phi-4-reasoning", _HF + "microsoft/Phi-4-reasoning", think_tags=True),
    ),
    (r"gpt-oss(-.*)?", ReasoningRules("gpt-oss", _OPENAI + "gpt-oss-120b")),
)
"""Reasoning model families by name (a regular expression on the lower-case name)."""

_FAMILY_PATTERNS = tuple((re.compile(pattern), rules) for pattern, rules in REASONING_FAMILIES)


def find_reasoning_rules(*names: str | None) -> ReasoningRules | None:
    """The rules of the first of ``names`` that names a reasoning model family, else None.

    Names are matched as `find_profile` matches them (lower case, each part of a ``/`` path,
    ``DeepSeek-R1-0528`` and ``azureml://.../deepseek-r1`` alike), against `REASONING_FAMILIES`:
    a family's later versions (``gpt-5.2``, ``o5-mini``) are recognised before they have a
    profile of their own.

    Args:
        *names: Model or deployment names, most telling first.
    """
    for name in names:
        if not name:
            continue
        for part in reversed(name.strip().lower().split("/")):
            for pattern, rules in _FAMILY_PATTERNS:
                if pattern.fullmatch(part):
                    return rules
    return None
