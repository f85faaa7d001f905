"""Requests for reasoning models: what to send them, and what their refusals teach.

Reasoning models refuse what other chat models take: OpenAI's o-series and gpt-5 refuse
``max_tokens`` ("Use 'max_completion_tokens' instead") and any ``temperature``, ``top_p``,
penalty or ``logprobs`` but the default. Two sources say what a model refuses:

- its family, by name (`azureinference.profiles.find_reasoning_rules`: the model, the deployment
  in the URL, or the model the first answer named), so a known model's first request is right;
- the service's own 400/422 (`read_refusal`), for a deployment whose name says nothing
  (``my-reasoner``). The client resends once without what was refused, and keeps the lesson
  (`Lessons`) only when that resend is answered.

`adapt_params` applies both to one request's parameters, and says what it dropped
(`Dropped`), so the client can warn the user once per model and parameter: a value the user set
never disappears in silence.

All pure: no I/O, no logging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import APIStatusError, BadRequestError, ContentFilterError, UnsupportedParameterError
from .profiles import SAMPLING_DEFAULTS, ReasoningRules

__all__ = [
    "LEARNABLE_PARAMS",
    "Dropped",
    "Lessons",
    "Refused",
    "adapt_params",
    "read_refusal",
]

LEARNABLE_PARAMS = (*SAMPLING_DEFAULTS, "top_logprobs", "logit_bias")
"""Parameters a refusal may take out of later requests: the sampling parameters reasoning
models refuse. Anything else a service refuses is the user's to change, and raises."""

# The codes with which services refuse a parameter as such (not a value out of range):
# OpenAI and Azure OpenAI 400 unsupported_parameter / unsupported_value, the Model Inference
# API's 422 parameter_not_supported.
_REFUSAL_CODES = frozenset(
    {"unsupported_parameter", "unsupported_value", "parameter_not_supported"}
)


@dataclass(frozen=True)
class Dropped:
    """A parameter left out of a request (or renamed), and why.

    Attributes:
        param: The parameter, e.g. ``temperature``.
        value: The value that was not sent.
        reason: Why: the service's own words, or the model family's known rule.
        renamed_to: The parameter sent instead (``max_completion_tokens``), if any.
    """

    param: str
    value: Any
    reason: str
    renamed_to: str | None = None


@dataclass(frozen=True)
class Refused:
    """What one refusal asks: ``max_completion_tokens`` for ``max_tokens``, or a parameter out.

    Attributes:
        param: The refused parameter.
        reason: The service's message.
        renamed_to: ``max_completion_tokens`` for a refused ``max_tokens``; None to leave it out.
    """

    param: str
    reason: str
    renamed_to: str | None = None


@dataclass
class Lessons:
    """What one model's refusals proved, kept per client (per model name).

    Attributes:
        completion_tokens: ``max_tokens`` was refused for ``max_completion_tokens``.
        refused: Sampling parameters refused, with the service's reason.
        warned: Parameters the user has been warned about (once each).
    """

    completion_tokens: bool = False
    refused: dict[str, str] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)

    def learn(self, refusal: Refused) -> None:
        """Keep what a refusal taught (call it once the resend without it was answered)."""
        if refusal.renamed_to is not None:
            self.completion_tokens = True
        else:
            self.refused[refusal.param] = refusal.reason


def adapt_params(
    params: dict[str, Any], rules: ReasoningRules | None, lessons: Lessons | None = None
) -> list[Dropped]:
    """Shape one request's parameters for the model, in place; return what was left out.

    - ``max_tokens`` is sent as ``max_completion_tokens`` where the family (``rules``) or a
      refusal (``lessons``) says so (a ``max_completion_tokens`` given too wins);
    - a sampling parameter the family takes only at its default is left out unless it has that
      value (``temperature=1``), except with ``reasoning_effort="none"``, where gpt-5.1 and later
      sample as other models do;
    - a parameter a refusal named is left out.

    Nothing else is touched: what the service did not refuse is sent.
    """
    dropped: list[Dropped] = []
    completion_tokens = (rules is not None and rules.completion_tokens) or (
        lessons is not None and lessons.completion_tokens
    )
    if completion_tokens and params.get("max_tokens") is not None:
        value = params.pop("max_tokens")
        if params.get("max_completion_tokens") is None:
            params["max_completion_tokens"] = value
            reason = "this model takes max_completion_tokens instead"
            dropped.append(Dropped("max_tokens", value, reason, "max_completion_tokens"))
        else:
            reason = "max_completion_tokens is given too, and this model takes only that"
            dropped.append(Dropped("max_tokens", value, reason))
    if rules is not None and rules.fixed_sampling and params.get("reasoning_effort") != "none":
        for name in rules.fixed_sampling:
            value = params.get(name)
            if value is None or _same(value, SAMPLING_DEFAULTS.get(name, ...)):
                continue
            del params[name]
            default = SAMPLING_DEFAULTS.get(name, ...)
            reason = (
                f"{rules.family} models take only the default {name} ({default!r})"
                if default is not ...
                else f"{rules.family} models do not take {name}"
            )
            dropped.append(Dropped(name, value, f"{reason} ({rules.source})"))
    if lessons is not None:
        for name, reason in lessons.refused.items():
            value = params.get(name)
            if value is not None:
                del params[name]
                dropped.append(Dropped(name, value, reason))
    return dropped


def _same(value: Any, default: Any) -> bool:
    """``value`` is the default: ``1`` and ``1.0`` alike, but never ``True`` for ``1``."""
    if default is ...:
        return False
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    return bool(value == default)


def _names(err: APIStatusError, param: str) -> bool:
    """True when the refusal names ``param`` itself (not a longer name that contains it)."""
    if err.param is not None:
        return err.param == param or err.param.endswith("." + param)
    return f"'{param}'" in (err.service_message or "")


def read_refusal(err: APIStatusError, params: Mapping[str, Any]) -> Refused | None:
    """What a 400/422 refusal of a request with ``params`` asks to change, if it is learnable.

    ``max_tokens`` named with advice to use ``max_completion_tokens`` (Azure OpenAI's and
    OpenAI's ``unsupported_parameter``) or refused as such (the Model Inference API's 422
    ``parameter_not_supported``), or a sampling parameter of `LEARNABLE_PARAMS` the
    request carried, refused as such (``unsupported_value``, ``unsupported_parameter``, the
    Model Inference API's 422 ``parameter_not_supported``). None for anything else: a refusal
    that names no parameter, or one that names another, teaches nothing here.
    """
    if isinstance(err, ContentFilterError) or not isinstance(
        err, (BadRequestError, UnsupportedParameterError)
    ):
        return None
    reason = err.service_message or str(err)
    if (
        params.get("max_tokens") is not None
        and _names(err, "max_tokens")
        # Azure OpenAI says to use max_completion_tokens; the Model Inference API's 422 only
        # that max_tokens is not supported (the resend proves or disproves the rest).
        and ("max_completion_tokens" in reason or isinstance(err, UnsupportedParameterError))
    ):
        return Refused("max_tokens", reason, "max_completion_tokens")
    if not (isinstance(err, UnsupportedParameterError) or err.code in _REFUSAL_CODES):
        return None
    for name in LEARNABLE_PARAMS:
        if params.get(name) is not None and _names(err, name):
            return Refused(name, reason)
    return None
