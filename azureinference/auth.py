"""Credentials and the `httpx2.Auth` that applies them to every request.

Accepted credentials:

- a key as ``str`` (or ``SecretStr``-like object with ``get_secret_value()``), or any object with a
  ``.key`` attribute such as ``azure.core.credentials.AzureKeyCredential``: sent as
  ``Authorization: Bearer <key>``, and also as ``api-key`` on Azure OpenAI style hosts. The key is
  read on every request, so ``AzureKeyCredential.update()`` takes effect at once for both headers
  (the reference SDK keeps the old ``api-key``);
- a caller-given header: `HeaderCredential` or a string ``"api-key: <KEY>"`` (seed 000);
- an Entra ID token credential: any object with ``get_token(*scopes)`` (sync) or an async one
  (``azure.identity.aio``). A token is cached and shared by concurrent callers until shortly
  before it expires (five minutes, or a tenth of its life for a token that lives less than
  fifty minutes), so it is fetched once per expiry; ``expires_on`` may be seconds since the
  epoch or a ``datetime``;
- a bearer token provider: a callable returning the token, such as
  ``azure.identity.get_bearer_token_provider(credential, scope)`` (or the ``azure.identity.aio``
  one, async, for `AsyncClient`), as the ``openai`` SDK and ``AzureChatOpenAI`` take it
  (``azure_ad_token_provider``). It is called on every request, and caches as it likes. A sync
  provider given to `AsyncClient` is called in the event loop, as the ``openai`` SDK does.

Tokens are never sent over plain ``http://`` except to a loopback host. A request the service
answers 401 to with a token is sent once more with a new token (the cached one is dropped; a
provider is asked again) before the 401 is reported. A project endpoint
(``.../api/projects/<p>``) takes Entra ID only: a key for one is refused.

Every header value is checked when the client is built (and each token when it arrives): a key
with a line break or a header name with a space is a `ConfigurationError` that does not quote the
secret, raised before anything is sent. A pickled `AzureAuth` keeps the credential, never its
cached access token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Protocol, runtime_checkable

import httpx2

from ._fork import reset_after_fork
from ._transport import time_for_token as _time_for_token
from .endpoints import Endpoint
from .errors import APIStatusError, APITimeoutError, ConfigurationError, error_from_response
from .redaction import check_header, mark_credential_header

__all__ = [
    "AzureAuth",
    "HeaderCredential",
    "KeyCredential",
    "StaticKeyCredential",
    "TokenCredentialLike",
    "TokenProvider",
    "make_auth",
]

_REFRESH_MARGIN_SECONDS = 300.0
# A token that lives less than ten margins is refreshed when a tenth of its life is left: with a
# fixed five minutes, one living four minutes would be stale on arrival and fetched every call.
_REFRESH_FRACTION = 0.1
_HEADER_FORM = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_-]*):\s+(?P<value>\S.*)$")


@runtime_checkable
class KeyCredential(Protocol):
    """Anything with a ``key`` attribute (``AzureKeyCredential`` is one)."""

    @property
    def key(self) -> str:
        """The current key."""
        ...


@runtime_checkable
class TokenCredentialLike(Protocol):
    """Anything with ``get_token(*scopes)`` returning an object with ``token``, ``expires_on``."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """Return an access token for the scopes."""
        ...


class StaticKeyCredential:
    """A fixed key. Its ``repr`` never shows the key."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        check_header("Authorization", "Bearer " + key, "The credential")
        self._key = key

    @property
    def key(self) -> str:
        """The key."""
        return self._key

    def __repr__(self) -> str:
        return "StaticKeyCredential(key='**********')"

    def __reduce__(self) -> tuple[Any, ...]:
        return (StaticKeyCredential, (self._key,))


class HeaderCredential:
    """A key sent in a header of the caller's choice, e.g. ``api-key: <KEY>``.

    Args:
        name: The header name.
        value: The header value (the secret).
    """

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        if not name or not value:
            raise ConfigurationError("HeaderCredential needs a header name and a value.")
        check_header(name, value, "The credential")
        mark_credential_header(name)
        self.name = name
        self.value = value

    @classmethod
    def parse(cls, text: str) -> HeaderCredential | None:
        """Parse ``"Header-Name: value"``; None when the text is not of that form."""
        match = _HEADER_FORM.match(text.strip())
        if not match:
            return None
        return cls(match["name"], match["value"].strip())

    def __repr__(self) -> str:
        return f"HeaderCredential(name={self.name!r}, value='**********')"

    def __reduce__(self) -> tuple[Any, ...]:
        return (HeaderCredential, (self.name, self.value))


