"""What a forked child must not inherit: pooled connections and held locks.

After ``os.fork()`` (``multiprocessing`` with the fork start method, gunicorn ``--preload``,
Celery prefork) the child holds copies of the parent's sockets and of its locks in whatever
state they were. Two processes reading one pooled socket get each other's answers, and a lock
another thread held at the fork is held in the child for good.

Objects that own such things register here (`reset_after_fork`); in the child, through
``os.register_at_fork`` (the standard hook), each one's ``_after_fork()`` drops its pool and
makes new locks. What the child inherited is kept, untouched, in `_INHERITED` until the child
exits: closing it could take a pool lock the fork left held, and the garbage collector would
close the sockets with a ``ResourceWarning``. The child never reads or writes them.
"""

from __future__ import annotations

import os
import weakref
from typing import Any, Protocol

__all__ = ["keep_inherited", "reset_after_fork"]


class _Resettable(Protocol):
    def _after_fork(self) -> None: ...


_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()
_INHERITED: list[Any] = []


def reset_after_fork(obj: _Resettable) -> None:
    """Have ``obj._after_fork()`` called in every child forked while ``obj`` is alive."""
    _LIVE.add(obj)


def keep_inherited(obj: Any) -> None:
    """Keep ``obj`` (a pool the parent opened) alive and unused in this child."""
    if obj is not None:
        _INHERITED.append(obj)


def _in_child() -> None:
    for obj in list(_LIVE):
        obj._after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_in_child)
