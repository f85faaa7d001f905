"""langchain-tests standard suites with ``use_responses_api=True``: unit, and live on the emulator.

The same flags and scripted answers as ``test_standard`` (the emulator's scripts answer its
Responses route too). What the Responses API does not have is marked where the suite asks for
it: ``stop`` sequences (refused before any request, as a `ConfigurationError` naming them) and
audio input (the API takes text, image and file parts).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests
from test_standard import (
    CHAT_MODEL,
    EMULATOR_CHAT_MODEL,
    EMULATOR_OVERRIDE_MODEL,
    OVERRIDE_MODEL,
    _offline_suite_downloads,
    _scripted_answers,
    registered_for_load,
)

from azureinference import ConfigurationError
from azureinference.emulator import Emulator
from langchain_azureinference import AzureAIChatCompletionsModel
from tests.conftest import PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY

# The suites' fixtures, used here by name.
__all__ = ["_offline_suite_downloads", "_scripted_answers", "registered_for_load"]


@pytest.mark.usefixtures("registered_for_load")
class TestChatModelUnitResponses(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[AzureAIChatCompletionsModel]:
        return AzureAIChatCompletionsModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "endpoint": PLACEHOLDER_ENDPOINT,
            "api_key": PLACEHOLDER_KEY,  # as test_standard: the suite may add api_key itself
            "model": CHAT_MODEL,
            "use_responses_api": True,
        }

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return OVERRIDE_MODEL


@pytest.mark.usefixtures("_scripted_answers", "_offline_suite_downloads")
class TestChatModelEmulatorResponses(ChatModelIntegrationTests):
    """Live against the local emulator's Responses route."""

    endpoint: str = PLACEHOLDER_ENDPOINT
    key: str = PLACEHOLDER_KEY

    @pytest.fixture(autouse=True)
    def _emulator(self, azure_inference_emulator: Emulator) -> None:
        self.endpoint, self.key = azure_inference_emulator.endpoint, azure_inference_emulator.key

    @property
    def chat_model_class(self) -> type[AzureAIChatCompletionsModel]:
        return AzureAIChatCompletionsModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "credential": self.key,
            "model": EMULATOR_CHAT_MODEL,
            "use_responses_api": True,
        }

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return False  # the Responses API takes no audio input parts

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return EMULATOR_OVERRIDE_MODEL

    @pytest.mark.xfail(
        reason="The Responses API has no stop sequences: stop= is refused before any request.",
        raises=ConfigurationError,
        strict=True,
    )
    def test_stop_sequence(self, model: BaseChatModel) -> None:
        super().test_stop_sequence(model)
