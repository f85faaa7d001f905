"""``python -m azureinference.emulator``: serve the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from .app import EmulatorState
from .config import EmulatorConfig
from .server import _bind, _uvicorn, server_config


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, print the URL and key, and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m azureinference.emulator",
        description="A local emulator of the Azure AI Model Inference API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = free)")
    parser.add_argument("--key", help="the key to accept (default: a random one, printed)")
    parser.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    parser.add_argument(
        "--envelope", action="store_true", help='wrap answers as {"code", "msg", "data"}'
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        key=args.key, envelope=args.envelope, latency=args.latency, require_auth=not args.no_auth
    )
    state = EmulatorState(config)
    if args.key:
        state.key = args.key
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}"
    print(f"Azure AI Model Inference emulator at {url}", flush=True)
    print(f"  AZURE_INFERENCE_ENDPOINT={url}/models", flush=True)
    print(f"  AZURE_INFERENCE_CREDENTIAL={state.key}", flush=True)
    print(f"  models: {', '.join(m.name for m in config.models)}", flush=True)
    server = _uvicorn().Server(server_config(state, log_level="warning"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
