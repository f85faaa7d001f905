"""Tracing: every model call is an OpenTelemetry span (GenAI conventions), printed to the console.

Nothing to attach: set a tracer provider (here the SDK's, exporting to the console; in production
``configure_azure_monitor()`` or an OTLP exporter) and the core traces each call, under whatever
span is current. Prompts and answers are recorded only when asked, as here with
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``.

    pip install 'azure-inference-integrations[tracing]' opentelemetry-sdk
    python examples/tracing.py
"""

from __future__ import annotations

import os

from _endpoint import connection
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from azureinference import Client
from langchain_azureinference import AzureAIChatCompletionsModel


def setup() -> InMemoryMetricReader:
    """The SDK providers: spans to the console, metrics kept in memory for a summary."""
    resource = Resource.create({"service.name": "tracing-example"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader], resource=resource))
    return reader


def main() -> None:
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
    reader = setup()
    tracer = trace.get_tracer("tracing-example")
    with connection() as c, tracer.start_as_current_span("answer a question"):
        # The core client: a call, and a stream whose span ends with the stream.
        with Client(c.endpoint, c.credential, model=c.chat_model) as client:
            client.complete([{"role": "user", "content": "Say hello to the tracer."}])
            for _ in client.stream([{"role": "user", "content": "Count to three."}]):
                pass
            client.embed(["a text to embed"], model=c.embeddings_model)
        # LangChain (LlamaIndex alike): no callback, the same spans, under the current one.
        llm = AzureAIChatCompletionsModel(
            endpoint=c.endpoint, credential=c.credential, model=c.chat_model
        )
        llm.invoke("Hello from LangChain.")

    print("metrics:")
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    kind = point.attributes.get("gen_ai.token.type", "")
                    print(
                        f"  {metric.name} {point.attributes['gen_ai.operation.name']} {kind}"
                        f" count={point.count} sum={point.sum:.4g} {metric.unit}"
                    )


if __name__ == "__main__":
    main()
