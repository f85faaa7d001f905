"""Concurrent batches (threads and tasks): order, count, concurrency, failures named by input."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Sequence

import pytest

from azureinference import ConfigurationError, ServerError
from azureinference.bulk import arun_batches, run_batches, split
from azureinference.ratelimit import is_paced

ITEMS = list(range(103))


class Probe:
    """Counts calls and the most batches in flight at once."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.lock = threading.Lock()
        self.calls: list[int] = []
        self.in_flight = 0
        self.most = 0
        self.fail_at = fail_at
        self.paced: list[bool] = []

    def enter(self, batch: Sequence[int]) -> None:
        with self.lock:
            self.calls.append(batch[0])
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.paced.append(is_paced())

    def leave(self, batch: Sequence[int]) -> list[int]:
        with self.lock:
            self.in_flight -= 1
        if self.fail_at is not None and self.fail_at in batch:
            raise ServerError("The service failed.", status_code=500)
        return [x * 10 for x in batch]

    def send(self, batch: Sequence[int]) -> list[int]:
        self.enter(batch)
        time.sleep(random.random() * 0.005)
        return self.leave(batch)

    async def asend(self, batch: Sequence[int]) -> list[int]:
        self.enter(batch)
        await asyncio.sleep(random.random() * 0.005)
        return self.leave(batch)


def run(sync: bool, probe: Probe, **kw: object) -> list[list[int]]:
    batches = split(ITEMS, 10)
    if sync:
        return run_batches(batches, probe.send, total=len(ITEMS), **kw)  # type: ignore[arg-type]
    return asyncio.run(
        arun_batches(batches, probe.asend, total=len(ITEMS), **kw)  # type: ignore[arg-type]
    )


@pytest.fixture(params=[True, False], ids=["threads", "tasks"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_results_keep_input_order_and_count(sync: bool) -> None:
    probe = Probe()
    seen: list[int] = []
    results = run(sync, probe, max_concurrency=5, on_batch=lambda i, r: seen.append(i))
    assert [x for batch in results for x in batch] == [x * 10 for x in ITEMS]
    assert sorted(probe.calls) == list(range(0, 103, 10))  # each batch sent once
    assert sorted(seen) == list(range(11))
    assert seen[0] == 0  # the first goes alone
    assert 1 < probe.most <= 5
    assert all(probe.paced)


def test_a_failure_names_its_inputs_and_stops_the_rest(sync: bool) -> None:
    probe = Probe(fail_at=35)
    with pytest.raises(ServerError) as info:
        run(sync, probe, max_concurrency=1)
    assert info.value.input_range == (30, 40)  # type: ignore[attr-defined]
    assert "(inputs 30-39 of 103)" in str(info.value)
    assert info.value.message.endswith("(inputs 30-39 of 103)")
    assert info.value.status_code == 500
    assert len(probe.calls) < 11  # the batches after it never went


def test_a_failing_first_batch_is_named_and_nothing_else_goes(sync: bool) -> None:
    probe = Probe(fail_at=0)
    with pytest.raises(ServerError, match=r"inputs 0-9 of 103"):
        run(sync, probe)
    assert probe.calls == [0]


def test_one_batch_is_not_renamed(sync: bool) -> None:
    probe = Probe(fail_at=1)
    batches = split([1, 2], 10)
    call = (
        (lambda: run_batches(batches, probe.send, total=2))
        if sync
        else (lambda: asyncio.run(arun_batches(batches, probe.asend, total=2)))
    )
    with pytest.raises(ServerError) as info:
        call()
    assert "inputs" not in str(info.value)
    assert probe.paced == [False]  # a single call is paced only where every call is


def test_nothing_to_send(sync: bool) -> None:
    assert run_batches([], Probe().send, total=0) == []
    assert asyncio.run(arun_batches([], Probe().asend, total=0)) == []


def test_max_concurrency_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        run_batches(split(ITEMS, 10), Probe().send, total=103, max_concurrency=0)
