"""Running the emulator: on a background thread for tests and examples, or in the foreground."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .app import EmulatorState, RecordedRequest, create_app
from .config import EmulatorConfig, Fault, ScriptedReply
from .quota import QuotaUsage
from .tokens import EmulatorTokenCredential

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
        openai_v1_endpoint: ``url + "/openai/v1"``, the endpoint Microsoft recommends (Azure
            OpenAI v1 routes, every model; no api-version).
        endpoint: ``url + "/models"``, the Azure AI services (Model Inference) endpoint form.
        openai_base_url: ``url + "/v1"``, for OpenAI clients (``base_url=``).
        key: The key it accepts, as ``Authorization: Bearer`` or ``api-key``.
        port: The port it listens on.
    """

    def __init__(self, state: EmulatorState, host: str, port: int) -> None:
        self._state = state
        self.host = host
        self.port = port
        display = f"[{host}]" if ":" in host else host
        self.url = f"http://{display}:{port}"
        self.openai_v1_endpoint = self.url + "/openai/v1"
        self.endpoint = self.url + "/models"
        self.openai_base_url = self.url + "/v1"

    def project_endpoint(self, project: str = "emulator-project") -> str:
        """A Foundry project endpoint, ``url + "/api/projects/<project>"``.

        Served at ``<that>/openai/v1``. Clients send it Entra ID tokens only: pair it with
        `token_credential` and ``config.entra_audience``.
        """
        return f"{self.url}/api/projects/{project}"

    @staticmethod
    def token_credential(lifetime: int = 3600) -> EmulatorTokenCredential:
        """A token credential minting JWTs for the scope asked (see ``entra_audience``)."""
        return EmulatorTokenCredential(lifetime)

    def serverless_endpoint(self, model: str) -> str:
        """A serverless endpoint serving ``model`` alone: its ``/info`` describes that model."""
        return f"{self.url}/serverless/{model}"

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

    def set_quota(
        self,
        tokens_per_minute: int | None = None,
        requests_per_minute: int | None = None,
        *,
        model: str | None = None,
    ) -> None:
        """Limit ``model`` (every deployment when None) until ``reset``; None means no limit.

        Overrides the quotas of ``ModelSpec`` and ``EmulatorConfig``; buckets start full.
        """
        self._state.set_quota(tokens_per_minute, requests_per_minute, model)

    def quota_usage(self, model: str) -> QuotaUsage:
        """Requests admitted, tokens charged and requests refused (429) for ``model``."""
        return self._state.quota_usage(model)

    def reset(self) -> None:
        """Forget faults, scripted replies, the request log, quotas and stored Responses answers."""
        with self._state.lock:
            self._state.stored_responses.clear()
            self._state.faults.clear()
            self._state.scripted.clear()
            self._state.requests.clear()
            self._state.quota_overrides.clear()
            self._state.quotas.clear()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog from now on, never refused
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(
                exc.errno,
                f"port {port} on {host} is already in use: pick another with --port N "
                "(port= in Python), or --port 0 for a free one (the chosen port is printed)",
            ) from None
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
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
