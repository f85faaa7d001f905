"""A thin REST core for the Azure AI Model Inference API and OpenAI-compatible chat endpoints.

It knows endpoints and auth, builds requests, reads answers and server-sent events, maps errors and
retries, on ``httpx2`` (async through ``httpx-aiohttp``) and ``pydantic`` only. It imports neither
LangChain nor LlamaIndex; the adapters ``langchain_azureinference`` and
``llamaindex_azureinference`` are built on it.

    >>> from azureinference import Client
    >>> client = Client("https://<name>.services.ai.azure.com/models", "<key>")  # doctest: +SKIP
    >>> client.complete([{"role": "user", "content": "Hi"}], model="gpt-4o-mini")  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.3.0"

from .auth import AzureAuth, HeaderCredential, StaticKeyCredential, TokenProvider, make_auth
from .client import CLIENT_OPTIONS, AsyncClient, Capabilities, Client
from .endpoints import Endpoint, EndpointKind, parse_endpoint
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AzureInferenceError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    IncompleteStreamError,
    JsonSchemaRefusedError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnsupportedParameterError,
)
from .ratelimit import RateLimiter, paced
from .requests import PreparedRequest, build_chat_request, build_embeddings_request
from .responses_api import (
    AsyncResponseStream,
    Response,
    ResponsesNotSupportedError,
    ResponsesStreamState,
    ResponseStream,
    ResponseStreamEvent,
)
from .retry import RetryPolicy
from .sse import ServerSentEvent, SSEDecoder, aiter_events, iter_events
from .streaming import AsyncChatStream, ChatStream, ChatStreamState
from .types import (
    ChatCompletion,
    ChatCompletionChunk,
    CompletionUsage,
    EmbeddingsResult,
    ModelInfo,
)

__all__ = [
    "CLIENT_OPTIONS",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncChatStream",
    "AsyncClient",
    "AsyncResponseStream",
    "AuthenticationError",
    "AzureAuth",
    "AzureInferenceError",
    "BadRequestError",
    "Capabilities",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatStream",
    "ChatStreamState",
    "Client",
    "CompletionUsage",
    "ConfigurationError",
    "ContentFilterError",
    "EmbeddingsResult",
    "Endpoint",
    "EndpointKind",
    "HeaderCredential",
    "IncompleteStreamError",
    "JsonSchemaRefusedError",
    "MalformedResponseError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "PreparedRequest",
    "RateLimitError",
    "RateLimiter",
    "Response",
    "ResponseStream",
    "ResponseStreamEvent",
    "ResponsesNotSupportedError",
    "ResponsesStreamState",
    "RetryPolicy",
    "SSEDecoder",
    "ServerError",
    "ServerSentEvent",
    "StaticKeyCredential",
    "TokenProvider",
    "UnsupportedParameterError",
    "__version__",
    "aiter_events",
    "build_chat_request",
    "build_embeddings_request",
    "iter_events",
    "make_auth",
    "paced",
    "parse_endpoint",
]
