"""Running the emulator: on a background thread for tests and examples, or in the foreground."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .app import EmulatorState, RecordedRequest, create_app
from .config import EmulatorConfig, Fault, ScriptedReply

__all__ = ["Emulator", "running_emulator"]


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "The emulator needs uvicorn and starlette: "
            "pip install 'azure-inference-integrations[emulator]'"
        ) from exc
    return uvicorn


class Emulator:
    """A running emulator: where it listens, its key, and the knobs a test turns.

    Attributes:
        url: ``http://<host>:<port>`` (no trailing slash).
        endpoint: ``url + "/models"``, the Azure AI services endpoint form.
        key: The key it accepts, as ``Authorization: Bearer`` or ``api-key``.
        port: The port it listens on.
    """

    def __init__(self, state: EmulatorState, host: str, port: int) -> None:
        self._state = state
        self.host = host
        self.port = port
        display = f"[{host}]" if ":" in host else host
        self.url = f"http://{display}:{port}"
        self.endpoint = self.url + "/models"

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r})"  # never the key

    @property
    def key(self) -> str:
        """The key the emulator accepts."""
        return self._state.key

    @property
    def config(self) -> EmulatorConfig:
        """The live configuration (changes apply to the next request)."""
        return self._state.config

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (credential headers left out)."""
        with self._state.lock:
            return list(self._state.requests)

    def inject(self, *faults: Fault) -> None:
        """Queue faults for the next matching requests."""
        with self._state.lock:
            self._state.faults.extend(faults)

    def script(self, replies: ScriptedReply | Iterable[ScriptedReply]) -> None:
        """Queue canned chat answers, used in order by the next chat requests."""
        items = [replies] if isinstance(replies, ScriptedReply) else list(replies)
        with self._state.lock:
            self._state.scripted.extend(items)

    def reset(self) -> None:
        """Forget queued faults, scripted replies and the request log."""
        with self._state.lock:
            self._state.faults.clear()
            self._state.scripted.clear()
            self._state.requests.clear()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def server_config(state: EmulatorState, *, log_level: str = "critical", **kwargs: Any) -> Any:
    """A ``uvicorn.Config`` serving ``state``."""
    uvicorn = _uvicorn()
    return uvicorn.Config(
        create_app(state),
        lifespan="off",
        log_level=log_level,
        access_log=False,
        ws="none",
        timeout_graceful_shutdown=2,
        **kwargs,
    )


@contextlib.contextmanager
def running_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    key: str | None = None,
) -> Iterator[Emulator]:
    """Start an emulator on a background thread; stop it when the block ends.

    Args:
        config: Models, envelope mode, latency; the defaults serve ``emulator-chat``,
            ``emulator-embed``, ``emulator-image-embed``, ``emulator-limited`` and
            ``emulator-embed-basic``.
        host: The interface to listen on.
        port: The port; 0 picks a free one.
        key: The key to accept; ``config.key``, else a random one.
    """
    config = config or EmulatorConfig()
    state = EmulatorState(config)
    if key or config.key:
        state.key = key or config.key  # type: ignore[assignment]
    uvicorn = _uvicorn()
    sock = _bind(host, port)
    server = uvicorn.Server(server_config(state))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="azureinference-emulator", daemon=True
    )
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the emulator failed to start")
            thread.join(0.005)
        yield Emulator(state, host, sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
