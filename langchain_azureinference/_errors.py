"""Core errors that are also `langchain_core.exceptions` errors, and the one place that maps them.

Each class inherits from the core's error *and* the matching LangChain class, so both
``except azureinference.RateLimitError`` and ``except ModelRateLimitError`` catch the same
exception (as langchain-openai does with ``OpenAIRateLimitError``)::

    core class (azureinference.*)   langchain_core.exceptions     adapter class (AzureAI*)
    AuthenticationError             ModelAuthenticationError      AzureAIAuthenticationError
    PermissionDeniedError           ModelPermissionDeniedError    AzureAIPermissionDeniedError
    NotFoundError                   ModelNotFoundError            AzureAINotFoundError
    BadRequestError                 ModelInvalidRequestError      AzureAIBadRequestError
    BadRequestError (too long)      ContextOverflowError          AzureAIContextOverflowError
    ContentFilterError              ModelInvalidRequestError      AzureAIContentFilterError
    UnsupportedParameterError       ModelInvalidRequestError      AzureAIUnsupportedParameterError
    APIStatusError (other 4xx)      ModelInvalidRequestError      AzureAIStatusError
    RateLimitError                  ModelRateLimitError           AzureAIRateLimitError
    ServerError                     ModelAPIError                 AzureAIServerError
    APIConnectionError              ModelConnectionError          AzureAIConnectionError
    APITimeoutError                 ModelTimeoutError             AzureAITimeoutError
    IncompleteStreamError           ModelAPIError                 AzureAIIncompleteStreamError
    MalformedResponseError          ModelAPIError                 AzureAIMalformedResponseError

`ConfigurationError` (raised before any I/O, also a ``ValueError``) passes through unchanged. The
mapped error keeps every attribute of the original (``status_code``, ``param``, ``request_id``...)
and its message, and is raised ``from`` it.
"""

from __future__ import annotations

from types import TracebackType

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

import azureinference as core

__all__ = [
    "AzureAIAuthenticationError",
    "AzureAIBadRequestError",
    "AzureAIConnectionError",
    "AzureAIContentFilterError",
    "AzureAIContextOverflowError",
    "AzureAIIncompleteStreamError",
    "AzureAIMalformedResponseError",
    "AzureAINotFoundError",
    "AzureAIPermissionDeniedError",
    "AzureAIRateLimitError",
    "AzureAIServerError",
    "AzureAIStatusError",
    "AzureAITimeoutError",
    "AzureAIUnsupportedParameterError",
    "map_errors",
    "to_langchain_error",
]


class AzureAIAuthenticationError(core.AuthenticationError, ModelAuthenticationError):
    """401: the key or token was refused."""


class AzureAIPermissionDeniedError(core.PermissionDeniedError, ModelPermissionDeniedError):
    """403: the credential may not use this resource."""


class AzureAINotFoundError(core.NotFoundError, ModelNotFoundError):
    """404: the route, deployment or model does not exist."""


class AzureAIBadRequestError(core.BadRequestError, ModelInvalidRequestError):
    """400: the request was refused."""


class AzureAIContextOverflowError(core.BadRequestError, ContextOverflowError):
    """400: the input is longer than the model's context window."""


class AzureAIContentFilterError(core.ContentFilterError, ModelInvalidRequestError):
    """400 ``content_filter``: the prompt or answer was filtered."""


class AzureAIUnsupportedParameterError(core.UnsupportedParameterError, ModelInvalidRequestError):
    """422: the model does not support a parameter (named in ``.param`` and the message)."""


class AzureAIStatusError(core.APIStatusError, ModelInvalidRequestError):
    """Another 4xx status (405, 409, 413...)."""


class AzureAIRateLimitError(core.RateLimitError, ModelRateLimitError):
    """429: too many requests (``.retry_after`` when the service said)."""


class AzureAIServerError(core.ServerError, ModelAPIError):
    """5xx: the service failed."""


class AzureAIConnectionError(core.APIConnectionError, ModelConnectionError):
    """The service could not be reached."""


class AzureAITimeoutError(core.APITimeoutError, ModelTimeoutError):
    """The request timed out."""


class AzureAIIncompleteStreamError(core.IncompleteStreamError, ModelAPIError):
    """The stream stopped before the service said it was finished."""


class AzureAIMalformedResponseError(core.MalformedResponseError, ModelAPIError):
    """The answer was not the API's JSON (an HTML page, broken JSON)."""


# Most specific first: the first class the error is an instance of wins.
_MAPPING: tuple[tuple[type[core.APIError], type[core.APIError]], ...] = (
    (core.ContentFilterError, AzureAIContentFilterError),
    (core.UnsupportedParameterError, AzureAIUnsupportedParameterError),
    (core.BadRequestError, AzureAIBadRequestError),
    (core.AuthenticationError, AzureAIAuthenticationError),
    (core.PermissionDeniedError, AzureAIPermissionDeniedError),
    (core.NotFoundError, AzureAINotFoundError),
    (core.RateLimitError, AzureAIRateLimitError),
    (core.ServerError, AzureAIServerError),
    (core.APIStatusError, AzureAIStatusError),
    (core.APITimeoutError, AzureAITimeoutError),
    (core.APIConnectionError, AzureAIConnectionError),
    (core.IncompleteStreamError, AzureAIIncompleteStreamError),
    (core.MalformedResponseError, AzureAIMalformedResponseError),
)
_MAPPED = frozenset(cls for _, cls in _MAPPING) | {AzureAIContextOverflowError}

_CONTEXT_OVERFLOW_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_CONTEXT_OVERFLOW_TEXTS = (
    "maximum context length",
    "context window",
    "context_length_exceeded",
    "prompt is too long",
    "too many tokens",
)


def _is_context_overflow(err: core.APIError) -> bool:
    if not isinstance(err, core.BadRequestError) or isinstance(err, core.ContentFilterError):
        return False
    if err.code in _CONTEXT_OVERFLOW_CODES:
        return True
    text = (err.service_message or err.message or "").lower()
    return any(marker in text for marker in _CONTEXT_OVERFLOW_TEXTS)


def to_langchain_error(err: BaseException) -> BaseException:
    """Return ``err`` as the dual-inheritance class for its kind (or ``err`` itself).

    The new exception carries the same message and attributes; errors that are not API errors
    (a `ConfigurationError`, a ``TypeError``...) and errors already mapped come back unchanged.
    """
    if not isinstance(err, core.APIError) or type(err) in _MAPPED:
        return err
    target: type[core.APIError] | None = None
    if _is_context_overflow(err):
        target = AzureAIContextOverflowError
    else:
        for source, mapped in _MAPPING:
            if isinstance(err, source):
                target = mapped
                break
    if target is None:  # pragma: no cover - every APIError subclass is in the table
        return err
    # Built without __init__: the core classes take different arguments, and every attribute is
    # copied as is, so the mapped error says exactly what the original said.
    new = target.__new__(target)
    new.__dict__.update(err.__dict__)
    new.args = err.args
    return new


class map_errors:  # lower case: used like a function, ``with map_errors():``
    """Context manager that re-raises core API errors as `to_langchain_error` maps them.

    A class rather than a ``@contextmanager`` generator: it is entered on every call.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and isinstance(exc, core.APIError) and type(exc) not in _MAPPED:
            raise to_langchain_error(exc).with_traceback(tb) from exc
