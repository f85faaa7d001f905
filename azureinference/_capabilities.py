"""What an endpoint accepts, learned from its refusals: `Capabilities` and the rules that fill it.

A refusal (400/422) that names a parameter the client added on its own (``stream_options``,
``encoding_format: base64``) or one it can do without (``input_type``, a reasoning model's
``max_tokens`` or sampling parameters: see `azureinference.reasoning`) makes the client resend
the call once without it. What the refusal taught is kept only when that resend is answered
(`Resends`): a 400 the parameter did not cause (an unknown model behind a gateway that names no
parameter) comes back the same, is raised as it came, and teaches nothing. A refused
``json_schema`` response format is remembered too, and raised as a `JsonSchemaRefusedError`
(the adapters fall back to a tool call on it).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._answer_log import log
from .errors import (
    APIStatusError,
    BadRequestError,
    ContentFilterError,
    UnsupportedParameterError,
    as_json_schema_refusal,
)
from .reasoning import Lessons, Refused, read_refusal

__all__ = [
    "OWN_STREAM_OPTIONS",
    "Capabilities",
    "Resends",
    "learn_chat_refusal",
    "learn_embeddings_refusal",
    "warn_dropped",
]

OWN_STREAM_OPTIONS = {"include_usage": True}
"""What the client adds to a streamed chat request on its own, for token usage."""


@dataclass
class Capabilities:
    """What the endpoint accepts, learned at run time. None means "not known yet: try it".

    Attributes:
        json_schema: ``response_format`` of type ``json_schema``.
        base64_embeddings: ``encoding_format: base64`` for embeddings.
        input_type: ``input_type`` for embeddings.
        stream_options: ``stream_options: {"include_usage": true}`` on streamed chat.
        responses: The Responses API, per model name (``"*"``: the endpoint's route, for every
            model): True once it answered, or the `ResponsesNotSupportedError` the service
            refused it with (raised again without a request; see `Client.responses_supported`).
        models: Per model (the ``model`` sent, None for an endpoint of one model): what its
            refusals proved (`Lessons`: ``max_completion_tokens``, refused sampling parameters).
        served: Per model sent, the model the first answer named (``gpt-5-mini-2025-08-07``
            behind a deployment called ``my-reasoner``), to know its family by name.
    """

    json_schema: bool | None = None
    base64_embeddings: bool | None = None
    input_type: bool | None = None
    stream_options: bool | None = None
    responses: dict[str, Any] = field(default_factory=dict)
    models: dict[str | None, Lessons] = field(default_factory=dict)
    served: dict[str | None, str] = field(default_factory=dict)

    def lessons(self, model: str | None) -> Lessons:
        """What ``model``'s refusals proved so far (an empty record at first)."""
        lessons = self.models.get(model)
        if lessons is None:
            lessons = self.models[model] = Lessons()
        return lessons


_Lesson = Callable[[Capabilities], None]


class Resends:
    """One call's resends after refusals, and what they will teach once one is answered.

    Each parameter is taken out at most once per call; `answered` keeps the lessons (the
    resend proved them), and a call whose resends are all refused keeps none.

    Attributes:
        without: What the call's next request leaves out (``stream_options``, ``base64``,
            ``input_type``) before the client has learned it for good.
    """

    __slots__ = ("_lessons", "_tried", "without")

    def __init__(self) -> None:
        self.without: set[str] = set()
        self._lessons: list[_Lesson] = []
        self._tried: set[str] = set()

    def resend(self, what: str, lesson: _Lesson) -> bool:
        """Plan a resend without ``what``; False when this call already went without it."""
        if what in self._tried:
            return False
        self._tried.add(what)
        self.without.add(what)
        self._lessons.append(lesson)
        return True

    def answered(self, caps: Capabilities) -> None:
        """The resend was answered: keep what the refusals taught."""
        for lesson in self._lessons:
            lesson(caps)
        self._lessons.clear()


def refuses(err: APIStatusError, param: str) -> bool:
    """True when a 400/422 answer names ``param`` as the refused parameter."""
    if not isinstance(err, (UnsupportedParameterError, BadRequestError)):
        return False
    if err.param and param in err.param:
        return True
    return param in (err.service_message or "")


