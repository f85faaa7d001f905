"""The public names of ``langchain_azureinference`` are pinned."""

from __future__ import annotations

import langchain_azureinference

EXPECTED_ALL = [
    "AzureAIAuthenticationError",
    "AzureAIBadRequestError",
    "AzureAIChatCompletionsModel",
    "AzureAIConnectionError",
    "AzureAIContentFilterError",
    "AzureAIContextOverflowError",
    "AzureAIEmbeddingsModel",
    "AzureAIIncompleteStreamError",
    "AzureAIMalformedResponseError",
    "AzureAINotFoundError",
    "AzureAIPermissionDeniedError",
    "AzureAIRateLimitError",
    "AzureAIServerError",
    "AzureAIStatusError",
    "AzureAITimeoutError",
    "AzureAIUnsupportedParameterError",
    "image_from_file",
]


def test_all() -> None:
    assert sorted(langchain_azureinference.__all__) == EXPECTED_ALL
    for name in EXPECTED_ALL:
        assert getattr(langchain_azureinference, name) is not None
