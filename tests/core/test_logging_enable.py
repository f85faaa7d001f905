"""``logging_enable=True``: the exchange at DEBUG on our logger, secrets hidden, one client."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from azureinference import APIStatusError, AsyncClient, Client, ConfigurationError
from azureinference.emulator import Emulator

from .core_support import collect, maybe_await

SIG = "sig-S3cret-value"
CODE = "FunctionC0de-secret"
IMAGE = f"https://blob.example.com/cat.png?sv=2024&sig={SIG}"
PROMPT = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Describe the picture"},
            {"type": "image_url", "image_url": {"url": IMAGE}},
        ],
    }
]


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def body_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "azureinference"
        and r.getMessage().startswith(("Request:", "Response:", "Stream event:"))
    ]


async def exchange(client: Any) -> None:
    extras = {"api_key": "extra-S3cret"}
    await maybe_await(client.complete(PROMPT, model_extras=extras, headers={"x-api-key": "h"}))
    await collect(await maybe_await(client.stream([{"role": "user", "content": "Count"}])))
    await maybe_await(client.embed(["a text"], model="emulator-embed"))
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


async def test_request_answer_and_events_are_logged_without_secrets(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture, sync: bool
) -> None:
    emu = azure_inference_emulator
    cls = Client if sync else AsyncClient
    client = cls(
        f"{emu.openai_v1_endpoint}?code={CODE}",
        emu.key,
        model="emulator-chat",
        logging_enable=True,
        extra_parameters="pass-through",
    )
    with caplog.at_level(logging.DEBUG, logger="azureinference"):
        await exchange(client)
    lines = body_lines(caplog)
    text = "\n".join(lines)
    requests = [line for line in lines if line.startswith("Request:")]
    assert len(requests) == 3
    assert "/openai/v1/chat/completions?code=***" in requests[0]
    assert "Describe the picture" in requests[0]  # the body
    assert '"sig=***' in text or "sig=***" in text  # the image URL kept, its secret hidden
    assert any(line.startswith("Response: 200") and "You said" in line for line in lines)
    events = [line for line in lines if line.startswith("Stream event:")]
    assert events[-1] == "Stream event: [DONE]"
    assert any('"delta"' in e for e in events)
    assert "(a stream: its events follow)" in text
    assert '"embedding"' in text or '"data"' in text
    for secret in (emu.key, SIG, CODE, "extra-S3cret"):
        assert secret not in text
    assert "x-api-key': '***'" in text


async def test_the_error_body_of_a_streamed_call_is_logged(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture, sync: bool
) -> None:
    # A stream asked for, a JSON error answered: the service's words are in the log.
    emu = azure_inference_emulator
    cls = Client if sync else AsyncClient
    client = cls(emu.openai_v1_endpoint, emu.key, model="no-such-model", logging_enable=True)
    with caplog.at_level(logging.DEBUG, logger="azureinference"), pytest.raises(APIStatusError):
        await collect(await maybe_await(client.stream([{"role": "user", "content": "Hi"}])))
    await maybe_await(client.aclose() if isinstance(client, AsyncClient) else client.close())
    lines = body_lines(caplog)
    answers = [line for line in lines if line.startswith("Response:")]
    # (a nameless 400 to a stream is tried once more without stream_options: two exchanges)
    assert len(answers) == len([line for line in lines if line.startswith("Request:")]) >= 1
    for answer in answers:  # each logged once, with the error body, not "(a stream: ...)"
        assert answer.startswith("Response: 400")
        assert "Unknown model: no-such-model" in answer
    assert emu.key not in "\n".join(body_lines(caplog))


async def test_other_clients_log_no_bodies(
    azure_inference_emulator: Emulator, caplog: pytest.LogCaptureFixture, sync: bool
) -> None:
    emu = azure_inference_emulator
    cls = Client if sync else AsyncClient
    client = cls(emu.openai_v1_endpoint, emu.key, model="emulator-chat")
    with caplog.at_level(logging.DEBUG, logger="azureinference"):
        await exchange(client)
    assert body_lines(caplog) == []
    assert any("-> 200" in r.getMessage() for r in caplog.records)  # the one-line summaries


def test_logging_enable_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError, match="logging_enable"):
        Client("http://127.0.0.1:9/openai/v1", "k", logging_enable="yes")  # type: ignore[arg-type]
