"""LangChain integration for the Azure AI Model Inference API and OpenAI-compatible endpoints.

``AzureAIChatCompletionsModel`` and ``AzureAIEmbeddingsModel`` take the same constructor arguments
as their namesakes in ``langchain-azure-ai``, on the thin ``azureinference`` core.

    >>> from langchain_azureinference import AzureAIChatCompletionsModel
    >>> llm = AzureAIChatCompletionsModel(  # doctest: +SKIP
    ...     endpoint="https://<resource>.services.ai.azure.com/models",
    ...     credential="<key>",
    ...     model="gpt-4o-mini",
    ... )
"""

from __future__ import annotations

from ._convert import image_from_file
from ._errors import (
    AzureAIAuthenticationError,
    AzureAIBadRequestError,
    AzureAIConnectionError,
    AzureAIContentFilterError,
    AzureAIContextOverflowError,
    AzureAIIncompleteStreamError,
    AzureAIMalformedResponseError,
    AzureAINotFoundError,
    AzureAIPermissionDeniedError,
    AzureAIRateLimitError,
    AzureAIServerError,
    AzureAIStatusError,
    AzureAITimeoutError,
    AzureAIUnsupportedParameterError,
)
from .chat_models import AzureAIChatCompletionsModel
from .embeddings import AzureAIEmbeddingsModel

__all__ = [
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
