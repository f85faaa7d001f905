"""Where a model connects and with what: the adapters' endpoint and credential spellings, resolved.

Both adapters take the same spellings and resolve them here, before any I/O, in this order
(the README's "Endpoint, credential and the environment" states it for users):

Endpoint (the first that applies):

1. ``endpoint=`` (``base_url=`` is an alias: both, when different, is an error) or
   ``project_endpoint=``: both given is an error naming both. ``project_endpoint=`` with one of
   our endpoint variables set (`ENDPOINT_ENV_VARS`) is an error too, never a silent choice;
2. the first of `ENDPOINT_ENV_VARS` set, or ``AZURE_AI_PROJECT_ENDPOINT``: one of each set is an
   error naming both;
3. ``OPENAI_BASE_URL``, when none of our variables is set (as Microsoft's LangChain page shows
   for its OpenAI-based classes).

Credential (the first that applies):

1. ``credential=`` or ``api_key=`` (both is an error), or ``azure_ad_token_provider=`` and/or
   ``azure_ad_async_token_provider=`` (a bearer token provider for sync and async calls; with
   ``credential``/``api_key`` too, an error);
2. the first of `CREDENTIAL_ENV_VARS` set;
3. ``OPENAI_API_KEY``, when the endpoint came from ``OPENAI_BASE_URL``.

A project endpoint takes Entra ID only: a key for one, from an argument or a variable, is an error
that says so and names where the key came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._arguments import CREDENTIAL_ENV_VARS, ENDPOINT_ENV_VARS
from .auth import HeaderCredential, StaticKeyCredential, TokenProvider
from .endpoints import PROJECT_ENDPOINT_FORM, parse_endpoint, parse_project_endpoint
from .errors import ConfigurationError

__all__ = [
    "OPENAI_ENV_VARS",
    "PROJECT_ENDPOINT_ENV_VARS",
    "ResolvedConnection",
    "resolve_connection",
]

PROJECT_ENDPOINT_ENV_VARS = ("AZURE_AI_PROJECT_ENDPOINT",)
"""Read for a Foundry project endpoint when no endpoint argument is given."""

OPENAI_ENV_VARS = ("OPENAI_BASE_URL", "OPENAI_API_KEY")
"""The ``openai`` SDK's pair, read where none of our endpoint variables is set."""


@dataclass(frozen=True)
class ResolvedConnection:
    """The endpoint and credential a model connects with, and where each came from.

    Attributes:
        endpoint: The endpoint URL (a project endpoint is the project's URL; the core serves it
            at ``/openai/v1``), or None when nothing is given anywhere.
        credential: What the core clients take (a `TokenProvider` for token providers), or None.
        endpoint_source: ``"endpoint"``, ``"base_url"``, ``"project_endpoint"`` or the variable.
        credential_source: The argument or variable the credential came from, or None.
        is_project: True for a Foundry project endpoint.
    """

    endpoint: str | None
    credential: Any
    endpoint_source: str | None
    credential_source: str | None
    is_project: bool = False


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _first(names: tuple[str, ...], environ: Mapping[str, str]) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name)
        if value:
            return name, value
    return None


def _endpoint(
    endpoint: str | None,
    base_url: str | None,
    project_endpoint: str | None,
    environ: Mapping[str, str],
) -> tuple[str | None, str | None, bool]:
    """(URL, where it came from, is a project endpoint), from the arguments, then the variables."""
    args = _given(endpoint=endpoint, base_url=base_url)
    if len(args) == 2 and endpoint != base_url:
        raise ConfigurationError(
            "endpoint= and base_url= are the same argument and were given different URLs: pass one."
        )
    ours = _first(ENDPOINT_ENV_VARS, environ)
    if project_endpoint is not None:
        if args:
            raise ConfigurationError(
                f"project_endpoint= and {next(iter(args))}= were both given: pass one (a project "
                "endpoint, or a model endpoint such as '.../openai/v1')."
            )
        if ours is not None:
            raise ConfigurationError(
                f"project_endpoint= was given while {ours[0]} is set: unset the variable, or "
                "leave project_endpoint= out to use it. One of them would be ignored."
            )
        parse_project_endpoint(project_endpoint)  # names project_endpoint if it is not one
        return project_endpoint, "project_endpoint", True
    if args:
        name, url = next(iter(args.items()))
        return url, name, False
    project = _first(PROJECT_ENDPOINT_ENV_VARS, environ)
    if ours is not None and project is not None:
        raise ConfigurationError(
            f"{ours[0]} and {project[0]} are both set: unset one, or pass endpoint= (or "
            "project_endpoint=) to choose."
        )
    if ours is not None:
        return ours[1], ours[0], False
    if project is not None:
        parse_project_endpoint(project[1])
        return project[1], project[0], True
    openai_url = environ.get(OPENAI_ENV_VARS[0])
    if openai_url:
        return openai_url, OPENAI_ENV_VARS[0], False
    return None, None, False


