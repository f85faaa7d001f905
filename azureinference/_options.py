"""The core clients' keyword options: their names, defaults and the checks made before any I/O."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import ConfigurationError
from .redaction import check_header
from .requests import EXTRA_PARAMETERS_MODES
from .retry import RetryPolicy

__all__ = [
    "CLIENT_OPTIONS",
    "CREDENTIAL_ENV_VARS",
    "DEFAULT_EMBED_BATCH_SIZE",
    "DEFAULT_TIMEOUT",
    "ENDPOINT_ENV_VARS",
    "check_options",
    "check_positive_int",
    "first_env",
]

ENDPOINT_ENV_VARS = ("AZURE_INFERENCE_ENDPOINT", "AZURE_AI_INFERENCE_ENDPOINT")
"""Read in this order when no ``endpoint`` is given, by the core clients and the adapters: ours
(and llama-index-*-azure-inference's), then langchain-azure-ai's."""

CREDENTIAL_ENV_VARS = ("AZURE_INFERENCE_CREDENTIAL", "AZURE_AI_INFERENCE_CREDENTIAL")
"""Read in this order when no credential is given."""

DEFAULT_TIMEOUT = 120.0
DEFAULT_EMBED_BATCH_SIZE = 256

CLIENT_OPTIONS = frozenset(
    {
        "api_version",
        "credential_scopes",
        "headers",
        "timeout",
        "max_retries",
        "retry_policy",
        "user_agent",
        "extra_parameters",
        "embed_batch_size",
        "httpx_kwargs",
        "max_response_bytes",
        "rate_limiter",
        "tokens_per_minute",
        "requests_per_minute",
        "rate_limit",
        "max_concurrency",
        "logging_enable",
    }
)
"""The keyword options `Client` and `AsyncClient` take besides endpoint, credential and model:
what an adapter's ``client_kwargs`` may hold."""


def first_env(names: Iterable[str]) -> str | None:
    """The value of the first of ``names`` that is set and not empty."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def check_positive_int(name: str, value: Any, minimum: int) -> None:
    """Refuse ``value`` unless it is an int (not a bool) of at least ``minimum``.

    Raises:
        ConfigurationError: Naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int, not {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, not {value}.")


def check_options(**options: Any) -> None:
    """Check the client's keyword options by type, before anything is built or sent.

    Raises:
        ConfigurationError: An option of the wrong type or out of range, named.
    """
    check_positive_int("max_retries", options["max_retries"], 0)
    check_positive_int("embed_batch_size", options["embed_batch_size"], 1)
    _check_scopes(options["credential_scopes"])
    _check_timeout(options["timeout"])
    for name in ("model", "user_agent", "extra_parameters"):
        value = options[name]
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a str, not {type(value).__name__}.")
    if options["extra_parameters"] not in (None, *EXTRA_PARAMETERS_MODES):
        raise ConfigurationError(
            f"extra_parameters must be one of {list(EXTRA_PARAMETERS_MODES)}, not "
            f"{options['extra_parameters']!r}."
        )
    if options["retry_policy"] is not None and not isinstance(options["retry_policy"], RetryPolicy):
        raise ConfigurationError(
            f"retry_policy must be a RetryPolicy, not {type(options['retry_policy']).__name__}."
        )
    _check_headers(options["headers"])
    kwargs = options["httpx_kwargs"]
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise ConfigurationError(f"httpx_kwargs must be a dict, not {type(kwargs).__name__}.")


def check_max_response_bytes(value: Any) -> int:
    """``max_response_bytes``, checked.

    Raises:
        ConfigurationError: Not a positive int.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"max_response_bytes must be a positive int, not {value!r}.")
    return value


def _check_scopes(scopes: Any) -> None:
    if scopes is not None and (
        isinstance(scopes, (str, bytes))
        or not isinstance(scopes, Sequence)
        or not all(isinstance(s, str) and s for s in scopes)
    ):
        raise ConfigurationError(
            "credential_scopes must be a list of scope strings, such as "
            f"['https://cognitiveservices.azure.com/.default'], not {type(scopes).__name__}."
        )


def _check_timeout(timeout: Any) -> None:
    if isinstance(timeout, (str, bytes, bool, Mapping, list, tuple)):
        raise ConfigurationError(
            f"timeout must be seconds (a number) or a Timeout, not {type(timeout).__name__}."
        )
    if isinstance(timeout, (int, float)) and not 0 < timeout < float("inf"):
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout}.")


def _check_headers(headers: Any) -> None:
    if headers is None:
        return
    if not isinstance(headers, Mapping):
        raise ConfigurationError(f"headers must be a dict, not {type(headers).__name__}.")
    for name, value in headers.items():
        check_header(name, value, "headers")