def names_nothing(err: APIStatusError) -> bool:
    """True for a 400/422 refusal that names no parameter.

    A gateway may say only that "one of the parameters" is wrong: LiteLLM rewrites a service's
    422 into ``{"error": {"message": "litellm.BadRequestError: ... One of the parameters contain
    invalid values.", "param": null, "code": "422"}}``. A content filter is no such refusal.
    """
    if isinstance(err, ContentFilterError):
        return False
    return isinstance(err, (UnsupportedParameterError, BadRequestError)) and not err.param


def _no_stream_options(caps: Capabilities) -> None:
    caps.stream_options = False


def _no_base64(caps: Capabilities) -> None:
    caps.base64_embeddings = False


def _no_input_type(caps: Capabilities) -> None:
    caps.input_type = False


def warn_dropped(lessons: Lessons, model: str | None, param: str, value: Any, reason: str) -> None:
    """Warn, once per model and parameter, that a value the caller set was not sent."""
    if param in lessons.warned:
        return
    lessons.warned.add(param)
    warnings.warn(
        f"{param}={value!r} was not sent to {model or 'the model'}: {reason} The model's own "
        f"default is used; leave {param} out to silence this warning.",
        UserWarning,
        stacklevel=2,
    )


def _reasoning_lesson(model: str | None, refused: Refused, value: Any) -> _Lesson:
    def learn(caps: Capabilities) -> None:
        lessons = caps.lessons(model)
        lessons.learn(refused)
        if refused.renamed_to is None:
            warn_dropped(lessons, model, refused.param, value, refused.reason)

    return learn


def learn_chat_refusal(
    caps: Capabilities,
    err: APIStatusError,
    params: dict[str, Any],
    resends: Resends,
    model: str | None = None,
) -> bool:
    """What a chat refusal teaches; True when the request should be rebuilt and resent.

    A parameter the client adds on its own (``stream_options``) never makes a call fail:
    refused by name, or by a refusal that names no parameter (a gateway's), the call is
    made once more without it. A reasoning model's refusal of ``max_tokens`` (resent as
    ``max_completion_tokens``) or of a sampling parameter (resent without it) likewise
    (`azureinference.reasoning.read_refusal`). Either is remembered for later calls only once
    the resend is answered (`Resends.answered`). A nameless refusal of a request with nothing of
    ours left to drop, and a ``json_schema`` response format, is taken as the json_schema
    refusal it most likely is (adapters then fall back to a tool call).
    """
    ours = params.get("stream") and params.get("stream_options") == OWN_STREAM_OPTIONS
    if (
        "stream_options" in params
        and (refuses(err, "stream_options") or (ours and names_nothing(err)))
        and resends.resend("stream_options", _no_stream_options)
    ):
        log.info("Resending without stream_options, which the endpoint refused: %s", err)
        params.pop("stream_options")
        return True
    refused = read_refusal(err, params)
    if refused is not None and resends.resend(
        refused.param, _reasoning_lesson(model, refused, params.get(refused.param))
    ):
        value = params.pop(refused.param)
        if refused.renamed_to is not None:
            params[refused.renamed_to] = value
        log.info(
            "Resending %s, which the model refused: %s",
            f"as {refused.renamed_to}" if refused.renamed_to else f"without {refused.param}",
            err,
        )
        return True
    rf = params.get("response_format")
    is_schema = isinstance(rf, Mapping) and rf.get("type") == "json_schema"
    if is_schema and (
        refuses(err, "response_format")
        or refuses(err, "json_schema")
        or (names_nothing(err) and caps.json_schema is None)
    ):
        caps.json_schema = False
        refusal = as_json_schema_refusal(err)  # a typed outcome the adapters fall back on
        if refusal is not err:
            raise refusal from err.__cause__
    return False


def learn_embeddings_refusal(
    caps: Capabilities, err: APIStatusError, params: dict[str, Any], resends: Resends
) -> bool:
    """As `learn_chat_refusal`, for embeddings: base64 (the client's own choice), input_type."""
    if (
        params.get("encoding_format") is None
        and caps.base64_embeddings is not False
        and (
            refuses(err, "encoding_format")
            or refuses(err, "base64")
            or (names_nothing(err) and caps.base64_embeddings is None)
        )
        and resends.resend("base64", _no_base64)
    ):
        log.info("Resending without encoding_format: base64, which was refused: %s", err)
        return True
    return bool(
        params.get("input_type") is not None
        and caps.input_type is not False
        and refuses(err, "input_type")
        and resends.resend("input_type", _no_input_type)
    )
