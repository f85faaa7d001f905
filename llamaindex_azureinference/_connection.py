"""What both LlamaIndex classes share: the endpoint, the credential, the core connection.

The credential is kept in a private attribute as a `SecretStr` (strings) or as the object given
(key and token credentials), so it is never in ``repr``, ``to_dict``/``to_json`` or logs, yet it
travels with a pickled model (an ``IngestionPipeline`` with workers pickles its transformations,
and the workers need to call the endpoint). The core `Connection` (one per model: its sync and
async clients share the rate limiter and what the endpoint refused) pickles without its clients.

`RedactedFields`, a base of both classes, hides what else may hold a secret wherever a model is
shown: the endpoint's user info and secret query values (``?code=``, ``?sig=``) and the values
of ``headers`` in ``model_kwargs`` and ``client_kwargs``, in ``repr``, ``to_dict`` and
``to_json`` (and so in LlamaIndex's instrumentation events, which carry ``to_dict()``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, SecretStr, field_serializer

from azureinference import ConfigurationError
from azureinference import __version__ as _core_version
from azureinference.adapters import (
    ENDPOINT_ENV_VARS,
    OPENAI_ENV_VARS,
    PROJECT_ENDPOINT_ENV_VARS,
    Connection,
    connect,
    read_client_kwargs,
    redact_options,
    redact_url,
    resolve_connection,
    resolve_endpoint,
    unknown_arguments_error,
)
from azureinference.adapters import resolve_credential as _resolve_credential

__all__ = [
    "RedactedFields",
    "check_arguments",
    "check_tools",
    "make_connection",
    "resolve_arguments",
    "resolve_credential",
    "resolve_endpoint",
]

_USER_AGENT = f"llamaindex-azureinference/{_core_version}"


class RedactedFields(BaseModel):
    """Hides secrets of ``endpoint``, ``model_kwargs`` and ``client_kwargs`` where shown."""

    @field_serializer("endpoint", check_fields=False)
    def _show_endpoint(self, endpoint: str | None) -> str | None:
        return redact_url(endpoint) if endpoint else endpoint

    @field_serializer("model_kwargs", "client_kwargs", check_fields=False)
    def _show_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return redact_options(kwargs)

    @field_serializer("default_headers", check_fields=False)
    def _show_headers(self, headers: dict[str, str] | None) -> Any:
        return _redact_headers(headers)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "endpoint" and isinstance(value, str):
                yield name, redact_url(value)
            elif name in ("model_kwargs", "client_kwargs") and isinstance(value, Mapping):
                yield name, redact_options(value)
            elif name == "default_headers":
                yield name, _redact_headers(value)
            else:
                yield name, value


def _redact_headers(headers: Any) -> Any:
    """Header values hidden (a gateway's key may be any of them), as in ``client_kwargs``."""
    if not isinstance(headers, Mapping):
        return headers
    return redact_options({"headers": headers})["headers"]


def check_tools(tools: Any) -> list[Any]:
    """The tools as a list, each a LlamaIndex tool (with ``metadata``), checked before any I/O.

    Raises:
        ConfigurationError: ``tools`` is not a list, or an item is not a tool (naming it).
    """
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
        raise ConfigurationError(
            f"tools must be a list of LlamaIndex tools, not {type(tools).__name__}."
        )
    for i, tool in enumerate(tools):
        if getattr(tool, "metadata", None) is None:
            raise ConfigurationError(
                f"tools[{i}] is not a LlamaIndex tool (a BaseTool such as FunctionTool), but "
                f"{type(tool).__name__}."
            )
    return list(tools)


def resolve_credential(credential: Any) -> Any:
    """The credential given, else the first of `CREDENTIAL_ENV_VARS` set; str to `SecretStr`."""
    credential = _resolve_credential(credential)
    if isinstance(credential, str):
        return SecretStr(credential)
    return credential


_CONNECTION_ARGUMENTS = (
    "base_url",
    "project_endpoint",
    "api_key",
    "azure_ad_token_provider",
    "azure_ad_async_token_provider",
)
_ALL_ENDPOINT_VARS = (*ENDPOINT_ENV_VARS, *PROJECT_ENDPOINT_ENV_VARS, OPENAI_ENV_VARS[0])


def resolve_arguments(endpoint: str | None, credential: Any, kwargs: dict[str, Any]) -> Any:
    """The endpoint and credential from every spelling and the environment (no I/O).

    Takes ``base_url`` (or ``api_base``, as llama-index's OpenAI classes name it),
    ``project_endpoint``, ``api_key``, ``azure_ad_token_provider`` and
    ``azure_ad_async_token_provider`` out of ``kwargs``; the order of precedence is
    `azureinference.adapters.resolve_connection`'s. A project endpoint is kept as the endpoint
    (the core serves it at ``/openai/v1``); a string key becomes a `SecretStr`.

    Returns:
        ``(endpoint, credential)``.

    Raises:
        ConfigurationError: No endpoint anywhere, two spellings that conflict (named), or a key
            for a project endpoint.
    """
    if "api_base" in kwargs:  # llama-index's OpenAI classes' name for base_url
        if kwargs.get("base_url") is not None:
            raise ConfigurationError("Pass base_url or api_base (the same URL), not both.")
        kwargs["base_url"] = kwargs.pop("api_base")
    given = {name: kwargs.pop(name) for name in _CONNECTION_ARGUMENTS if name in kwargs}
    resolved = resolve_connection(endpoint=endpoint, credential=credential, **given)
    if resolved.endpoint is None:
        raise ConfigurationError(
            "No endpoint given: pass endpoint=... (or base_url=..., or project_endpoint=...) or "
            f"set {', '.join(_ALL_ENDPOINT_VARS[:-1])} or {_ALL_ENDPOINT_VARS[-1]}."
        )
    found = resolved.credential
    return resolved.endpoint, SecretStr(found) if isinstance(found, str) else found


def make_connection(
    endpoint: str,
    credential: Any,
    *,
    model: str | None,
    api_version: str | None,
    timeout: float | None,
    max_retries: int,
    client_kwargs: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Connection:
    """The model's core connection, both clients built now: a bad option is named here (no I/O).

    The fields hold what ``client_kwargs`` said about them (`check_arguments`).

    Raises:
        ConfigurationError: A bad endpoint, credential or client option.
    """
    connection = connect(
        endpoint,
        credential,
        model=model,
        api_version=api_version,
        timeout=timeout,
        max_retries=max_retries,
        client_kwargs=client_kwargs,
        headers=headers,
        user_agent=_USER_AGENT,
    )
    # Both clients built for their checks; the sync one not for a credential only async calls
    # can use (azure.identity.aio), which it would refuse: sync calls then say so.
    if not connection.async_client.auth.is_async_token:
        connection.client  # noqa: B018
    return connection


def restore_state(model: Any, state: dict[str, Any]) -> None:
    """Unpickle a model: rebuild it from its fields and the credential it was pickled with.

    LlamaIndex's own ``__setstate__`` re-runs ``__init__`` with the fields only, which would
    lose the credential (it is not a field, to keep it out of ``to_dict``) and fall back to the
    environment: a worker process of an ``IngestionPipeline`` would then call without a key.
    """
    private = state.get("__pydantic_private__") or {}
    fields = dict(state.get("__dict__") or {})
    model.__init__(credential=private.get("_credential"), **fields)


def _openai_arguments(kwargs: dict[str, Any]) -> None:
    """Take llama-index's OpenAI classes' spellings.

    ``additional_kwargs`` is ``model_kwargs``; ``reuse_client`` is accepted and means nothing
    (a pool per event loop is always reused).

    Raises:
        ConfigurationError: Both ``additional_kwargs`` and ``model_kwargs``, or a
            ``reuse_client`` that is not a bool.
    """
    if "additional_kwargs" in kwargs:
        if kwargs.get("model_kwargs"):
            raise ConfigurationError(
                "Pass model_kwargs or additional_kwargs (the same: request parameters), not both."
            )
        kwargs["model_kwargs"] = dict(kwargs.pop("additional_kwargs") or {})
    reuse = kwargs.pop("reuse_client", True)
    if not isinstance(reuse, bool):
        raise ConfigurationError(f"reuse_client must be True or False, not {reuse!r}.")


def check_arguments(
    owner: str,
    kwargs: dict[str, Any],
    fields: Any,
    credential: Any,
    client_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """Apply the peers' aliases (``model``, ``api_key``) and ``client_kwargs``' field options.

    ``client_kwargs`` are read as the LangChain classes read them: ``max_retries``, ``timeout``
    and ``api_version`` (or azure-core's ``retry_total``, ``read_timeout``...) fill those fields
    unless given as arguments; keys that mean nothing here are named in a warning.

    Returns the credential, which ``api_key`` may have given.

    Raises:
        ConfigurationError: A keyword that is not an argument (naming the likely meant one).
    """
    if "model" in kwargs and kwargs.get("model_name") is None:
        kwargs["model_name"] = kwargs.pop("model")
    _openai_arguments(kwargs)
    unknown = set(kwargs) - set(fields)
    if unknown:
        raise unknown_arguments_error(
            owner,
            unknown,
            [*fields, "endpoint", "credential", *_CONNECTION_ARGUMENTS, "client_kwargs", "model"],
            "Request parameters go in model_kwargs={...}, or model_extras={...} for those the "
            "API does not define.",
        )
    sorted_kwargs = read_client_kwargs(client_kwargs)
    message = sorted_kwargs.warning(owner)
    if message:
        warnings.warn(message, UserWarning, stacklevel=4)
    for name, value in sorted_kwargs.fields.items():
        kwargs.setdefault(name, value)
    return credential
