"""``python -m azureinference.emulator``: serve the emulator until Ctrl-C.

```bash
python -m azureinference.emulator --port 0 --model gpt-4o-mini --model text-embed:embeddings
python -m azureinference.emulator --config emulator.json --tpm 600000 --rpm 600 --time-scale 60
```

The endpoint is printed once the port accepts connections, so a script may connect as soon as it
reads the first line.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from .app import EmulatorState
from .config import EmulatorConfig, config_from_file, model_from_arg
from .server import _bind, _uvicorn, server_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m azureinference.emulator",
        description="A local emulator of the Azure AI Model Inference API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = free)")
    parser.add_argument("--key", help="the key to accept (default: a random one, printed)")
    parser.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    parser.add_argument(
        "--entra-audience",
        metavar="AUDIENCE",
        help="also accept Entra ID tokens for this audience, e.g. https://ai.azure.com "
        "(JWTs; their signature is not checked)",
    )
    parser.add_argument(
        "--envelope", action="store_true", help='wrap answers as {"code", "msg", "data"}'
    )
    parser.add_argument("--latency", type=float, help="seconds before each answer")
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME[:KIND][,tpm=N][,rpm=N][,dimensions=N]",
        help="serve this model instead of the defaults (repeat for more); KIND is chat "
        "(default), embeddings or image_embeddings",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="a JSON (or, on Python 3.11+, TOML) config file"
    )
    parser.add_argument(
        "--tokens-per-minute", "--tpm", type=int, help="token quota of every deployment"
    )
    parser.add_argument(
        "--requests-per-minute", "--rpm", type=int, help="request quota of every deployment"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        help="emulated seconds per real second for quotas (60: a minute lasts a second)",
    )
    return parser


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    """The configuration the arguments describe: the config file, then the flags over it.

    Raises:
        ValueError: A bad value, naming the flag or the file entry.
    """
    config = config_from_file(args.config) if args.config else EmulatorConfig()
    if args.model:
        config.models = [model_from_arg(arg) for arg in args.model]
    overrides: dict[str, Any] = {
        "key": args.key,
        "envelope": args.envelope or None,
        "latency": args.latency,
        "require_auth": False if args.no_auth else None,
        "entra_audience": args.entra_audience,
        "tokens_per_minute": args.tokens_per_minute,
        "requests_per_minute": args.requests_per_minute,
        "time_scale": args.time_scale,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, value)
    config.__post_init__()  # check the values the flags set
    return config


async def _serve(server: Any, sock: Any, on_ready: Callable[[], None]) -> None:
    """Serve; call ``on_ready`` once the server listens (not before)."""
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        on_ready()
    await task


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, serve, and print the URL and key once the port accepts requests."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = build_config(args)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    state = EmulatorState(config)
    if config.key:
        state.key = config.key
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}"

    def ready() -> None:
        print(f"Azure AI Model Inference emulator at {url}", flush=True)
        print(f"  AZURE_INFERENCE_ENDPOINT={url}/models", flush=True)
        print(f"  AZURE_INFERENCE_CREDENTIAL={state.key}", flush=True)
        print(f"  OpenAI-style: {url}/v1 (Azure OpenAI: {url}/openai/v1)", flush=True)
        for spec in config.models:
            print(f"  model: {spec.name} ({spec.kind}){_quota_text(state, spec)}", flush=True)

    server = _uvicorn().Server(server_config(state, log_level="warning"))
    try:
        asyncio.run(_serve(server, sock, ready))
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles SIGINT itself
        pass
    finally:
        sock.close()
    return 0


def _quota_text(state: EmulatorState, spec: Any) -> str:
    tokens, requests = state.limits_of(spec)
    parts = [
        f"{tokens} tokens/min" if tokens else "",
        f"{requests} requests/min" if requests else "",
    ]
    text = ", ".join(p for p in parts if p)
    return f", quota {text}" if text else ""


if __name__ == "__main__":
    sys.exit(main())
