"""pytest plugin of azure-inference-integrations: the ``azure_inference_emulator`` fixture.

```python
def test_my_chain(azure_inference_emulator):
    llm = AzureAIChatCompletionsModel(
        endpoint=azure_inference_emulator.openai_v1_endpoint,
        credential=azure_inference_emulator.key,
        model="emulator-chat",
    )
```

One emulator serves the whole session; each test gets it reset (no faults, no scripted replies,
an empty request log).

The package registers this module as a ``pytest11`` entry point, so pytest loads it in every
project of an environment where the package is installed. It is a top-level module on purpose:
loading it imports nothing of ours (a module inside ``azureinference`` would run that package's
``__init__``: httpx2, pydantic and 30 modules) and cannot fail. The emulator is imported when a
test first asks for the fixture; without the ``emulator`` extra (uvicorn, starlette) that test
fails with the command that installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from azureinference.emulator import Emulator

_EXTRA_MODULES = ("starlette", "uvicorn")
_INSTALL = "pip install 'azure-inference-integrations[emulator]'"


@pytest.fixture(scope="session")
def _azure_inference_emulator_session() -> Iterator[Emulator]:
    try:
        from azureinference.emulator import running_emulator
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] not in _EXTRA_MODULES:
            raise
        pytest.fail(
            f"the azure_inference_emulator fixture needs the 'emulator' extra ({exc.name} is not"
            f" installed): {_INSTALL}",
            pytrace=False,
        )
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def azure_inference_emulator(_azure_inference_emulator_session: Emulator) -> Iterator[Emulator]:
    """A running emulator (URL, endpoint, key), reset for this test."""
    emu = _azure_inference_emulator_session
    emu.reset()
    yield emu
    emu.reset()
