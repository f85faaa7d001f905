"""Pure parsing of Responses answers, their failures, and the "no Responses API here" decision.

- `parse_response` reads a non-streamed answer: ``(status, headers, body) -> Response``; an error
  status raises through the core's error tree (`error_from_response`), and so does an HTTP 200
  whose ``status`` is ``failed`` (`error_from_failure`).
- `error_from_failure` maps a failed answer's or an ``error`` event's ``{code, message}`` to the
  `APIStatusError` subclass of the status the same failure would have had as an HTTP answer
  (``insufficient_quota`` and ``rate_limit_exceeded``: 429 `RateLimitError`; ``content_filter``:
  400 `ContentFilterError`; ``invalid_*``: 400; anything else: 500 `ServerError`).
- `is_responses_refusal` decides whether a refused request means "use chat completions for this
  model": a 400 saying the model is not supported by the Responses API (``"refused"``), or a
  404 / 405 on the route itself (``"no_route"``: an OpenAI-compatible server, a ``/models``
  endpoint without the route). A 404 naming a model or deployment that does not exist is not.
- `ResponsesNotSupportedError` is that outcome, typed: the client raises it (and remembers it per
  model, or for the whole endpoint when the route is missing); an adapter catches it and calls
  chat completions instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pydantic

from azureinference.errors import (
    APIStatusError,
    ConfigurationError,
    MalformedResponseError,
    error_from_payload,
    error_from_response,
    request_id_from,
)

from .types import Response, ResponseStreamEvent

__all__ = [
    "ResponsesNotSupportedError",
    "error_from_failure",
    "is_responses_refusal",
    "parse_response",
    "parse_response_event",
]

# The HTTP status a failure code would have had, for the error class.
_FAILURE_STATUS = {
    "insufficient_quota": 429,
    "rate_limit_exceeded": 429,
    "content_filter": 400,
    "context_length_exceeded": 400,
    "invalid_prompt": 400,
    "invalid_request_error": 400,
    "invalid_image": 400,
    "server_error": 500,
}

# How services say a model has no Responses API (Foundry: "This model is not supported by the
# Responses API").
_REFUSAL_WORDS = (
    "not supported by the responses api",
    "does not support the responses api",
    "responses api is not supported",
    "responses api is not enabled",
    "not supported with the responses api",
)
# A 404 that names a missing model or deployment: the route exists.
_MISSING_MODEL_CODES = frozenset({"deploymentnotfound", "model_not_found", "modelnotfound"})

RefusalKind = Literal["refused", "no_route"]


class ResponsesNotSupportedError(APIStatusError):
    """The endpoint has no Responses API for this model: use chat completions instead.

    Raised by `Client.respond` / `Client.stream_response` (and their async forms) when the
    service refused (see `is_responses_refusal`), and from then on without a request, as the
    client remembers it. Status, code and message are the service's refusal.

    Attributes:
        model: The model refused (None: the client's default).
        reason: ``"refused"`` (this model; a 400) or ``"no_route"`` (the endpoint has no
            Responses route at all, remembered for every model).
        learned: True on the call that found it out; False when the client already knew (an
            adapter warns once, on the call where ``learned`` is True).
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None,
        reason: RefusalKind,
        learned: bool,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.model = model
        self.reason = reason
        self.learned = learned

    @classmethod
    def from_refusal(
        cls, err: APIStatusError, model: str | None, reason: RefusalKind, learned: bool = True
    ) -> ResponsesNotSupportedError:
        """Wrap the service's refusal ``err``."""
        what = f"model {model!r}" if model else "this model"
        why = (
            "the endpoint has no Responses route"
            if reason == "no_route"
            else f"the service does not support the Responses API for {what}"
        )
        return cls(
            f"The Responses API is not available for {what}: {why} ({err.message}). Use chat "
            "completions for it.",
            model=model,
            reason=reason,
            learned=learned,
            status_code=err.status_code,
            code=err.code,
            param=err.param,
            request_id=err.request_id,
            body=err.body,
            headers=err.headers,
            service_message=err.service_message,
        )

    @property
    def fallback_warning(self) -> str:
        """What an adapter says, once, when it falls back to chat completions for the model."""
        what = f"model {self.model!r}" if self.model else "the model"
        why = (
            "the endpoint has no Responses route"
            if self.reason == "no_route"
            else "the service does not support the Responses API for it"
        )
        return f"Using chat completions for {what}: {why} ({self.service_message or self.message})."

    def feature_error(self, features: Sequence[str]) -> ConfigurationError:
        """The error for asking this model what only the Responses API gives.

        Args:
            features: What was asked, in words (`responses_only_features` of the parameters).
        """
        what = f"model {self.model!r}" if self.model else "the model"
        return ConfigurationError(
            f"The {what} has no Responses API ({self.service_message or self.message}), and chat "
            f"completions cannot give {', '.join(features)}: remove "
            f"{'it' if len(features) == 1 else 'them'} for this model."
        )

    def again(self) -> ResponsesNotSupportedError:
        """The same outcome for a later call (``learned`` False), without a request."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.args = self.args
        copy.learned = False
        return copy


def is_responses_refusal(err: APIStatusError) -> RefusalKind | None:
    """Whether ``err`` (the answer to a Responses request) means "no Responses API here".

    Returns:
        ``"refused"`` for a 400 (or 422) saying the model is not supported by the Responses API;
        ``"no_route"`` for a 404 or 405 on the route (not one naming a missing model or
        deployment); None for every other error, which is raised as it is.
    """
    text = f"{err.service_message or ''} {err.message}".lower()
    if err.status_code in (400, 422) and any(w in text for w in _REFUSAL_WORDS):
        return "refused"
    if err.status_code in (404, 405):
        code = (err.code or "").lower()
        if err.param == "model" or code in _MISSING_MODEL_CODES:
            return None
        return "no_route"
    return None


def error_from_failure(
    error: Any, headers: Mapping[str, str] | None = None, *, where: str = "The response failed"
) -> APIStatusError:
    """The error a failed answer (``status: "failed"``) or an ``error`` event carries.

    Args:
        error: The ``error`` object (``{code, message}``, or ``{type, code, message, param}``).
        headers: The response headers (for the request id).
        where: How the message starts.
    """
    if not isinstance(error, Mapping):
        error = {"message": str(error) if error is not None else "no details given"}
    code = error.get("code") or error.get("type")
    status = _FAILURE_STATUS.get(str(code), 0)
    if not status and isinstance(code, str) and code.startswith("invalid"):
        status = 400
    err = error_from_payload(status or 500, {"error": dict(error)}, headers)
    err.message = f"{where}: {err.message}"
    err.args = (err.message,)
    return err


def parse_response(status_code: int, headers: Mapping[str, str], content: bytes) -> Response:
    """Parse a non-streamed Responses answer.

    Raises:
        APIStatusError: An error status, or an answer whose ``status`` is ``failed``.
        MalformedResponseError: Not JSON, or not a response object.
    """
    if status_code >= 300:
        raise error_from_response(status_code, headers, content)
    try:
        response = Response.model_validate_json(content)
    except pydantic.ValidationError as exc:
        error = _error_payload(content)
        if error is not None:
            raise error_from_payload(500, error, headers) from None
        snippet = content[:300].decode("utf-8", "replace")
        raise MalformedResponseError(
            f"The Responses answer (status {status_code}) is not a response object: "
            f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}: {snippet!r}",
            status_code=status_code,
            request_id=request_id_from(headers),
            body=snippet,
        ) from exc
    extra = response.model_extra
    if response.object is None and not response.output and extra and "error" in extra:
        raise error_from_payload(500, extra, headers)
    if response.status == "failed":
        raise error_from_failure(response.error.model_dump() if response.error else None, headers)
    response._response_headers = {k.lower(): v for k, v in headers.items()}
    return response


def _error_payload(content: bytes) -> dict[str, Any] | None:
    import pydantic_core

    try:
        obj = pydantic_core.from_json(content)
    except ValueError:
        return None
    if isinstance(obj, dict) and isinstance(obj.get("error"), (Mapping, str)):
        return obj
    return None


def parse_response_event(data: bytes) -> ResponseStreamEvent:
    """Parse one stream event's data.

    Raises:
        MalformedResponseError: Not JSON, or no ``type``.
    """
    try:
        return ResponseStreamEvent.model_validate_json(data)
    except pydantic.ValidationError as exc:
        snippet = data[:300].decode("utf-8", "replace")
        raise MalformedResponseError(
            f"A Responses stream event is not an event object: {exc.errors()[0]['loc']} "
            f"{exc.errors()[0]['msg']}: {snippet!r}",
            status_code=200,
            body=snippet,
        ) from exc
