"""The error tree of the core, and the one function that maps an HTTP answer to it.

```
AzureInferenceError
├── ConfigurationError (also ValueError)   # bad endpoint/credential/parameter, before any I/O
└── APIError                               # .request_id, .body
    ├── APIConnectionError ── APITimeoutError
    ├── IncompleteStreamError              # no finish_reason / [DONE]: never a short answer
    ├── MalformedResponseError             # HTML error page, broken JSON, missing fields
    └── APIStatusError                     # .status_code .code .message .param
        ├── BadRequestError ── ContentFilterError  # 400, and 422 for a value refused
        ├── AuthenticationError (401) / PermissionDeniedError (403)
        ├── NotFoundError (404)
        ├── UnsupportedParameterError (422 "not supported"; .param from detail.loc)
        ├── JsonSchemaRefusedError             # json_schema refused (also 400's or 422's class)
        ├── RateLimitError (429; .retry_after)
        └── ServerError (5xx)
```

Every message names the problem (status, the service's code and message, the parameter, the
request id) and never a key or token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic_core

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AzureInferenceError",
    "BadRequestError",
    "ConfigurationError",
    "ContentFilterError",
    "IncompleteStreamError",
    "JsonSchemaRefusedError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnsupportedParameterError",
    "error_from_payload",
    "error_from_response",
    "fallback_refused",
]

REQUEST_ID_HEADERS = (
    "x-request-id",
    "apim-request-id",
    "x-ms-request-id",
    "x-ms-client-request-id",
)


class AzureInferenceError(Exception):
    """Base class of every error this package raises.

    Every error pickles and copies whole (a worker process hands it to its parent, a task queue
    stores it), whatever keyword-only arguments its constructor takes.
    """

    def __reduce__(self) -> Any:
        return (_rebuild_error, (type(self), self.args, self.__dict__.copy()))


def _rebuild_error(
    cls: type[AzureInferenceError], args: tuple[Any, ...], state: dict[str, Any]
) -> AzureInferenceError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(AzureInferenceError, ValueError):
    """A bad endpoint, credential or parameter, found before any request was sent."""


class APIError(AzureInferenceError):
    """A request was sent and did not give a usable answer.

    Attributes:
        message: What went wrong, in words.
        request_id: The service's request id, when it gave one.
        body: The parsed error body (or the raw text when it was not JSON).
    """

    def __init__(self, message: str, *, request_id: str | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.body = body


class APIConnectionError(APIError):
    """The service could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class IncompleteStreamError(APIError):
    """A stream ended before the service said it was finished (no finish_reason, no [DONE])."""


class MalformedResponseError(APIError):
    """The service answered with something that is not the API's JSON (an HTML page, bad JSON).

    Attributes:
        status_code: The HTTP status of the answer.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, request_id=request_id, body=body)
        self.status_code = status_code


class APIStatusError(APIError):
    """The service answered with an error status.

    Attributes:
        status_code: The HTTP status.
        code: The service's own error code (``content_filter``, ``parameter_not_supported``...).
        param: The offending parameter, from ``detail.loc``, ``param`` or ``target``.
        headers: The response headers.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        service_message: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, body=body)
        self.status_code = status_code
        self.code = code
        self.param = param
        self.headers = dict(headers or {})
        self.service_message = service_message


class BadRequestError(APIStatusError):
    """400, or 422 for a value the service refused (``invalid_value``): the request was refused.

    The message quotes the service (``temperature must be a number between 0 and 2``).
    """


class ContentFilterError(BadRequestError):
    """400 ``content_filter``: the prompt or the answer was filtered by content safety."""


class AuthenticationError(APIStatusError):
    """401: the key or token was missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the credential is valid but not allowed to use this resource."""


class NotFoundError(APIStatusError):
    """404: the route, deployment or model does not exist on this endpoint."""


class UnsupportedParameterError(APIStatusError):
    """422 where the service says a parameter (``.param``) is not supported or not allowed.

    (``parameter_not_supported``, ``extra_parameters_not_allowed``). A 422 for a bad value of a
    supported parameter is a `BadRequestError`.
    """


class JsonSchemaRefusedError(APIStatusError):
    """The endpoint refused a ``json_schema`` response format (400 or 422).

    Raised by the clients as a subclass of the status class it came as (`BadRequestError` or
    `UnsupportedParameterError`), so ``except BadRequestError`` still catches it; the refusal
    is also remembered (``Capabilities.json_schema`` is False). Structured output can then ask
    again through a forced tool call (the adapters do).
    """


