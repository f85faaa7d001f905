"""The connection both LangChain classes share, and the core connection built from it.

`ConnectionFields` holds the constructor arguments that shape the connection (endpoint,
credential, api-version, timeout, retries, ``client_kwargs``) and those both classes send with
every request (``model``, ``model_kwargs``, ``model_extras``), apart from request shaping. The
core `Connection` (one per model: its sync and async clients share the rate limiter and what the
endpoint refused) is created on first use and cached on the instance in a `ConnectionCache`,
which copies, deep-copies and pickles as an empty cache: a copy or an unpickled model builds its
own connection rather than sharing (or trying to pickle) a live connection pool.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    model_validator,
)

from azureinference import AsyncClient, Client, ConfigurationError, TokenProvider, parse_endpoint
from azureinference import __version__ as _core_version
from azureinference.adapters import (
    CHAT_FIELDS,
    CREDENTIAL_ENV_VARS,
    EMBEDDINGS_FIELDS,
    ENDPOINT_ENV_VARS,
    OPENAI_ENV_VARS,
    PROJECT_ENDPOINT_ENV_VARS,
    Connection,
    connect,
    first_env,
    near_miss,
    read_client_kwargs,
    redact_options,
    redact_url,
    resolve_connection,
    resolve_credential,
    unknown_arguments_error,
)

__all__ = [
    "CONNECTION_FIELDS",
    "CREDENTIAL_ENV_VARS",
    "ENDPOINT_ENV_VARS",
    "ConnectionCache",
    "ConnectionFields",
    "make_connection",
    "move_unknown_to_model_kwargs",
    "resolve_credential",
    "resolve_endpoint",
]

log = logging.getLogger(__name__)

CONNECTION_FIELDS = frozenset(
    {
        "endpoint",
        "project_endpoint",
        "credential",
        "azure_ad_token_provider",
        "azure_ad_async_token_provider",
        "api_version",
        "client_kwargs",
        "timeout",
        "max_retries",
        "model_name",
        "default_headers",
        "default_query",
    }
)
"""Fields that shape the connection: assigning one drops the cached clients."""

_USER_AGENT = f"langchain-azureinference/{_core_version}"


def resolve_endpoint(endpoint: str | None) -> str | None:
    """The endpoint given, else the first of `ENDPOINT_ENV_VARS` that is set."""
    return endpoint or first_env(ENDPOINT_ENV_VARS)


PEER_ARGUMENTS_REFUSED = {
    "openai_api_key": "pass api_key= (or credential=)",
    "openai_api_base": "pass base_url= (or endpoint=)",
    "azure_endpoint": "pass endpoint='https://<resource>.openai.azure.com/openai/v1'",
    "azure_deployment": "pass model='<deployment>' with an '/openai/v1' endpoint",
    "openai_api_version": "pass api_version=",
    "openai_organization": "OpenAI organizations do not apply to these endpoints; leave it out",
    "organization": "OpenAI organizations do not apply to these endpoints; leave it out",
    "openai_proxy": "pass client_kwargs={'httpx_kwargs': {'proxy': ...}}",
    "http_client": "pass client_kwargs={'httpx_kwargs': {...}} (a whole client is not taken)",
    "http_async_client": "pass client_kwargs={'httpx_kwargs': {...}} (a whole client is not taken)",
    "tiktoken_model_name": "token counting here does not use tiktoken; leave it out",
}
"""``ChatOpenAI``/``AzureChatOpenAI`` arguments that configure the client, not the request: each
is refused at construction with what to pass instead (moved to ``model_kwargs``, it would be
sent to the service as a body field)."""


def refuse_peer_arguments(owner: str, data: Mapping[str, Any]) -> None:
    """Refuse the peer's client arguments (`PEER_ARGUMENTS_REFUSED`), naming what to pass.

    Raises:
        ConfigurationError: One of them was given.
    """
    given = sorted(name for name in data if name in PEER_ARGUMENTS_REFUSED)
    if given:
        reasons = "; ".join(f"{name}: {PEER_ARGUMENTS_REFUSED[name]}" for name in given)
        raise ConfigurationError(f"{owner} does not take {given}: {reasons}.")


_ALL_ENDPOINT_VARS = (*ENDPOINT_ENV_VARS, *PROJECT_ENDPOINT_ENV_VARS, OPENAI_ENV_VARS[0])


def resolve_arguments(data: dict[str, Any]) -> None:
    """Resolve the endpoint and credential spellings and the environment, in place (no I/O).

    ``base_url`` and ``api_key`` become ``endpoint`` and ``credential``; a project endpoint is
    kept in ``project_endpoint`` (``endpoint`` None), token providers in their own fields. The
    order of precedence is `azureinference.adapters.resolve_connection`'s.

    Raises:
        ConfigurationError: No endpoint anywhere, two spellings that conflict (named), or a key
            for a project endpoint.
    """
    resolved = resolve_connection(
        endpoint=data.get("endpoint"),
        base_url=data.pop("base_url", None),
        project_endpoint=data.get("project_endpoint"),
        credential=data.get("credential"),
        api_key=data.pop("api_key", None),
        azure_ad_token_provider=data.get("azure_ad_token_provider"),
        azure_ad_async_token_provider=data.get("azure_ad_async_token_provider"),
    )
    if resolved.endpoint is None:
        raise ConfigurationError(
            "No endpoint given: pass endpoint=... (or base_url=..., or project_endpoint=...) or "
            f"set {', '.join(_ALL_ENDPOINT_VARS[:-1])} or {_ALL_ENDPOINT_VARS[-1]}."
        )
    if resolved.is_project:
        data["endpoint"], data["project_endpoint"] = None, resolved.endpoint
    else:
        data["endpoint"] = resolved.endpoint
    if not isinstance(resolved.credential, TokenProvider):
        credential = resolved.credential
        data["credential"] = SecretStr(credential) if isinstance(credential, str) else credential


def _default_credential(endpoint: str) -> Any:
    """langchain-azure-ai falls back to ``DefaultAzureCredential``; so do we, when installed."""
    if parse_endpoint(endpoint).is_loopback:
        return None
    try:
        from azure.identity import DefaultAzureCredential  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None  # the core then names the missing credential and its env var
    log.warning(
        "No credential given: using DefaultAzureCredential(). Pass credential=... to choose."
    )
    return DefaultAzureCredential()


def apply_client_kwargs(owner: str, data: dict[str, Any]) -> None:
    """Read ``client_kwargs`` as LlamaIndex's classes do (`read_client_kwargs`).

    Options that are fields here (``max_retries``, ``timeout``, ``api_version``, or azure-core's
    ``retry_total``, ``read_timeout``...) fill those fields unless the constructor was given
    them; keys that mean nothing here (``logging_enable``...) are named once, in a warning.
    """
    sorted_kwargs = read_client_kwargs(data["client_kwargs"])
    message = sorted_kwargs.warning(owner)
    if message:
        warnings.warn(message, UserWarning, stacklevel=6)
    for name, value in sorted_kwargs.fields.items():
        if not any(alias in data for alias in _FIELD_ALIASES.get(name, (name,))):
            data[name] = value


_FIELD_ALIASES = {"timeout": ("timeout", "request_timeout")}


def make_connection(
    *,
    endpoint: str | None,
    credential: Any,
    api_version: str | None,
    model: str | None,
    timeout: Any,
    max_retries: int | None,
    client_kwargs: Mapping[str, Any],
    default_headers: Mapping[str, str] | None = None,
    default_query: Mapping[str, Any] | None = None,
) -> Connection:
    """The core connection for a LangChain class's fields (no I/O).

    The fields hold what ``client_kwargs`` said about them (`apply_client_kwargs`); keys that
    mean nothing here are left out (they were named at construction). ``default_headers`` and
    ``default_query`` go on every request, as in ``ChatOpenAI``.
    """
    if default_query and endpoint:
        # The core keeps an endpoint URL's own query on every request, beside api-version.
        endpoint += ("&" if "?" in endpoint else "?") + urlencode(default_query, doseq=True)
    if credential is None and endpoint:
        credential = _default_credential(endpoint)
    return connect(
        endpoint,
        credential,
        model=model,
        api_version=api_version,
        timeout=timeout,
        max_retries=max_retries,
        client_kwargs=client_kwargs,
        headers=default_headers,
        user_agent=_USER_AGENT,
    )


@cache
def _known_arguments(cls: Any) -> frozenset[str]:
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        names.add(name)
        if field.alias:
            names.add(field.alias)
        choices = field.validation_alias
        if isinstance(choices, AliasChoices):
            names.update(c for c in choices.choices if isinstance(c, str))
    return frozenset(names)


def move_unknown_to_model_kwargs(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Move constructor keywords that are not fields to ``model_kwargs``, with a warning.

    As ``ChatOpenAI`` does, except for a near-miss of an argument (``temprature``), which is
    an error naming the argument meant, as in the LlamaIndex classes: sent as a body field,
    it would be refused by the service or, worse, ignored by the model.

    Raises:
        ConfigurationError: A near-miss of a known argument.
        ValueError: A keyword also given in ``model_kwargs``.
    """
    known = _known_arguments(cls)
    unknown = [key for key in data if key not in known]
    if not unknown:
        return data
    typos = [key for key in unknown if near_miss(key, known)]
    if typos:
        raise unknown_arguments_error(
            cls.__name__,
            typos,
            known,
            "Parameters for the model that are not arguments go in model_kwargs={...}.",
        )
    data = dict(data)
    model_kwargs = dict(data.get("model_kwargs") or {})
    for key in unknown:
        if key in model_kwargs:
            raise ValueError(f"{key!r} was given twice: as an argument and in model_kwargs.")
        sent_as = (
            f"the API parameter {key!r}"
            if key in CHAT_FIELDS | EMBEDDINGS_FIELDS
            else "a body field the API does not define (with extra-parameters: pass-through)"
        )
        warnings.warn(
            f"{key!r} is not an argument of {cls.__name__}: it was moved to model_kwargs and is "
            f"sent with every request as {sent_as}. Pass it in model_kwargs (or model_extras) "
            "to silence this warning.",
            UserWarning,
            stacklevel=4,
        )
        model_kwargs[key] = data.pop(key)
    data["model_kwargs"] = model_kwargs
    return data


