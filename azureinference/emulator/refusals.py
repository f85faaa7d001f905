"""Error answers, in the shape each family of routes gives them.

- Model Inference routes (``/models``, the serverless root, ``/inference``,
  ``/serverless/<model>``): the documented flat body ``{"status", "code", "message", "detail"}``
  (422 for parameters) and the Azure.Core body ``{"error": {"code", "message"}}``.
- OpenAI routes (``/v1``): ``{"error": {"message", "type", "param", "code"}}`` with OpenAI's
  statuses (400 for parameters, 401 ``invalid_api_key``, 404 ``model_not_found``).
- Azure OpenAI routes (``/openai/v1``, ``/openai/deployments/<name>``): the OpenAI body for
  parameters and content filtering, Azure's ``{"error": {"code", "message"}}`` for auth, unknown
  models and deployments, and rate limits (as the recordings in ``shared/realwire`` show).
"""

from __future__ import annotations

import enum
import json
import math
import re
from typing import Any

from .quota import Refused, retry_headers

__all__ = ["BadParam", "Refusal", "Style", "check_fixed_sampling"]


class Style(enum.Enum):
    """Which family of routes a request came in on, hence its rules and error shapes."""

    INFERENCE = "inference"
    OPENAI = "openai"
    AZURE_OPENAI = "azure_openai"

    @property
    def openai_rules(self) -> bool:
        """True where the OpenAI chat fields are standard and errors are OpenAI-shaped."""
        return self is not Style.INFERENCE


class Refusal(Exception):
    """An error answer: raised anywhere in a handler, turned into the response."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class BadParam(Exception):
    """A parameter the request cannot have: answered per route as a 422 or a 400."""

    def __init__(self, param: str, message: str, value: Any = None, *, unsupported: bool = False):
        super().__init__(message)
        self.param = param
        self.message = message
        self.value = value
        self.unsupported = unsupported


def flat_error(status: int, code: str, message: str, **extra: Any) -> Refusal:
    """The documented flat body: ``{"status", "code", "message", ...}``."""
    return Refusal(
        status,
        {"status": status, "code": code, "message": message, **extra},
        {"x-ms-error-code": code},
    )


def nested_error(status: int, code: str, message: str, **extra: Any) -> Refusal:
    """The Azure.Core body: ``{"error": {"code", "message", ...}}``."""
    return Refusal(
        status, {"error": {"code": code, "message": message, **extra}}, {"x-ms-error-code": code}
    )


def openai_error(
    http_status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    kind: str | None = "invalid_request_error",
    **extra: Any,
) -> Refusal:
    """OpenAI's body: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"message": message, "type": kind, "param": param, "code": code, **extra}
    return Refusal(http_status, {"error": body})


def _openai_param(param: str) -> str:
    """``messages.0.role`` as OpenAI writes it: ``messages[0].role``."""
    return re.sub(r"\.(\d+)", r"[\1]", param)


def bad_param(style: Style, bad: BadParam) -> Refusal:
    """A parameter the model does not support, or a bad value."""
    if style is Style.INFERENCE:
        if bad.unsupported:
            return flat_error(
                422,
                "parameter_not_supported",
                "One of the parameters contain invalid values.",
                detail={"loc": ["body", bad.param], "input": bad.value},
            )
        return flat_error(
            422,
            "invalid_value",
            bad.message,
            detail={"loc": ["body", bad.param], "input": bad.value},
        )
    param = _openai_param(bad.param)
    if bad.unsupported:
        return openai_error(
            400,
            f"Unsupported parameter: '{param}' is not supported with this model.",
            code="unsupported_parameter",
            param=param,
        )
    return openai_error(400, bad.message, code="invalid_value", param=param)


def extra_fields(style: Style, extras: list[str], value: Any) -> Refusal:
    """Body fields the route does not know (and no ``extra-parameters`` to let them through)."""
    if style is Style.INFERENCE:
        return flat_error(
            422,
            "extra_parameters_not_allowed",
            f"Extra parameters {extras} are not allowed when extra-parameters is not set or set "
            "to be 'error'. Set extra-parameters to 'pass-through' to pass to the model.",
            detail={"loc": ["body", extras[0]], "input": value},
        )
    return openai_error(
        400,
        f"Unrecognized request argument supplied: {', '.join(extras)}",
        code="unknown_parameter",
        param=extras[0],
    )


