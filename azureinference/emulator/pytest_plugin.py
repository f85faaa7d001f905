"""pytest plugin: the ``azure_inference_emulator`` fixture (registered by the package).

```python
def test_my_chain(azure_inference_emulator):
    llm = AzureAIChatCompletionsModel(
        endpoint=azure_inference_emulator.openai_v1_endpoint,
        credential=azure_inference_emulator.key,
        model="emulator-chat",
    )
```

One emulator serves the whole session; each test gets it reset (no faults, no scripted replies,
an empty request log). Importing this module imports neither uvicorn nor starlette.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .server import Emulator


@pytest.fixture(scope="session")
def _azure_inference_emulator_session() -> Iterator[Emulator]:
    from .server import running_emulator

    with running_emulator() as emu:
        yield emu


@pytest.fixture
def azure_inference_emulator(_azure_inference_emulator_session: Emulator) -> Iterator[Emulator]:
    """A running emulator (URL, endpoint, key), reset for this test."""
    emu = _azure_inference_emulator_session
    emu.reset()
    yield emu
    emu.reset()
