"""LangChain and reasoning models: reasoning controls and token details, against the emulator."""

from __future__ import annotations

from typing import Any

from azureinference.emulator import Emulator
from langchain_azureinference import AzureAIChatCompletionsModel


def _llm(emu: Emulator, **kwargs: Any) -> AzureAIChatCompletionsModel:
    kwargs.setdefault("model", "emulator-chat")
    return AzureAIChatCompletionsModel(
        endpoint=emu.endpoint.replace("/models", "/openai/v1"), credential=emu.key, **kwargs
    )


async def test_reasoning_effort_and_verbosity_per_model_and_per_call(
    azure_inference_emulator: Emulator,
) -> None:
    emu = azure_inference_emulator
    llm = _llm(emu, reasoning_effort="minimal", verbosity="low")
    llm.invoke("Hi")
    sent = emu.requests[-1].json
    assert (sent["reasoning_effort"], sent["verbosity"]) == ("minimal", "low")
    await llm.ainvoke("Hi", reasoning_effort="none", verbosity="high")
    sent = emu.requests[-1].json
    assert (sent["reasoning_effort"], sent["verbosity"]) == ("none", "high")
    llm.bind(reasoning_effort="high").invoke("Hi")
    assert emu.requests[-1].json["reasoning_effort"] == "high"


async def test_token_details_streamed_and_not(azure_inference_emulator: Emulator) -> None:
    llm = _llm(azure_inference_emulator, model="emulator-reasoner")
    message = llm.invoke("Hi")
    usage = message.usage_metadata
    assert usage is not None
    reasoning = usage["output_token_details"]["reasoning"]
    assert reasoning > 0
    assert usage["input_token_details"] == {"cache_read": 0}
    assert message.response_metadata["token_usage"]["completion_tokens_details"] == {
        "reasoning_tokens": reasoning
    }
    chunks = [chunk async for chunk in llm.astream("Hi")]
    streamed = sum(chunks[1:], chunks[0]).usage_metadata
    assert streamed is not None
    assert streamed["output_token_details"] == {"reasoning": reasoning}
