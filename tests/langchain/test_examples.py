"""The LangChain examples run offline: with no endpoint set, each starts the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("langchain_*.py"))


def test_every_topic_has_an_example() -> None:
    assert SCRIPTS == [
        "langchain_agent.py",
        "langchain_chain.py",
        "langchain_streaming.py",
        "langchain_structured_output.py",
    ]


# What each example shows, as the emulator answers it (deterministic).
EXPECTED = {
    "langchain_agent.py": ["-> get_weather({'city': ", "answer: The tool returned:"],
    "langchain_chain.py": ["Good morning!", "Thank you.", "See you tomorrow."],
    "langchain_streaming.py": ["usage: {'input_tokens'", "finish reason: stop", "Count from one"],
    "langchain_structured_output.py": [
        "Person(name=",
        "tool calls: [{'name': 'Person'",
    ],
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_against_the_emulator(script: str) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_INFERENCE", "AZURE_AI_INFERENCE"))
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "local emulator" in done.stdout
    for text in EXPECTED[script]:
        assert text in done.stdout
    assert not done.stderr  # no warning either
