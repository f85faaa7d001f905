"""Bulk work at a deployment's quota: wall time against the time the quota allows, and 429s.

python benchmarks/bulk.py                  # every job, ours and the installed peers (~8 min)
python benchmarks/bulk.py --quick          # a smaller corpus, ours only (~1 min)
python benchmarks/bulk.py --clients ours-langchain --jobs embed
python benchmarks/bulk.py --modes           # ours against an Azure-like quota, every mode (~40 min)
python benchmarks/bulk.py --modes --jobs embed-langchain,gather --only full,none --scale 0.5

The emulator runs in this process with a quota per deployment and ``time_scale=60`` (a minute of
quota refills in one real second); each client runs in a process of its own (the peers' under
``benchmarks/.peers-venv`` when it exists), so the emulator's CPU is not the client's. For every
(client, job) a fresh emulator starts with full buckets; the figures are:

- **wall**: the job's wall time in the client's process (client built and imported before);
- **allowed**: the least time the quota allows for what the emulator charged: its buckets start
  full (one minute of quota) and refill at the limit, so ``max((tokens - tpm) / tokens_rate,
  (requests - rpm) / requests_rate)``; **ratio** = wall / allowed (target <= 1.1);
- **429s**: refused requests / all requests the emulator saw (target < 1%).

Our clients are told the quota in real time (``tokens_per_minute = tpm * 60``...), as the
emulator's ``x-ratelimit-limit-*`` headers report it (the configured figures times 60).
The peers have no pacing to configure; they run with their own retry settings.

``--modes`` runs ours against ``tests/quota_server.py`` instead: a quota as an Azure deployment
keeps it (the minute's bucket, which ``remaining`` reports, and a one-second window, so the
minute cannot go at once), in real time, in every header mode (``full``: limit and remaining;
``remaining`` only; ``none``), with the quota halved mid-run (``halved``, full headers) and with
2% of requests answered 500/503 (``faults``), each with nothing configured (``zero``) and with
the quota set (``set``). Jobs: LangChain ``embed_documents`` and LlamaIndex
``get_text_embedding_batch`` (tokens bind), LangChain ``abatch`` and LlamaIndex ``achat`` in a
user's own ``asyncio.gather`` (requests bind). **allowed** is the least time the quota allows for
what was charged: the window's burst at once, then the per-minute rate (half of it after a
halving); targets: zero configuration <= 1.15x (embeddings) or <= 1.3x (chat) with <= 2% / 5%
429s, set limits <= 1.1x with <= 1%, every item back in input order.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_PYTHON = HERE / ".peers-venv" / "bin" / "python"
SCALE = 60.0
EMBED_MODEL = "bench-embed"
CHAT_MODEL = "bench-chat"

JOBS: dict[str, dict[str, Any]] = {
    # 20,000 texts of 6 words (120,000 tokens as the emulator counts), 256 per request, against
    # 2,500 tokens and 600 requests a (scaled) minute: tokens bind, ~47 s allowed. (The
    # emulator embeds about 4,000 tokens a second on a busy 2-core machine: the quota is kept
    # well under it, so the quota, not the emulator, is what a client meets.)
    "embed": {"texts": 20_000, "batch": 256, "tpm": 2_500, "rpm": 600},
    # 1,000 prompts through abatch (max_tokens 8), against 30 requests and 30,000 tokens a
    # minute: requests bind, ~32 s allowed.
    "chat": {"prompts": 1_000, "tpm": 30_000, "rpm": 30},
}
QUICK = {"embed": {"texts": 4_000, "tpm": 1_000}, "chat": {"prompts": 300, "rpm": 15}}

CLIENTS = {
    "ours-langchain": ("embed", "chat"),
    "ours-llamaindex": ("embed",),
    "langchain-azure-ai": ("embed", "chat"),
    "llama-index-embeddings-azure-inference": ("embed",),
    "langchain-openai": ("embed", "chat"),
}
PEER_IMPORTS = {
    "langchain-azure-ai": "langchain_azure_ai",
    "llama-index-embeddings-azure-inference": "llama_index.embeddings.azure_inference",
    "langchain-openai": "langchain_openai",
}


def texts(n: int) -> list[str]:
    return [f"doc {i} about rivers and hills" for i in range(n)]


def prompts(n: int) -> list[str]:
    return [f"Question {i}: name a colour." for i in range(n)]


# ---- the worker: one client, one job, in its own process ---------------------------------------


def _ours_limits(job: dict[str, Any]) -> dict[str, Any]:
    return {"tokens_per_minute": job["tpm"] * SCALE, "requests_per_minute": job["rpm"] * SCALE}


def build(client: str, kind: str, endpoint: str, url: str, key: str, job: dict[str, Any]) -> Any:
    """The object whose bulk method the job calls (built before the clock starts)."""
    if client == "ours-langchain":
        from langchain_azureinference import AzureAIChatCompletionsModel, AzureAIEmbeddingsModel

        if kind == "embed":
            return AzureAIEmbeddingsModel(
                endpoint=endpoint, credential=key, model=EMBED_MODEL,
                embed_batch_size=job["batch"], client_kwargs=_ours_limits(job),
            )  # fmt: skip
        return AzureAIChatCompletionsModel(
            endpoint=endpoint, credential=key, model=CHAT_MODEL, max_tokens=8,
            client_kwargs=_ours_limits(job),
        )  # fmt: skip
    if client == "ours-llamaindex":
        from llamaindex_azureinference import AzureAIEmbeddingsModel as LIEmbeddings

        return LIEmbeddings(
            endpoint=endpoint, credential=key, model_name=EMBED_MODEL,
            embed_batch_size=job["batch"], client_kwargs=_ours_limits(job),
        )  # fmt: skip
    if client == "langchain-azure-ai":
        from langchain_azure_ai.chat_models.inference import (
            AzureAIChatCompletionsModel as PeerChat,
        )
        from langchain_azure_ai.embeddings.inference import (
            AzureAIEmbeddingsModel as PeerEmbeddings,
        )

        if kind == "embed":
            return PeerEmbeddings(
                endpoint=endpoint, credential=key, model=EMBED_MODEL,
                embed_batch_size=job["batch"],
            )  # fmt: skip
        return PeerChat(endpoint=endpoint, credential=key, model=CHAT_MODEL, max_tokens=8)
    if client == "llama-index-embeddings-azure-inference":
        from llama_index.embeddings.azure_inference import AzureAIEmbeddingsModel as PeerLI

        return PeerLI(
            endpoint=endpoint, credential=key, model_name=EMBED_MODEL,
            embed_batch_size=job["batch"],
        )  # fmt: skip
    if client == "langchain-openai":
        from langchain_openai import ChatOpenAI, OpenAIEmbeddings

        if kind == "embed":
            return OpenAIEmbeddings(
                base_url=f"{url}/v1", api_key=key, model=EMBED_MODEL, chunk_size=job["batch"],
                check_embedding_ctx_length=False,  # no tiktoken download
            )  # fmt: skip
        return ChatOpenAI(base_url=f"{url}/v1", api_key=key, model=CHAT_MODEL, max_tokens=8)
    raise ValueError(client)


def run_job(obj: Any, client: str, kind: str, job: dict[str, Any]) -> int:
    """Run the job; return how many results came back."""
    if kind == "embed":
        inputs = texts(job["texts"])
        if client.endswith("llamaindex") or client.startswith("llama-index"):
            return len(obj.get_text_embedding_batch(inputs))
        return len(obj.embed_documents(inputs))
    import asyncio

    return len(asyncio.run(obj.abatch(prompts(job["prompts"]))))


def worker(args: argparse.Namespace) -> None:
    job = json.loads(args.job_json)
    obj = build(args.client, args.kind, args.endpoint, args.url, args.key, job)
    start = time.perf_counter()
    try:
        count, error = run_job(obj, args.client, args.kind, job), None
    except Exception as exc:
        count, error = 0, f"{type(exc).__name__}: {str(exc)[:160]}"
    wall = time.perf_counter() - start
    print(json.dumps({"wall": wall, "count": count, "error": error}))


# ---- the driver ----------------------------------------------------------------------------------


def _available(client: str) -> str | None:
    """The interpreter to run ``client`` with, or None where it is not installed."""
    python = str(PEERS_PYTHON) if PEERS_PYTHON.exists() else sys.executable
    module = PEER_IMPORTS.get(client)
    if module is None:
        return python
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return python if probe.returncode == 0 else None


def measure(client: str, kind: str, job: dict[str, Any], python: str) -> dict[str, Any]:
    from azureinference.emulator import EmulatorConfig, ModelSpec, running_emulator

    config = EmulatorConfig(
        models=[
            ModelSpec(CHAT_MODEL),
            ModelSpec(EMBED_MODEL, kind="embeddings", dimensions=64),
        ],
        tokens_per_minute=job["tpm"],
        requests_per_minute=job["rpm"],
        time_scale=SCALE,
    )
    model = EMBED_MODEL if kind == "embed" else CHAT_MODEL
    with running_emulator(config) as emu:
        cmd = [python, str(HERE / "bulk.py"), "--worker", client, kind, emu.endpoint, emu.url]
        cmd += [emu.key, json.dumps(job)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
            stdout, stderr = done.stdout, done.stderr
        except subprocess.TimeoutExpired:
            stdout, stderr = "", "did not finish within 300 s"
        usage = emu.quota_usage(model)
    try:
        out = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        out = {"wall": float("nan"), "count": 0, "error": stderr.strip()[-300:]}
    rate_t, rate_r = job["tpm"] * SCALE / 60, job["rpm"] * SCALE / 60
    allowed = max((usage.tokens - job["tpm"]) / rate_t, (usage.requests - job["rpm"]) / rate_r)
    seen = usage.requests + usage.refused
    expected = job["texts"] if kind == "embed" else job["prompts"]
    return {
        "client": client,
        "job": kind,
        "wall": out["wall"],
        "allowed": allowed,
        "ratio": out["wall"] / allowed if allowed > 0 else float("nan"),
        "requests": seen,
        "refused": usage.refused,
        "share_429": usage.refused / seen if seen else 0.0,
        "complete": out["count"] == expected,
        "error": out["error"],
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| client | job | wall (s) | quota allows (s) | ratio | requests | 429s | result |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        result = "all results, in order" if r["complete"] else f"failed: {r['error']}"
        lines.append(
            f"| {r['client']} | {r['job']} | {r['wall']:.1f} | {r['allowed']:.1f} | "
            f"{r['ratio']:.2f}x | {r['requests']} | {r['refused']} ({r['share_429']:.1%}) | "
            f"{result} |"
        )
    return "\n".join(lines)


# ---- --modes: ours against an Azure-like quota (tests/quota_server.py) ----------------------

MODE_JOBS: dict[str, dict[str, Any]] = {
    # The sizes. 20,000 texts of 6 words, 32 a request (625 requests), at 144,000
    # tokens a minute (2,400 a second; requests to spare): ~49 s allowed.
    "embed-langchain": {"texts": 20_000, "batch": 32, "tpm": 144_000, "rpm": 6_000},
    "embed-llamaindex": {"texts": 20_000, "batch": 32, "tpm": 144_000, "rpm": 6_000},
    # 1,000 prompts (max_tokens 8) at 1,200 requests a minute (20 a second): ~49 s allowed.
    "abatch": {"prompts": 1_000, "tpm": 6_000_000, "rpm": 1_200},
    "gather": {"prompts": 1_000, "tpm": 6_000_000, "rpm": 1_200},
}
MODES = {
    "full": {"headers": "full"},
    "remaining": {"headers": "remaining"},
    "none": {"headers": "none"},
    "halved": {"headers": "full", "halve": True},
    "faults": {"headers": "full", "fail_every": 50},
}


def _mode_model(job_name: str, endpoint: str, job: dict[str, Any], limits: dict[str, Any]) -> Any:
    if job_name == "embed-langchain":
        from langchain_azureinference import AzureAIEmbeddingsModel

        return AzureAIEmbeddingsModel(
            endpoint=endpoint, credential="k", model="m", embed_batch_size=job["batch"],
            client_kwargs=limits,
        )  # fmt: skip
    if job_name == "embed-llamaindex":
        from llamaindex_azureinference import AzureAIEmbeddingsModel as LIEmbeddings

        return LIEmbeddings(
            endpoint=endpoint, credential="k", model_name="m", embed_batch_size=job["batch"],
            client_kwargs=limits,
        )  # fmt: skip
    if job_name == "abatch":
        from langchain_azureinference import AzureAIChatCompletionsModel

        return AzureAIChatCompletionsModel(
            endpoint=endpoint, credential="k", model="m", max_tokens=8, client_kwargs=limits
        )
    from llamaindex_azureinference import AzureAICompletionsModel

    return AzureAICompletionsModel(
        endpoint=endpoint, credential="k", model_name="m", max_tokens=8, client_kwargs=limits
    )


def _mode_run(job_name: str, model: Any, job: dict[str, Any]) -> tuple[int, bool]:
    """Run the job; (results, whether every result is its input's, in order)."""
    import asyncio

    if job_name.startswith("embed"):
        inputs = texts(job["texts"])
        if job_name == "embed-langchain":
            vectors = model.embed_documents(inputs)
        else:
            vectors = model.get_text_embedding_batch(inputs)
        return len(vectors), [round(v[0]) for v in vectors] == list(range(len(inputs)))
    questions = prompts(job["prompts"])
    if job_name == "abatch":
        answers = [m.content for m in asyncio.run(model.abatch(questions))]
    else:
        from llama_index.core.llms import ChatMessage

        async def gather() -> list[str]:
            calls = [model.achat([ChatMessage(role="user", content=q)]) for q in questions]
            return [str(r.message.content) for r in await asyncio.gather(*calls)]

        answers = asyncio.run(gather())
    return len(answers), answers == [f"You said: {q}" for q in questions]


def mode_worker(job_name: str, endpoint: str, job: dict[str, Any], configured: bool) -> None:
    """Run one job in this process; print wall time, results and whether they are in order."""
    model = _mode_model(job_name, endpoint, job, _limits(job) if configured else {})
    print("READY", flush=True)
    start = time.perf_counter()
    try:
        (count, ok), error = _mode_run(job_name, model, job), None
    except Exception as exc:
        count, ok, error = 0, False, f"{type(exc).__name__}: {str(exc)[:160]}"
    wall = time.perf_counter() - start
    print(json.dumps({"wall": wall, "count": count, "in_order": ok, "error": error}))


def _limits(job: dict[str, Any]) -> dict[str, Any]:
    return {"tokens_per_minute": job["tpm"], "requests_per_minute": job["rpm"]}


def _allowed(charged: float, per_minute: float, halve_at: float | None) -> float:
    """Least seconds for ``charged`` at ``per_minute`` (a one-second burst first), the rate
    halving at ``halve_at`` seconds."""
    rate = per_minute / 60.0
    work = max(0.0, charged - rate)  # the window's burst goes at once
    if halve_at is None or work <= rate * halve_at:
        return work / rate
    return halve_at + (work - rate * halve_at) / (rate / 2)


def measure_mode(job_name: str, mode: str, configured: bool, scale: float) -> dict[str, Any]:
    import threading

    sys.path.insert(0, str(ROOT))
    from tests.quota_server import quota_server

    job = dict(MODE_JOBS[job_name])
    for key in ("texts", "prompts"):
        if key in job:
            job[key] = max(10, int(job[key] * scale))
    settings = MODES[mode]
    kw = {k: v for k, v in settings.items() if k != "halve"}
    charged_kind = "tokens" if job_name.startswith("embed") else "requests"
    per_minute = job["tpm"] if charged_kind == "tokens" else job["rpm"]
    work = job["texts"] * 6 if charged_kind == "tokens" else job["prompts"]
    halve_at = _allowed(work, per_minute, None) / 2 if settings.get("halve") else None
    with quota_server(job["tpm"], job["rpm"], **kw) as server:
        timer = None
        if halve_at is not None:
            timer = threading.Timer(halve_at, server.set_limits, (job["tpm"] / 2, job["rpm"] / 2))
        cmd = [sys.executable, str(HERE / "bulk.py"), "--mode-worker", job_name, server.endpoint]
        cmd += [json.dumps(job), "set" if configured else "zero"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert proc.stdout is not None
        ready = proc.stdout.readline()  # the job's clock starts now: so does the halving's
        if timer is not None and ready.strip() == "READY":
            timer.start()
        try:
            stdout, stderr = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = "", "did not finish within 300 s"
        if timer is not None:
            timer.cancel()
        charged = server.charged if charged_kind == "tokens" else server.answered
        seen, throttled, failed = server.seen, server.throttled, server.failed
    try:
        out = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        out = {"wall": float("nan"), "count": 0, "in_order": False, "error": stderr.strip()[-300:]}
    allowed = _allowed(charged, per_minute, halve_at)
    expected = job.get("texts") or job["prompts"]
    return {
        "job": job_name,
        "mode": mode,
        "config": "set" if configured else "zero",
        "items": expected,
        "wall": out["wall"],
        "allowed": allowed,
        "ratio": out["wall"] / allowed if allowed > 0 else float("nan"),
        "requests": seen,
        "refused": throttled,
        "failed_5xx": failed,
        "share_429": throttled / seen if seen else 0.0,
        "complete": out["count"] == expected and out["in_order"],
        "error": out["error"],
    }


def mode_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| job (items) | headers | limits | wall (s) | allowed (s) | ratio | requests | 429s "
        "| result |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        result = "all, in order" if r["complete"] else f"failed: {r['error']}"
        lines.append(
            f"| {r['job']} ({r['items']}) | {r['mode']} | {r['config']} | {r['wall']:.1f} | "
            f"{r['allowed']:.1f} | {r['ratio']:.2f}x | {r['requests']} | {r['refused']} "
            f"({r['share_429']:.1%}) | {result} |"
        )
    return "\n".join(lines)


def run_modes(args: argparse.Namespace) -> None:
    jobs = args.jobs.split(",") if args.jobs != "embed,chat" else list(MODE_JOBS)
    modes = args.only.split(",") if args.only else list(MODES)
    configs = [False, True] if args.config == "both" else [args.config == "set"]
    rows = []
    for job_name in jobs:
        for mode in modes:
            for configured in configs:
                row = measure_mode(job_name, mode, configured, args.scale)
                rows.append(row)
                print(mode_table([row]).splitlines()[-1], flush=True)
    print()
    print(mode_table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller job, ours only")
    parser.add_argument("--clients", help="comma-separated clients (default: all installed)")
    parser.add_argument("--jobs", default="embed,chat", help="embed,chat")
    parser.add_argument(
        "--worker", nargs=6, metavar=("CLIENT", "KIND", "ENDPOINT", "URL", "KEY", "JOB")
    )
    parser.add_argument("--modes", action="store_true", help="ours against an Azure-like quota")
    parser.add_argument("--only", help="--modes: comma-separated modes (default: all)")
    parser.add_argument("--config", default="both", help="--modes: zero, set or both")
    parser.add_argument("--scale", type=float, default=1.0, help="--modes: share of the items")
    parser.add_argument("--mode-worker", nargs=4, metavar=("JOB", "ENDPOINT", "JOB_JSON", "CFG"))
    args = parser.parse_args()
    if args.mode_worker:
        name, endpoint, job_json, cfg = args.mode_worker
        mode_worker(name, endpoint, json.loads(job_json), cfg == "set")
        return
    if args.modes:
        run_modes(args)
        return
    if args.worker:
        names = ("client", "kind", "endpoint", "url", "key", "job_json")
        worker(argparse.Namespace(**dict(zip(names, args.worker, strict=True))))
        return
    clients = args.clients.split(",") if args.clients else list(CLIENTS)
    if args.quick and not args.clients:
        clients = [c for c in clients if c.startswith("ours")]
    rows = []
    for kind in args.jobs.split(","):
        job = {**JOBS[kind], **(QUICK[kind] if args.quick else {})}
        for client in clients:
            if kind not in CLIENTS[client]:
                continue
            python = _available(client)
            if python is None:
                print(f"{client}: not installed (bash benchmarks/setup_peers.sh), skipped")
                continue
            row = measure(client, kind, job, python)
            rows.append(row)
            print(table([row]).splitlines()[-1], flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
