"""OpenTelemetry spans and metrics for every model call, after the GenAI semantic conventions.

The client opens one `Operation` per call (``chat``, streamed ``chat``, ``embeddings``) and closes
it with the answer or the error; a stream closes its operation when it ends, fails, is closed, or
is dropped unread. Each operation is a CLIENT span named ``chat {model}`` / ``embeddings {model}``
under the current span, and three histograms: ``gen_ai.client.operation.duration``,
``gen_ai.client.token.usage`` and, for streams, ``gen_ai.client.operation.time_to_first_chunk``.

Zero cost when unused: ``opentelemetry`` is never imported here. An operation is only opened when
the application has imported ``opentelemetry`` itself and set a tracer or meter provider (or
passed one to `configure`); otherwise every hook is a shared no-op object.

Message content (prompts, answers, tool arguments and definitions) is recorded only when asked:
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``, the Azure SDK's
``AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED=true``, or ``configure(capture_content=True)``.
Secrets never are: no header, no credential, no userinfo or query of the endpoint (only its host
and port), and secret query parameters of image URLs in captured content are masked.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import os
import sys
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import __version__
from ._genai import (
    chat_request_attributes,
    embeddings_request_attributes,
    input_messages,
    output_messages,
    provider_name,
    server_of,
    to_json,
    tool_definitions,
    usage_attributes,
)
from .endpoints import Endpoint

if TYPE_CHECKING:
    from .streaming import ChatStreamState
    from .types import ChatCompletion, CompletionUsage, EmbeddingsResult

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "NO_OPERATION",
    "Operation",
    "configure",
    "note_retry",
    "provider_name",
    "start_chat",
    "start_embeddings",
]

log = logging.getLogger("azureinference")

CAPTURE_CONTENT_ENV = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED",
)
"""The environment variables that turn content recording on (``true``; OpenTelemetry's GenAI
utilities' ``span_only``, ``event_only`` and ``span_and_event`` also count)."""

_ON = frozenset({"true", "1", "yes", "on", "span_only", "event_only", "span_and_event"})
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"

# Recommended bucket boundaries of the GenAI metrics (semantic conventions).
_SECONDS_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
_TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

_TRACE_MODULE = "opentelemetry.trace"
_METRICS_MODULE = "opentelemetry.metrics"
# A provider named only in the environment is created by opentelemetry on first use, so then
# opentelemetry is imported even if the application has not done it.
_PROVIDERS_FROM_ENV = bool(
    os.environ.get("OTEL_PYTHON_TRACER_PROVIDER") or os.environ.get("OTEL_PYTHON_METER_PROVIDER")
)


class _Config:
    __slots__ = ("capture_content", "enabled", "meter_provider", "tracer_provider")

    def __init__(
        self,
        enabled: bool = True,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        capture_content: bool | None = None,
    ) -> None:
        self.enabled = enabled
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.capture_content = capture_content


_config = _Config()


def configure(
    *,
    enabled: bool = True,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    capture_content: bool | None = None,
) -> None:
    """Set how model calls are traced (process-wide); with no arguments, back to the defaults.

    By default calls are traced through the global providers of ``opentelemetry`` (whatever
    ``trace.set_tracer_provider`` / ``metrics.set_meter_provider``, ``configure_azure_monitor()``
    or ``opentelemetry-instrument`` set), with content off unless an environment variable of
    `CAPTURE_CONTENT_ENV` says ``true``.

    Args:
        enabled: False to record nothing from this package, whatever providers are set.
        tracer_provider: A tracer provider to use instead of the global one.
        meter_provider: A meter provider to use instead of the global one.
        capture_content: Record prompts and answers (True) or not (False), whatever the
            environment says; None reads the environment at each call.
    """
    global _config, _resolved
    _config = _Config(enabled, tracer_provider, meter_provider, capture_content)
    _resolved = None


def _capture_content() -> bool:
    if _config.capture_content is not None:
        return _config.capture_content
    return any(os.environ.get(name, "").strip().lower() in _ON for name in CAPTURE_CONTENT_ENV)


# ---- the instruments, resolved once per pair of providers ----


class _Instruments:
    """A tracer and the three histograms of one pair of providers (either may be None)."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        self.trace = importlib.import_module(_TRACE_MODULE)
        self.context = importlib.import_module("opentelemetry.context")
        self.tracer = (
            tracer_provider.get_tracer("azureinference", __version__, schema_url=_SCHEMA_URL)
            if tracer_provider is not None
            else None
        )
        self.duration: Any = None
        self.tokens: Any = None
        self.first_chunk: Any = None
        if meter_provider is not None:
            meter = meter_provider.get_meter("azureinference", __version__, schema_url=_SCHEMA_URL)
            self.duration = meter.create_histogram(
                "gen_ai.client.operation.duration",
                unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS,
            )
            self.tokens = meter.create_histogram(
                "gen_ai.client.token.usage",
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
            )
            self.first_chunk = meter.create_histogram(
                "gen_ai.client.operation.time_to_first_chunk",
                unit="s",
                description="Time from the request to the first chunk of a streamed answer.",
                explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS,
            )


_resolved: tuple[Any, Any, _Instruments] | None = None


def _imported(name: str) -> Any:
    """The opentelemetry module if the application imported it (never imported here first)."""
    module = sys.modules.get(name)
    if module is None and _PROVIDERS_FROM_ENV:
        module = importlib.import_module(name)
    return module


def _active_tracer_provider() -> Any:
    if _config.tracer_provider is not None:
        return _config.tracer_provider
    trace = _imported(_TRACE_MODULE)
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    # The proxy stands in until the application sets a provider: nothing would be recorded.
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    return provider


def _active_meter_provider() -> Any:
    if _config.meter_provider is not None:
        return _config.meter_provider
    metrics = _imported(_METRICS_MODULE)
    if metrics is None:
        return None
    provider = metrics.get_meter_provider()
    # The API's stand-in before a provider is set has no public class: it is named here.
    if isinstance(provider, metrics.NoOpMeterProvider) or type(provider).__name__ in (
        "_ProxyMeterProvider",
        "ProxyMeterProvider",
    ):
        return None
    return provider


def _instruments() -> _Instruments | None:
    """The instruments to record with, or None when nothing would record (the fast path)."""
    global _resolved
    if not _config.enabled:
        return None
    tracer_provider = _active_tracer_provider()
    meter_provider = _active_meter_provider()
    if tracer_provider is None and meter_provider is None:
        return None
    resolved = _resolved
    if resolved is not None and resolved[0] is tracer_provider and resolved[1] is meter_provider:
        return resolved[2]
    instruments = _Instruments(tracer_provider, meter_provider)
    _resolved = (tracer_provider, meter_provider, instruments)
    return instruments


# ---- operations ----


_CURRENT: contextvars.ContextVar[Operation | None] = contextvars.ContextVar(
    "azureinference_operation", default=None
)


def note_retry() -> None:
    """Count one more send of the current operation's request (a retry after 429/5xx/drop)."""
    op = _CURRENT.get()
    if op is not None:
        op.retries += 1


class _NoOperation:
    """What every hook is when nothing records: each method does nothing."""

    __slots__ = ()
    active = False

    def __enter__(self) -> _NoOperation:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        return None

    def chat_result(self, completion: ChatCompletion) -> ChatCompletion:
        """Return ``completion``."""
        return completion

    def embeddings_result(self, result: EmbeddingsResult) -> EmbeddingsResult:
        """Return ``result``."""
        return result

    def watch_stream(self, stream: object, state: ChatStreamState) -> None:
        """Do nothing."""

    def first_chunk(self) -> None:
        """Do nothing."""

    def end_stream(self, state: ChatStreamState, error: BaseException | None = None) -> None:
        """Do nothing."""


NO_OPERATION: _NoOperation = _NoOperation()
"""The shared operation of calls that nothing records."""


class Operation(_NoOperation):
    """One model call being recorded: its span (when traced) and its metrics (when metered).

    Use as a context manager around the call: inside it the span is the current span (HTTP
    spans of an instrumented transport nest under it) and retries are counted; an exception
    leaving it ends the operation as failed. A non-streamed call ends when the block ends; a
    streamed one when its stream ends (`end_stream`).
    """

    __slots__ = (
        "_content",
        "_context_token",
        "_dimensions",
        "_ended",
        "_first",
        "_instruments",
        "_metric_attrs",
        "_op_token",
        "_response_model",
        "_span",
        "_start",
        "_stream",
        "_usage",
        "retries",
    )
    active = True

    def __init__(
        self,
        instruments: _Instruments,
        operation: str,
        endpoint: Endpoint,
        model: str | None,
        attributes: dict[str, Any],
        *,
        stream: bool = False,
    ) -> None:
        self._instruments = instruments
        self._stream = stream
        self._ended = False
        self._first: float | None = None
        self._usage: CompletionUsage | None = None
        self._response_model: str | None = None
        self._context_token: Any = None
        self._op_token: Any = None
        self._content = _capture_content()
        self._dimensions = "gen_ai.embeddings.dimension.count" in attributes
        self.retries = 0
        address, port = server_of(endpoint)
        common: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider_name(endpoint),
            "server.address": address,
            "server.port": port,
        }
        if model:
            common["gen_ai.request.model"] = model
        self._metric_attrs = common
        self._span: Any = None
        tracer = instruments.tracer
        if tracer is not None:
            span = tracer.start_span(
                f"{operation} {model}" if model else operation,
                kind=instruments.trace.SpanKind.CLIENT,
                attributes=common,
            )
            if span.is_recording():
                # Given at start for the samplers that read them, and set again: a sampler that
                # returns attributes of its own (Azure Monitor's) replaces those given at start.
                span.set_attributes(common)
                span.set_attributes(attributes)
                self._span = span
            else:
                span.end()
        self._start = time.perf_counter()

    @property
    def span(self) -> Any:
        """The span, or None when not traced (or not sampled)."""
        return self._span

    @property
    def capture_content(self) -> bool:
        """True when prompts and answers go on the span."""
        return self._content and self._span is not None

    def __enter__(self) -> Operation:
        self._op_token = _CURRENT.set(self)
        if self._span is not None:
            trace = self._instruments.trace
            context = self._instruments.context
            self._context_token = context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self._context_token is not None:
            self._instruments.context.detach(self._context_token)
            self._context_token = None
        if self._op_token is not None:
            _CURRENT.reset(self._op_token)
            self._op_token = None
        if exc is not None:
            self._end(exc)
        elif not self._stream:
            self._end(None)

    # ---- results ----

    def _response(
        self, answer: ChatCompletion | EmbeddingsResult, with_output: bool
    ) -> dict[str, Any] | None:
        """Keep what the metrics need; return the span attributes common to every answer."""
        self._response_model = answer.model
        self._usage = answer.usage
        if self._span is None:
            return None
        attrs: dict[str, Any] = {}
        if answer.id:
            attrs["gen_ai.response.id"] = answer.id
        if answer.model:
            attrs["gen_ai.response.model"] = answer.model
        if answer.usage is not None:
            attrs.update(usage_attributes(answer.usage, with_output))
        return attrs

    def chat_result(self, completion: ChatCompletion) -> ChatCompletion:
        """Record a chat answer (id, model, finish reasons, usage, content if on); return it."""
        attrs = self._response(completion, True)
        if attrs is not None:
            reasons = [c.finish_reason for c in completion.choices or () if c.finish_reason]
            if reasons:
                attrs["gen_ai.response.finish_reasons"] = reasons
            if self._content:
                try:
                    attrs["gen_ai.output.messages"] = to_json(output_messages(completion))
                except Exception:  # an answer of a shape we do not know: recorded without it
                    log.debug("Could not record the messages of a chat answer", exc_info=True)
            self._span.set_attributes(attrs)
        return completion

    def embeddings_result(self, result: EmbeddingsResult) -> EmbeddingsResult:
        """Record an embeddings answer (model, usage, dimensions); return it."""
        attrs = self._response(result, False)
        if attrs is not None:
            if result.data and not self._dimensions:
                vector = result.data[0].embedding
                if isinstance(vector, list):
                    attrs["gen_ai.embeddings.dimension.count"] = len(vector)
            self._span.set_attributes(attrs)
        return result

    # ---- streams ----

    def watch_stream(self, stream: object, state: ChatStreamState) -> None:
        """End the operation when ``stream`` is garbage collected without being closed."""
        finalizer = weakref.finalize(stream, self.end_stream, state)
        finalizer.atexit = False

    def first_chunk(self) -> None:
        """Note the time of the first chunk of a stream (time to first chunk)."""
        if self._first is None:
            self._first = time.perf_counter()
            if self._span is not None:
                self._span.set_attribute(
                    "gen_ai.response.time_to_first_chunk", self._first - self._start
                )

    def end_stream(self, state: ChatStreamState, error: BaseException | None = None) -> None:
        """End a streamed call with what the stream received (usage from its final chunk)."""
        if self._ended:
            return
        if state.chunk_count or state.usage is not None:
            self.chat_result(state.final())
        self._end(error)

    # ---- the end ----

    def _end(self, error: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        duration = time.perf_counter() - self._start
        attrs = dict(self._metric_attrs)
        if self._response_model:
            attrs["gen_ai.response.model"] = self._response_model
        error_type = type(error).__name__ if error is not None else None
        span = self._span
        if span is not None:
            if self.retries:
                span.set_attribute("http.request.resend_count", self.retries)
            if error is not None:
                _record_error(self._instruments, span, error)
            span.end()
        instruments = self._instruments
        if instruments.duration is None:
            return
        usage = self._usage
        if usage is not None:
            instruments.tokens.record(usage.prompt_tokens, {**attrs, "gen_ai.token.type": "input"})
            if attrs["gen_ai.operation.name"] != "embeddings":
                instruments.tokens.record(
                    usage.completion_tokens, {**attrs, "gen_ai.token.type": "output"}
                )
        if error_type is not None:
            attrs["error.type"] = error_type
        instruments.duration.record(duration, attrs)
        if self._first is not None:
            instruments.first_chunk.record(self._first - self._start, attrs)


def _record_error(instruments: _Instruments, span: Any, error: BaseException) -> None:
    # The event carries the type and our message (which never holds a key or token), not the
    # stack trace: the frames' source lines are not ours to export.
    name = type(error).__name__
    span.set_attribute("error.type", name)
    span.add_event(
        "exception",
        {"exception.type": f"{type(error).__module__}.{type(error).__qualname__}",
         "exception.message": str(error)},
    )  # fmt: skip
    status = instruments.trace.Status(instruments.trace.StatusCode.ERROR, f"{name}: {error}")
    span.set_status(status)


def start_chat(
    endpoint: Endpoint,
    default_model: str | None,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    *,
    stream: bool = False,
) -> _NoOperation:
    """Open the operation of a chat call (`NO_OPERATION` when nothing records).

    Args:
        endpoint: Where the call goes (kind, host and port are recorded; nothing else of it).
        default_model: The client's model, used when ``params`` names none.
        messages: The wire messages (recorded only when content recording is on).
        params: The chat parameters of the call.
        stream: True for a streamed call, which its stream ends.
    """
    instruments = _instruments()
    if instruments is None:
        return NO_OPERATION
    model = params.get("model") or default_model or endpoint.deployment
    attrs = chat_request_attributes(params)
    attrs["gen_ai.request.stream"] = stream
    op = Operation(instruments, "chat", endpoint, model, attrs, stream=stream)
    if op.capture_content:
        try:
            content = {"gen_ai.input.messages": to_json(input_messages(messages))}
            if params.get("tools"):
                content["gen_ai.tool.definitions"] = to_json(tool_definitions(params["tools"]))
        except Exception:  # messages of a shape we do not know: the call goes on, untraced
            log.debug("Could not record the messages of a chat call", exc_info=True)
        else:
            op.span.set_attributes(content)
    return op


def start_embeddings(
    endpoint: Endpoint,
    default_model: str | None,
    inputs: Sequence[Any],
    params: Mapping[str, Any],
) -> _NoOperation:
    """Open the operation of an embeddings call (`NO_OPERATION` when nothing records).

    Args:
        endpoint: Where the call goes.
        default_model: The client's model, used when ``params`` names none.
        inputs: The inputs (only their number is recorded).
        params: The embeddings parameters of the call.
    """
    instruments = _instruments()
    if instruments is None:
        return NO_OPERATION
    model = params.get("model") or default_model or endpoint.deployment
    attrs = embeddings_request_attributes(params, len(inputs))
    return Operation(instruments, "embeddings", endpoint, model, attrs)
