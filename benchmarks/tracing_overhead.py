"""What tracing costs a call: unused (the default), and with an OpenTelemetry SDK configured.

Four states, each in its own worker process (they are process-wide), interleaved over rounds:

- ``not imported``: the application never imports opentelemetry (the default);
- ``no provider``: opentelemetry is imported but no provider is set (a library imported it);
- ``sdk, dropped``: SDK tracer and meter providers with nothing exporting (spans built, dropped);
- ``sdk, in memory``: SDK providers with an in-memory span exporter and metric reader.

Each worker times the telemetry hooks alone (open, record the answer, close: no I/O), then real
calls against ``server.py`` (a separate process): a chat completion and a 3,000-chunk stream.
The first two states must cost nothing measurable: their hook cost is a few hundred
nanoseconds, far below a call's spread.

    python benchmarks/tracing_overhead.py [--rounds 3] [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
STATES = ["not imported", "no provider", "sdk, dropped", "sdk, in memory"]
MESSAGES = [{"role": "user", "content": "Hello"}]


def _setup(state: str) -> Any:
    if state == "no provider":
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    elif state.startswith("sdk"):
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = TracerProvider()
        readers = []
        if state == "sdk, in memory":
            exporter = InMemorySpanExporter()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            readers.append(InMemoryMetricReader())
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=readers))
        return provider
    return None


def _hooks_ns(n: int) -> float:
    """Nanoseconds per call of the hooks alone: open, record a parsed answer, close."""
    from azureinference import parse_endpoint
    from azureinference.telemetry import start_chat
    from azureinference.types import ChatCompletion

    endpoint = parse_endpoint("https://r.services.ai.azure.com/models")
    answer = ChatCompletion.model_validate(
        {
            "id": "c",
            "model": "m",
            "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )
    params = {"temperature": 0.5, "max_tokens": 20}
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(n):
            with start_chat(endpoint, "m", MESSAGES, params) as op:
                op.chat_result(answer)
        best = min(best, (time.perf_counter_ns() - start) / n)
    return best


def worker(state: str, url: str, calls: int) -> dict[str, float]:
    """Run one state's measurements; return medians in microseconds (hooks in nanoseconds)."""
    _setup(state)
    from azureinference import Client

    out: dict[str, float] = {"hooks_ns": _hooks_ns(calls * 10)}
    with Client(url + "/models", "bench-key", model="gpt-4o-mini", max_retries=0) as client:
        for _ in range(20):
            client.complete(MESSAGES)
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            client.complete(MESSAGES)
            times.append(time.perf_counter() - start)
        out["chat_us"] = statistics.median(times) * 1e6
        times = []
        for _ in range(max(3, calls // 30)):
            start = time.perf_counter()
            for _ in client.stream(MESSAGES):
                pass
            times.append(time.perf_counter() - start)
        out["stream_us"] = statistics.median(times) * 1e6
    out["otel_imported"] = float(any(m.startswith("opentelemetry") for m in sys.modules))
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server.py did not start on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.url, args.calls)))
        return

    port = _free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "server.py"), "--port", str(port)])
    try:
        _wait_for(port)
        results: dict[str, list[dict[str, float]]] = {s: [] for s in STATES}
        for r in range(args.rounds):
            for state in STATES if r % 2 == 0 else reversed(STATES):
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", state, "--url",
                     f"http://127.0.0.1:{port}", "--calls", str(args.calls)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results[state].append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"{args.rounds} rounds, {args.calls} chat calls per round; medians across rounds\n")
    print("| state | hooks alone | chat call | 3,000-chunk stream | opentelemetry imported |")
    print("| --- | ---: | ---: | ---: | --- |")
    for state in STATES:
        rows = results[state]

        def med(key: str, rows: list[dict[str, float]] = rows) -> float:
            return statistics.median(row[key] for row in rows)

        imported = "yes" if med("otel_imported") else "no"
        print(
            f"| {state} | {med('hooks_ns'):,.0f} ns | {med('chat_us'):,.0f} µs "
            f"| {med('stream_us') / 1000:,.1f} ms | {imported} |"
        )


if __name__ == "__main__":
    main()
