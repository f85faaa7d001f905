"""Many batches of one call, sent concurrently, answered in input order.

`run_batches` (threads) and `arun_batches` (tasks) send the first batch alone, so what it
teaches (base64, ``input_type``, the rate limits) serves the rest, then the others up to
``max_concurrency`` at once, each paced by the client's `RateLimiter` (with more than one
batch they run inside `paced`). Results come back in input order, one per batch, none lost or
repeated. A failure names the inputs of its batch (``inputs 256-511 of 20000``, and
``.input_range``); the batches not started yet are cancelled. ``on_batch(index, result)`` is
called in the caller's thread or task as each batch completes (progress bars).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any, TypeVar

from .ratelimit import paced

__all__ = ["DEFAULT_MAX_CONCURRENCY", "arun_batches", "name_inputs", "run_batches", "split"]

DEFAULT_MAX_CONCURRENCY = 16
"""Batches in flight at once: enough for a deployment's quota at the usual latencies; the rate
limiter, not this number, sets the pace."""

_T = TypeVar("_T")
_R = TypeVar("_R")


def split(items: Sequence[_T], size: int) -> list[tuple[int, Sequence[_T]]]:
    """``(start, batch)`` pairs of at most ``size`` items, in order."""
    return [(i, items[i : i + size]) for i in range(0, len(items), size)]


def name_inputs(exc: BaseException, start: int, end: int, total: int) -> BaseException:
    """Add ``inputs start-end of total`` to an error's message; set ``.input_range``."""
    where = f"inputs {start}-{end - 1} of {total}"
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]} ({where})", *exc.args[1:])
    else:
        exc.args = (*exc.args, where)
    if isinstance(getattr(exc, "message", None), str):
        exc.message = f"{exc.message} ({where})"  # type: ignore[attr-defined]
    exc.input_range = (start, end)  # type: ignore[attr-defined]
    return exc


def _check(max_concurrency: int) -> None:
    if max_concurrency < 1:
        from .errors import ConfigurationError

        raise ConfigurationError(f"max_concurrency must be >= 1, not {max_concurrency}.")


def _send_paced(send: Callable[[Sequence[_T]], _R], batch: Sequence[_T], pace: bool) -> _R:
    if not pace:
        return send(batch)
    with paced():
        return send(batch)


def run_batches(
    batches: Sequence[tuple[int, Sequence[_T]]],
    send: Callable[[Sequence[_T]], _R],
    *,
    total: int,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    on_batch: Callable[[int, _R], Any] | None = None,
) -> list[_R]:
    """Send ``(start, batch)`` pairs through ``send`` on a thread pool; results in order.

    Raises:
        Whatever ``send`` raised first, with the inputs of its batch named.
    """
    _check(max_concurrency)
    results: list[Any] = [None] * len(batches)

    def one(i: int) -> _R:
        start, batch = batches[i]
        try:
            return _send_paced(send, batch, len(batches) > 1)
        except Exception as exc:
            if len(batches) > 1:
                name_inputs(exc, start, start + len(batch), total)
            raise

    if not batches:
        return []
    results[0] = one(0)
    if on_batch is not None:
        on_batch(0, results[0])
    if len(batches) == 1:
        return results
    workers = min(max_concurrency, len(batches) - 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="azureinference-bulk") as pool:
        # Each batch runs in a copy of the caller's context (tracing spans, paced()).
        pending: dict[Future[_R], int] = {
            pool.submit(contextvars.copy_context().run, one, i): i for i in range(1, len(batches))
        }
        try:
            for future in as_completed(pending):
                i = pending[future]
                results[i] = future.result()
                if on_batch is not None:
                    on_batch(i, results[i])
        finally:
            for future in pending:
                future.cancel()
    return results


async def arun_batches(
    batches: Sequence[tuple[int, Sequence[_T]]],
    send: Callable[[Sequence[_T]], Awaitable[_R]],
    *,
    total: int,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    on_batch: Callable[[int, _R], Any] | None = None,
) -> list[_R]:
    """Send ``(start, batch)`` pairs through ``send`` as tasks; results in order.

    Raises:
        Whatever ``send`` raised first, with the inputs of its batch named.
    """
    _check(max_concurrency)
    results: list[Any] = [None] * len(batches)
    gate = asyncio.Semaphore(max_concurrency)

    async def one(i: int) -> tuple[int, _R]:
        start, batch = batches[i]
        async with gate:
            try:
                if len(batches) == 1:  # a single call: paced only where every call is
                    return i, await send(batch)
                with paced():
                    return i, await send(batch)
            except Exception as exc:
                if len(batches) > 1:
                    name_inputs(exc, start, start + len(batch), total)
                raise

    if not batches:
        return []
    _, results[0] = await one(0)
    if on_batch is not None:
        on_batch(0, results[0])
    tasks = [asyncio.ensure_future(one(i)) for i in range(1, len(batches))]
    try:
        for next_done in asyncio.as_completed(tasks):
            i, result = await next_done
            results[i] = result
            if on_batch is not None:
                on_batch(i, result)
    finally:
        for task in tasks:
            task.cancel()
        # Let the cancelled ones finish unwinding (no "Task was destroyed" warnings).
        await asyncio.gather(*tasks, return_exceptions=True)
    return results
