"""What the model can do, known to both frameworks (issue 15, item 11)."""

from __future__ import annotations

import warnings

import pytest
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS

from azureinference.emulator import EmulatorConfig, ModelSpec, running_emulator
from azureinference.profiles import PROFILES, find_profile
from langchain_azureinference import AzureAIChatCompletionsModel
from llamaindex_azureinference import AzureAICompletionsModel

REMOTE = "https://test-resource.services.ai.azure.com/models"


@pytest.mark.parametrize(
    ("name", "known", "window"),
    [
        ("gpt-4o-mini", "gpt-4o-mini", 128_000),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini", 128_000),
        ("gpt-4o", "gpt-4o", 128_000),
        ("GPT-4.1", "gpt-4.1", 1_047_576),
        ("openai/gpt-4.1-nano", "gpt-4.1-nano", 1_047_576),
        ("gpt-5-mini", "gpt-5-mini", 400_000),
        ("gpt-5-chat", "gpt-5-chat", 128_000),
        ("o3-mini", "o3-mini", 200_000),
        ("gpt-oss-120b", "gpt-oss", 131_072),
        ("Meta-Llama-3.1-405B-Instruct", "meta-llama-3.1", 131_072),
        ("Meta-Llama-3-8B-Instruct", "meta-llama-3", 8_192),
        ("Llama-3.3-70B-Instruct", "llama-3.3", 131_072),
        ("Mistral-Large-2411", "mistral-large", 131_072),
        ("mistral-large-2402", "mistral-large-2402", 32_768),
        ("DeepSeek-R1-0528", "deepseek-r1", 131_072),
        ("Phi-4-mini-instruct", "phi-4-mini", 131_072),
        ("Phi-4", "phi-4", 16_384),
        ("Phi-3-medium-4k-instruct", "phi-3-medium-4k", 4_096),
        ("Cohere-command-r-plus-08-2024", "cohere-command-r-plus", 128_000),
    ],
)
def test_names_people_deploy_are_matched(name: str, known: str, window: int) -> None:
    profile = find_profile(name)
    assert profile is not None
    assert (profile.name, profile.context_window) == (known, window)


@pytest.mark.parametrize("name", ["my-deployment", "gpt4o", "gpt-5.1", "emulator-chat", "", None])
def test_unknown_names_give_none(name: str | None) -> None:
    assert find_profile(name) is None


def test_every_profile_is_sourced_and_consistent() -> None:
    names = [p.name for p in PROFILES]
    assert len(names) == len(set(names))
    for profile in PROFILES:
        assert profile.name == profile.name.lower()
        assert profile.source.startswith("https://")
        assert profile.context_window > 0
        if profile.max_output_tokens is not None:
            assert 0 < profile.max_output_tokens <= profile.context_window
        if profile.max_input_tokens is not None:
            assert profile.max_input_tokens < profile.context_window
        reserve = profile.output_reserve()
        assert reserve is None or reserve <= profile.context_window // 4


# ---- LangChain -------------------------------------------------------------------------------


def test_langchain_profile_for_a_known_model() -> None:
    llm = AzureAIChatCompletionsModel(endpoint=REMOTE, credential="k", model="gpt-4o-mini")
    assert llm.profile is not None
    assert llm.profile["max_input_tokens"] == 128_000
    assert llm.profile["max_output_tokens"] == 16_384
    assert llm.profile["tool_calling"] is True
    assert llm.profile["structured_output"] is True
    assert llm.profile["image_inputs"] is True
    assert llm.profile["reasoning_output"] is False


def test_langchain_profile_keys_are_langchain_core_ones() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # langchain-core warns about keys it does not know
        for name in ("gpt-5", "o1-mini", "gpt-oss-20b", "DeepSeek-R1", "Phi-4-multimodal"):
            llm = AzureAIChatCompletionsModel(endpoint=REMOTE, credential="k", model=name)
            assert llm.profile is not None, name


