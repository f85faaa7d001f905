"""Fixtures of the LangChain adapter tests (helpers live in ``lc_support``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lc_support import FakeEndpoint, make_llm, start_local_server

from langchain_azureinference import AzureAIChatCompletionsModel
from tests.core.core_server import LocalServer


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