class TokenProvider:
    """A callable returning a bearer token, called on every request (``azure_ad_token_provider``).

    Args:
        provider: A function (or callable object) taking no arguments and returning the token,
            or an awaitable of it (an async provider, for `AsyncClient` only).
        async_provider: An async provider for async calls, beside a sync ``provider`` for sync
            ones (``AzureChatOpenAI``'s ``azure_ad_async_token_provider``).
    """

    __slots__ = ("async_provider", "is_async", "provider")

    def __init__(
        self, provider: Callable[[], Any], async_provider: Callable[[], Any] | None = None
    ) -> None:
        for value in (provider, async_provider):
            if value is not None and not callable(value):
                raise ConfigurationError(
                    f"A token provider must be callable, not {type(value).__name__}."
                )
        self.provider = provider
        self.async_provider = async_provider or provider
        # Only an async provider: refused by the sync client when it is built.
        self.is_async = _is_async_callable(provider)

    def __repr__(self) -> str:
        name = getattr(self.provider, "__qualname__", type(self.provider).__name__)
        return f"TokenProvider({name})"

    def __reduce__(self) -> tuple[Any, ...]:
        second = None if self.async_provider is self.provider else self.async_provider
        return (TokenProvider, (self.provider, second))


def _is_async_callable(value: Any) -> bool:
    return inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(
        getattr(value, "__call__", None)  # noqa: B004  # an object with an async __call__
    )


