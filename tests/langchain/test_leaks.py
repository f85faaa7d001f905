"""A LangChain model built per request and dropped releases its connections (issue 21 item 7).

The common pattern: a model built inside a FastAPI handler, used with ``ainvoke``, never closed.
Counted as this process's open file descriptors (the local server runs in a thread here).
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lc_support import FakeEndpoint, make_llm

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc fds")
ROOT = Path(__file__).resolve().parents[2]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_models_built_per_request_release_their_connections(fake: FakeEndpoint) -> None:
    await make_llm(fake).ainvoke("warm up")  # imports, the loop's own descriptors
    baseline = open_fds()
    for i in range(20):
        model = make_llm(fake)
        await model.ainvoke(f"request {i}")
        del model
    gc.collect()  # the dropped models (they sit in reference cycles)
    for _ in range(50):  # loop turns: each dropped model's sessions close in a task
        await asyncio.sleep(0)
        if open_fds() <= baseline + 2:
            break
    assert open_fds() - baseline <= 2


RUNNABLE_PARALLEL = """
import sys, warnings
warnings.simplefilter("always")
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel
from langchain_azureinference import AzureAIChatCompletionsModel

model = AzureAIChatCompletionsModel(endpoint=sys.argv[1] + "/models", credential="key", model="m")
prompt = ChatPromptTemplate.from_messages([("user", "Tell me about {topic}")])
chain = RunnableParallel(joke=prompt | model, poem=prompt | model, fact=prompt | model)
print(sorted(chain.invoke({"topic": "bears"})))
"""


def test_a_runnable_parallel_chain_leaves_no_unclosed_socket_at_exit(fake: FakeEndpoint) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(RUNNABLE_PARALLEL), fake.url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "['fact', 'joke', 'poem']", done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
