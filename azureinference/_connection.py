"""`Connection`: one model's connection, shared by its sync and async clients; `connect` sets it up.

An adapter's model holds one `Connection`. Its `Client` and `AsyncClient` are built on first use
with the same options, one rate limiter and one `Capabilities`, so what the endpoint refused is
learned once for both (the Responses API's answer too), and ``/info`` is fetched once.
`connect` turns an adapter's constructor arguments into a connection: the endpoint and
credential from the environment where not given, a `SecretStr` credential unwrapped,
``client_kwargs`` read (`read_client_kwargs`), the adapter's User-Agent token in front of the
core's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ._arguments import read_client_kwargs
from ._capabilities import Capabilities
from ._options import CREDENTIAL_ENV_VARS, ENDPOINT_ENV_VARS, first_env
from .client import AsyncClient, Client
from .endpoints import Endpoint, parse_endpoint
from .errors import ConfigurationError
from .profiles import ModelProfile, find_profile
from .ratelimit import RateLimiter, make_limiter
from .redaction import redact_url
from .types import ModelInfo

__all__ = ["Connection", "connect", "resolve_credential", "resolve_endpoint"]


def resolve_endpoint(endpoint: str | None) -> str:
    """The endpoint given, else the first of `ENDPOINT_ENV_VARS` set; checked without I/O.

    Raises:
        ConfigurationError: None is set (naming the variables), or the URL is not one the core
            can use.
    """
    endpoint = endpoint or first_env(ENDPOINT_ENV_VARS)
    if not endpoint:
        raise ConfigurationError(
            f"No endpoint given: pass endpoint=... or set {' or '.join(ENDPOINT_ENV_VARS)}."
        )
    parse_endpoint(endpoint)
    return endpoint


def resolve_credential(credential: Any) -> Any:
    """The credential given, else the first of `CREDENTIAL_ENV_VARS` set (or None)."""
    if credential is not None:
        return credential
    return first_env(CREDENTIAL_ENV_VARS)


def connect(
    endpoint: str | None = None,
    credential: Any = None,
    *,
    model: str | None = None,
    api_version: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    client_kwargs: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = None,
) -> Connection:
    """One model's connection, from an adapter's constructor arguments (no I/O).

    Args:
        endpoint: Any endpoint form; default the first of `ENDPOINT_ENV_VARS` set.
        credential: As the core clients take it, or a ``SecretStr`` of a key; default the first
            of `CREDENTIAL_ENV_VARS` set.
        model: The model (or deployment).
        api_version: The api-version to send.
        timeout: Seconds per call; default the core's.
        max_retries: Retries; default the core's.
        client_kwargs: Core client options (`CLIENT_OPTIONS`), azure-core's names mapped
            (`read_client_kwargs`); keys that mean nothing here are left out (the adapter names
            them at construction with `ClientKwargs.warning`).
        headers: Headers sent on every request, beside those in ``client_kwargs``.
        user_agent: The adapter's User-Agent token (``"langchain-azureinference/0.3.0"``),
            put before the user's own prefix and the core's.

    Raises:
        ConfigurationError: No endpoint, or one the core cannot use.
    """
    options = read_client_kwargs(client_kwargs).options
    if headers:
        options["headers"] = {**(options.get("headers") or {}), **headers}
    options["endpoint"] = resolve_endpoint(endpoint)
    credential = resolve_credential(credential)
    get_secret = getattr(credential, "get_secret_value", None)  # a pydantic SecretStr
    options["credential"] = get_secret() if callable(get_secret) else credential
    options["model"] = model
    if api_version is not None:
        options["api_version"] = api_version
    if timeout is not None:
        options["timeout"] = timeout
    if max_retries is not None:
        options["max_retries"] = max_retries
    if user_agent:
        own = options.get("user_agent")
        options["user_agent"] = f"{own} {user_agent}" if own else user_agent
    return Connection(options)


class Connection:
    """One model's connection: its options, rate limiter, `Capabilities` and two clients.

    The sync `client` and the `async_client` are built on first use from the same options and
    share the rate limiter (sync and async calls pace together), the `capabilities` (a refusal
    learned by one holds for the other) and the ``/info`` cache. A copy or an unpickled
    connection builds its own clients (the connection pools are never copied), and keeps what
    was learned.

    Args:
        options: Keyword arguments of `Client` (``endpoint``, ``credential``, ``model`` and
            `CLIENT_OPTIONS`); ``rate_limiter``, ``tokens_per_minute`` and
            ``requests_per_minute`` make the one shared `RateLimiter`.
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        opts = dict(options)
        self.rate_limiter: RateLimiter = make_limiter(
            opts.pop("rate_limiter", None),
            opts.pop("tokens_per_minute", None),
            opts.pop("requests_per_minute", None),
        )
        self._options = opts
        self.capabilities = Capabilities()
        self._model_info: dict[str | None, ModelInfo | None] = {}
        self._sync: Client | None = None
        self._async: AsyncClient | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str | None:
        """The model (or deployment) the clients send by default."""
        model: str | None = self._options.get("model")
        return model

    @property
    def client(self) -> Client:
        """The sync client (built on first use)."""
        client = self._sync
        if client is None:
            with self._lock:
                client = self._sync
                if client is None:
                    client = self._sync = self._share(Client(**self._client_options()))
        return client

    @property
    def async_client(self) -> AsyncClient:
        """The async client (built on first use)."""
        client = self._async
        if client is None:
            with self._lock:
                client = self._async
                if client is None:
                    client = self._async = self._share(AsyncClient(**self._client_options()))
        return client

    @property
    def endpoint(self) -> Endpoint:
        """The parsed endpoint (builds the sync client on first use, without I/O)."""
        built = self._sync or self._async or self.client
        return built.endpoint

    def profile(self, *names: str | None) -> ModelProfile | None:
        """The profile of the model: by its name, else ``names`` (in order), else the deployment."""
        return find_profile(self.model, *names, self.endpoint.deployment)

    def close(self) -> None:
        """Close the sync client's connections."""
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        """Close the async client's connections (of the running event loop)."""
        if self._async is not None:
            await self._async.aclose()

    def _client_options(self) -> dict[str, Any]:
        return {**self._options, "rate_limiter": self.rate_limiter}

    def _share(self, client: Any) -> Any:
        client.capabilities = self.capabilities
        client._model_info = self._model_info
        return client

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_sync"] = state["_async"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __copy__(self) -> Connection:
        copied = Connection.__new__(Connection)
        copied.__setstate__(self.__getstate__())
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> Connection:
        return self.__copy__()

    def __repr__(self) -> str:
        endpoint = self._options.get("endpoint")
        shown = endpoint.base_url if isinstance(endpoint, Endpoint) else endpoint

        return (
            f"Connection(endpoint={redact_url(shown) if shown else None!r}, model={self.model!r})"
        )
