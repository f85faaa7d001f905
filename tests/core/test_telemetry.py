"""The telemetry module alone: attributes from parameters and messages, provider names, and
the no-op path (no provider set, opentelemetry not imported, or not installed at all)."""

from __future__ import annotations

from typing import Any

import pytest

from azureinference import (
    ChatCompletion,
    ChatStreamState,
    ConfigurationError,
    _genai,
    parse_endpoint,
    telemetry,
)

from .core_support import AI_SERVICES, AOAI, COMPATIBLE, GITHUB, SERVERLESS, V1

HI = [{"role": "user", "content": "Hi"}]

_CALLS = """
import asyncio, sys
from azureinference import AsyncClient, Client
from azureinference.emulator import running_emulator

async def async_calls(emu):
    async with AsyncClient(emu.endpoint, emu.key, model="emulator-chat") as client:
        await client.complete([{"role": "user", "content": "hi"}])
        [c async for c in await client.stream([{"role": "user", "content": "hi"}])]

with running_emulator() as emu:
    with Client(emu.endpoint, emu.key, model="emulator-chat") as client:
        client.complete([{"role": "user", "content": "hi"}])
        list(client.stream([{"role": "user", "content": "hi"}]))
        client.embed(["a", "b"], model="emulator-embed")
    asyncio.run(async_calls(emu))
"""


def _run(code: str) -> list[str]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_no_provider_means_no_operation() -> None:
    # opentelemetry imported (as langsmith imports it) but no global provider set: every call
    # gets the shared no-op.
    pytest.importorskip("opentelemetry.trace")
    pytest.importorskip("opentelemetry.metrics")
    ep = parse_endpoint(AI_SERVICES)
    assert telemetry.start_chat(ep, "m", HI, {}) is telemetry.NO_OPERATION
    assert telemetry.start_embeddings(ep, "m", ["x"], {}) is telemetry.NO_OPERATION


# ---- pure parts ----


@pytest.mark.parametrize(
    ("endpoint", "provider"),
    [
        (SERVERLESS, "azure.ai.inference"),
        (AI_SERVICES, "azure.ai.inference"),
        (GITHUB, "azure.ai.inference"),
        (AOAI, "azure.ai.openai"),
        (V1, "azure.ai.openai"),
        ("https://api.openai.com/v1", "openai"),
        ("https://api.mistral.ai/v1", "mistral_ai"),
        (COMPATIBLE, _genai.GENERIC_PROVIDER),
        ("http://localhost:11434/v1", _genai.GENERIC_PROVIDER),
    ],
)
def test_provider_name_by_endpoint(endpoint: str, provider: str) -> None:
    assert _genai.provider_name(parse_endpoint(endpoint)) == provider


def test_request_attributes_are_only_what_is_sent() -> None:
    attrs = _genai.chat_request_attributes(
        {
            "temperature": 0,
            "top_p": None,
            "max_completion_tokens": 10,
            "stop": ["a", "b"],
            "n": 2,
            "seed": True,  # not a number: left out
            "response_format": {"type": "json_schema", "json_schema": {}},
            "model_extras": {"top_k": 40},
        }
    )
    assert attrs == {
        "gen_ai.request.temperature": 0,
        "gen_ai.request.max_tokens": 10,
        "gen_ai.request.stop_sequences": ["a", "b"],
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.top_k": 40,
        "gen_ai.output.type": "json",
    }


def test_input_message_parts() -> None:
    parts = _genai.input_messages(
        [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0"}},
                    {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}},
                ],
            }
        ]
    )[0]["parts"]
    assert parts == [
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0"},
        {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "content": "UklGR"},
    ]


def test_calls_without_a_provider_never_import_opentelemetry() -> None:
    out = _run(_CALLS + "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))")
    assert out[-1] == "[]"


def test_calls_work_when_opentelemetry_is_not_installed() -> None:
    blocker = (
        "import sys, importlib.abc\n"
        "class NoOTel(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'opentelemetry':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, NoOTel())\n"
        "from azureinference import telemetry\n"
        "telemetry.configure(capture_content=True)\n"
    )
    out = _run(blocker + _CALLS + "print('calls done')")
    assert out[-1] == "calls done"


# ---- one operation, without a client ----


def test_operation_records_an_answer(otel: Any) -> None:
    answer = ChatCompletion.model_validate(
        {
            "id": "c1",
            "model": "m-2024",
            "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
        }
    )
    endpoint = parse_endpoint(SERVERLESS)
    with telemetry.start_chat(endpoint, "m", HI, {"temperature": 0.5}) as op:
        assert op.chat_result(answer) is answer
    (span,) = otel.spans()
    assert span.name == "chat m"
    assert span.attributes["server.address"] == "my-endpoint.eastus2.models.ai.azure.com"
    assert span.attributes["server.port"] == 443
    assert span.attributes["gen_ai.response.model"] == "m-2024"
    assert span.attributes["gen_ai.usage.output_tokens"] == 2


def test_operation_fails_with_the_error_leaving_it(otel: Any) -> None:
    endpoint = parse_endpoint(AOAI)
    with (
        pytest.raises(ConfigurationError),
        telemetry.start_embeddings(endpoint, None, ["a"], {}),
    ):
        raise ConfigurationError("bad input")
    (span,) = otel.spans()
    assert span.name == "embeddings gpt-4o"  # the deployment names the model
    assert span.attributes["error.type"] == "ConfigurationError"
    assert span.status.description == "ConfigurationError: bad input"


def test_a_stream_operation_ends_once_with_its_stream(otel: Any) -> None:
    endpoint = parse_endpoint(AI_SERVICES)
    with telemetry.start_chat(endpoint, "m", HI, {}, stream=True) as op:
        pass
    assert otel.spans() == []
    state = ChatStreamState()
    op.first_chunk()
    op.end_stream(state)
    op.end_stream(state, ConfigurationError("late"))
    (span,) = otel.spans()
    assert "error.type" not in span.attributes
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0


def test_messages_of_an_unknown_shape_never_break_the_call(otel: Any) -> None:
    telemetry.configure(tracer_provider=otel.tracer_provider, capture_content=True)
    odd = [{"role": "assistant", "tool_calls": 5}]
    with telemetry.start_chat(parse_endpoint(AI_SERVICES), "m", odd, {}) as op:
        pass
    (span,) = otel.spans()
    assert "gen_ai.input.messages" not in span.attributes
    assert op.span is span or op.span is not None
