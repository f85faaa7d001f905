"""The examples and the README's main command run offline: with no endpoint set, each starts the
bundled emulator and shows what it is about."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
# Examples that need an optional extra have a test of their own (tests/test_ray_example.py).
OWN_TEST = {"ray_embed.py"}
SCRIPTS = sorted(
    p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") and p.name not in OWN_TEST
)

# What each example shows, as the emulator answers it (deterministic).
EXPECTED = {
    "quickstart.py": [
        "=== LangChain: invoke",
        "usage: {'input_tokens'",
        "tool calls: [{'name': 'get_weather', 'args': {'city': 'Paris'}",
        "answer: The tool returned: It is sunny and 21 C in Paris.",
        "name='Ada Lovelace' age=36",
        "2 vectors of 1024 dimensions; query vector: 1024 dimensions",
        "=== LlamaIndex: complete",
        "usage: {'prompt_tokens'",
        "get_weather {'city': 'Rome'} -> It is sunny and 21 C in Rome.",
        "name='Alan Turing' age=41",
        "3 vectors of 1024 dimensions",
        "All features ran.",
    ],
    "langchain_agent.py": ["-> get_weather({'city': ", "answer: The tool returned:"],
    "langchain_chain.py": ["Good morning!", "Thank you.", "See you tomorrow."],
    "langchain_streaming.py": ["usage: {'input_tokens'", "finish reason: stop", "Count from one"],
    "langchain_structured_output.py": ["Person(name=", "tool calls: [{'name': 'Person'"],
    "llamaindex_agent.py": [
        "-> get_weather({'city': 'Lisbon'}) = It is sunny and 21 C in Lisbon.",
        "answer: The tool returned: It is sunny and 21 C in Lisbon.",
        "add({'a': 2, 'b': 3}) = 5",
    ],
    # The emulator's embeddings share directions for shared words: retrieval finds the passage.
    "llamaindex_query_engine.py": [
        "retrieved: ['eiffel']",
        "It is 330 metres tall.",
        "The Nile flows north through Egypt.",
    ],
    "llamaindex_streaming.py": [
        "You said: Write a haiku about the sea.",
        "usage: {'prompt_tokens': 7, 'completion_tokens': 8, 'total_tokens': 15}",
        "You said: Count from one to five in words.",
    ],
    "tracing.py": [
        '"name": "chat emulator-chat"',
        '"kind": "SpanKind.CLIENT"',
        '"gen_ai.provider.name": "azure.ai.openai"',
        '"gen_ai.input.messages": "[{\\"role\\": \\"user\\"',
        '"name": "embeddings emulator-embed"',
        '"name": "answer a question"',
        "gen_ai.client.operation.time_to_first_chunk chat  count=1",
        "gen_ai.client.token.usage embeddings input count=1",
    ],
    "llamaindex_structured_output.py": [
        "name='Grace Hopper' age=85",
        "   name='Alan Turing' age=None",  # a partial object, while the JSON streams
        "   name='Alan Turing' age=41",
        "as_structured_llm: name='Ada Lovelace' age=36",
    ],
}


def test_every_example_is_checked() -> None:
    assert sorted(EXPECTED) == SCRIPTS


def test_the_readme_main_command_runs_the_quickstart() -> None:
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    commands = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert commands[0].endswith("python examples/quickstart.py")
    assert commands[1].endswith("python -m pytest -q")


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
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "local emulator" in done.stdout
    for text in EXPECTED[script]:
        assert text in done.stdout
    assert not done.stderr  # no warning either
