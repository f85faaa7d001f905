"""The connection both LangChain classes share, and the core clients built from it.

`ConnectionFields` holds the constructor arguments that shape the connection (endpoint,
credential, api-version, timeout, retries, ``client_kwargs``) and those both classes send with
every request (``model``, ``model_kwargs``, ``model_extras``), apart from request shaping. Clients
are created on first use and cached on the instance in a `ClientCache`, which copies, deep-copies
and pickles as an empty cache: a copy or an unpickled model builds its own client rather than
sharing (or trying to pickle) a live connection pool.
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
    model_validator,
)

from azureinference import CLIENT_OPTIONS, AsyncClient, Client, ConfigurationError
from azureinference import __version__ as _core_version
from azureinference._arguments import (
    CREDENTIAL_ENV_VARS,
    ENDPOINT_ENV_VARS,
    first_env,
    near_miss,
    read_client_kwargs,
    unknown_arguments_error,
)
from azureinference.endpoints import parse_endpoint
from azureinference.ratelimit import make_limiter
from azureinference.redaction import redact_options, redact_url
from azureinference.requests import CHAT_FIELDS, EMBEDDINGS_FIELDS

__all__ = [
    "CLIENT_KWARGS",
    "CONNECTION_FIELDS",
    "CREDENTIAL_ENV_VARS",
    "ENDPOINT_ENV_VARS",
    "ClientCache",
    "ConnectionFields",
    "client_options",
    "move_unknown_to_model_kwargs",
    "resolve_credential",
    "resolve_endpoint",
]

log = logging.getLogger(__name__)

CONNECTION_FIELDS = frozenset(
    {
        "endpoint",
        "credential",
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

CLIENT_KWARGS = CLIENT_OPTIONS
"""The ``client_kwargs`` the core client takes."""

_USER_AGENT = f"langchain-azureinference/{_core_version}"


def resolve_endpoint(endpoint: str | None) -> str | None:
    """The endpoint given, else the first of `ENDPOINT_ENV_VARS` that is set."""
    return endpoint or first_env(ENDPOINT_ENV_VARS)


def resolve_credential(credential: Any) -> Any:
    """The credential given, else the first of `CREDENTIAL_ENV_VARS` that is set."""
    if credential is not None:
        return credential
    return first_env(CREDENTIAL_ENV_VARS)


def check_endpoint(endpoint: str | None, project_endpoint: str | None) -> None:
    """Fail early on a missing or malformed endpoint (no I/O).

    Raises:
        ConfigurationError: No endpoint (naming the environment variables), a project endpoint
            only, or a URL that is not http(s).
    """
    if endpoint:
        parse_endpoint(endpoint)
        return
    if project_endpoint:
        raise ConfigurationError(
            "project_endpoint is not supported (it needs the azure-ai-projects SDK and a "
            "network call): pass the model endpoint instead, e.g. endpoint='https://<resource>."
            "services.ai.azure.com/models'."
        )
    raise ConfigurationError(
        f"No endpoint given: pass endpoint=... or set {' or '.join(ENDPOINT_ENV_VARS)}."
    )


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


def client_options(
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
) -> dict[str, Any]:
    """The keyword arguments for the core client, from a LangChain class's fields.

    The fields hold what ``client_kwargs`` said about them (`apply_client_kwargs`); keys that
    mean nothing here are left out (they were named at construction). ``default_headers`` and
    ``default_query`` go on every request, as in ``ChatOpenAI``.
    """
    options = read_client_kwargs(client_kwargs).options
    if default_headers:
        options["headers"] = {**(options.get("headers") or {}), **default_headers}
    if default_query and endpoint:
        # The core keeps an endpoint URL's own query on every request, beside api-version.
        endpoint += ("&" if "?" in endpoint else "?") + urlencode(default_query, doseq=True)
    if credential is None and endpoint:
        credential = _default_credential(endpoint)
    options["endpoint"] = endpoint
    options["credential"] = credential
    options["model"] = model
    if api_version is not None:
        options["api_version"] = api_version
    if timeout is not None:
        options["timeout"] = timeout
    if max_retries is not None:
        options["max_retries"] = max_retries
    agent = options.get("user_agent")
    options["user_agent"] = f"{agent} {_USER_AGENT}" if agent else _USER_AGENT
    return options


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


class ClientCache:
    """Holds the lazily built sync and async core clients of one LangChain object.

    Both share one rate limiter (built from ``tokens_per_minute``/``requests_per_minute`` in
    the options, or the ``rate_limiter`` given), so sync and async calls pace together.
    """

    __slots__ = ("_async", "_limiter", "_lock", "_sync")

    def __init__(self) -> None:
        self._sync: Client | None = None
        self._async: AsyncClient | None = None
        self._limiter: Any = None
        self._lock = threading.Lock()

    def _shared(self, options: dict[str, Any]) -> dict[str, Any]:
        # Called under the lock.
        if self._limiter is None:
            self._limiter = make_limiter(
                options.get("rate_limiter"),
                options.get("tokens_per_minute"),
                options.get("requests_per_minute"),
            )
        for key in ("tokens_per_minute", "requests_per_minute"):
            options.pop(key, None)
        options["rate_limiter"] = self._limiter
        return options

    def sync(self, options: Any) -> Client:
        """The sync client, built with ``options()`` on first use."""
        client = self._sync
        if client is None:
            with self._lock:
                client = self._sync
                if client is None:
                    client = self._sync = Client(**self._shared(options()))
        return client

    def async_(self, options: Any) -> AsyncClient:
        """The async client, built with ``options()`` on first use."""
        client = self._async
        if client is None:
            with self._lock:
                client = self._async
                if client is None:
                    client = self._async = AsyncClient(**self._shared(options()))
        return client

    def clear(self) -> None:
        """Forget the clients and their limiter (the next call builds new ones)."""
        self._sync = None
        self._async = None
        self._limiter = None

    def __copy__(self) -> ClientCache:
        return ClientCache()

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache:
        return ClientCache()

    def __reduce__(self) -> tuple[Any, ...]:
        return (ClientCache, ())

    def __repr__(self) -> str:
        return "ClientCache()"


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

    endpoint: str | None = None
    """The endpoint URL (any portal form); default ``AZURE_INFERENCE_ENDPOINT`` or
    ``AZURE_AI_INFERENCE_ENDPOINT``."""

    credential: Any = Field(default=None, validation_alias=AliasChoices("credential", "api_key"))
    """A key (kept as ``SecretStr``; ``api_key=`` is an alias), ``"Header: value"``, an
    ``AzureKeyCredential`` or a token credential; default ``AZURE_INFERENCE_CREDENTIAL`` or
    ``AZURE_AI_INFERENCE_CREDENTIAL``."""

    api_version: str | None = None
    """The ``api-version`` to send; default the endpoint kind's."""

    project_endpoint: str | None = None
    """Accepted for compatibility with langchain-azure-ai; not supported (raises)."""

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

    _clients: ClientCache = PrivateAttr(default_factory=ClientCache)

    @model_validator(mode="before")
    @classmethod
    def _prepare_arguments(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = move_unknown_to_model_kwargs(cls, data)
        data["endpoint"] = resolve_endpoint(data.get("endpoint"))
        check_endpoint(data["endpoint"], data.get("project_endpoint"))
        if data.get("client_kwargs"):
            apply_client_kwargs(cls.__name__, data)
        key = "api_key" if data.get("credential") is None and "api_key" in data else "credential"
        credential = resolve_credential(data.get(key))
        data.pop("api_key", None)
        data["credential"] = SecretStr(credential) if isinstance(credential, str) else credential
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
        copied._clients = ClientCache()  # model_copy(update=...) may change the connection
        return copied

    def _client_options(self) -> dict[str, Any]:
        return client_options(
            endpoint=self.endpoint,
            credential=self.credential,
            api_version=self.api_version,
            model=self.model_name,
            timeout=self.timeout,
            max_retries=self.max_retries,
            client_kwargs=self.client_kwargs,
            default_headers=self.default_headers,
            default_query=self.default_query,
        )

    @property
    def client(self) -> Client:
        """The core sync client (built on first use, then reused)."""
        return self._clients.sync(self._client_options)

    @property
    def async_client(self) -> AsyncClient:
        """The core async client (built on first use, then reused)."""
        return self._clients.async_(self._client_options)

    def close(self) -> None:
        """Close the sync client's connections."""
        if self._clients._sync is not None:
            self._clients._sync.close()

    async def aclose(self) -> None:
        """Close the async client's connections (of the running event loop)."""
        if self._clients._async is not None:
            await self._clients._async.aclose()
