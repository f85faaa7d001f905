"""Fixtures of the LangChain adapter tests (helpers live in ``lc_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lc_support import FakeEndpoint, body_modulo_ids, make_llm, start_local_server

from langchain_azureinference import AzureAIChatCompletionsModel
from tests.core.core_server import LocalServer


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Register the cassette matcher the standard suites use (``body_modulo_ids``)."""
    vcr.register_matcher("body_modulo_ids", body_modulo_ids)


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """One local HTTP server for the session; each test scripts it through ``fake``."""
    server, stop = start_local_server()
    try:
        yield server
    finally:
        stop()


@pytest.fixture
def fake(local_server: LocalServer) -> Iterator[FakeEndpoint]:
    """A scripted endpoint (this test's answers, on the session's local server)."""
    local_server.reset()
    yield FakeEndpoint(local_server)
    local_server.reset()


@pytest.fixture
def llm(fake: FakeEndpoint) -> AzureAIChatCompletionsModel:
    """A chat model for ``fake``."""
    return make_llm(fake)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run a test body once with the sync methods and once with the async ones."""
    return str(request.param)
