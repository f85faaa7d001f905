"""LlamaIndex and reasoning models: nothing unasked sent, reasoning controls, token details."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage

from azureinference.emulator import Emulator
from llamaindex_azureinference import AzureAICompletionsModel

HI = [ChatMessage(role="user", content="Hi")]


def _llm(emu: Emulator, **kwargs: Any) -> AzureAICompletionsModel:
    kwargs.setdefault("model_name", "emulator-chat")
    return AzureAICompletionsModel(
        endpoint=emu.endpoint.replace("/models", "/openai/v1"), credential=emu.key, **kwargs
    )


def test_defaults_send_no_sampling_parameter(emu: Emulator) -> None:
    llm = _llm(emu)
    assert llm.temperature is None
    llm.complete("Hi")
    sent = emu.requests[-1].json
    assert set(sent) == {"model", "messages"}


def test_an_explicit_temperature_is_sent(emu: Emulator) -> None:
    _llm(emu, temperature=0.1).chat(HI)
    assert emu.requests[-1].json["temperature"] == 0.1


async def test_reasoning_effort_and_verbosity_per_model_and_per_call(emu: Emulator) -> None:
    llm = _llm(emu, reasoning_effort="low", verbosity="high")
    llm.chat(HI)
    sent = emu.requests[-1].json
    assert (sent["reasoning_effort"], sent["verbosity"]) == ("low", "high")
    await llm.achat(HI, reasoning_effort="xhigh", verbosity="low")
    sent = emu.requests[-1].json
    assert (sent["reasoning_effort"], sent["verbosity"]) == ("xhigh", "low")


def test_token_details_in_additional_kwargs(emu: Emulator) -> None:
    response = _llm(emu, model_name="emulator-reasoner").chat(HI)
    extra = response.additional_kwargs
    assert extra["reasoning_tokens"] > 0
    assert extra["cached_tokens"] == 0
    assert extra["completion_tokens"] == extra["reasoning_tokens"] + 3
    last = list(_llm(emu, model_name="emulator-reasoner").stream_chat(HI))[-1]
    assert last.additional_kwargs["reasoning_tokens"] == extra["reasoning_tokens"]
