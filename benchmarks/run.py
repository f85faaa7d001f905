"""Client-side CPU, memory and import time: our package against the clients a user would pick.

One command, from the repository root, with the project's interpreter::

    .venv/bin/python benchmarks/run.py [--rounds 5] [--quick] [--write-readme]

It starts `server.py` (a separate process: its CPU is not counted), then for each round runs
every (client, job) in a fresh process (`jobs.py`) and one import probe per client, rotating the
order from round to round, and prints the medians over the rounds with each client's ratio to
the floor (raw ``httpx2``; async over httpx-aiohttp) and to our client of the same layer.
Clients run under ``benchmarks/.peers-venv`` when it exists (``bash benchmarks/setup_peers.sh``),
so ours and the peers share one interpreter and one set of library versions; without it, only our
clients, the floor and LangChain's fake model run, under this interpreter, and the peers show as
absent.

``--profile CLIENT:JOB`` runs one job under pyinstrument instead and prints where the time goes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_PYTHON = HERE / ".peers-venv" / "bin" / "python"
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

JOBS = ("chat", "stream", "embed", "async")
JOB_UNITS = {
    "chat": "µs/call",
    "stream": "µs/chunk",
    "embed": "µs/text",
    "async": "µs/call",
}
JOB_TITLES = {
    "chat": "One chat call (`invoke` / `chat` / `complete`)",
    "stream": "One streamed chunk (a 3,000-chunk stream)",
    "embed": "One embedded text (2,000 texts, 1,024 dimensions)",
    "async": "One call among 300 concurrent async calls",
}

LC_FRAMEWORK = ("langchain_core.language_models.chat_models", "langchain_core.embeddings")
LI_FRAMEWORK = ("llama_index.core.llms", "llama_index.core.base.embeddings.base")


@dataclass(frozen=True)
class Client:
    """A client row: its layer, whether it is ours or a peer, its jobs and its imports."""

    name: str
    layer: str  # "core", "langchain" or "llamaindex"
    kind: str  # "floor", "ours", "peer" or "reference"
    jobs: tuple[str, ...]
    framework: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    label: str = ""


_LC_ALL = ("chat", "stream", "async")
CLIENTS = (
    Client(
        "httpx2", "core", "floor", JOBS, (), ("httpx2",),
        "raw `httpx2` + `json.loads`; async over `httpx-aiohttp` (floor)",
    ),
    Client("httpx", "core", "reference", JOBS, (), ("httpx",), "raw `httpx` 0.28 (stock)"),
    Client(
        "azureinference", "core", "ours", JOBS, (),
        ("azureinference:Client/AsyncClient",),
        "**`azureinference`**",
    ),
    Client(
        "azure-ai-inference", "core", "peer", JOBS, (),
        ("azure.ai.inference:ChatCompletionsClient/EmbeddingsClient",),
        "`azure-ai-inference`",
    ),
    Client(
        "openai", "core", "peer", JOBS, (),
        ("openai:OpenAI/AsyncOpenAI",),
        "`openai` (at `/v1`)",
    ),
    Client(
        "lc-fake", "langchain", "reference", _LC_ALL, LC_FRAMEWORK, (),
        "LangChain fake chat model (no I/O)",
    ),
    Client(
        "lc-min", "langchain", "reference", JOBS, LC_FRAMEWORK, (),
        "minimal LangChain model on the core (reference)",
    ),
    Client(
        "lc-ours", "langchain", "ours", JOBS, LC_FRAMEWORK,
        ("langchain_azureinference:AzureAIChatCompletionsModel/AzureAIEmbeddingsModel",),
        "**`langchain_azureinference`**",
    ),
    Client(
        "langchain-azure-ai", "langchain", "peer", JOBS, LC_FRAMEWORK,
        (
            "langchain_azure_ai.chat_models.inference:AzureAIChatCompletionsModel",
            "langchain_azure_ai.embeddings.inference:AzureAIEmbeddingsModel",
        ),
        "`langchain-azure-ai` (inference classes)",
    ),
    Client(
        "langchain-openai", "langchain", "peer", JOBS, LC_FRAMEWORK,
        ("langchain_openai:ChatOpenAI/OpenAIEmbeddings",),
        "`langchain-openai` (at `/v1`)",
    ),
    Client(
        "li-min", "llamaindex", "reference", JOBS, LI_FRAMEWORK, (),
        "minimal LlamaIndex LLM on the core (reference)",
    ),
    Client(
        "li-ours", "llamaindex", "ours", JOBS, LI_FRAMEWORK,
        ("llamaindex_azureinference:AzureAICompletionsModel/AzureAIEmbeddingsModel",),
        "**`llamaindex_azureinference`**",
    ),
    Client(
        "llama-index-azure-inference", "llamaindex", "peer", JOBS, LI_FRAMEWORK,
        (
            "llama_index.llms.azure_inference:AzureAICompletionsModel",
            "llama_index.embeddings.azure_inference:AzureAIEmbeddingsModel",
        ),
        "`llama-index-{llms,embeddings}-azure-inference`",
    ),
)  # fmt: skip
BY_NAME = {c.name: c for c in CLIENTS}
OPT_IN = frozenset({"lc-min", "li-min"})  # with --references (or --quick, or --clients)
OURS_BY_LAYER = {"core": "azureinference", "langchain": "lc-ours", "llamaindex": "li-ours"}

# A fresh process times the framework's imports, then the client's on top of them.
IMPORT_PROBE = """
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
framework, modules = sys.argv[1].split(","), sys.argv[2].split(",")
w0, c0 = time.perf_counter(), cpu()
for m in filter(None, framework):
    __import__(m)