def wrong_audience(style: Style, aud: Any, wanted: str) -> Refusal:
    """401: an Entra ID token for another audience (the scope asked for was not this API's)."""
    message = (
        f"Token audience {aud!r} is not valid for this endpoint: it accepts tokens for "
        f"{wanted!r} (ask for the scope '{wanted.rstrip('/')}/.default')."
    )
    if style is Style.OPENAI:
        return openai_error(401, message, code="invalid_audience")
    return nested_error(401, "401", message)


def unauthorized(style: Style) -> Refusal:
    """401: no key, or not the key the emulator accepts (never echoed)."""
    if style is Style.OPENAI:
        refusal = openai_error(
            401,
            "Incorrect API key provided. The emulator prints the key it accepts when it starts.",
            code="invalid_api_key",
        )
    elif style is Style.AZURE_OPENAI:
        refusal = nested_error(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription, use a correct regional API "
            "endpoint for your resource.",
        )
    else:
        refusal = Refusal(
            401,
            {
                "error": "Unauthorized",
                "message": "Access denied due to invalid subscription key or wrong API endpoint. "
                "Make sure to provide a valid key for an active subscription.",
                "status": 401,
            },
            {"x-ms-error-code": "Unauthorized"},
        )
    refusal.headers["www-authenticate"] = "Bearer"
    return refusal


