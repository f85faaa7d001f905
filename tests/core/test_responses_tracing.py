"""Responses calls are traced and metered as chat calls are (GenAI semantic conventions).

One ``chat {model}`` span per ``respond`` / ``stream_response``, with the answer's id, finish
reason and token usage (reasoning and cached details included); a streamed span ends with its
stream; a failed stream ends its span as an error.
"""

from __future__ import annotations

from typing import Any

import pytest

from azureinference import APIStatusError
from azureinference.emulator import Emulator

from .core_support import collect, maybe_await
from .test_tracing import close, emulator_client, only_span

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.trace import StatusCode


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_respond_span(azure_inference_emulator: Emulator, otel: Any, sync: bool) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    answer = await maybe_await(client.respond("Hi", temperature=0.5, max_output_tokens=40))
    span = only_span(otel)
    assert span.name == "chat emulator-chat"
    attrs = span.attributes
    assert attrs["gen_ai.response.id"] == answer.id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.request.temperature"] == 0.5
    assert attrs["gen_ai.usage.input_tokens"] == answer.usage.input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == answer.usage.output_tokens
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in otel.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": answer.usage.input_tokens, "output": answer.usage.output_tokens}
    await close(client)


async def test_streamed_response_span_ends_with_the_stream(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    stream = await maybe_await(client.stream_response("count to 4"))
    assert otel.spans() == []  # open while the answer streams
    events = await collect(stream)
    final = stream.state.final()
    assert final.output_text == "1 2 3 4"
    assert events[-1].type == "response.completed"
    span = only_span(otel)
    attrs = span.attributes
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.id"] == final.id
    assert attrs["gen_ai.usage.output_tokens"] == final.usage.output_tokens
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    await close(client)


async def test_a_refused_response_is_an_error_span(
    azure_inference_emulator: Emulator, otel: Any, sync: bool
) -> None:
    client = emulator_client(azure_inference_emulator, sync)
    with pytest.raises(APIStatusError):
        await maybe_await(client.respond("Hi", previous_response_id="resp_unknown"))
    span = only_span(otel)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "BadRequestError"
    await close(client)