class ConnectionCache:
    """Holds the lazily built core `Connection` of one LangChain object."""

    __slots__ = ("_connection", "_lock")

    def __init__(self) -> None:
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    def get(self, make: Any) -> Connection:
        """The connection, built with ``make()`` on first use."""
        built = self._connection
        if built is None:
            with self._lock:
                built = self._connection
                if built is None:
                    built = self._connection = make()
        return built

    @property
    def built(self) -> Connection | None:
        """The connection if it was built, else None."""
        return self._connection

    def clear(self) -> None:
        """Forget the connection (the next call builds a new one)."""
        self._connection = None

    def __copy__(self) -> ConnectionCache:
        return ConnectionCache()

    def __deepcopy__(self, memo: dict[int, Any]) -> ConnectionCache:
        return ConnectionCache()

    def __reduce__(self) -> tuple[Any, ...]:
        return (ConnectionCache, ())

    def __repr__(self) -> str:
        return "ConnectionCache()"


class ConnectionFields(BaseModel):
    """The constructor arguments both LangChain classes share, and their lazily built clients.

    The chat model and the embeddings model inherit from it (after their LangChain base class),
    so both take langchain-azure-ai's arguments the same way: ``api_key`` as an alias of
    ``credential``, the environment variables, unknown keywords moved to ``model_kwargs`` with a
    warning, and a client rebuilt when a connection field is assigned.
    """

    model_config = ConfigDict(
        populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=()
    )

    endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("endpoint", "base_url")
    )
    """The endpoint URL (any portal form; ``base_url=`` is an alias, as in ``ChatOpenAI``);
    default ``AZURE_INFERENCE_ENDPOINT``, ``AZURE_AI_INFERENCE_ENDPOINT``, else
    ``OPENAI_BASE_URL`` (README, "Endpoint, credential and the environment")."""

    credential: Any = Field(default=None, validation_alias=AliasChoices("credential", "api_key"))
    """A key (kept as ``SecretStr``; ``api_key=`` is an alias), ``"Header: value"``, an
    ``AzureKeyCredential``, a token credential or a bearer token provider (a callable); default
    ``AZURE_INFERENCE_CREDENTIAL`` or ``AZURE_AI_INFERENCE_CREDENTIAL`` (``OPENAI_API_KEY``
    with ``OPENAI_BASE_URL``)."""

    azure_ad_token_provider: Any = Field(default=None, repr=False, exclude=True)
    """A bearer token provider, as ``AzureChatOpenAI`` takes it
    (``get_bearer_token_provider(DefaultAzureCredential(), "https://ai.azure.com/.default")``),
    called for every request."""

    azure_ad_async_token_provider: Any = Field(default=None, repr=False, exclude=True)
    """Its async counterpart, used by the async methods (the sync provider is used by both when
    this is not given)."""

    api_version: str | None = None
    """The ``api-version`` to send; default the endpoint kind's."""

    project_endpoint: str | None = None
    """A Foundry project endpoint
    (``https://<resource>.services.ai.azure.com/api/projects/<project>``, Entra ID only), served
    at that URL + ``/openai/v1``; default ``AZURE_AI_PROJECT_ENDPOINT``. Not with ``endpoint``."""

    service: Literal["inference"] | None = None
    """Accepted for compatibility with langchain-azure-ai, where ``"inference"`` is the only value
    these classes take."""

    client_kwargs: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)
    """Options of the core client: ``headers``, ``credential_scopes``, ``user_agent``,
    ``httpx_kwargs``, ``extra_parameters``, ``retry_policy``, ``tokens_per_minute``,
    ``requests_per_minute``, ``rate_limit``, ``max_concurrency``... (hidden from ``repr`` and
    dumps: headers may carry keys)."""

    model_name: str | None = Field(default=None, alias="model")
    """The model (or Azure OpenAI deployment); None for single-model endpoints."""

    timeout: float | None = Field(
        default=None, validation_alias=AliasChoices("timeout", "request_timeout")
    )
    """Seconds per request; default the core's (120)."""

    max_retries: int = 2
    """Retries on 408/429/5xx and connection errors."""

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More body parameters: API parameters are sent as such, the others as ``model_extras``."""

    model_extras: dict[str, Any] = Field(default_factory=dict)
    """Model-specific parameters the API does not define, sent with ``extra-parameters``."""

    default_headers: dict[str, str] | None = Field(
        default=None,
        validation_alias=AliasChoices("default_headers", "headers"),
        repr=False,
        exclude=True,
    )
    """Headers sent with every request, as in ``ChatOpenAI`` (``headers=`` is an alias; hidden
    from ``repr`` and dumps: headers may carry keys)."""

    default_query: dict[str, Any] | None = Field(default=None, repr=False, exclude=True)
    """Query parameters added to every request URL, as in ``ChatOpenAI``."""

    _clients: ConnectionCache = PrivateAttr(default_factory=ConnectionCache)

    @model_validator(mode="before")
    @classmethod
    def _prepare_arguments(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        refuse_peer_arguments(cls.__name__, data)
        data = move_unknown_to_model_kwargs(cls, data)
        resolve_arguments(data)
        if data.get("client_kwargs"):
            apply_client_kwargs(cls.__name__, data)
        return data

    def secret_fields(self) -> dict[str, str]:
        """Fields (``lc_secrets`` paths) that hold secrets now, with the env var to load them from.

        An endpoint with user info or a secret query (``?code=``, ``?sig=``) and headers in
        ``model_kwargs`` are stored by ``dumpd``/``dumps`` (and traces) as secrets.
        """
        fields = {}
        if self.endpoint and redact_url(self.endpoint) != self.endpoint:
            fields["endpoint"] = ENDPOINT_ENV_VARS[0]
        if self.model_kwargs.get("headers"):
            fields["model_kwargs.headers"] = "AZURE_INFERENCE_HEADERS"
        return fields

    # model_dump() and model_dump_json() show what repr shows: the endpoint's secret query values
    # and the header values in model_kwargs hidden (LangChain's dumps hides them as lc_secrets).
    @field_serializer("endpoint")
    def _show_endpoint(self, endpoint: str | None) -> str | None:
        return redact_url(endpoint) if endpoint else endpoint

    @field_serializer("model_kwargs")
    def _show_model_kwargs(self, model_kwargs: dict[str, Any]) -> dict[str, Any]:
        return redact_options(model_kwargs)

    @field_serializer("credential", when_used="json")
    def _show_credential(self, credential: Any) -> str | None:
        # A SecretStr as pydantic shows it; a credential object (which JSON cannot hold) by its
        # type, never by what it holds.
        if credential is None:
            return None
        if isinstance(credential, SecretStr):
            return str(credential)
        return f"<{type(credential).__name__}>"

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "endpoint" and isinstance(value, str):
                yield name, redact_url(value)
            elif name == "model_kwargs" and isinstance(value, Mapping):
                yield name, redact_options(value)
            else:
                yield name, value

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in CONNECTION_FIELDS:
            self._clients.clear()

    def __copy__(self) -> Any:
        copied = super().__copy__()
        copied._clients = ConnectionCache()  # model_copy(update=...) may change the connection
        return copied

    def _connect(self) -> Connection:
        credential = self.credential
        if credential is None and (
            self.azure_ad_token_provider or self.azure_ad_async_token_provider
        ):
            credential = TokenProvider(
                self.azure_ad_token_provider or self.azure_ad_async_token_provider,
                self.azure_ad_async_token_provider,
            )
        return make_connection(
            endpoint=self.endpoint or self.project_endpoint,
            credential=credential,
            api_version=self.api_version,
            model=self.model_name,
            timeout=self.timeout,
            max_retries=self.max_retries,
            client_kwargs=self.client_kwargs,
            default_headers=self.default_headers,
            default_query=self.default_query,
        )

    @property
    def connection(self) -> Connection:
        """The core connection of this model (built on first use, then reused)."""
        return self._clients.get(self._connect)

    @property
    def client(self) -> Client:
        """The core sync client (built on first use, then reused)."""
        return self.connection.client

    @property
    def async_client(self) -> AsyncClient:
        """The core async client (built on first use, then reused)."""
        return self.connection.async_client

    def close(self) -> None:
        """Close the sync client's connections."""
        built = self._clients.built
        if built is not None:
            built.close()

    async def aclose(self) -> None:
        """Close the async client's connections (of the running event loop)."""
        built = self._clients.built
        if built is not None:
            await built.aclose()