def _provided_token(value: Any) -> str:
    """The token a provider returned, checked: a non-empty str that fits in a header."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"The token provider returned {type(value).__name__}, not a token (a non-empty str)."
        )
    check_header("Authorization", "Bearer " + value, "The token provider's token")
    return value


def _expiry(access_token: Any) -> float:
    """``expires_on`` as seconds since the epoch: a number, or a ``datetime`` (naive is UTC)."""
    value = getattr(access_token, "expires_on", None)
    if value is None or value == 0:
        return 0.0
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigurationError(
            "The token credential's get_token() returned expires_on of type "
            f"{type(value).__name__}: expected seconds since the epoch (int) or a datetime."
        )
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(
            "The token credential's get_token() returned an expires_on that is not a number of "
            "seconds since the epoch."
        ) from None


def _secret_value(obj: Any) -> str | None:
    getter = getattr(obj, "get_secret_value", None)
    if callable(getter):
        value = getter()
        return value if isinstance(value, str) else None
    return None


class AzureAuth(httpx2.Auth):
    """Adds the credential's headers to each request; fetches and caches Entra ID tokens.

    Args:
        credential: A key, key credential, header credential or token credential (or None).
        endpoint: The parsed endpoint (for the scope, the ``api-key`` rule and the https rule).
        scopes: Token scopes; default the endpoint kind's scope.
    """

    requires_request_body = False
    requires_response_body = False
    _checked_key: Any = None

    def __init__(
        self,
        credential: Any,
        endpoint: Endpoint,
        scopes: list[str] | None = None,
    ) -> None:
        self._credential = credential
        self._endpoint = endpoint
        self._scopes = list(scopes) if scopes else [endpoint.token_scope]
        self._token: str | None = None
        self._expires_on = 0.0
        self._refresh_at = 0.0
        self._checked_key: Any = None
        self._lock = threading.Lock()
        # One asyncio.Lock per event loop: a lock is bound to the loop it first waited in, and
        # the client outlives loops (asyncio.run twice) and may serve loops in several threads.
        self._alocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        reset_after_fork(self)
        self._is_token = not isinstance(credential, (StaticKeyCredential, HeaderCredential)) and (
            callable(getattr(credential, "get_token", None))
        )
        self._is_async_token = self._is_token and inspect.iscoroutinefunction(credential.get_token)
        self._provider = credential if isinstance(credential, TokenProvider) else None
        if self._provider is not None and self._provider.is_async:
            self._is_async_token = True
        bearer = self._is_token or self._provider is not None
        if bearer and endpoint.scheme != "https" and not endpoint.is_loopback:
            raise ConfigurationError(
                f"Refusing to send an Entra ID bearer token over plain http to {endpoint.host!r}: "
                "use an https endpoint (tokens go over http only to a loopback host)."
            )

    @property
    def scopes(self) -> list[str]:
        """The token scopes in use."""
        return list(self._scopes)

    @property
    def is_async_token(self) -> bool:
        """True when only async calls can use the credential (async token credential or provider).

        LlamaIndex then builds no sync client up front.
        """
        return self._is_async_token

    def check_sync(self) -> None:
        """Refuse a credential only the async client can use (called by `Client`).

        Raises:
            ConfigurationError: An async token credential or async token provider.
        """
        if self._is_async_token:
            raise ConfigurationError(_ASYNC_IN_SYNC)

    def __repr__(self) -> str:
        return f"AzureAuth(credential={type(self._credential).__name__}, scopes={self._scopes})"

    def __getstate__(self) -> dict[str, Any]:
        state = {k: getattr(self, k) for k in self.__dict__}
        state["_lock"] = None
        state["_alocks"] = None
        # The credential travels; its cached access token does not (a pickle is a file).
        state["_token"] = None
        state["_expires_on"] = 0.0
        state["_refresh_at"] = 0.0
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._alocks = weakref.WeakKeyDictionary()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        # In a forked child: a token lock another thread held at the fork stays held there.
        self._lock = threading.Lock()
        self._alocks = weakref.WeakKeyDictionary()

    def _token_fresh(self) -> bool:
        return self._token is not None and time.time() < self._refresh_at

    def _store(self, access_token: Any) -> str:
        token = getattr(access_token, "token", None)
        if not isinstance(token, str):
            raise ConfigurationError(
                "The token credential's get_token() returned no '.token' string."
            )
        check_header("Authorization", "Bearer " + token, "The token credential's access token")
        expires_on = _expiry(access_token)
        life = expires_on - time.time()
        self._token = token
        self._expires_on = expires_on
        self._refresh_at = expires_on - min(_REFRESH_MARGIN_SECONDS, life * _REFRESH_FRACTION)
        return token

    def _sync_token(self, refused: str | None = None) -> str:
        """The cached token, fetched first if stale or if it is ``refused`` (a 401's token)."""
        with self._lock:
            if not self._token_fresh() or (refused is not None and self._token == refused):
                self._store(self._credential.get_token(*self._scopes))
            assert self._token is not None
            return self._token

    async def _async_token(self, refused: str | None = None) -> str:
        loop = asyncio.get_running_loop()
        lock = self._alocks.get(loop)
        if lock is None:
            lock = self._alocks[loop] = asyncio.Lock()
        async with lock:
            if not self._token_fresh() or (refused is not None and self._token == refused):
                result = self._credential.get_token(*self._scopes)
                if inspect.isawaitable(result):
                    result = await result
                self._store(result)
            assert self._token is not None
            return self._token

    def _provider_token(self) -> str:
        assert self._provider is not None
        value = self._provider.provider()
        if inspect.isawaitable(value):
            if inspect.iscoroutine(value):
                value.close()  # never awaited: close it rather than leave a warning behind
            raise ConfigurationError(_ASYNC_IN_SYNC)
        return _provided_token(value)

    async def _aprovider_token(self) -> str:
        assert self._provider is not None
        value = self._provider.async_provider()
        if inspect.isawaitable(value):
            value = await value
        return _provided_token(value)

    def _bearer(self, request: httpx2.Request, refused: str | None = None) -> str:
        """A token for a sync request (a new one when ``refused`` is the one just refused).

        A credential's fetch waits no longer than the call's time left (`time_for_token`).
        """
        if self._provider is not None:
            return self._provider_token()
        if self._is_async_token:
            raise ConfigurationError(_ASYNC_IN_SYNC)
        if refused is None and self._token_fresh():
            return self._token  # type: ignore[return-value]
        left = _time_for_token(request)
        if left is None:
            return self._sync_token(refused)
        return _in_thread_within(lambda: self._sync_token(refused), left)

    async def _abearer(self, request: httpx2.Request, refused: str | None = None) -> str:
        if self._provider is not None:
            return await self._aprovider_token()
        if refused is None and self._token_fresh():
            return self._token  # type: ignore[return-value]
        fetch = (
            self._async_token(refused)
            if self._is_async_token
            else asyncio.to_thread(self._sync_token, refused)
        )
        left = _time_for_token(request)
        if left is None:
            return await fetch
        try:
            return await asyncio.wait_for(fetch, left)
        except TimeoutError:
            raise _token_timeout(left) from None

    def _apply_key(self, request: httpx2.Request) -> None:
        cred = self._credential
        if cred is None:
            return
        if isinstance(cred, HeaderCredential):
            request.headers[cred.name] = cred.value
            return
        key = cred.key
        if key is not self._checked_key:  # a key credential's update() gives a new key
            _check_key(key)
            self._checked_key = key
        request.headers["Authorization"] = "Bearer " + key
        if self._endpoint.sends_api_key_header:
            request.headers["api-key"] = key

    @property
    def _is_bearer(self) -> bool:
        return self._is_token or self._provider is not None

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Apply the credential (sync); a token refused with a 401 is replaced once."""
        if not self._is_bearer:
            self._apply_key(request)
            response = yield request
            if self._credential is None and response.status_code == 401:
                raise _no_credential_error(response, response.read())
            return
        token = self._bearer(request)
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = "Bearer " + self._bearer(request, refused=token)
            yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """Apply the credential (async); a sync token credential is called in a thread."""
        if not self._is_bearer:
            self._apply_key(request)
            response = yield request
            if self._credential is None and response.status_code == 401:
                raise _no_credential_error(response, await response.aread())
            return
        token = await self._abearer(request)
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if response.status_code == 401:
            new = await self._abearer(request, refused=token)
            request.headers["Authorization"] = "Bearer " + new
            yield request


def _token_timeout(left: float) -> APITimeoutError:
    return APITimeoutError(
        f"The token credential's get_token() did not return within the call's timeout "
        f"({left:.3g} s left); the request was not sent. The token it fetches is kept for the "
        "next call."
    )


def _in_thread_within(fetch: Callable[[], str], left: float) -> str:
    """``fetch()`` in a thread of its own, waited for ``left`` seconds at most.

    A sync credential cannot be interrupted: past ``left`` the call fails, and the fetch goes
    on in its thread, storing its token for the next call.
    """
    done = threading.Event()
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(fetch())
        except BaseException as exc:  # handed to the caller
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="azureinference-get-token", daemon=True).start()
    if not done.wait(left):
        raise _token_timeout(left)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


_ASYNC_IN_SYNC = (
    "An async token credential or token provider (azure.identity.aio) cannot be used by a sync "
    "client: pass a sync one (azure.identity), or use the async client (AsyncClient, or the "
    "async methods: ainvoke, achat...)."
)


def _no_credential_error(response: httpx2.Response, content: bytes) -> APIStatusError:
    """The 401 of a loopback server that wants a key when none was given, saying so.

    A loopback endpoint may go without a credential (local servers often need none), so a
    missing one is only known to be a problem when the server refuses the request.
    """
    err = error_from_response(response.status_code, response.headers, content)
    err.message += f" ({_NO_CREDENTIAL}: the server at {response.request.url.host} wants one)"
    err.args = (err.message,)
    return err


_NO_CREDENTIAL = (
    "No credential given: pass credential=<key or token credential> or set "
    "AZURE_INFERENCE_CREDENTIAL"
)


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ConfigurationError(
            f"The key credential's key must be a non-empty str, not {type(key).__name__}."
        )
    check_header("Authorization", "Bearer " + key, "The credential")


def make_auth(credential: Any, endpoint: Endpoint, scopes: list[str] | None = None) -> AzureAuth:
    """Normalise a user's credential into an `AzureAuth`.

    Args:
        credential: ``str`` key, ``"Header: value"`` string, SecretStr, key credential,
            `HeaderCredential`, token credential, bearer token provider (a callable, or a
            `TokenProvider`), or None (only for loopback endpoints).
        endpoint: The parsed endpoint.
        scopes: Token scopes overriding the endpoint's default.

    Raises:
        ConfigurationError: No credential for a remote endpoint, an object of an unknown kind,
            or a key for a project endpoint.
    """
    cred: Any = credential
    secret = _secret_value(cred)
    if secret is not None:
        cred = secret
    if isinstance(cred, str):
        if not cred.strip():
            cred = None
        else:
            cred = HeaderCredential.parse(cred) or StaticKeyCredential(cred.strip())
    has_get_token = callable(getattr(cred, "get_token", None))
    if (
        callable(cred)
        and not has_get_token
        and getattr(cred, "key", None) is None
        and not isinstance(cred, (HeaderCredential, StaticKeyCredential, TokenProvider))
    ):
        cred = TokenProvider(cred)
    if cred is None:
        if endpoint.project is not None and not endpoint.is_loopback:
            raise ConfigurationError(
                f"The project endpoint {endpoint.display_url!r} needs an Entra ID credential: "
                "pass credential=DefaultAzureCredential() (azure-identity) or a token provider."
            )
        if not endpoint.is_loopback:
            raise ConfigurationError(f"{_NO_CREDENTIAL}.")
    elif not (
        isinstance(cred, (StaticKeyCredential, HeaderCredential, TokenProvider))
        or has_get_token
        or isinstance(getattr(cred, "key", None), str)
    ):
        raise ConfigurationError(
            f"Unsupported credential of type {type(cred).__name__}: pass a key (str), an "
            "AzureKeyCredential, a HeaderCredential, a token credential with get_token(), or a "
            "bearer token provider (a callable returning the token)."
        )
    elif not isinstance(cred, (HeaderCredential, TokenProvider)) and not has_get_token:
        _check_key(cred.key)
    is_bearer = has_get_token or isinstance(cred, TokenProvider)
    if endpoint.project is not None and not is_bearer and cred is not None:
        raise ConfigurationError(
            f"The project endpoint {endpoint.display_url!r} takes Entra ID only, not an API "
            "key: pass credential=DefaultAzureCredential() (or a token provider), or use the "
            "resource's '/openai/v1' endpoint with the key."
        )
    return AzureAuth(cred, endpoint, scopes)