def unknown_model(style: Style, name: str | None, deployment: str | None, kind: str) -> Refusal:
    """A model (or deployment) the emulator does not serve."""
    if name is None and deployment is None:
        return nested_error(404, "NotFound", f"This endpoint serves no {kind} model.")
    if deployment is not None and not name:
        return nested_error(
            404,
            "DeploymentNotFound",
            f"The API deployment {deployment} does not exist. If you created the deployment "
            "within the last 5 minutes, please wait a moment and try again.",
        )
    if style is Style.OPENAI:
        return openai_error(
            404,
            f"The model `{name}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    if style is Style.AZURE_OPENAI:
        # What Azure OpenAI's /openai/v1 answers (realwire: aoai_v1_unknown_model).
        message = f"Unknown model: {name}"
        return nested_error(400, "unknown_model", message, details=message)
    return nested_error(400, "unknown_model", f"Unknown model: {name}")


def wrong_kind(style: Style, name: str, model_type: str, route: str) -> Refusal:
    """A model asked for what its kind does not do (a chat model for embeddings...)."""
    if style is Style.OPENAI:
        return openai_error(
            400,
            f"The model `{name}` ({model_type}) does not support the {route} operation.",
            code="model_not_supported",
            param="model",
        )
    if style is Style.AZURE_OPENAI:
        return nested_error(
            400,
            "OperationNotSupported",
            f"The {route} operation does not work with the specified model, {name}. Please "
            "choose different model and try again.",
        )
    return Refusal(
        404,
        {
            "error": "NotFound",
            "message": f"The model {name} ({model_type}) does not support this route.",
            "status": 404,
        },
        {"x-ms-error-code": "NotFound"},
    )


def no_route(style: Style, method: str, path: str) -> Refusal:
    """404 for a path the API does not have."""
    if style is Style.OPENAI:
        return openai_error(404, f"Invalid URL ({method} {path})")
    return nested_error(404, "404", f"Resource not found: no route {path}")


def bad_body(style: Style, message: str) -> Refusal:
    """400: the body is not JSON, or not an object."""
    if style.openai_rules:
        return openai_error(400, message)
    return nested_error(400, "BadRequest", message)


def too_large(style: Style, size: int, limit: int) -> Refusal:
    """413: a request body over the emulator's ``max_body_bytes``."""
    message = (
        f"The request body is too large: {size} bytes or more, the limit is {limit} bytes "
        "(the emulator's max_body_bytes)."
    )
    if style.openai_rules:
        return openai_error(413, message, code="request_too_large")
    return nested_error(413, "RequestEntityTooLarge", message)


def rate_limited(
    style: Style, message: str, unit: str, wait: float | None, *, quota: bool = False
) -> Refusal:
    """429, with ``retry-after-ms`` and ``Retry-After`` when a wait is known.

    A deployment's quota answers with Azure's ``{"error": {"code": "429", ...}}`` on the Azure
    routes; a gateway's throttling (the `Fault`) with its flat body on Model Inference routes.
    """
    if style is Style.OPENAI:
        refusal = openai_error(429, message, code="rate_limit_exceeded", kind=unit)
    elif style is Style.AZURE_OPENAI or quota:
        refusal = nested_error(429, "429", message)
    else:
        refusal = Refusal(
            429,
            {"error": "Too Many Requests", "message": message, "status": 429},
            {"x-ms-error-code": "TooManyRequests"},
        )
    if wait is not None:
        refusal.headers.update(retry_headers(wait))
    return refusal


def quota_exceeded(style: Style, deployment: str, refused: Refused) -> Refusal:
    """429 for a request over the deployment's quota, saying which limit and how long to wait."""
    if refused.too_large:
        message = (
            f"Request too large for {deployment}: {refused.requested} {refused.unit} requested, "
            f"the limit is {refused.limit} {refused.unit} per minute."
        )
        return rate_limited(style, message, refused.unit, None, quota=True)
    seconds = math.ceil(refused.wait)
    message = (
        f"Requests to the deployment {deployment} have exceeded the {refused.unit} rate limit "
        f"of {refused.limit} {refused.unit} per minute (requested {refused.requested}, "
        f"remaining {refused.remaining}). Please retry after {seconds} second"
        f"{'s' if seconds != 1 else ''}."
    )
    return rate_limited(style, message, refused.unit, refused.wait, quota=True)


def content_filter(style: Style) -> Refusal:
    """The documented 400 ``content_filter`` answer."""
    if style.openai_rules:
        # Azure OpenAI's body (realwire: aoai_content_filter).
        return openai_error(
            400,
            "The response was filtered due to the prompt triggering Azure OpenAI's content "
            "management policy. Please modify your prompt and retry.",
            code="content_filter",
            param="prompt",
            kind=None,
            status=400,
            innererror={
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {"violence": {"filtered": True, "severity": "medium"}},
            },
        )
    return flat_error(
        400, "content_filter", "The response was filtered", param="messages", type=None
    )


def server_error(style: Style, status: int) -> Refusal:
    """A 5xx answer with the service's JSON body."""
    if style is Style.OPENAI:
        return openai_error(
            status,
            "The server had an error while processing your request. Sorry about that!",
            kind="server_error",
        )
    return nested_error(
        status, "InternalServerError", "The server had an error while processing your request."
    )


# What gpt-5 and the o-series take only at their default value: parameter -> the default.
_SAMPLING_DEFAULTS: dict[str, Any] = {
    "temperature": 1,
    "top_p": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logprobs": False,
}
_NO_DEFAULT = ("top_logprobs", "logit_bias")


def _is(value: Any, default: Any) -> bool:
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    return bool(value == default)


def check_fixed_sampling(style: Style, body: dict[str, Any]) -> None:
    """Refuse what Azure OpenAI refuses for gpt-5 and the o-series (``ModelSpec.fixed_sampling``).

    On the OpenAI-style routes with Azure OpenAI's exact 400 bodies (realwire:
    ``aoai_v1_unsupported_param``); on Model Inference routes as its 422
    ``parameter_not_supported``.

    Raises:
        Refusal: ``max_tokens``, or a sampling parameter other than its default.
        BadParam: The same on a Model Inference route.
    """
    if body.get("max_tokens") is not None:
        if not style.openai_rules:
            raise BadParam(
                "max_tokens", "max_tokens is not supported", body["max_tokens"], unsupported=True
            )
        raise openai_error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            code="unsupported_parameter",
            param="max_tokens",
        )
    for name in (*_SAMPLING_DEFAULTS, *_NO_DEFAULT):
        value = body.get(name)
        if value is None or (name in _SAMPLING_DEFAULTS and _is(value, _SAMPLING_DEFAULTS[name])):
            continue
        if not style.openai_rules:
            raise BadParam(name, f"{name} is not supported", value, unsupported=True)
        if name in ("temperature", "top_p"):
            raise openai_error(
                400,
                f"Unsupported value: '{name}' does not support {json.dumps(value)} with this "
                "model. Only the default (1) value is supported.",
                code="unsupported_value",
                param=name,
            )
        raise openai_error(
            400,
            f"Unsupported parameter: '{name}' is not supported with this model.",
            code="unsupported_parameter",
            param=name,
        )
