"""Connections of clients that are no longer used (issue 21 items 7 and 8).

A web service that builds an `AsyncClient` (or a model holding one) per request and drops it
without ``aclose()``; loops closed with ``loop.close()`` and no ``shutdown_asyncgens``; models kept
in module globals until the interpreter exits. Counted as open file descriptors of this process
(the local server runs in a thread here, so a connection left open counts on both ends), and as
the reports aiohttp and asyncio make about what was not closed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from azureinference import AsyncClient, Client

from .core_server import LocalServer
from .core_support import KEY

HI = [{"role": "user", "content": "Hi"}]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc fds")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle(baseline: int, slack: int = 2) -> int:
    """Collect garbage and let the loop run the closing tasks; the fds above ``baseline``."""
    gc.collect()  # the dropped clients (they sit in reference cycles)
    for _ in range(50):  # loop turns, not time: closing takes a few callbacks per connection
        await asyncio.sleep(0)
        if open_fds() <= baseline + slack:
            break
    return open_fds() - baseline


@contextmanager
def reports() -> Iterator[list[str]]:
    """What aiohttp and asyncio report about unclosed sessions, connectors and transports."""
    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Catch()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield seen
            gc.collect()
        seen.extend(str(w.message) for w in caught if issubclass(w.category, ResourceWarning))
    finally:
        logger.removeHandler(handler)


def test_async_clients_dropped_without_aclose_release_their_connections(
    local_server: LocalServer,
) -> None:
    async def main() -> int:
        warm = AsyncClient(local_server.url + "/models", KEY)  # aiohttp's imports, the loop's fds
        await warm.complete(HI)
        await warm.aclose()
        baseline = open_fds()
        for _ in range(30):  # a client per request, as in a web handler
            client = AsyncClient(local_server.url + "/models", KEY)
            await client.complete(HI)
            del client
        return await settle(baseline)

    with reports() as seen:
        assert asyncio.run(main()) <= 2
    assert [s for s in seen if "nclosed" in s] == []


def test_loops_closed_without_shutdown_asyncgens_leave_no_unclosed_session(
    local_server: LocalServer,
) -> None:
    client = AsyncClient(local_server.url + "/models", KEY)
    with reports() as seen:
        for _ in range(10):
            loop = asyncio.new_event_loop()
            loop.run_until_complete(client.complete(HI))
            loop.close()  # no shutdown_asyncgens: our closer never runs
        del client, loop
        gc.collect()
    unclosed = [s for s in seen if "Unclosed client session" in s or "Unclosed connector" in s]
    assert unclosed == []


def test_a_dropped_client_of_a_closed_loop_closes_its_session(local_server: LocalServer) -> None:
    client = AsyncClient(local_server.url + "/models", KEY)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(client.complete(HI))
    loop.close()
    with reports() as seen:
        del client
        gc.collect()
    assert [s for s in seen if "Unclosed client session" in s] == []


def test_a_sync_client_dropped_or_kept_releases_its_sockets(local_server: LocalServer) -> None:
    Client(local_server.url + "/models", KEY).complete(HI)  # warm: imports, the pool's first fds
    baseline = open_fds()
    for _ in range(20):
        Client(local_server.url + "/models", KEY).complete(HI)
    gc.collect()
    assert open_fds() - baseline <= 2


EXIT_SCRIPT = """
import asyncio, sys, warnings
from concurrent.futures import ThreadPoolExecutor
warnings.simplefilter("always")
from azureinference import AsyncClient, Client

url = sys.argv[1] + "/models"
HI = [{"role": "user", "content": "Hi"}]
# Kept in module globals until the interpreter exits, as a chain's models are.
CLIENT = Client(url, "key")
with ThreadPoolExecutor(4) as pool:  # RunnableParallel runs its branches in threads
    list(pool.map(lambda _: CLIENT.complete(HI), range(8)))
ACLIENT = AsyncClient(url, "key")
asyncio.run(ACLIENT.complete(HI))
LOOP = asyncio.new_event_loop()  # a loop kept open (not running) until exit
LOOP.run_until_complete(ACLIENT.complete(HI))
print("ok")
"""


def test_clients_kept_until_the_interpreter_exits_leave_no_resource_warning(
    local_server: LocalServer,
) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(EXIT_SCRIPT), local_server.url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "ok", done.stderr
    # The one warning left is about the script's own loop, which it never closes.
    warned = [line for line in done.stderr.splitlines() if "ResourceWarning" in line]
    assert [w for w in warned if "unclosed event loop" not in w] == [], done.stderr
    assert "Unclosed" not in done.stderr, done.stderr
