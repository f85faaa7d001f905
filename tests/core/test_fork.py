"""A client used before a fork, then in the forked children (issue 21 item 1).

gunicorn ``--preload``, ``multiprocessing`` with the fork start method and Celery prefork all fork
a process whose client already holds pooled connections. Each child must open its own: two
processes reading one inherited socket get each other's answers. The local server echoes each
request's message, so every answer is compared with the request it belongs to. A lock another
thread held at the fork (the token lock while a token is fetched) must not hang the child.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from azureinference import AsyncClient, Client, RateLimiter

from .core_server import LocalServer, echo
from .core_support import AccessToken

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")

CALLS = 15
_fork = multiprocessing.get_context("fork")

# The module-level client of a service (what ProcessPoolExecutor workers inherit).
_CLIENT: Client | None = None


def ask(client: Client, tag: str, n: int = CALLS) -> list[tuple[str, str | None]]:
    """(question, answer) for ``n`` calls: the echo server answers with the question."""
    out = []
    for i in range(n):
        question = f"{tag}-{i}"
        answer = client.complete([{"role": "user", "content": question}])
        out.append((question, answer.choices[0].message.content))
    return out


async def aask(client: AsyncClient, tag: str, n: int = CALLS) -> list[tuple[str, str | None]]:
    out = []
    for i in range(n):
        question = f"{tag}-{i}"
        answer = await client.complete([{"role": "user", "content": question}])
        out.append((question, answer.choices[0].message.content))
    return out


def _module_client_ask(tag: str) -> list[tuple[str, str | None]]:
    assert _CLIENT is not None
    return ask(_CLIENT, tag)


def mismatches(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    return [(q, a) for q, a in pairs if q != a]


@pytest.fixture
def echo_server(local_server: LocalServer) -> Iterator[LocalServer]:
    return local_server.answer_all(echo)


@pytest.fixture
def module_client(echo_server: LocalServer) -> Iterator[Client]:
    global _CLIENT
    _CLIENT = Client(echo_server.url + "/models", "key", timeout=30)
    try:
        yield _CLIENT
    finally:
        _CLIENT.close()
        _CLIENT = None


def test_pool_children_and_parent_each_get_their_own_answers(module_client: Client) -> None:
    # The parent's pooled connection is open when the workers fork.
    assert mismatches(ask(module_client, "parent-before", 3)) == []
    with _fork.Pool(3) as pool:
        pending = pool.map_async(_module_client_ask, ["child-a", "child-b", "child-c"])
        parent = ask(module_client, "parent-during")
        children = pending.get(timeout=90)
    answers = parent + [pair for child in children for pair in child]
    assert len(answers) == 4 * CALLS
    assert mismatches(answers) == []


def test_process_pool_executor_with_a_module_level_client(module_client: Client) -> None:
    assert mismatches(ask(module_client, "parent", 2)) == []
    with ProcessPoolExecutor(2, mp_context=_fork) as pool:
        results = list(pool.map(_module_client_ask, ["w1", "w2", "w3", "w4"], timeout=90))
    assert [len(r) for r in results] == [CALLS] * 4
    assert [mismatches(r) for r in results] == [[]] * 4


class FirstCallBlocks:
    """A token credential whose first ``get_token`` waits until released (a slow fetch)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            self.release.wait()
        return AccessToken("tok-" + "x" * 20, int(time.time()) + 3600)


def _child_calls(client: Client, results: Any) -> None:
    results.put(ask(client, "child", 3))


def test_fork_while_another_thread_holds_the_token_lock(echo_server: LocalServer) -> None:
    credential = FirstCallBlocks()
    client = Client(echo_server.url + "/models", credential, timeout=30)
    holder = threading.Thread(target=ask, args=(client, "holder", 1))
    holder.start()
    assert credential.entered.wait(30)  # the holder is inside get_token, under the token lock
    results = _fork.Queue()
    child = _fork.Process(target=_child_calls, args=(client, results))
    child.start()
    try:
        answers = results.get(timeout=60)
    finally:
        credential.release.set()
        holder.join()
        child.join(30)
        if child.is_alive():
            child.kill()
        client.close()
    assert mismatches(answers) == []
    assert len(answers) == 3
    assert child.exitcode == 0


def held_until(release: threading.Event, entered: threading.Event, then: Any) -> Any:
    """A server action that answers only once ``release`` is set."""

    def act(h: Any) -> None:
        entered.set()
        release.wait()
        then(h)

    return act


def test_fork_while_the_first_paced_call_is_in_flight(echo_server: LocalServer) -> None:
    # The parent's first paced call is the limiter's probe (it learns the limits from its
    # answer); the child must not wait for an answer that only the parent will ever see.
    entered, release = threading.Event(), threading.Event()
    echo_server.then(held_until(release, entered, echo))
    limiter = RateLimiter(probe_timeout=3600)
    client = Client(echo_server.url + "/models", "key", rate_limiter=limiter, rate_limit=True)
    holder = threading.Thread(target=ask, args=(client, "holder", 1))
    holder.start()
    assert entered.wait(30)
    results = _fork.Queue()
    child = _fork.Process(target=_child_calls, args=(client, results))
    child.start()
    try:
        answers = results.get(timeout=60)
    finally:
        release.set()
        holder.join()
        child.join(30)
        if child.is_alive():
            child.kill()
        client.close()
    assert mismatches(answers) == []
    assert len(answers) == 3


def _async_child(client: AsyncClient, results: Any) -> None:
    results.put(asyncio.run(aask(client, "child", 3)))


def test_async_client_in_forked_children(echo_server: LocalServer) -> None:
    client = AsyncClient(echo_server.url + "/models", "key", timeout=30)
    # A loop the parent keeps (a worker's long-lived loop), with a pooled connection open.
    loop = asyncio.new_event_loop()
    try:
        assert mismatches(loop.run_until_complete(aask(client, "parent", 2))) == []
        results = _fork.Queue()
        children = [_fork.Process(target=_async_child, args=(client, results)) for _ in range(3)]
        for child in children:
            child.start()
        parent = loop.run_until_complete(aask(client, "parent-during"))
        answers = parent + [pair for _ in children for pair in results.get(timeout=60)]
        for child in children:
            child.join(30)
        assert mismatches(answers) == []
        assert len(answers) == CALLS + 9
        assert [child.exitcode for child in children] == [0, 0, 0]
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
