"""Bulk work at a deployment's quota: wall time against the time the quota allows, and 429s.

python benchmarks/bulk.py                  # every job, ours and the installed peers (~8 min)
python benchmarks/bulk.py --quick          # a smaller corpus, ours only (~1 min)
python benchmarks/bulk.py --clients ours-langchain --jobs embed

The emulator runs in this process with a quota per deployment and ``time_scale=60`` (a minute of
quota refills in one real second); each client runs in a process of its own (the peers' under
``benchmarks/.peers-venv`` when it exists), so the emulator's CPU is not the client's. For every
(client, job) a fresh emulator starts with full buckets; the figures are:

- **wall**: the job's wall time in the client's process (client built and imported before);
- **allowed**: the least time the quota allows for what the emulator charged: its buckets start
  full (one minute of quota) and refill at the limit, so ``max((tokens - tpm) / tokens_rate,
  (requests - rpm) / requests_rate)``; **ratio** = wall / allowed (target <= 1.1);
- **429s**: refused requests / all requests the emulator saw (target < 1%).

Our clients are told the quota in real time (``tokens_per_minute = tpm * 60``...), since the
emulator's headers report the configured per-minute figures while its clock runs 60x faster.
The peers have no pacing to configure; they run with their own retry settings.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller job, ours only")
    parser.add_argument("--clients", help="comma-separated clients (default: all installed)")
    parser.add_argument("--jobs", default="embed,chat", help="embed,chat")
    parser.add_argument(
        "--worker", nargs=6, metavar=("CLIENT", "KIND", "ENDPOINT", "URL", "KEY", "JOB")
    )
    args = parser.parse_args()
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
