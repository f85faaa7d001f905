"""Constructor arguments adapters read the same way (public in `azureinference.adapters`).

- the environment variables for the endpoint and the credential, ours and the peers' spellings;
- ``client_kwargs``: the core client's options, plus the azure-core options that users of
  ``langchain-azure-ai`` and ``llama-index-*-azure-inference`` pass there (``retry_total``,
  ``connection_timeout``...), mapped where they mean something here and named otherwise;
- an unknown keyword that is a near-miss of a known one (``temprature``): an error that
  suggests the right name, in both adapters.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._options import CLIENT_OPTIONS, CREDENTIAL_ENV_VARS, ENDPOINT_ENV_VARS, first_env
from .errors import ConfigurationError

__all__ = [
    "AZURE_CORE_OPTIONS",
    "CREDENTIAL_ENV_VARS",
    "ENDPOINT_ENV_VARS",
    "ClientKwargs",
    "first_env",
    "near_miss",
    "read_client_kwargs",
    "unknown_arguments_error",
]

# azure-core's names for options the adapters have (as constructor fields or core options).
AZURE_CORE_OPTIONS: Mapping[str, str] = {
    "retry_total": "max_retries",
    "read_timeout": "timeout",
    "connection_timeout": "timeout",
    "connection_verify": "httpx_kwargs.verify",
    "connection_cert": "httpx_kwargs.cert",
}
"""azure-core client options (``ChatCompletionsClient(**client_kwargs)`` in the peers) and what
each becomes here. ``read_timeout`` wins over ``connection_timeout`` for the per-request
timeout."""

_FIELD_OPTIONS = frozenset({"max_retries", "timeout", "api_version"})

# Close enough to be a typo (temprature, max_token, modelname), not so close that a real model
# parameter is taken for one: top_k vs top_p scores 0.8, max_new_tokens vs max_tokens 0.83.
_NEAR_MISS_CUTOFF = 0.85


@dataclass
class ClientKwargs:
    """``client_kwargs`` sorted out.

    Attributes:
        options: Keyword options for the core client (`CLIENT_OPTIONS`).
        fields: Values for the adapter's own fields (``max_retries``, ``timeout``,
            ``api_version``), from our names or azure-core's; an explicit constructor argument
            wins over them.
        ignored: Keys that mean nothing here (``logging_enable``, ``retry_mode``...).
    """

    options: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def warning(self, owner: str) -> str | None:
        """The warning to give for the ignored keys, or None."""
        if not self.ignored:
            return None
        return (
            f"{owner}: client_kwargs {self.ignored} are azure-core options this client does not "
            f"have; they are ignored. It maps {sorted(AZURE_CORE_OPTIONS)} and takes "
            f"{sorted(CLIENT_OPTIONS)}."
        )


def read_client_kwargs(client_kwargs: Mapping[str, Any] | None) -> ClientKwargs:
    """Sort ``client_kwargs`` into core options, field values and ignored keys (no I/O).

    Raises:
        ConfigurationError: ``client_kwargs`` is not a mapping.
    """
    result = ClientKwargs()
    if client_kwargs is None:
        return result
    if not isinstance(client_kwargs, Mapping):
        raise ConfigurationError(
            f"client_kwargs must be a dict of client options, not {type(client_kwargs).__name__}."
        )
    for key, value in client_kwargs.items():
        name = AZURE_CORE_OPTIONS.get(key, key)
        if name.startswith("httpx_kwargs."):
            httpx_kwargs = result.options.setdefault("httpx_kwargs", {})
            httpx_kwargs.setdefault(name.partition(".")[2], value)
        elif name in _FIELD_OPTIONS:
            if key == "connection_timeout" and "read_timeout" in client_kwargs:
                continue
            result.fields[name] = value
        elif name == "httpx_kwargs":
            result.options["httpx_kwargs"] = {**dict(value or {}), **result.options.get(name, {})}
        elif name in CLIENT_OPTIONS:
            result.options[name] = value
        else:
            result.ignored.append(key)
    result.ignored.sort()
    return result


def near_miss(name: str, known: Collection[str]) -> str | None:
    """The known name ``name`` is most likely a typo of, if one is close enough."""
    matches = difflib.get_close_matches(name, known, n=1, cutoff=_NEAR_MISS_CUTOFF)
    return matches[0] if matches else None


def unknown_arguments_error(
    owner: str, unknown: Iterable[str], known: Collection[str], hint: str
) -> ConfigurationError:
    """The error for constructor keywords ``owner`` does not take, with the likely meant names.

    Args:
        owner: The class name.
        unknown: The keywords given that are not arguments.
        known: The arguments the class takes.
        hint: What to do with a keyword that is meant for the model.
    """
    parts = []
    for name in sorted(unknown):
        guess = near_miss(name, known)
        parts.append(f"{name!r} (did you mean {guess!r}?)" if guess else repr(name))
    return ConfigurationError(
        f"{owner} got unknown argument(s): {', '.join(parts)}. {hint}".rstrip()
    )
