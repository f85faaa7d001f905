"""Fixtures of the LangChain adapter tests (helpers live in ``lc_support``)."""

from __future__ import annotations

import pytest
from lc_support import FakeEndpoint, make_llm

from langchain_azureinference import AzureAIChatCompletionsModel


@pytest.fixture
def fake() -> FakeEndpoint:
    """A scripted endpoint."""
    return FakeEndpoint()


@pytest.fixture
def llm(fake: FakeEndpoint) -> AzureAIChatCompletionsModel:
    """A chat model wired to ``fake``."""
    return make_llm(fake)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run a test body once with the sync methods and once with the async ones."""
    return str(request.param)
