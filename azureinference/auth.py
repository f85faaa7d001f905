"""Credentials and the `httpx2.Auth` that applies them to every request.

Accepted credentials:

- a key as ``str`` (or ``SecretStr``-like object with ``get_secret_value()``), or any object with a
  ``.key`` attribute such as ``azure.core.credentials.AzureKeyCredential``: sent as
  ``Authorization: Bearer <key>``, and also as ``api-key`` on Azure OpenAI style hosts. The key is
  read on every request, so ``AzureKeyCredential.update()`` takes effect at once for both headers
  (the reference SDK keeps the old ``api-key``);
- a caller-given header: `HeaderCredential` or a string ``"api-key: <KEY>"`` (seed 000);
- an Entra ID token credential: any object with ``get_token(*scopes)`` (sync) or an async one
  (``azure.identity.aio``). Tokens are cached until five minutes before they expire, and never
  sent over plain ``http://`` except to a loopback host.

Every header value is checked when the client is built (and each token when it arrives): a key
with a line break or a header name with a space is a `ConfigurationError` that does not quote the
secret, raised before anything is sent. A pickled `AzureAuth` keeps the credential, never its
cached access token.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Generator
from typing import Any, Protocol, runtime_checkable

import httpx2

from ._fork import reset_after_fork
from .endpoints import Endpoint
from .errors import APIStatusError, ConfigurationError, error_from_response
from .redaction import check_header, mark_credential_header

__all__ = [
    "AzureAuth",
    "HeaderCredential",
    "KeyCredential",
    "StaticKeyCredential",
    "TokenCredentialLike",
    "make_auth",
]

_REFRESH_MARGIN_SECONDS = 300.0
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
        if self._is_token and endpoint.scheme != "https" and not endpoint.is_loopback:
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
        """True when the credential's ``get_token`` is a coroutine function."""
        return self._is_async_token

    def __repr__(self) -> str:
        return f"AzureAuth(credential={type(self._credential).__name__}, scopes={self._scopes})"

    def __getstate__(self) -> dict[str, Any]:
        state = {k: getattr(self, k) for k in self.__dict__}
        state["_lock"] = None
        state["_alocks"] = None
        # The credential travels; its cached access token does not (a pickle is a file).
        state["_token"] = None
        state["_expires_on"] = 0.0
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
        return self._token is not None and time.time() < self._expires_on - _REFRESH_MARGIN_SECONDS

    def _store(self, access_token: Any) -> str:
        token = getattr(access_token, "token", None)
        if not isinstance(token, str):
            raise ConfigurationError(
                "The token credential's get_token() returned no '.token' string."
            )
        check_header("Authorization", "Bearer " + token, "The token credential's access token")
        self._token = token
        self._expires_on = float(getattr(access_token, "expires_on", 0) or 0)
        return token

    def _sync_token(self) -> str:
        with self._lock:
            if not self._token_fresh():
                self._store(self._credential.get_token(*self._scopes))
            assert self._token is not None
            return self._token

    async def _async_token(self) -> str:
        loop = asyncio.get_running_loop()
        lock = self._alocks.get(loop)
        if lock is None:
            lock = self._alocks[loop] = asyncio.Lock()
        async with lock:
            if not self._token_fresh():
                result = self._credential.get_token(*self._scopes)
                if inspect.isawaitable(result):
                    result = await result
                self._store(result)
            assert self._token is not None
            return self._token

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

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Apply the credential (sync)."""
        if self._is_token:
            if self._is_async_token:
                raise ConfigurationError(
                    "An async token credential (azure.identity.aio) cannot be used for a sync "
                    "call: pass a sync credential (azure.identity), or use the async methods."
                )
            request.headers["Authorization"] = "Bearer " + self._sync_token()
        else:
            self._apply_key(request)
        response = yield request
        if self._credential is None and response.status_code == 401:
            raise _no_credential_error(response, response.read())

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """Apply the credential (async); a sync token credential is called in a thread."""
        if self._is_token:
            if self._is_async_token:
                token = await self._async_token()
            elif self._token_fresh():
                token = self._token  # type: ignore[assignment]
            else:
                token = await asyncio.to_thread(self._sync_token)
            request.headers["Authorization"] = "Bearer " + token
        else:
            self._apply_key(request)
        response = yield request
        if self._credential is None and response.status_code == 401:
            raise _no_credential_error(response, await response.aread())


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
            `HeaderCredential`, token credential, or None (only for loopback endpoints).
        endpoint: The parsed endpoint.
        scopes: Token scopes overriding the endpoint's default.

    Raises:
        ConfigurationError: No credential for a remote endpoint, or an object of an unknown kind.
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
    if cred is None:
        if not endpoint.is_loopback:
            raise ConfigurationError(f"{_NO_CREDENTIAL}.")
    elif not (
        isinstance(cred, (StaticKeyCredential, HeaderCredential))
        or callable(getattr(cred, "get_token", None))
        or isinstance(getattr(cred, "key", None), str)
    ):
        raise ConfigurationError(
            f"Unsupported credential of type {type(cred).__name__}: pass a key (str), an "
            "AzureKeyCredential, a HeaderCredential, or a token credential with get_token()."
        )
    elif not isinstance(cred, HeaderCredential) and not callable(getattr(cred, "get_token", None)):
        _check_key(cred.key)
    return AzureAuth(cred, endpoint, scopes)
