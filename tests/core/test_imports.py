"""The core's import boundary and its public names."""

from __future__ import annotations

import subprocess
import sys

import azureinference

EXPECTED_ALL = [
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


def test_all_is_pinned() -> None:
    assert azureinference.__all__ == EXPECTED_ALL


def test_every_public_name_resolves() -> None:
    for name in azureinference.__all__:
        assert getattr(azureinference, name) is not None, name


def test_importing_the_core_imports_no_framework() -> None:
    code = (
        "import sys, azureinference\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "print(','.join(sorted(m for m in top if m.startswith(('langchain', 'llama_index')))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_the_core_needs_only_httpx2_and_pydantic() -> None:
    """Beyond what httpx2 and pydantic import themselves, the core adds no third-party module
    when imported (aiohttp is imported when the first async client is built)."""
    code = (
        "import sys, httpx2, pydantic, pydantic_core\n"
        "before = {m.split('.')[0] for m in sys.modules}\n"
        "import azureinference\n"
        "new = {m.split('.')[0] for m in sys.modules} - before\n"
        "print(','.join(sorted(m for m in new if m not in sys.stdlib_module_names)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    new = {m for m in done.stdout.strip().split(",") if not m.startswith("_")}
    # pydantic imports its own helpers lazily, when the first model is built.
    assert new - {"annotated_types", "typing_extensions", "typing_inspection"} == {"azureinference"}
