"""Shared test setup: VCR config with scrubbers, the placeholder endpoint, data loaders.

Cassettes are recorded against the local emulator (``--record-mode=once``) or a real endpoint
(``AZURE_INFERENCE_ENDPOINT`` set), and always stored with the host rewritten to
`PLACEHOLDER_ENDPOINT` and every credential header removed. CI replays them (``record_mode`` none)
with the network disabled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from azureinference import cassettes

DATA = Path(__file__).parent / "data"
PLACEHOLDER_HOST = "test-resource.services.ai.azure.com"
PLACEHOLDER_ENDPOINT = f"https://{PLACEHOLDER_HOST}/models"
PLACEHOLDER_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """pytest-recording configuration: the core's scrubbing, host-rewritten, matched on the body.

    `azureinference.cassettes.vcr_config` removes every credential header (ours, the well-known
    ones, the names of HeaderCredentials) and secret query values; users' own configs use it too.
    """
    return cassettes.vcr_config(
        placeholder_host=PLACEHOLDER_HOST, match_on=["method", "path", "query", "body"]
    )


def is_recording(config: pytest.Config) -> bool:
    """True when cassettes may be (re)recorded in this run."""
    mode = config.getoption("--record-mode", default="none")
    return mode not in (None, "none")


@pytest.fixture
def cassette_endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(endpoint, key) for cassette tests.

    Replaying: the placeholder endpoint and key (the cassette answers). Recording: the real endpoint
    from ``AZURE_INFERENCE_ENDPOINT``/``_CREDENTIAL`` if set, else a local emulator whose URL is
    rewritten to the placeholder when stored.
    """
    if not is_recording(request.config):
        yield PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY
        return
    real = os.environ.get("AZURE_INFERENCE_ENDPOINT")
    if real:
        yield real, os.environ["AZURE_INFERENCE_CREDENTIAL"]
        return
    from azureinference.emulator import running_emulator

    with running_emulator() as emu:
        yield emu.url + "/models", emu.key


def load_json(name: str) -> Any:
    """Load a JSON file under tests/data."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sdk_scenarios() -> dict[str, dict[str, Any]]:
    """The reference SDK's wire capture, by scenario name."""
    data = load_json("sdk_wire_capture.json")
    return {s["name"]: s for s in data["scenarios"]}


@pytest.fixture(autouse=True)
def _no_inference_env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Keep a developer's real endpoint variables out of tests (except when recording)."""
    if is_recording(request.config):
        return
    for name in (
        "AZURE_INFERENCE_ENDPOINT",
        "AZURE_INFERENCE_CREDENTIAL",
        "AZURE_AI_INFERENCE_ENDPOINT",
        "AZURE_AI_INFERENCE_CREDENTIAL",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)


class OTelRecording:
    """What the OpenTelemetry SDK recorded: finished spans and histogram points."""

    def __init__(
        self, exporter: Any, reader: Any, tracer_provider: Any, meter_provider: Any
    ) -> None:
        self.exporter = exporter
        self.reader = reader
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider

    def spans(self) -> list[Any]:
        """The finished spans, oldest first."""
        return list(self.exporter.get_finished_spans())

    def children(self, parent: Any) -> list[Any]:
        """The finished spans whose parent is ``parent`` (a live span), oldest first."""
        span_id = parent.get_span_context().span_id
        return [s for s in self.spans() if s.parent is not None and s.parent.span_id == span_id]

    def points(self, name: str) -> list[Any]:
        """The histogram points of metric ``name`` (attributes, count, sum)."""
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        out.extend(metric.data.data_points)
        return out


@pytest.fixture
def otel() -> Iterator[OTelRecording]:
    """Our telemetry recorded by an SDK tracer and meter provider of this test only.

    The providers go through ``azureinference.telemetry.configure`` rather than the global
    setters, which can be called once per process: other tests stay untraced.
    """
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from azureinference import telemetry

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.configure(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield OTelRecording(exporter, reader, tracer_provider, meter_provider)
    finally:
        telemetry.configure()
        tracer_provider.shutdown()
        meter_provider.shutdown()


@pytest.fixture
def silent_endpoint() -> Iterator[Any]:
    """A 127.0.0.1 endpoint that never answers, and a check that nothing connected to it.

    Yields ``(url, connected)``: a call that reached it would hang until its timeout (so not
    fail with a `ConfigurationError`), and ``connected()`` tells whether any connection came.
    """
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)

    def connected() -> bool:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/models", connected
    finally:
        listener.close()


def assert_refused_before_io(
    silent_endpoint: Any, cls: Any, options: dict[str, Any], call: Any, names: str, secret: str
) -> None:
    """Build ``cls`` against `silent_endpoint` and make ``call``: a clear error, no connection.

    The error (the core's `ConfigurationError`, pydantic's ``ValidationError``, both ValueErrors)
    must name ``names`` and never quote ``secret``.
    """
    url, connected = silent_endpoint
    kwargs = {"endpoint": url, "credential": "k", "timeout": 3, "max_retries": 0, **options}

    def run() -> None:
        model = cls(**kwargs)
        if call is not None:
            call(model)

    with pytest.raises(ValueError) as info:
        run()
    assert names in str(info.value)
    assert secret not in str(info.value)
    assert not connected()
