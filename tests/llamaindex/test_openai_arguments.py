"""llama-index's OpenAI classes' arguments, taken as they mean there (a user switching keeps them).

``api_base`` (``base_url``), ``additional_kwargs`` (``model_kwargs``), ``default_headers``
(every request, values hidden wherever the model is shown), ``strict`` (strict tools) and
``reuse_client`` (accepted: a pool per event loop is always reused).
"""

from __future__ import annotations

import pickle

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from azureinference import ConfigurationError
from azureinference.emulator import Emulator
from llamaindex_azureinference import AzureAICompletionsModel, AzureAIEmbeddingsModel

GATEWAY_KEY = "gw-S3cret-value"


def _shown(model: object) -> str:
    return repr(model) + str(model.to_dict()) + model.to_json()  # type: ignore[attr-defined]


def test_the_llm_takes_openais_arguments(emu: Emulator) -> None:
    llm = AzureAICompletionsModel(
        api_base=emu.openai_v1_endpoint,
        api_key=emu.key,
        model="emulator-chat",
        additional_kwargs={"user": "user-1"},
        default_headers={"x-gateway-key": GATEWAY_KEY},
        reuse_client=False,
    )
    emu.reset()
    assert llm.chat([ChatMessage(role="user", content="Hi")]).message.content == "You said: Hi"
    sent = emu.requests[-1]
    assert sent.path.endswith("/openai/v1/chat/completions")
    assert sent.json["user"] == "user-1"
    assert sent.headers["x-gateway-key"] == GATEWAY_KEY
    assert GATEWAY_KEY not in _shown(llm)
    again = pickle.loads(pickle.dumps(llm))  # an IngestionPipeline worker's copy
    again.chat([ChatMessage(role="user", content="Hi")])
    assert emu.requests[-1].headers["x-gateway-key"] == GATEWAY_KEY


def test_strict_tools(emu: Emulator) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    llm = AzureAICompletionsModel(
        base_url=emu.openai_v1_endpoint, api_key=emu.key, model="emulator-chat", strict=True
    )
    emu.reset()
    llm.chat_with_tools([FunctionTool.from_defaults(add)], user_msg="Add 1 and 2")
    function = emu.requests[-1].json["tools"][0]["function"]
    assert function["strict"] is True
    assert function["parameters"]["additionalProperties"] is False
    assert function["parameters"]["required"] == ["a", "b"]


def test_the_embedder_takes_openais_arguments(emu: Emulator) -> None:
    embedder = AzureAIEmbeddingsModel(
        api_base=emu.openai_v1_endpoint,
        api_key=emu.key,
        model="emulator-embed",
        additional_kwargs={"user": "user-2"},
        default_headers={"x-gateway-key": GATEWAY_KEY},
        reuse_client=True,
    )
    emu.reset()
    assert len(embedder.get_text_embedding("a text")) > 0
    sent = emu.requests[-1]
    assert sent.json["user"] == "user-2"
    assert sent.headers["x-gateway-key"] == GATEWAY_KEY
    assert GATEWAY_KEY not in _shown(embedder)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        (
            {"api_base": "http://127.0.0.1:9/openai/v1", "base_url": "http://127.0.0.1:9/v1"},
            "api_base",
        ),
        ({"additional_kwargs": {"user": "a"}, "model_kwargs": {"user": "b"}}, "additional_kwargs"),
        ({"reuse_client": "yes"}, "reuse_client"),
    ],
)
def test_conflicting_or_bad_openai_arguments_are_named(
    kwargs: dict[str, object], named: str
) -> None:
    kwargs = {"endpoint": "http://127.0.0.1:9/openai/v1", "credential": "k", **kwargs}
    if "api_base" in kwargs:
        del kwargs["endpoint"]
    for cls in (AzureAICompletionsModel, AzureAIEmbeddingsModel):
        with pytest.raises(ConfigurationError, match=named):
            cls(**kwargs)
