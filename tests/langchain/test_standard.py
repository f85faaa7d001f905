"""langchain-tests standard suites: the unit suites, and the integration suites twice.

- ``TestChatModelUnit`` / ``TestEmbeddingsUnit``: offline, no HTTP.
- ``TestChatModelIntegration`` / ``TestEmbeddingsIntegration``: replayed from cassettes in
  ``cassettes/test_standard/`` (recorded against the emulator with ``--record-mode=once`` through
  the ``cassette_endpoint`` fixture, stored with the placeholder host and no credentials).
- ``TestChatModelEmulator`` / ``TestEmbeddingsEmulator``: the same suites live against the local
  emulator (the ``azure_inference_emulator`` fixture of its pytest plugin).

Capability flags are properties, as the suites expect.
"""

from __future__ import annotations

import base64
import functools
import importlib
import io
import os
import wave
from typing import Any

import httpx
import pytest
from langchain_tests.integration_tests import (
    ChatModelIntegrationTests,
    EmbeddingsIntegrationTests,
)
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests
from lc_support import PNG

from azureinference.emulator import Emulator, ScriptedReply
from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel
from tests.conftest import PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY, is_recording

CHAT_MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
OVERRIDE_MODEL = "gpt-4o"
# The integration suites talk to the emulator (live, or recorded in the cassettes): its models.
EMULATOR_CHAT_MODEL = "emulator-chat"
EMULATOR_EMBED_MODEL = "emulator-embed"
EMULATOR_OVERRIDE_MODEL = "emulator-limited"  # another chat model (it refuses tools, not chat)

# What the suite downloads (``test_image_inputs``: a PNG from GitHub; ``test_audio_inputs``: a WAV
# from wikimedia.org) is served from memory so the suite runs offline; the model only ever sees
# base64 data or the URL either way.
_PNG = base64.b64decode(PNG)


def _wav() -> bytes:
    """A tenth of a second of silence, 8 kHz mono 16-bit."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


_SUITE_DOWNLOADS = {"raw.githubusercontent.com": _PNG, "upload.wikimedia.org": _wav()}


@pytest.fixture
def _offline_suite_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve the suite's own ``httpx.get`` downloads (test image and audio) from memory."""
    real_get = httpx.get

    def fake_get(url: Any, *args: Any, **kwargs: Any) -> httpx.Response:
        host = httpx.URL(str(url)).host
        if host in _SUITE_DOWNLOADS:
            request = httpx.Request("GET", str(url))
            return httpx.Response(200, content=_SUITE_DOWNLOADS[host], request=request)
        return real_get(url, *args, **kwargs)

    monkeypatch.setattr(httpx, "get", fake_get)
    # The suite warns when this is unset, as it identifies requests to wikimedia.org (none here).
    monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "langchain-azureinference-tests (offline)")


# ---- unit suites ------------------------------------------------------------------------------


@pytest.fixture
def registered_for_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the suite's ``load`` revive our class, through ``load``'s own extension point.

    ``test_serdes`` loads with ``allowed_objects="all"``, which langchain-core defines as "the
    classes of its serialization mapping" (the partner packages it ships a mapping for), so no
    package outside that mapping can pass as is. ``load`` takes ``additional_import_mappings`` for
    exactly this case (what a user of a non-listed package passes, with ``"all"``); the suite does
    not pass it, so we give the suite's ``load`` that one argument. Nothing else changes: the
    namespace check, the secret from the environment and the snapshot are the suite's.
    """
    suite = importlib.import_module("langchain_tests.unit_tests.chat_models")
    path = ("langchain_azureinference", "chat_models", "AzureAIChatCompletionsModel")
    monkeypatch.setattr(
        suite, "load", functools.partial(suite.load, additional_import_mappings={path: path})
    )


@pytest.mark.usefixtures("registered_for_load")
class TestChatModelUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[AzureAIChatCompletionsModel]:
        return AzureAIChatCompletionsModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # api_key (an alias of credential): the suite adds api_key="test" to these, and two
        # spellings of one argument are an error rather than a silent choice.
        return {
            "endpoint": PLACEHOLDER_ENDPOINT,
            "api_key": PLACEHOLDER_KEY,
            "model": CHAT_MODEL,
        }

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "AZURE_INFERENCE_ENDPOINT": PLACEHOLDER_ENDPOINT,
                "AZURE_INFERENCE_CREDENTIAL": "env-key",
            },
            {"model": CHAT_MODEL},
            {"endpoint": PLACEHOLDER_ENDPOINT, "credential": "env-key", "model_name": CHAT_MODEL},
        )

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


class TestEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[AzureAIEmbeddingsModel]:
        return AzureAIEmbeddingsModel

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {
            "endpoint": PLACEHOLDER_ENDPOINT,
            "credential": PLACEHOLDER_KEY,
            "model": EMBED_MODEL,
        }

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "AZURE_AI_INFERENCE_ENDPOINT": PLACEHOLDER_ENDPOINT,
                "AZURE_AI_INFERENCE_CREDENTIAL": "env-key",
            },
            {"model": EMBED_MODEL},
            {"endpoint": PLACEHOLDER_ENDPOINT, "credential": "env-key"},
        )


# ---- integration suites -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, Any]) -> dict[str, Any]:
    """The shared config, replaying an answer as often as asked, matching bodies modulo ids.

    ``test_stream_time`` benchmarks one recorded stream over many rounds (the suite's own
    ``base_vcr_config`` allows the same); ``test_structured_few_shot_examples`` sends a fresh
    random tool call id each run (``body_modulo_ids`` in ``lc_support``).
    """
    match_on = [m if m != "body" else "body_modulo_ids" for m in vcr_config["match_on"]]
    return {**vcr_config, "allow_playback_repeats": True, "match_on": match_on}


# Three suite tests check what a model makes of the prompt (JSON with the keys the prompt names, a
# tool call for "the weather in San Francisco", a tool argument quoting a Chinese name); the
# emulator's generated answers do not do that. For these tests it is given the answer a model would
# give (a scripted reply, still served over HTTP, streamed where the test streams), so the suite
# still checks the adapter's half: the request on the wire and the parsing of the reply.
_JOKE = '{"setup": "Why did the cat sit on the laptop?", "punchline": "To watch the mouse."}'
_SCRIPTS: dict[str, list[ScriptedReply]] = {
    "test_json_mode": [ScriptedReply(content=_JOKE)] * 4,
    "test_agent_loop": [
        ScriptedReply(
            tool_calls=[{"name": "get_weather", "arguments": {"location": "San Francisco, CA"}}]
        )
    ],
    "test_unicode_tool_call_integration": [
        ScriptedReply(
            tool_calls=[
                {
                    "name": "unicode_customer",
                    "arguments": {"customer_name": name, "description": description},
                }
            ]
        )
        for name, description in (
            ("你好集团", "A Chinese technology company"),
            ("こんにちは株式会社", "A Japanese company"),
        )
    ],
}


def _records_against_the_emulator(config: pytest.Config) -> bool:
    return is_recording(config) and not os.environ.get("AZURE_INFERENCE_ENDPOINT")


@pytest.fixture
def cassette_endpoint(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(endpoint, key) for the cassette suites: the shared fixture's, on the shared emulator.

    Replaying: the placeholder. Recording: a real endpoint when ``AZURE_INFERENCE_ENDPOINT`` is
    set, else the session's emulator (the one ``_scripted_answers`` scripts).
    """
    if not is_recording(request.config):
        return PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY
    if not _records_against_the_emulator(request.config):
        return os.environ["AZURE_INFERENCE_ENDPOINT"], os.environ["AZURE_INFERENCE_CREDENTIAL"]
    emu: Emulator = request.getfixturevalue("azure_inference_emulator")
    return emu.endpoint, emu.key