def _credential(
    credential: Any,
    api_key: Any,
    token_provider: Callable[[], Any] | None,
    async_token_provider: Callable[[], Any] | None,
    endpoint_source: str | None,
    environ: Mapping[str, str],
) -> tuple[Any, str | None]:
    keys = _given(credential=credential, api_key=api_key)
    providers = _given(
        azure_ad_token_provider=token_provider, azure_ad_async_token_provider=async_token_provider
    )
    if len(keys) == 2:
        raise ConfigurationError(
            "credential= and api_key= are the same argument and were both given: pass one."
        )
    if keys and providers:
        raise ConfigurationError(
            f"{next(iter(keys))}= and {next(iter(providers))}= were both given: pass one "
            "credential (a token provider is one)."
        )
    if providers:
        for name, value in providers.items():
            if not callable(value):
                raise ConfigurationError(
                    f"{name} must be a callable returning a token, not {type(value).__name__}."
                )
        provider = TokenProvider(token_provider or async_token_provider, async_token_provider)  # type: ignore[arg-type]
        return provider, " and ".join(f"{n}=" for n in providers)
    if keys:
        name, value = next(iter(keys.items()))
        return value, f"{name}="
    ours = _first(CREDENTIAL_ENV_VARS, environ)
    if ours is not None:
        return ours[1], ours[0]
    if endpoint_source == OPENAI_ENV_VARS[0] and environ.get(OPENAI_ENV_VARS[1]):
        return environ[OPENAI_ENV_VARS[1]], OPENAI_ENV_VARS[1]
    return None, None


def _is_key(credential: Any) -> bool:
    """True for a key of any form (a project endpoint refuses them)."""
    if isinstance(credential, (str, StaticKeyCredential, HeaderCredential)):
        return True
    if callable(getattr(credential, "get_secret_value", None)):
        return True
    return isinstance(getattr(credential, "key", None), str) and not callable(
        getattr(credential, "get_token", None)
    )


def resolve_connection(
    *,
    endpoint: str | None = None,
    base_url: str | None = None,
    project_endpoint: str | None = None,
    credential: Any = None,
    api_key: Any = None,
    azure_ad_token_provider: Callable[[], Any] | None = None,
    azure_ad_async_token_provider: Callable[[], Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedConnection:
    """Resolve an adapter's endpoint and credential spellings and the environment (no I/O).

    Args:
        endpoint: The endpoint URL.
        base_url: ``ChatOpenAI``'s spelling of ``endpoint``.
        project_endpoint: A Foundry project endpoint
            (``https://<resource>.services.ai.azure.com/api/projects/<project>``).
        credential: A key, key credential, token credential or token provider.
        api_key: ``ChatOpenAI``'s spelling of ``credential``.
        azure_ad_token_provider: ``AzureChatOpenAI``'s bearer token provider (sync).
        azure_ad_async_token_provider: Its async counterpart, used by async calls.
        environ: The environment (default ``os.environ``).

    Raises:
        ConfigurationError: Two spellings that conflict (naming both), a URL that is not an
            endpoint, or a key for a project endpoint.
    """
    env = os.environ if environ is None else environ
    for name, value in _given(
        endpoint=endpoint, base_url=base_url, project_endpoint=project_endpoint
    ).items():
        if not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a URL (str), not {type(value).__name__}.")
    url, source, is_project = _endpoint(endpoint, base_url, project_endpoint, env)
    if url is not None and not is_project:
        parse_endpoint(url)  # a malformed URL is named now, not at the first call
    cred, cred_source = _credential(
        credential, api_key, azure_ad_token_provider, azure_ad_async_token_provider, source, env
    )
    if is_project and cred is not None and _is_key(cred):
        raise ConfigurationError(
            f"The project endpoint ({source}) takes Entra ID only, but a key was given "
            f"({cred_source}): pass credential=DefaultAzureCredential() or a token provider, or "
            "use the resource's '/openai/v1' endpoint with the key "
            f"(not '{PROJECT_ENDPOINT_FORM}')."
        )
    return ResolvedConnection(url, cred, source, cred_source, is_project)
