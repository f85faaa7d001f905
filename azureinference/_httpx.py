"""Import ``httpx`` without its command-line client.

``httpx/__init__.py`` imports ``httpx._main`` (its CLI) whenever ``click``, ``rich`` and
``pygments`` are installed, which they often are: 12 ms with ``click`` alone, ~35 ms with all
three, paid by every process that imports a library built on ``httpx``. When ``httpx`` has not
been imported yet, we import it with ``httpx._main`` blocked and put back a ``httpx.main`` that
imports the real CLI when called, so nothing changes but the import time.
"""

from __future__ import annotations

import sys
from typing import Any


def _main(*args: Any, **kwargs: Any) -> Any:
    """Run httpx's command-line client (imported on first use)."""
    from httpx._main import main

    return main(*args, **kwargs)


def import_httpx() -> None:
    if "httpx" in sys.modules:
        return
    blocked = "httpx._main" not in sys.modules
    if blocked:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # `from ._main` fails
    try:
        import httpx
    finally:
        if blocked:
            del sys.modules["httpx._main"]
    httpx.main = _main  # type: ignore[assignment]  # the real one on call


import_httpx()