@pytest.fixture
def _scripted_answers(request: pytest.FixtureRequest) -> None:
    """Script the emulator's answers for the tests of `_SCRIPTS`, when the emulator answers."""
    replies = _SCRIPTS.get(request.function.__name__)
    live = request.node.get_closest_marker("vcr") is None
    if replies and (live or _records_against_the_emulator(request.config)):
        emu: Emulator = request.getfixturevalue("azure_inference_emulator")
        emu.script(replies)


class _ChatIntegration(ChatModelIntegrationTests):
    """The integration suite's flags and parameters; subclasses say where the endpoint is."""

    endpoint: str = PLACEHOLDER_ENDPOINT
    key: str = PLACEHOLDER_KEY

    @property
    def chat_model_class(self) -> type[AzureAIChatCompletionsModel]:
        return AzureAIChatCompletionsModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "credential": self.key, "model": EMULATOR_CHAT_MODEL}

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
        return True  # input_audio parts (the spec's AudioModality example)

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return EMULATOR_OVERRIDE_MODEL


class _EmbeddingsIntegration(EmbeddingsIntegrationTests):
    endpoint: str = PLACEHOLDER_ENDPOINT
    key: str = PLACEHOLDER_KEY

    @property
    def embeddings_class(self) -> type[AzureAIEmbeddingsModel]:
        return AzureAIEmbeddingsModel

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "credential": self.key, "model": EMULATOR_EMBED_MODEL}


@pytest.mark.vcr
@pytest.mark.usefixtures("_scripted_answers", "_offline_suite_downloads")
# Recording runs test_stream_time's model once, outside its benchmark, which then warns.
@pytest.mark.filterwarnings("ignore:Benchmark fixture was not used")
class TestChatModelIntegration(_ChatIntegration):
    """Replayed from cassettes (recorded against the emulator)."""

    @pytest.fixture(autouse=True)
    def _cassette_endpoint(self, cassette_endpoint: tuple[str, str]) -> None:
        self.endpoint, self.key = cassette_endpoint

    @property
    def enable_vcr_tests(self) -> bool:
        return True


@pytest.mark.vcr
class TestEmbeddingsIntegration(_EmbeddingsIntegration):
    """Replayed from cassettes (recorded against the emulator)."""

    @pytest.fixture(autouse=True)
    def _cassette_endpoint(self, cassette_endpoint: tuple[str, str]) -> None:
        self.endpoint, self.key = cassette_endpoint


@pytest.mark.usefixtures("_scripted_answers", "_offline_suite_downloads")
class TestChatModelEmulator(_ChatIntegration):
    """Live against the local emulator."""

    @pytest.fixture(autouse=True)
    def _emulator(self, azure_inference_emulator: Emulator) -> None:
        self.endpoint, self.key = azure_inference_emulator.endpoint, azure_inference_emulator.key


class TestEmbeddingsEmulator(_EmbeddingsIntegration):
    """Live against the local emulator."""

    @pytest.fixture(autouse=True)
    def _emulator(self, azure_inference_emulator: Emulator) -> None:
        self.endpoint, self.key = azure_inference_emulator.endpoint, azure_inference_emulator.key