def test_langchain_reasoning_profile() -> None:
    llm = AzureAIChatCompletionsModel(endpoint=REMOTE, credential="k", model="gpt-5-mini")
    assert llm.profile is not None
    assert llm.profile["max_input_tokens"] == 272_000
    assert llm.profile["reasoning_output"] is True
    assert llm.profile["temperature"] is False
    assert "minimal" in llm.profile["reasoning_effort_levels"]


def test_langchain_profile_from_the_deployment_in_the_url() -> None:
    endpoint = "https://r.openai.azure.com/openai/deployments/gpt-4.1-mini"
    llm = AzureAIChatCompletionsModel(endpoint=endpoint, credential="k")
    assert llm.profile is not None
    assert llm.profile["max_input_tokens"] == 1_047_576


def test_langchain_user_profile_wins_and_unknown_is_none() -> None:
    mine = {"max_input_tokens": 8_000, "tool_calling": False}
    llm = AzureAIChatCompletionsModel(endpoint=REMOTE, credential="k", model="gpt-4o", profile=mine)
    assert llm.profile == mine
    assert AzureAIChatCompletionsModel(endpoint=REMOTE, credential="k", model="x").profile is None


# ---- LlamaIndex ------------------------------------------------------------------------------


def test_llamaindex_metadata_for_a_known_model() -> None:
    meta = AzureAICompletionsModel(
        endpoint=REMOTE, credential="k", model_name="gpt-4o-mini"
    ).metadata
    assert meta.context_window == 128_000
    assert meta.num_output == 16_384
    assert meta.is_function_calling_model


def test_llamaindex_window_leaves_room_within_the_input_limit() -> None:
    meta = AzureAICompletionsModel(endpoint=REMOTE, credential="k", model_name="gpt-5").metadata
    assert meta.context_window - meta.num_output == 272_000
    oss = AzureAICompletionsModel(endpoint=REMOTE, credential="k", model_name="gpt-oss-120b")
    assert oss.metadata.context_window - oss.metadata.num_output == 131_072 * 3 // 4


def test_llamaindex_arguments_win() -> None:
    llm = AzureAICompletionsModel(
        endpoint=REMOTE, credential="k", model_name="gpt-4o", context_window=10_000, num_output=500
    )
    assert (llm.metadata.context_window, llm.metadata.num_output) == (10_000, 500)
    capped = AzureAICompletionsModel(
        endpoint=REMOTE, credential="k", model_name="gpt-4o", max_tokens=300
    )
    assert capped.metadata.num_output == 300


def test_llamaindex_defaults_for_unknown_models() -> None:
    meta = AzureAICompletionsModel(endpoint=REMOTE, credential="k", model_name="mine").metadata
    assert (meta.context_window, meta.num_output) == (DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS)
    assert meta.is_function_calling_model


def test_llamaindex_knows_a_model_without_tools() -> None:
    meta = AzureAICompletionsModel(endpoint=REMOTE, credential="k", model_name="o1-mini").metadata
    assert not meta.is_function_calling_model


def test_llamaindex_profile_survives_to_dict_and_back() -> None:
    llm = AzureAICompletionsModel(endpoint=REMOTE, credential="k", model_name="gpt-4o-mini")
    revived = AzureAICompletionsModel.from_dict(llm.to_dict(), credential="k")
    assert revived.metadata.context_window == 128_000


def test_llamaindex_profile_from_the_model_an_answer_named() -> None:
    # An emulator of its own, serving a model under a name the profiles know.
    config = EmulatorConfig(models=[ModelSpec(name="gpt-4o-mini", kind="chat")])
    with running_emulator(config) as emu:
        llm = AzureAICompletionsModel(endpoint=emu.url, credential=emu.key)
        assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW
        llm.complete("hi")
        assert llm.metadata.context_window == 128_000


def test_llamaindex_profile_from_the_deployment_in_the_url() -> None:
    endpoint = "https://r.openai.azure.com/openai/deployments/gpt-4o-mini"
    meta = AzureAICompletionsModel(endpoint=endpoint, credential="k").metadata
    assert meta.context_window == 128_000
    assert meta.model_name == "unknown"  # the deployment is not the model's name
