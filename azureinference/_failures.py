"""Our error for an ``httpx2`` error, chaining nothing that carries the credential.

An ``httpx2`` error holds the request it was raised for (``.request``: the ``api-key`` or
``Authorization`` header, a ``?code=`` in the URL), and an aiohttp error under it holds the
request's headers too (``request_info``). Our errors chain a copy instead: the same type and
message, with URLs redacted, and nothing behind it (`clean_cause`). Raise them where no
exception is being handled, or the original comes back as ``__context__``.

What the error says follows what happened:

- a timeout: `APITimeoutError`;
- an answer that is not HTTP (a bad status line, broken chunking, a header past the parser's
  limit): `MalformedResponseError`, saying what was sent: the service was reached;
- a redirect loop (``follow_redirects=True``): `APIConnectionError` naming it;
- anything else before an answer: `APIConnectionError` ("Could not reach ...");
- mid-stream, any break but a timeout: `IncompleteStreamError`, in sync and async alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2

from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    IncompleteStreamError,
    MalformedResponseError,
)
from .redaction import redact_text, redact_url

__all__ = [
    "asend_or_error",
    "clean_cause",
    "is_not_http",
    "request_failure",
    "send_or_error",
    "stream_failure",
]

_R = TypeVar("_R")


def send_or_error(send: Callable[..., _R], *args: Any, **kwargs: Any) -> _R | httpx2.RequestError:
    """``send(*args, **kwargs)``, or the ``httpx2`` error it raised, returned.

    The caller raises our error outside any ``except`` block, so the original is not chained as
    its ``__context__``.
    """
    try:
        return send(*args, **kwargs)
    except httpx2.RequestError as exc:
        return exc


async def asend_or_error(
    send: Callable[..., Awaitable[_R]], *args: Any, **kwargs: Any
) -> _R | httpx2.RequestError:
    """`send_or_error`, for a coroutine function."""
    try:
        return await send(*args, **kwargs)
    except httpx2.RequestError as exc:
        return exc


# RemoteProtocolError messages of a connection that closed (httpcore/h11 and aiohttp), as
# opposed to an answer that is not HTTP.
_CLOSED = ("disconnected", "peer closed", "connection closed", "not enough data")


def _message(exc: BaseException, limit: int = 300) -> str:
    text = redact_text(" ".join(str(exc).split()))  # aiohttp's messages span lines
    return text if len(text) <= limit else text[:limit] + "..."


def clean_cause(exc: BaseException) -> BaseException:
    """A copy of ``exc``: its type and redacted message, no request, nothing chained."""
    try:
        copy = type(exc)(_message(exc, 1000))
    except Exception:  # a type that takes other arguments
        copy = RuntimeError(f"{type(exc).__name__}: {_message(exc, 1000)}")
    copy.__suppress_context__ = True
    return copy


def _chained(error: APIError, exc: BaseException) -> APIError:
    error.__cause__ = clean_cause(exc)
    error.__suppress_context__ = True
    return error


def is_not_http(exc: BaseException) -> bool:
    """True for an answer the HTTP parser refused (not a connection that closed)."""
    if not isinstance(exc, httpx2.RemoteProtocolError):
        return False
    text = str(exc).lower()
    return not any(word in text for word in _CLOSED)


def request_failure(exc: Exception, where: str) -> APIError:
    """Our error for ``exc``, raised while sending to ``where`` (a URL without its query)."""
    name = type(exc).__name__
    error: APIError
    if isinstance(exc, httpx2.TimeoutException):
        error = APITimeoutError(f"The request to {where} timed out ({name}).")
    elif is_not_http(exc):
        error = MalformedResponseError(
            f"The service at {where} was reached but answered with something that is not "
            f"valid HTTP ({name}: {_message(exc)})."
        )
    elif isinstance(exc, httpx2.TooManyRedirects):
        try:
            last = f": the last one to {redact_url(str(exc.request.url))}"
        except RuntimeError:  # no request attached
            last = ""
        error = APIConnectionError(
            f"The request to {where} was redirected too many times (a redirect loop?){last}."
        )
    elif isinstance(exc, httpx2.DecodingError):
        error = MalformedResponseError(
            f"The answer from {where} could not be decoded: {_message(exc)}"
        )
    else:
        error = APIConnectionError(f"Could not reach {where}: {name}: {_message(exc)}")
    return _chained(error, exc)


def stream_failure(exc: Exception, chunks: int) -> APIError:
    """Our error for ``exc``, raised while reading a stream after ``chunks`` chunks."""
    text = (
        f"The stream broke after {chunks} chunk(s): {type(exc).__name__}: {_message(exc)}. "
        "The answer is incomplete."
    )
    error: APIError
    if isinstance(exc, httpx2.DecodingError):
        error = MalformedResponseError(text)
    elif isinstance(exc, httpx2.TimeoutException):
        error = APITimeoutError(text)
    else:  # however the connection broke, sync (httpcore) or async (aiohttp)
        error = IncompleteStreamError(text)
    return _chained(error, exc)
