"""What an endpoint accepts, learned from its refusals: `Capabilities` and the rules that fill it.

A refusal (400/422) that names a parameter the client added on its own (``stream_options``,
``encoding_format: base64``) or one it can do without (``input_type``) teaches the client to
leave it out, and the call is resent once without it. A refused ``json_schema`` response format
is remembered too, and raised as a `JsonSchemaRefusedError` (the adapters fall back to a tool
call on it).
"""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["OWN_STREAM_OPTIONS", "Capabilities", "learn_chat_refusal", "learn_embeddings_refusal"]

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
    """

    json_schema: bool | None = None
    base64_embeddings: bool | None = None
    input_type: bool | None = None
    stream_options: bool | None = None
    responses: dict[str, Any] = field(default_factory=dict)


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


def learn_chat_refusal(caps: Capabilities, err: APIStatusError, params: dict[str, Any]) -> bool:
    """Record what a chat refusal teaches; True when the request should be rebuilt and resent.

    A parameter the client adds on its own (``stream_options``) never makes a call fail:
    refused by name, or by a refusal that names no parameter (a gateway's), the call is
    made once more without it, and the client remembers. A nameless refusal of a request
    with nothing of ours left to drop, and a ``json_schema`` response format, is taken as
    the json_schema refusal it most likely is (adapters then fall back to a tool call).
    """
    ours = params.get("stream") and params.get("stream_options") == OWN_STREAM_OPTIONS
    if "stream_options" in params and (
        refuses(err, "stream_options") or (ours and names_nothing(err))
    ):
        log.info("Resending without stream_options, which the endpoint refused: %s", err)
        caps.stream_options = False
        params.pop("stream_options")
        return True
    rf = params.get("response_format")
    is_schema = isinstance(rf, Mapping) and rf.get("type") == "json_schema"
    if is_schema and (
        refuses(err, "response_format")
        or refuses(err, "json_schema")
        or (names_nothing(err) and caps.json_schema is None)
    ):
        caps.json_schema = False
        as_json_schema_refusal(err)  # the caller re-raises it: a typed outcome to fall back on
    return False


def learn_embeddings_refusal(
    caps: Capabilities, err: APIStatusError, params: dict[str, Any]
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
    ):
        log.info("Resending without encoding_format: base64, which was refused: %s", err)
        caps.base64_embeddings = False
        return True
    if (
        params.get("input_type") is not None
        and caps.input_type is not False
        and refuses(err, "input_type")
    ):
        caps.input_type = False
        return True
    return False
