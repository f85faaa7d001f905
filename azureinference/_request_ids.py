"""The ``x-ms-client-request-id`` each request carries: UUID-shaped, cheap, unique per process."""

from __future__ import annotations

import itertools
import os
import uuid

__all__ = ["request_id"]


def _new_id_prefix() -> None:
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = str(uuid.uuid4())[:24]  # "xxxxxxxx-xxxx-4xxx-yxxx-": random per process
    _ID_COUNTER = itertools.count()


_ID_PREFIX = ""
_ID_COUNTER = itertools.count()
_new_id_prefix()
# A forked worker (multiprocessing, Ray) draws its own prefix, so ids stay unique across them.
os.register_at_fork(after_in_child=_new_id_prefix)


def request_id() -> str:
    """A UUID-shaped client request id: a random per-process prefix and a counter.

    Unique like ``uuid4()`` for what it is used for (finding one request in the service's logs),
    without a system call per request.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"
