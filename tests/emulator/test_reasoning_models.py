"""The emulator's reasoning models: Azure OpenAI's refusals, reasoning, <think>, token details."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from azureinference.emulator import Emulator, EmulatorConfig, ModelSpec, running_emulator
from azureinference.emulator.config import config_from_dict, model_from_arg

HI = [{"role": "user", "content": "Hi"}]
REALWIRE = next(
    (
        p / "shared" / "realwire"
        for p in Path(__file__).resolve().parents[2:]
        if (p / "shared").is_dir()
    ),
    Path("../shared/realwire"),
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


def chat(emu: Emulator, body: dict[str, Any], prefix: str = "/openai/v1") -> httpx.Response:
    return httpx.post(
        emu.url + prefix + "/chat/completions",
        json={"model": "emulator-reasoner", "messages": HI, **body},
        headers={"api-key": emu.key},
    )


def test_max_tokens_is_refused_with_azure_openais_own_body(emu: Emulator) -> None:
    refused = chat(emu, {"max_tokens": 100})
    assert refused.status_code == 400
    recording = REALWIRE / "recordings" / "aoai_v1_unsupported_param.json"
    if recording.exists():
        recorded = json.loads(recording.read_text())["response"]
        assert refused.json() == json.loads(base64.b64decode(recorded["body_b64"]))
    assert refused.json()["error"]["code"] == "unsupported_parameter"


@pytest.mark.parametrize(
    ("param", "value", "code", "message"),
    [
        (
            "temperature",
            0,
            "unsupported_value",
            "Unsupported value: 'temperature' does not support 0 with this model. Only the "
            "default (1) value is supported.",
        ),
        (
            "top_p",
            0.5,
            "unsupported_value",
            "Unsupported value: 'top_p' does not support 0.5 with this model. Only the default "
            "(1) value is supported.",
        ),
        (
            "presence_penalty",
            0.5,
            "unsupported_parameter",
            "Unsupported parameter: 'presence_penalty' is not supported with this model.",
        ),
        (
            "logprobs",
            True,
            "unsupported_parameter",
            "Unsupported parameter: 'logprobs' is not supported with this model.",
        ),
    ],
)
def test_sampling_other_than_the_default_is_refused(
    emu: Emulator, param: str, value: Any, code: str, message: str
) -> None:
    refused = chat(emu, {param: value})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def test_defaults_are_taken(emu: Emulator) -> None:
    assert chat(emu, {"temperature": 1, "top_p": 1.0, "presence_penalty": 0}).status_code == 200


def test_model_inference_routes_refuse_with_their_422(emu: Emulator) -> None:
    refused = chat(emu, {"temperature": 0}, prefix="/models")
    assert refused.status_code == 422
    assert refused.json()["code"] == "parameter_not_supported"
    assert refused.json()["detail"]["loc"] == ["body", "temperature"]


def test_the_answer_has_reasoning_and_its_tokens(emu: Emulator) -> None:
    answer = chat(emu, {"max_completion_tokens": 500}).json()
    message = answer["choices"][0]["message"]
    assert message["content"] == "You said: Hi"
    reasoning_tokens = len(message["reasoning_content"].split())
    assert answer["usage"]["completion_tokens_details"] == {"reasoning_tokens": reasoning_tokens}
    assert answer["usage"]["completion_tokens"] == reasoning_tokens + 3


def test_reasoning_effort_sets_how_long_it_reasons(emu: Emulator) -> None:
    tokens = [
        chat(emu, {"reasoning_effort": effort}).json()["usage"]["completion_tokens_details"][
            "reasoning_tokens"
        ]
        for effort in ("minimal", "medium", "high", "xhigh")
    ]
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == 4


def test_a_small_budget_is_spent_on_reasoning(emu: Emulator) -> None:
    answer = chat(emu, {"max_completion_tokens": 4}).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == ""
    assert len(choice["message"]["reasoning_content"].split()) == 4
    assert answer["usage"]["completion_tokens"] == 4


def test_streamed_reasoning_comes_before_the_text(emu: Emulator) -> None:
    with httpx.stream(
        "POST",
        emu.url + "/openai/v1/chat/completions",
        json={
            "model": "emulator-reasoner",
            "messages": HI,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        headers={"api-key": emu.key},
    ) as response:
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")
        ]
    deltas = [e["choices"][0]["delta"] for e in events if e["choices"]]
    kinds = [("reasoning" if "reasoning_content" in d else "text") for d in deltas if len(d) == 1]
    assert kinds == sorted(kinds)  # every reasoning piece, then every text piece
    assert events[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_the_thinker_writes_its_reasoning_into_the_text(emu: Emulator) -> None:
    answer = chat(emu, {"model": "emulator-thinker", "temperature": 0}).json()
    content = answer["choices"][0]["message"]["content"]
    assert content.startswith("<think>\n")
    assert content.endswith("\n</think>\n\nYou said: Hi")
    cut = chat(emu, {"model": "emulator-thinker", "max_tokens": 3}).json()["choices"][0]
    assert cut["finish_reason"] == "length"
    assert "</think>" not in cut["message"]["content"]


def test_model_spec_options_from_files_and_flags() -> None:
    config = config_from_dict(
        {
            "models": [
                {"name": "my-reasoner", "reasoning": "reasoning_content", "fixed_sampling": True}
            ]
        }
    )
    assert config.models == [
        ModelSpec("my-reasoner", reasoning="reasoning_content", fixed_sampling=True)
    ]
    assert model_from_arg("r1,reasoning=think") == ModelSpec("r1", reasoning="think")
    assert model_from_arg("o,fixed_sampling=true").fixed_sampling
    with pytest.raises(ValueError, match="reasoning must be one of"):
        ModelSpec("x", reasoning="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fixed_sampling must be true or false"):
        model_from_arg("o,fixed_sampling=1")


def test_a_deployment_of_my_own_name() -> None:
    config = EmulatorConfig(
        models=[ModelSpec("my-reasoner", reasoning="reasoning_content", fixed_sampling=True)]
    )
    with running_emulator(config) as emu:
        refused = httpx.post(
            emu.url
            + "/openai/deployments/my-reasoner/chat/completions?api-version=2025-04-01-preview",
            json={"messages": HI, "max_tokens": 5},
            headers={"api-key": emu.key},
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "max_tokens"
