"""The Responses API (``POST .../responses``): wire types, request building, parsing, streams.

Kept apart from `azureinference.responses`, which parses chat answers. Everything here is pure
(no I/O); `Client.respond` / `Client.stream_response` (and the `AsyncClient` forms) send it.

For adapters, the whole API in one place::

    from azureinference.responses_api import (
        build_responses_body, to_input_items, responses_only_features,   # requests
        Response, ResponseStreamEvent, ResponsesStreamState,             # answers, streams
        ResponsesNotSupportedError,                                      # the chat fallback
    )

Requests (`build`):
    ``client.respond(input, **params)`` takes ``input`` as a prompt string, or a list mixing chat
    wire messages (``{"role": "user" | "system" | "developer" | "assistant" | "tool", ...}``:
    an assistant's ``tool_calls`` become ``function_call`` items, a ``tool`` message a
    ``function_call_output``) and Responses items sent as they are (``{"type": "reasoning",
    "id", "summary", "encrypted_content"}``, a `ReasoningItem` / `FunctionCallItem` from an
    earlier answer: how encrypted reasoning goes back). ``params``: ``model``, ``instructions``,
    ``tools`` (chat-shaped or flat), ``tool_choice`` (chat-shaped or Responses'),
    ``response_format`` (chat's; sent as ``text.format``) or ``text``, ``reasoning``
    (``{"effort", "summary"}``) or ``reasoning_effort``, ``include``, ``previous_response_id``,
    ``store``, ``max_output_tokens``, ``temperature``, ``top_p``, ``parallel_tool_calls``,
    ``metadata``, ``user``...; ``model_extras`` and ``headers`` as for chat. Chat-only names
    (``max_tokens``, ``stop``, ``seed``) raise `ConfigurationError` naming them.

Answers (`types`):
    `Response` with ``output`` items `MessageItem` (``content``: `OutputText` / `Refusal`),
    `FunctionCallItem` (``call_id``, ``name``, ``arguments`` JSON text), `ReasoningItem`
    (``summary`` parts, opaque ``encrypted_content``, raw ``content``) and `OtherItem` (built-in
    tool calls, kept whole); ``usage`` (`ResponseUsage`: ``input_tokens``, ``output_tokens``,
    ``total_tokens``, `ResponseUsage.cached_tokens`, `ResponseUsage.reasoning_tokens`);
    ``status`` with `Response.incomplete_reason`; reads `Response.output_text`,
    `Response.refusal`, `Response.function_calls`, `Response.reasoning_summary`,
    `Response.finish_reason` (``stop`` / ``tool_calls`` / ``length`` / ``content_filter``).
    A failed answer is never returned: it raises the service's error (`error_from_failure`).

Streams (`stream`):
    ``client.stream_response(input, **params)`` returns a `ResponseStream` (`AsyncResponseStream`)
    yielding `ResponseStreamEvent` s with the wire's (and openai-python's) field names, so code
    written against openai's events reads them: switch on ``event.type``
    (``response.created``, ``response.output_item.added`` / ``.done`` with ``item``,
    ``response.output_text.delta``, ``response.refusal.delta``,
    ``response.function_call_arguments.delta``, ``response.reasoning_summary_text.delta``,
    ``response.reasoning_text.delta``, ``response.completed`` / ``response.incomplete`` with
    ``response``). ``stream.state`` (`ResponsesStreamState`) has the answer so far:
    ``state.item(event.output_index)`` is the item a delta belongs to (a function call's
    ``call_id`` and ``name``), ``state.final()`` the answer after the loop. ``error`` events and
    ``response.failed`` raise the service's error; a stream cut short raises
    `IncompleteStreamError`.

The chat fallback (`parse`):
    When the service says a model has no Responses API (a 400 "not supported by the Responses
    API"), or the endpoint has no Responses route (a 404/405 on it: an OpenAI-compatible server,
    a serverless endpoint), ``respond`` / ``stream_response`` raise `ResponsesNotSupportedError`
    (``.model``, ``.reason`` ``"refused"`` / ``"no_route"``, ``.learned``). The client remembers
    it (per model; for every model when the route is missing) and raises it again at once,
    without a request, with ``learned=False``; ``client.responses_supported(model)`` says what
    is known (True, False, or None: not tried). An adapter catches it, warns once (when
    ``learned``: ``warnings.warn(err.fallback_warning)``), and calls ``complete`` / ``stream``
    instead; before that it calls `responses_only_features` on its parameters and, if any,
    raises ``err.feature_error(features)`` (a `ConfigurationError` naming the model and each
    feature chat completions cannot give: reasoning summaries, ``include``,
    ``previous_response_id``, built-in tools...) instead of dropping them.
"""

from __future__ import annotations

from .build import (
    RESPONSES_API_VERSION,
    RESPONSES_FIELDS,
    RESPONSES_ONLY_PARAMS,
    build_responses_body,
    build_responses_request,
    responses_only_features,
    responses_url,
    to_input_items,
    to_responses_tool,
    to_responses_tool_choice,
    to_text_format,
)
from .parse import (
    ResponsesNotSupportedError,
    error_from_failure,
    is_responses_refusal,
    parse_response,
    parse_response_event,
)
from .stream import AsyncResponseStream, ResponsesStreamState, ResponseStream
from .types import (
    FunctionCallItem,
    IncompleteDetails,
    InputTokensDetails,
    MessageItem,
    OtherItem,
    OtherPart,
    OutputItem,
    OutputText,
    OutputTokensDetails,
    ReasoningItem,
    ReasoningText,
    Refusal,
    Response,
    ResponseError,
    ResponseStreamEvent,
    ResponseUsage,
    SummaryText,
)

__all__ = [
    "RESPONSES_API_VERSION",
    "RESPONSES_FIELDS",
    "RESPONSES_ONLY_PARAMS",
    "AsyncResponseStream",
    "FunctionCallItem",
    "IncompleteDetails",
    "InputTokensDetails",
    "MessageItem",
    "OtherItem",
    "OtherPart",
    "OutputItem",
    "OutputText",
    "OutputTokensDetails",
    "ReasoningItem",
    "ReasoningText",
    "Refusal",
    "Response",
    "ResponseError",
    "ResponseStream",
    "ResponseStreamEvent",
    "ResponseUsage",
    "ResponsesNotSupportedError",
    "ResponsesStreamState",
    "SummaryText",
    "build_responses_body",
    "build_responses_request",
    "error_from_failure",
    "is_responses_refusal",
    "parse_response",
    "parse_response_event",
    "responses_only_features",
    "responses_url",
    "to_input_items",
    "to_responses_tool",
    "to_responses_tool_choice",
    "to_text_format",
]