w1, c1 = time.perf_counter(), cpu()
for spec in filter(None, modules):
    name, _, names = spec.partition(":")
    module = __import__(name, fromlist=["_"])
    for attr in filter(None, names.split("/")):
        getattr(module, attr)  # `from module import attr`, as a user writes it
w2, c2 = time.perf_counter(), cpu()
print(json.dumps({"ok": True, "framework": w1 - w0, "own": w2 - w1, "own_cpu": c2 - c1,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@dataclass
class Sizes:
    """How much work one measurement does (per fresh process); see `jobs.py`."""

    calls: int = 40
    slices: int = 5
    reps: int = 2
    budget: float = 4.0
    timeout: float = 240.0

    def args(self) -> list[str]:
        return [
            "--calls", str(self.calls), "--slices", str(self.slices),
            "--reps", str(self.reps), "--budget", str(self.budget),
        ]  # fmt: skip


@dataclass
class Cell:
    """One (client, job) over the rounds."""

    per_unit: list[float] = field(default_factory=list)  # CPU seconds per unit
    wall: list[float] = field(default_factory=list)
    maxrss_kb: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # import probes: CPU seconds of the import
    slices: list[Any] = field(default_factory=list)  # jobs: each round's (CPU, wall) slices

    def median(self) -> float | None:
        return statistics.median(self.per_unit) if self.per_unit else None


# ---------------------------------------------------------------- processes


OUR_PACKAGES = ("azureinference", "langchain_azureinference", "llamaindex_azureinference")
VERSIONED = (
    "httpx2", "httpx-aiohttp", "aiohttp", "httpx", "pydantic", "langchain-core",
    "llama-index-core", "azure-ai-inference",
    "langchain-azure-ai", "langchain-openai", "openai", "llama-index-llms-azure-inference",
    "llama-index-embeddings-azure-inference",
)  # fmt: skip


def probe_versions(python: Path) -> str:
    code = (
        "import importlib.metadata as m, sys\n"
        "out = []\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        out.append(f'{name} {m.version(name)}')\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(', '.join(out))\n"
    )
    proc = subprocess.run(
        [str(python), "-c", code, *VERSIONED], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() or "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/models/info"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"The benchmark server exited: {err}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("The benchmark server did not start in 30 s.")


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except ValueError:
                return None
    return None


def run_process(cmd: list[str], timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    # Bytecode is cached as for any installed package (peers' site-packages have theirs).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("AZURE_INFERENCE_ENDPOINT", None)
    env.pop("AZURE_INFERENCE_CREDENTIAL", None)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    result = _last_json(proc.stdout)
    if result is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "error": f"exit {proc.returncode}: {tail[:160]}"}
    return result


def run_job(python: Path, client: str, job: str, url: str, sizes: Sizes) -> dict[str, Any]:
    cmd = [str(python), str(HERE / "jobs.py"), client, job, "--url", url, *sizes.args()]
    return run_process(cmd, sizes.timeout)


def run_import(python: Path, client: Client) -> dict[str, Any]:
    cmd = [str(python), "-c", IMPORT_PROBE, ",".join(client.framework), ",".join(client.modules)]
    return run_process(cmd, 120)


# ---------------------------------------------------------------- formatting


def fmt_us(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    us = seconds * 1e6
    return f"{us:,.0f}" if us >= 100 else f"{us:.1f}"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "-"
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "n/a"
    if cell.per_unit:
        return fmt_us(cell.median())
    return f"n/a (error: {short(cell.errors[-1] if cell.errors else 'none')})"


def short(error: str, limit: int = 70) -> str:
    error = error.replace("|", "/")
    return error if len(error) <= limit else error[: limit - 3] + "..."


def job_table(job: str, cells: dict[tuple[str, str], Cell], clients: list[Client]) -> list[str]:
    floor = cells.get(("httpx2", job))
    floor_m = floor.median() if floor else None
    lines = [
        f"| client | CPU {JOB_UNITS[job]} | x floor | x ours | peak RSS MB | wall s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in clients:
        if job not in c.jobs:
            continue
        cell = cells.get((c.name, job))
        m = cell.median() if cell else None
        ours = cells.get((OURS_BY_LAYER[c.layer], job))
        ours_m = ours.median() if ours else None
        rss = f"{statistics.median(cell.maxrss_kb) / 1024:.0f}" if cell and cell.maxrss_kb else "-"
        wall = f"{statistics.median(cell.wall):.2f}" if cell and cell.wall else "-"
        lines.append(
            f"| {c.label} | {cell_text(cell)} | {fmt_ratio(m, floor_m)} | "
            f"{fmt_ratio(m, ours_m)} | {rss} | {wall} |"
        )
    return lines


def import_table(imports: dict[str, Cell], clients: list[Client]) -> list[str]:
    lines = [
        "| client | framework import ms | client import on top, ms | (CPU ms) | RSS after MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for c in clients:
        if not c.modules:
            continue
        cell = imports.get(c.name)
        if cell is None or not cell.per_unit:
            err = short(cell.errors[-1]) if cell and cell.errors else "not run"
            lines.append(f"| {c.label} | n/a (error: {err}) | | | |")
            continue
        fw = statistics.median(cell.wall) * 1000
        own = statistics.median(cell.per_unit) * 1000
        own_cpu = statistics.median(cell.cpu) * 1000
        rss = statistics.median(cell.maxrss_kb) / 1024
        fw_text = f"{fw:.0f}" if c.framework else "-"
        lines.append(f"| {c.label} | {fw_text} | {own:.0f} | {own_cpu:.0f} | {rss:.0f} |")
    return lines


def _m(cells: dict[tuple[str, str], Cell], client: str, job: str) -> float | None:
    cell = cells.get((client, job))
    return cell.median() if cell else None


def targets(cells: dict[tuple[str, str], Cell]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows."""
    rows: list[tuple[str, str, str]] = []

    def check(name: str, ours: float | None, bound: float | None, what: str) -> None:
        if ours is None or bound is None:
            rows.append((name, f"n/a ({what})", "n/a"))
            return
        ok = ours <= bound
        rows.append((name, f"{fmt_us(ours)} vs bound {fmt_us(bound)} µs ({what})",
                     "**pass**" if ok else "**FAIL**"))  # fmt: skip

    def scaled(x: float | None, k: float) -> float | None:
        return None if x is None else x * k

    lc_chat = _m(cells, "lc-ours", "chat")
    check(
        "LangChain `invoke` <= 0.5x `langchain-azure-ai`",
        lc_chat,
        scaled(_m(cells, "langchain-azure-ai", "chat"), 0.5),
        "µs/call",
    )
    floor_chat, fake_chat = _m(cells, "httpx2", "chat"), _m(cells, "lc-fake", "chat")
    check(
        "LangChain `invoke` <= 1.3x (raw httpx2 + LangChain's own per-call cost)",
        lc_chat,
        None if floor_chat is None or fake_chat is None else 1.3 * (floor_chat + fake_chat),
        "µs/call",
    )
    peers = {
        "core": ("azure-ai-inference", "openai"),
        "langchain": ("langchain-azure-ai", "langchain-openai"),
        "llamaindex": ("llama-index-azure-inference",),
    }
    for layer, names in peers.items():
        best = [m for m in (_m(cells, n, "stream") for n in names) if m is not None]
        check(
            f"Streaming ({layer}) <= 0.5x the best peer ({' / '.join(names)})",
            _m(cells, OURS_BY_LAYER[layer], "stream"),
            0.5 * min(best) if best else None,
            "µs/chunk",
        )
    lc_emb, li_emb = _m(cells, "lc-ours", "embed"), _m(cells, "li-ours", "embed")
    check(
        "Embeddings (LangChain) <= 0.1x `langchain-azure-ai`",
        lc_emb,
        scaled(_m(cells, "langchain-azure-ai", "embed"), 0.1),
        "µs/text",
    )
    check(
        "Embeddings (LlamaIndex) <= 0.1x `llama-index-embeddings-azure-inference`",
        li_emb,
        scaled(_m(cells, "llama-index-azure-inference", "embed"), 0.1),
        "µs/text",
    )
    check(
        "Embeddings (LangChain) <= 0.7x `langchain-openai`",
        lc_emb,
        scaled(_m(cells, "langchain-openai", "embed"), 0.7),
        "µs/text",
    )
    sdk_async = _m(cells, "azure-ai-inference", "async")
    check(
        "300 concurrent async calls (core) <= `azure-ai-inference` async",
        _m(cells, "azureinference", "async"),
        sdk_async,
        "µs/call",
    )
    check(
        "300 concurrent `ainvoke` (LangChain) <= `langchain-azure-ai`",
        _m(cells, "lc-ours", "async"),
        _m(cells, "langchain-azure-ai", "async"),
        "µs/call",
    )
    check(
        "300 concurrent `achat` (LlamaIndex) <= `llama-index-llms-azure-inference`",
        _m(cells, "li-ours", "async"),
        _m(cells, "llama-index-azure-inference", "async"),
        "µs/call",
    )
    check(
        "Core sync call <= 1.05x raw `httpx2`",
        _m(cells, "azureinference", "chat"),
        scaled(floor_chat, 1.05),
        "µs/call",
    )
    check(
        "Core async, 300 concurrent <= 1.15x raw `httpx2` + aiohttp transport",
        _m(cells, "azureinference", "async"),
        scaled(_m(cells, "httpx2", "async"), 1.15),
        "µs/call",
    )
    for name, label, peer in (
        ("lc-ours", "LangChain `ainvoke`", "langchain-azure-ai"),
        ("li-ours", "LlamaIndex `achat`", "llama-index-azure-inference"),
    ):
        check(
            f"{label} <= 1.0x `azure-ai-inference` async `complete`",
            _m(cells, name, "async"),
            sdk_async,
            "µs/call",
        )
        check(
            f"{label} <= 0.6x `{peer}`",
            _m(cells, name, "async"),
            scaled(_m(cells, peer, "async"), 0.6),
            "µs/call",
        )
    return rows


def report(
    cells: dict[tuple[str, str], Cell],
    imports: dict[str, Cell],
    clients: list[Client],
    meta: dict[str, Any],
) -> str:
    out = [
        f"Taken {meta['date']} on {meta['machine']}; {meta['rounds']} interleaved round(s), "
        f"medians; {meta['where']}.",
        "",
        f"Versions: {meta['versions']}.",
        "",
        "CPU is the client process's user + system time over the measured loop (after a warm-up "
        "call), divided by the units; the server's CPU is not counted. *x floor* is the ratio to "
        "raw `httpx2` (async: over its aiohttp transport), *x ours* to our client of the same "
        "layer (the core, the LangChain adapter or the LlamaIndex adapter). Peak RSS is the job "
        "process's `ru_maxrss`.",
        "",
    ]
    for job in JOBS:
        if any(k[1] == job for k in cells):
            out += [f"#### {JOB_TITLES[job]}", "", *job_table(job, cells, clients), ""]
    if imports:
        out += [
            "#### Import time (fresh process; median wall time)",
            "",
            *import_table(imports, clients),
            "",
        ]
    out += [
        "#### Targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    out += [f"| {t} | {m} | {v} |" for t, m, v in targets(cells)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main


def profile(python: Path, spec: str, url: str, sizes: Sizes) -> None:
    client, _, job = spec.partition(":")
    path = RESULTS / f"profile-{client}-{job}.txt"
    RESULTS.mkdir(exist_ok=True)
    cmd = [
        str(python), str(HERE / "jobs.py"), client, job, "--url", url, *sizes.args(),
        "--profile", str(path),
    ]  # fmt: skip
    result = run_process(cmd, sizes.timeout)
    print(json.dumps(result))
    if path.exists():
        print(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run)")
    parser.add_argument("--clients", help="comma-separated client names (default: all)")
    parser.add_argument("--jobs", help=f"comma-separated jobs (default: {','.join(JOBS)})")
    parser.add_argument("--no-peers", action="store_true", help="ignore benchmarks/.peers-venv")
    parser.add_argument("--no-imports", action="store_true", help="skip the import probes")
    parser.add_argument(
        "--references",
        action="store_true",
        help="add the minimal LangChain / LlamaIndex models on the core (lc-min, li-min)",
    )
    parser.add_argument("--write-readme", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--profile", metavar="CLIENT:JOB", help="profile one job and stop")
    parser.add_argument("--note", default="", help="a remark for the table's header line")
    args = parser.parse_args()

    sizes = Sizes()
    rounds = args.rounds
    if args.quick:
        rounds, sizes = 1, Sizes(calls=25, slices=2, reps=1)
    peers = PEERS_PYTHON.exists() and not args.no_peers
    python = PEERS_PYTHON if peers else Path(sys.executable)
    clients = [c for c in CLIENTS if peers or c.kind != "peer"]
    if not (args.references or args.quick or args.clients):
        clients = [c for c in clients if c.name not in OPT_IN]
    if args.clients:
        wanted = set(args.clients.split(","))
        unknown = wanted - set(BY_NAME)
        if unknown:
            raise SystemExit(f"Unknown client(s) {sorted(unknown)}; known: {sorted(BY_NAME)}")
        clients = [c for c in clients if c.name in wanted]
    jobs = tuple(args.jobs.split(",")) if args.jobs else JOBS

    versions = probe_versions(python)
    # Compile our packages once, as an install would: PYTHONDONTWRITEBYTECODE (set in some
    # environments) would otherwise make every fresh process compile them from source.
    subprocess.run(
        [str(python), "-m", "compileall", "-q", *OUR_PACKAGES],
        cwd=ROOT, capture_output=True, check=False,
    )  # fmt: skip
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        if args.profile:
            profile(python, args.profile, url, sizes)
            return
        where = (
            f"every client under `benchmarks/.peers-venv` ({platform.python_version()})"
            if peers
            else "peers absent (no `benchmarks/.peers-venv`): our clients and the floor only"
        )
        print(f"# {where}; {rounds} round(s); server at {url}", flush=True)
        cells: dict[tuple[str, str], Cell] = {}
        imports: dict[str, Cell] = {}
        tasks = [(c, j) for c in clients for j in jobs if j in c.jobs]
        started = time.monotonic()
        for r in range(rounds):
            shift = (r * 3) % max(1, len(tasks))
            order = tasks[shift:] + tasks[:shift]  # rotate, so no client always goes first
            for c, job in order:
                res = run_job(python, c.name, job, url, sizes)
                cell = cells.setdefault((c.name, job), Cell())
                if res.get("ok"):
                    cell.per_unit.append(res["best"])
                    cell.wall.append(res["wall"])
                    cell.maxrss_kb.append(res["maxrss_kb"])
                    cell.slices.append(res["slices"])
                    text = f"{fmt_us(res['best'])} {JOB_UNITS[job]}"
                else:
                    cell.errors.append(res.get("error", "?"))
                    text = f"n/a ({res.get('error')})"
                print(f"  round {r + 1} {c.name:28} {job:7} {text}", flush=True)
            if not args.no_imports:
                for c in clients:
                    if not c.modules:
                        continue
                    res = run_import(python, c)
                    cell = imports.setdefault(c.name, Cell())
                    if res.get("ok"):
                        cell.per_unit.append(res["own"])
                        cell.wall.append(res["framework"])
                        cell.maxrss_kb.append(res["maxrss_kb"])
                        cell.cpu.append(res["own_cpu"])
                    else:
                        cell.errors.append(res.get("error", "?"))
            print(f"# round {r + 1} done at {time.monotonic() - started:.0f} s", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} CPU(s), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}" + (f" ({args.note})" if args.note else ""),
        "rounds": rounds,
        "where": where,
        "versions": versions,
    }
    text = report(cells, imports, clients, meta)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    raw = {
        "meta": meta,
        "cells": {f"{k[0]}:{k[1]}": v.__dict__ for k, v in cells.items()},
        "imports": {k: v.__dict__ for k, v in imports.items()},
    }
    (RESULTS / "latest.json").write_text(json.dumps(raw, indent=1))
    (RESULTS / "latest.md").write_text(text)
    if args.write_readme:
        readme = README.read_text()
        if START in readme and END in readme:
            head, rest = readme.split(START, 1)
            _, tail = rest.split(END, 1)
            README.write_text(f"{head}{START}\n{text}{END}{tail}")
            print(f"Updated {README.relative_to(ROOT)}")
        else:
            print(f"{README.relative_to(ROOT)} has no {START} / {END} markers: not updated")


if __name__ == "__main__":
    main()