class JsonSchemaBadRequestError(JsonSchemaRefusedError, BadRequestError):
    """A `JsonSchemaRefusedError` that came as a 400 (or a 422 for a value)."""


class JsonSchemaUnsupportedError(JsonSchemaRefusedError, UnsupportedParameterError):
    """A `JsonSchemaRefusedError` that came as a 422 "not supported"."""


_JSON_SCHEMA_CLASSES: dict[type[APIStatusError], type[JsonSchemaRefusedError]] = {
    BadRequestError: JsonSchemaBadRequestError,
    UnsupportedParameterError: JsonSchemaUnsupportedError,
}


def as_json_schema_refusal(err: APIStatusError) -> APIStatusError:
    """``err`` as the `JsonSchemaRefusedError` of its status class.

    A copy with the same message, attributes, cause and traceback (the error's class is never
    changed in place); an error of another class (a content filter, an adapter's own class) is
    returned as it is.
    """
    refused = _JSON_SCHEMA_CLASSES.get(type(err))
    if refused is None:
        return err
    copy = _rebuild_error(refused, err.args, err.__dict__.copy())
    copy.__cause__ = err.__cause__
    return copy.with_traceback(err.__traceback__)  # type: ignore[return-value]


class RateLimitError(APIStatusError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the service asked to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the service failed."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """Return the service's request id from response headers, if any."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


LONGEST_RETRY_AFTER = 31_536_000.0
"""The longest wait read from a header (a year): a larger one (``inf``, ``1e309``, a date in
year 9999) is read as this, so arithmetic on it never overflows."""


def _seconds(value: float) -> float | None:
    """A wait read from a header: None for NaN, else within 0..`LONGEST_RETRY_AFTER`."""
    if value != value:  # NaN
        return None
    return min(max(0.0, value), LONGEST_RETRY_AFTER)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Read ``retry-after-ms``, then ``Retry-After`` (seconds or an HTTP date) as seconds.

    The result is finite, at least 0 and at most `LONGEST_RETRY_AFTER`; None when neither
    header is there or readable.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            seconds = _seconds(float(ms) / 1000.0)
        except ValueError:
            seconds = None
        if seconds is not None:
            return seconds
    ra = headers.get("retry-after")
    if ra:
        try:
            return _seconds(float(ra))
        except ValueError:
            import email.utils
            import time

            try:
                when = email.utils.parsedate_to_datetime(ra)
                return _seconds(when.timestamp() - time.time())
            except (TypeError, ValueError, OverflowError, OSError):
                return None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return pydantic_core.to_json(value).decode()


def _param_from(obj: Mapping[str, Any]) -> str | None:
    detail = obj.get("detail")
    if isinstance(detail, Mapping):
        loc = detail.get("loc")
        if isinstance(loc, list) and loc:
            parts = [str(p) for p in loc if p != "body"]
            return ".".join(parts) if parts else str(loc[-1])
    elif isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
        # FastAPI-style validation errors: [{"loc": [...], "msg": ...}]
        return _param_from({"detail": detail[0]})
    for key in ("param", "target"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _fields_from_body(body: Any) -> tuple[str | None, str | None, str | None]:
    """Return (code, message, param) from any documented error body shape."""
    if not isinstance(body, Mapping):
        return None, None, None
    err = body.get("error")
    inner: Mapping[str, Any] = body
    if isinstance(err, Mapping):
        inner = err
    code = _text(inner.get("code"))
    message = _text(inner.get("message")) or _text(body.get("message"))
    if message is None and isinstance(err, str):
        # {"error": "Unauthorized", "message": ..., "status": 401} or {"error": "text"}
        message = err
    if message is None:
        message = _text(body.get("msg")) or _text(body.get("detail"))
    param = _param_from(inner) or (_param_from(body) if inner is not body else None)
    if code is None and inner is not body:
        code = _text(body.get("code"))
    return code, message, param


# How a service says a parameter is refused as such, not for its value: in the 422's code
# (parameter_not_supported, extra_parameters_not_allowed) or its message.
_UNSUPPORTED = ("not_supported", "unsupported", "not supported")
_NOT_ALLOWED = ("not_allowed", "not allowed")


def _says(code: str | None, message: str | None, words: tuple[str, ...]) -> bool:
    text = f"{code or ''} {message or ''}".lower()
    return any(word in text for word in words)


def error_from_payload(
    status_code: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    raw_text: str | None = None,
) -> APIStatusError:
    """Build the right `APIStatusError` subclass from a status, a parsed body and headers.

    Args:
        status_code: The HTTP status (or the envelope's ``code``).
        body: The parsed JSON body, or None when it was not JSON.
        headers: The response headers (case-insensitive mapping preferred).
        raw_text: The body text when it was not JSON, for the message.
    """
    headers = headers or {}
    code, service_message, param = _fields_from_body(body)
    code = code or headers.get("x-ms-error-code")
    request_id = request_id_from(headers)
    cls = _status_class(status_code, code, service_message)
    if service_message is None and raw_text:
        service_message = raw_text.strip()[:300] or None
    text = _error_text(status_code, code, param, service_message)
    if cls is UnsupportedParameterError and param and _says(code, service_message, _UNSUPPORTED):
        text += f" (the model or endpoint does not support the parameter {param!r})"
    if request_id:
        text += f" (request id: {request_id})"
    kw: dict[str, Any] = {
        "status_code": status_code,
        "code": code,
        "param": param,
        "request_id": request_id,
        "body": body if body is not None else raw_text,
        "headers": headers,
        "service_message": service_message,
    }
    if cls is RateLimitError:
        retry_after = parse_retry_after(headers)
        if retry_after is not None:
            text += f" (retry after {retry_after:g}s)"
        return RateLimitError(text, retry_after=retry_after, **kw)
    return cls(text, **kw)


def _status_class(
    status_code: int, code: str | None, service_message: str | None
) -> type[APIStatusError]:
    """The error class for a status, the service's code and its message."""
    if status_code == 400 and code == "content_filter":
        return ContentFilterError
    if status_code == 422:
        unsupported = _says(code, service_message, _UNSUPPORTED + _NOT_ALLOWED)
        return UnsupportedParameterError if unsupported else BadRequestError
    if status_code in _STATUS_CLASSES:
        return _STATUS_CLASSES[status_code]
    return ServerError if status_code >= 500 else APIStatusError


def _error_text(
    status_code: int, code: str | None, param: str | None, service_message: str | None
) -> str:
    """``Error code: 422 code=... parameter='...' - <the service's message>``."""
    parts = [f"Error code: {status_code}"]
    if code:
        parts.append(f"code={code}")
    if param:
        parts.append(f"parameter={param!r}")
    text = " ".join(parts)
    return f"{text} - {service_message}" if service_message else text


class fallback_refused:  # lower case: used like a function, ``with fallback_refused(err):``
    """Context manager for the retry of a refused request in another form.

    When the retry is refused too, its error is raised with a message that says both refusals
    (for example "json_schema was refused ...; the fallback through a forced tool call was
    refused too: ... tool_choice ..."), so the user is not left with an error about a
    parameter they never set. The class and attributes are the retry's error's.

    Args:
        first: The error that made the caller try another form.
        what: What was refused first, in words (``"json_schema structured output"``).
        fallback: What was tried instead (``"a forced tool call"``).
    """

    __slots__ = ("fallback", "first", "what")

    def __init__(self, first: APIStatusError, what: str, fallback: str) -> None:
        self.first = first
        self.what = what
        self.fallback = fallback

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, APIStatusError):
            text = (
                f"{self.what} was refused ({self.first.message}); the fallback through "
                f"{self.fallback} was refused too: {exc.message}"
            )
            restated = type(exc).__new__(type(exc))
            restated.__dict__.update(exc.__dict__)
            restated.message = text
            restated.args = (text,)
            raise restated.with_traceback(tb) from exc


def error_from_response(
    status_code: int, headers: Mapping[str, str], content: bytes
) -> APIStatusError:
    """Map an error HTTP answer (status, headers, body bytes) to its error class."""
    body: Any = None
    raw_text: str | None = None
    if content:
        try:
            body = pydantic_core.from_json(content)
        except ValueError:
            raw_text = content.decode("utf-8", "replace")
            if "<html" in raw_text[:500].lower():
                raw_text = "the service answered with an HTML page, not JSON: " + _html_title(
                    raw_text
                )
    return error_from_payload(status_code, body, headers, raw_text=raw_text)


def _html_title(text: str) -> str:
    lower = text.lower()
    start = lower.find("<title>")
    end = lower.find("</title>")
    if start != -1 and end > start:
        return text[start + 7 : end].strip()
    return text.strip()[:200]
