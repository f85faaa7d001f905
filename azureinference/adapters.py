"""The core's contract with framework adapters: everything an adapter needs, in one module.

The LangChain and LlamaIndex adapters import only from here and from ``azureinference`` itself
(a test checks it), and so can a third framework's adapter. What it gives:

Connection set-up (constructor arguments, environment, secrets, User-Agent, rate limiter):
    `connect` builds a `Connection` from an adapter's constructor arguments: one per model,
    whose sync and async clients share their rate limiter, `Capabilities` and ``/info``.
    `resolve_endpoint` and `resolve_credential` read `ENDPOINT_ENV_VARS` and
    `CREDENTIAL_ENV_VARS` where nothing is given (the core clients read the same lists).
    `resolve_connection` resolves every spelling an adapter takes (``endpoint``/``base_url``,
    ``project_endpoint``, ``credential``/``api_key``, ``azure_ad_token_provider``...) and the
    environment (ours, ``AZURE_AI_PROJECT_ENDPOINT``, ``OPENAI_BASE_URL``/``OPENAI_API_KEY``)
    in the documented order, naming conflicts.

Constructor arguments:
    `read_client_kwargs` sorts ``client_kwargs`` (`CLIENT_OPTIONS`, azure-core's names in
    `AZURE_CORE_OPTIONS`); `unknown_arguments_error` and `near_miss` name a mistyped keyword.

Request shaping:
    `split_model_kwargs` sends API parameters (`CHAT_FIELDS`, `EMBEDDINGS_FIELDS`) as such and
    the rest as ``model_extras``; `check_chat_params`, `check_text` and `check_texts` check
    before any I/O;
    `tool_choice_for` is the one reading of a framework's ``tool_choice`` (``True``, ``"any"``,
    a tool's name), `stop_sequences` of a ``stop`` given as a string.

Answers:
    The client has checked that an answer has a choice. `ChatStreamState` turns stream chunks
    into the answer: `ChoiceState` per choice so far, `ChoiceDelta` (with `ToolCallPiece` s)
    for what the last chunk added, ``finished`` for whether the service said it was done.
    `ChatResponseMessage` and `ToolCall` are the wire message and tool call.

Refusals:
    A refused ``json_schema`` response format raises `JsonSchemaRefusedError` (still the
    `BadRequestError` or `UnsupportedParameterError` it was): catch it to fall back to a tool
    call, inside `fallback_refused` so a second refusal names both.

The Responses API:
    `azureinference.responses_api` (public, with its own ``__all__``) holds its request building,
    wire types, stream state and the chat-fallback outcome; its module docstring is the guide.
    The clients' ``respond`` / ``stream_response`` send it, and what the endpoint said about it
    is kept in the connection's `Capabilities` (``responses``), for both clients.

Secrets and profiles:
    `redact_url` and `redact_options` hide secrets wherever a model is shown; `public_headers`
    is an answer's headers without those that may carry a credential; `find_profile`
    gives a model's `ModelProfile` (context window, output limit, capabilities).
"""

from __future__ import annotations

from ._arguments import (
    AZURE_CORE_OPTIONS,
    ClientKwargs,
    near_miss,
    read_client_kwargs,
    unknown_arguments_error,
)
from ._bodylog import public_headers
from ._capabilities import Capabilities
from ._connect_args import (
    OPENAI_ENV_VARS,
    PROJECT_ENDPOINT_ENV_VARS,
    ResolvedConnection,
    resolve_connection,
)
from ._connection import Connection, connect, resolve_credential, resolve_endpoint
from ._options import CLIENT_OPTIONS, CREDENTIAL_ENV_VARS, ENDPOINT_ENV_VARS, first_env
from .errors import JsonSchemaRefusedError, fallback_refused
from .profiles import ModelProfile, find_profile
from .redaction import redact_options, redact_url
from .requests import (
    CHAT_FIELDS,
    EMBEDDINGS_FIELDS,
    check_chat_params,
    check_text,
    check_texts,
    normalize_tool_choice,
    split_model_kwargs,
    stop_sequences,
    tool_choice_for,
)
from .streaming import ChatStreamState, ChoiceDelta, ChoiceState, ToolCallPiece
from .types import ChatResponseMessage, ToolCall

__all__ = [
    "AZURE_CORE_OPTIONS",
    "CHAT_FIELDS",
    "CLIENT_OPTIONS",
    "CREDENTIAL_ENV_VARS",
    "EMBEDDINGS_FIELDS",
    "ENDPOINT_ENV_VARS",
    "OPENAI_ENV_VARS",
    "PROJECT_ENDPOINT_ENV_VARS",
    "Capabilities",
    "ChatResponseMessage",
    "ChatStreamState",
    "ChoiceDelta",
    "ChoiceState",
    "ClientKwargs",
    "Connection",
    "JsonSchemaRefusedError",
    "ModelProfile",
    "ResolvedConnection",
    "ToolCall",
    "ToolCallPiece",
    "check_chat_params",
    "check_text",
    "check_texts",
    "connect",
    "fallback_refused",
    "find_profile",
    "first_env",
    "near_miss",
    "normalize_tool_choice",
    "public_headers",
    "read_client_kwargs",
    "redact_options",
    "redact_url",
    "resolve_connection",
    "resolve_credential",
    "resolve_endpoint",
    "split_model_kwargs",
    "stop_sequences",
    "tool_choice_for",
    "unknown_arguments_error",
]
