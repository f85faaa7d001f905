"""OpenTelemetry spans and metrics of model calls (GenAI semantic conventions), sync and async.

Against the emulator and the local test server, with the SDK's in-memory span exporter and metric
reader (the ``otel`` fixture of ``tests/conftest.py``): what each span and histogram holds, when a
streamed span ends, errors, retries, content off by default and on when asked, and no secret in
any attribute or event.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from azureinference import (
    AsyncClient,
    AuthenticationError,
    Client,
    ContentFilterError,
    IncompleteStreamError,
    RetryPolicy,
    telemetry,
)
from azureinference.emulator import Emulator, Fault, ScriptedReply

from .core_server import LocalServer, send_json, send_sse
from .core_support import (
    COMPLETION,
    KEY,
    TOKEN,
    FakeTokenCredential,
    chunk,
    collect,
    maybe_await,
    sse,
)
from .test_telemetry import _CALLS, _run

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.trace import SpanKind, StatusCode

HI = [{"role": "user", "content": "Say hello to the tracer"}]
FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def emulator_client(emu: Emulator, sync: bool, **kw: Any) -> Any:
    kw.setdefault("retry_policy", FAST)
    kw.setdefault("model", "emulator-chat")
    return (Client if sync else AsyncClient)(emu.endpoint, emu.key, **kw)


async def close(client: Any) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


def only_span(otel: Any) -> Any:
    spans = otel.spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def all_values(span: Any) -> list[str]:
    """Every attribute value and event attribute value of a span, as text."""
    values = [str(v) for v in span.attributes.values()]
    for event in span.events:
        values.extend(str(v) for v in event.attributes.values())
    values.append(str(span.status.description or ""))
    values.append(span.name)
    return values


# ---- chat ----


async def test_chat_span_and_metrics(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    emu = azure_inference_emulator
    client = emulator_client(emu, sync)
    result = await maybe_await(
        client.complete(
            HI,
            temperature=0.2,
            top_p=0.9,
            max_tokens=50,
            seed=7,
            stop="END",
            frequency_penalty=0.1,
            presence_penalty=0.3,
        )
    )
    span = only_span(otel)
    assert span.name == "chat emulator-chat"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attrs = dict(span.attributes)
    assert attrs.pop("gen_ai.response.id") == result.id
    assert attrs == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.inference",
        "gen_ai.request.model": "emulator-chat",
        "server.address": "127.0.0.1",
        "server.port": emu.port,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.frequency_penalty": 0.1,
        "gen_ai.request.presence_penalty": 0.3,
        "gen_ai.request.stream": False,
        "gen_ai.response.model": result.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": result.usage.completion_tokens,
    }
    common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.inference",
        "gen_ai.request.model": "emulator-chat",
        "gen_ai.response.model": result.model,
        "server.address": "127.0.0.1",
        "server.port": emu.port,
    }
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == common
    assert duration.count == 1
    assert duration.sum > 0
    tokens = {
        p.attributes["gen_ai.token.type"]: p for p in otel.points("gen_ai.client.token.usage")
    }
    assert tokens["input"].sum == result.usage.prompt_tokens
    assert tokens["output"].sum == result.usage.completion_tokens
    assert dict(tokens["input"].attributes) == {**common, "gen_ai.token.type": "input"}
    assert otel.points("gen_ai.client.operation.time_to_first_chunk") == []
    await close(client)


async def test_span_nests_under_the_current_span(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("my agent step") as parent:
        await maybe_await(client.complete(HI))
        stream = await maybe_await(client.stream(HI))
        await collect(stream)
    ours = [s for s in otel.spans() if s.name.startswith("chat")]
    assert len(ours) == 2
    for span in ours:
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.context.trace_id == parent.get_span_context().trace_id
    await close(client)


async def test_tool_calls_and_content_off_by_default(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    prompt = [{"role": "user", "content": "Use get_weather: what is the weather in Paris?"}]
    result = await maybe_await(client.complete(prompt, tools=[WEATHER_TOOL]))
    assert result.choices[0].message.tool_calls
    span = only_span(otel)
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    for name in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.definitions"):
        assert name not in span.attributes
    assert not any("Paris" in v or "get_weather" in v for v in all_values(span))
    await close(client)


@pytest.mark.parametrize(
    "variable",
    [
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED",
    ],
)
async def test_content_on_when_asked(
    azure_inference_emulator: Emulator,
    otel: Any,
    sync: bool,
    variable: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, "true")
    client = emulator_client(azure_inference_emulator, sync)
    prompt = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Use get_weather: what is the weather in Paris?"},
    ]
    result = await maybe_await(client.complete(prompt, tools=[WEATHER_TOOL]))
    call = result.choices[0].message.tool_calls[0]
    span = only_span(otel)
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": prompt[1]["content"]}]},
    ]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": call.id,
                    "name": "get_weather",
                    "arguments": json.loads(call.function.arguments),
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]
    (definition,) = json.loads(span.attributes["gen_ai.tool.definitions"])
    assert definition["name"] == "get_weather"
    assert definition["type"] == "function"
    await close(client)


async def test_content_switch_in_code_wins_over_the_environment(
    azure_inference_emulator: Emulator, otel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    telemetry.configure(
        tracer_provider=otel.tracer_provider, meter_provider=None, capture_content=False
    )
    with emulator_client(azure_inference_emulator, True) as client:
        client.complete(HI)
    assert "gen_ai.input.messages" not in only_span(otel).attributes


async def test_tool_round_trip_content(
    azure_inference_emulator: Emulator, otel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    messages = [
        {"role": "user", "content": "Weather in Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
    ]
    with emulator_client(azure_inference_emulator, True) as client:
        client.complete(messages, tools=[WEATHER_TOOL])
    recorded = json.loads(only_span(otel).attributes["gen_ai.input.messages"])
    assert recorded[1] == {
        "role": "assistant",
        "parts": [
            {
                "type": "tool_call",
                "id": "call_1",
                "name": "get_weather",
                "arguments": {"city": "Rome"},
            }
        ],
    }
    assert recorded[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "Sunny, 21 C"}],
    }


# ---- streams ----


async def test_streamed_span_ends_with_the_stream(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    stream = await maybe_await(client.stream(HI, stream_usage=True, temperature=0))
    assert otel.spans() == []  # open while the answer streams
    await collect(stream)
    final = stream.state.final()
    span = only_span(otel)
    assert span.name == "chat emulator-chat"
    assert span.status.status_code is StatusCode.UNSET
    attrs = span.attributes
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.request.temperature"] == 0
    assert attrs["gen_ai.response.id"] == final.id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert final.usage is not None
    assert attrs["gen_ai.usage.input_tokens"] == final.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == final.usage.completion_tokens
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    (first,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert first.count == 1
    assert first.attributes["gen_ai.response.model"] == final.model
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.sum >= first.sum
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in otel.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": final.usage.prompt_tokens, "output": final.usage.completion_tokens}
    await close(client)


async def test_stream_content_when_asked(
    azure_inference_emulator: Emulator, otel: Any, sync: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    azure_inference_emulator.script(ScriptedReply(content="Hello, tracer."))
    client = emulator_client(azure_inference_emulator, sync)
    await collect(await maybe_await(client.stream(HI)))
    output = json.loads(only_span(otel).attributes["gen_ai.output.messages"])
    assert output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello, tracer."}],
            "finish_reason": "stop",
        }
    ]
    await close(client)


async def test_stream_cut_short_is_an_error(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    azure_inference_emulator.inject(Fault.drop_stream(after_chunks=2))
    client = emulator_client(azure_inference_emulator, sync)
    stream = await maybe_await(client.stream(HI))
    with pytest.raises(IncompleteStreamError):
        await collect(stream)
    span = only_span(otel)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "IncompleteStreamError"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "azureinference.errors.IncompleteStreamError"
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "IncompleteStreamError"
    await close(client)


async def test_stream_closed_early_ends_the_span(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    azure_inference_emulator.script(ScriptedReply(content="one two three four five six"))
    client = emulator_client(azure_inference_emulator, sync)
    stream = await maybe_await(client.stream(HI))
    if sync:
        next(iter(stream))
        stream.close()
    else:
        await stream.__aiter__().__anext__()
        await stream.aclose()
    span = only_span(otel)
    assert span.status.status_code is StatusCode.UNSET  # the caller chose to stop
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    await close(client)


async def test_stream_left_by_break_ends_the_span(
    azure_inference_emulator: Emulator, otel: Any
) -> None:
    with emulator_client(azure_inference_emulator, True) as client:
        for _ in client.stream(HI):
            break
        gc.collect()
        assert len(otel.spans()) == 1


def _drop(objects: list[Any]) -> None:
    """Drop the only references to ``objects`` and collect them."""
    objects.clear()
    gc.collect()


async def test_stream_dropped_unread_ends_the_span(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    streams = [await maybe_await(client.stream(HI))]
    assert otel.spans() == []
    with pytest.warns(ResourceWarning, match="dropped without being read"):
        _drop(streams)
    span = only_span(otel)
    assert span.name == "chat emulator-chat"
    assert span.status.status_code is StatusCode.UNSET
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    await close(client)


# ---- embeddings ----


async def test_embeddings_span(azure_inference_emulator: Emulator, otel: Any, sync: bool) -> None:
    client = emulator_client(azure_inference_emulator, sync, model="emulator-embed")
    result = await maybe_await(client.embed(["one", "two", "three"], batch_size=2))
    span = only_span(otel)
    assert span.name == "embeddings emulator-embed"
    assert span.kind is SpanKind.CLIENT
    attrs = span.attributes
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["azureinference.embeddings.input_count"] == 3
    assert attrs["gen_ai.embeddings.dimension.count"] == len(result.data[0].embedding) == 1024
    assert attrs["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert "gen_ai.usage.output_tokens" not in attrs
    tokens = otel.points("gen_ai.client.token.usage")
    assert [p.attributes["gen_ai.token.type"] for p in tokens] == ["input"]
    await close(client)


async def test_embeddings_span_with_dimensions(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync, model="emulator-embed")
    await maybe_await(client.embed(["one"], dimensions=64, encoding_format="float"))
    attrs = only_span(otel).attributes
    assert attrs["gen_ai.embeddings.dimension.count"] == 64
    assert attrs["gen_ai.request.encoding_formats"] == ("float",)
    await close(client)


# ---- errors and retries ----


async def test_401_is_recorded(azure_inference_emulator: Emulator, otel: Any, sync: bool) -> None:
    cls = Client if sync else AsyncClient
    client = cls(azure_inference_emulator.endpoint, "wrong-key-0123456789", model="emulator-chat")
    with pytest.raises(AuthenticationError):
        await maybe_await(client.complete(HI))
    span = only_span(otel)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "AuthenticationError"
    assert "wrong-key" not in " ".join(all_values(span))
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "AuthenticationError"
    assert otel.points("gen_ai.client.token.usage") == []
    await close(client)


async def test_429_retried_then_successful(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    azure_inference_emulator.inject(Fault.rate_limit(retry_after=0.01))
    client = emulator_client(azure_inference_emulator, sync)
    await maybe_await(client.complete(HI))
    span = only_span(otel)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["http.request.resend_count"] == 1
    assert "error.type" not in span.attributes
    await close(client)


async def test_429_retries_counted_on_embeddings(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    azure_inference_emulator.inject(Fault.rate_limit(retry_after=0.01, times=2))
    client = emulator_client(azure_inference_emulator, sync, model="emulator-embed")
    await maybe_await(client.embed(["a", "b", "c"], batch_size=1))
    assert only_span(otel).attributes["http.request.resend_count"] == 2
    await close(client)


async def test_content_filter_is_recorded(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    azure_inference_emulator.inject(Fault.content_filter())
    client = emulator_client(azure_inference_emulator, sync)
    with pytest.raises(ContentFilterError):
        await maybe_await(client.complete(HI))
    span = only_span(otel)
    assert span.attributes["error.type"] == "ContentFilterError"
    assert span.status.status_code is StatusCode.ERROR
    assert "ContentFilterError" in (span.status.description or "")
    await close(client)


async def test_no_retry_attribute_without_retries(
    azure_inference_emulator: Emulator, otel: Any
) -> None:
    with emulator_client(azure_inference_emulator, True) as client:
        client.complete(HI)
    assert "http.request.resend_count" not in only_span(otel).attributes


# ---- secrets ----


@pytest.mark.parametrize("content", [False, True], ids=["content-off", "content-on"])
async def test_no_secret_in_any_attribute_or_event(
    local_server: LocalServer,
    otel: Any,
    sync: bool,
    content: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if content:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    host = local_server.url.split("//", 1)[1]
    endpoint = f"http://{host}/models?code=FunctionC0de-secret&x=1"
    secrets = [KEY, TOKEN, "FunctionC0de-secret", "sig-S3cret"]
    image = "https://blob.example.com/cat.png?sv=2024&sig=sig-S3cret"
    prompt = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe"},
                {"type": "image_url", "image_url": {"url": image}},
            ],
        }
    ]
    cls = Client if sync else AsyncClient
    unauthorized = send_json(401, {"error": {"code": "401", "message": "Access denied"}})
    for credential in (KEY, FakeTokenCredential()):
        local_server.reset()
        local_server.then(
            send_json(200, COMPLETION),
            send_sse([sse(chunk("Hi"), chunk(finish_reason="stop"))]),
            send_json(200, {"model": "e", "data": [{"index": 0, "embedding": [0.5]}]}),
            unauthorized,
            # A refused token is replaced and the request sent once more.
            *([] if credential == KEY else [unauthorized]),
            send_sse([sse(chunk("Hi"), done=False)], drop=True),
        )
        client = cls(endpoint, credential, model="m", retry_policy=FAST)
        await maybe_await(client.complete(prompt, headers={"x-extra": KEY}))
        await collect(await maybe_await(client.stream(prompt)))
        await maybe_await(client.embed(["x"]))
        with pytest.raises(AuthenticationError):
            await maybe_await(client.complete(prompt))
        with pytest.raises(IncompleteStreamError):
            await collect(await maybe_await(client.stream(prompt)))
        await close(client)
    spans = otel.spans()
    assert len(spans) == 10
    for span in spans:
        assert span.attributes["server.address"] == "127.0.0.1"
        for value in all_values(span):
            for secret in secrets:
                assert secret not in value, (span.name, secret, value)
    if content:
        recorded = json.loads(spans[0].attributes["gen_ai.input.messages"])
        assert recorded[0]["parts"][1] == {
            "type": "uri",
            "modality": "image",
            "uri": "https://blob.example.com/cat.png?sv=2024&sig=***",
        }


# ---- off ----


async def test_nothing_recorded_when_disabled(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    telemetry.configure(enabled=False, tracer_provider=otel.tracer_provider)
    client = emulator_client(azure_inference_emulator, sync)
    await maybe_await(client.complete(HI))
    await collect(await maybe_await(client.stream(HI)))
    assert otel.spans() == []
    await close(client)


def test_sampled_out_spans_still_count_in_metrics(
    azure_inference_emulator: Emulator, otel: Any
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    telemetry.configure(
        tracer_provider=TracerProvider(sampler=ALWAYS_OFF), meter_provider=otel.meter_provider
    )
    with emulator_client(azure_inference_emulator, True) as client:
        client.complete(HI)
    assert otel.spans() == []
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert duration.attributes["gen_ai.response.model"]


# ---- in a fresh interpreter: nothing imported, nothing needed, global providers honoured ----


def test_global_providers_are_used_without_configuring_anything() -> None:
    setup = (
        "from opentelemetry import metrics, trace\n"
        "from opentelemetry.sdk.metrics import MeterProvider\n"
        "from opentelemetry.sdk.metrics.export import InMemoryMetricReader\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from opentelemetry.sdk.trace.export import SimpleSpanProcessor\n"
        "from opentelemetry.sdk.trace.export.in_memory_span_exporter import "
        "InMemorySpanExporter\n"
        "exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()\n"
        "provider = TracerProvider()\n"
        "provider.add_span_processor(SimpleSpanProcessor(exporter))\n"
        "trace.set_tracer_provider(provider)\n"
        "metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))\n"
    )
    report = (
        "print([s.name for s in exporter.get_finished_spans()])\n"
        "data = reader.get_metrics_data()\n"
        "print(sorted({m.name for rm in data.resource_metrics for sm in rm.scope_metrics "
        "for m in sm.metrics}))\n"
    )
    out = _run(setup + _CALLS + report)
    assert out[-2] == str(
        ["chat emulator-chat"] * 2 + ["embeddings emulator-embed"] + ["chat emulator-chat"] * 2
    )
    assert out[-1] == str(
        [
            "gen_ai.client.operation.duration",
            "gen_ai.client.operation.time_to_first_chunk",
            "gen_ai.client.token.usage",
        ]
    )


async def test_span_keeps_its_attributes_under_a_sampler_that_returns_its_own(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    """Azure Monitor's sampler answers with attributes of its own (``_MS.sampleRate``), which
    the SDK puts on the span in place of those given at start: ours must be on it anyway."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    seen: list[dict[str, Any]] = []

    class OwnAttributesSampler(Sampler):
        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: Any = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            seen.append(dict(attributes or {}))
            return SamplingResult(Decision.RECORD_AND_SAMPLE, {"_MS.sampleRate": 100.0})

        def get_description(self) -> str:
            return "OwnAttributesSampler"

    provider = TracerProvider(sampler=OwnAttributesSampler())
    provider.add_span_processor(SimpleSpanProcessor(otel.exporter))
    telemetry.configure(tracer_provider=provider, meter_provider=otel.meter_provider)
    client = emulator_client(azure_inference_emulator, sync)
    await maybe_await(client.complete(HI))
    await collect(await maybe_await(client.stream(HI)))
    await close(client)
    spans = otel.spans()
    assert len(spans) == 2
    for span in spans:
        attrs = dict(span.attributes)
        assert attrs["_MS.sampleRate"] == 100.0
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"]
        assert attrs["gen_ai.request.model"] == "emulator-chat"
        assert attrs["server.address"] == "127.0.0.1"
        assert attrs["gen_ai.response.model"]
    # The sampler still sees them when it decides.
    assert all(s["gen_ai.operation.name"] == "chat" for s in seen)
