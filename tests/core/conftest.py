"""Fixtures of the core tests: the local HTTP server of ``core_server.py``, one per session.

The server (stdlib ``http.server``, HTTP/1.1 with keep-alive) is started once per test session
(httpx ``tests/conftest.py`` ``serve_in_thread`` does the same); each test gets it with an empty
script and request log.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from .core_server import LocalServer, _Server


@contextlib.contextmanager
def serving() -> Iterator[LocalServer]:
    """A local server in a thread on a free port, for as long as the block lasts."""
    server = _Server()
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="local-test-server", daemon=True
    )
    thread.start()
    try:
        yield LocalServer(server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def _local_server() -> Iterator[LocalServer]:
    with serving() as server:
        yield server


@pytest.fixture
def local_server(_local_server: LocalServer) -> Iterator[LocalServer]:
    """The session's local server, with an empty script and request log for this test."""
    _local_server.reset()
    yield _local_server
    _local_server.reset()
