"""Shared test setup: VCR config with scrubbers, the placeholder endpoint, data loaders.

Cassettes are recorded against the local emulator (``--record-mode=once``) or a real endpoint
(``AZURE_INFERENCE_ENDPOINT`` set), and always stored with the host rewritten to
`PLACEHOLDER_ENDPOINT` and every credential header removed. CI replays them (``record_mode`` none)
with the network disabled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from azureinference import cassettes

DATA = Path(__file__).parent / "data"
PLACEHOLDER_HOST = "test-resource.services.ai.azure.com"
PLACEHOLDER_ENDPOINT = f"https://{PLACEHOLDER_HOST}/models"
PLACEHOLDER_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """pytest-recording configuration: the core's scrubbing, host-rewritten, matched on the body.

    `azureinference.cassettes.vcr_config` removes every credential header (ours, the well-known
    ones, the names of HeaderCredentials) and secret query values; users' own configs use it too.
    """
    return cassettes.vcr_config(
        placeholder_host=PLACEHOLDER_HOST, match_on=["method", "path", "query", "body"]
    )


def is_recording(config: pytest.Config) -> bool:
    """True when cassettes may be (re)recorded in this run."""
    mode = config.getoption("--record-mode", default="none")
    return mode not in (None, "none")


@pytest.fixture
def cassette_endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(endpoint, key) for cassette tests.

    Replaying: the placeholder endpoint and key (the cassette answers). Recording: the real endpoint
    from ``AZURE_INFERENCE_ENDPOINT``/``_CREDENTIAL`` if set, else a local emulator whose URL is
    rewritten to the placeholder when stored.
    """
    if not is_recording(request.config):
        yield PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY
        return
    real = os.environ.get("AZURE_INFERENCE_ENDPOINT")
    if real:
        yield real, os.environ["AZURE_INFERENCE_CREDENTIAL"]
        return
    from azureinference.emulator import running_emulator

    with running_emulator() as emu:
        yield emu.url + "/models", emu.key


def load_json(name: str) -> Any:
    """Load a JSON file under tests/data."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sdk_scenarios() -> dict[str, dict[str, Any]]:
    """The reference SDK's wire capture, by scenario name."""
    data = load_json("sdk_wire_capture.json")
    return {s["name"]: s for s in data["scenarios"]}


@pytest.fixture(autouse=True)
def _no_inference_env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Keep a developer's real endpoint variables out of tests (except when recording)."""
    if is_recording(request.config):
        return
    for name in (
        "AZURE_INFERENCE_ENDPOINT",
        "AZURE_INFERENCE_CREDENTIAL",
        "AZURE_AI_INFERENCE_ENDPOINT",
        "AZURE_AI_INFERENCE_CREDENTIAL",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
