"""Reasoning models: their families by name, what a request for them leaves out, and what a
refusal teaches (the recorded answers of Azure OpenAI and OpenAI)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from azureinference.errors import error_from_payload
from azureinference.profiles import find_reasoning_rules
from azureinference.reasoning import Dropped, Lessons, Refused, adapt_params, read_refusal

# ../shared/realwire beside the checkout (or beside a parent folder of it, for a worktree).
REALWIRE = next(
    (
        p / "shared" / "realwire"
        for p in Path(__file__).resolve().parents[2:]
        if (p / "shared").is_dir()
    ),
    Path("../shared/realwire"),
)


@pytest.mark.parametrize(
    ("names", "family"),
    [
        (("gpt-5-mini",), "openai-reasoning"),
        (("gpt-5.2",), "openai-reasoning"),
        (("o1",), "openai-reasoning"),
        (("o3-mini-2025-01-31",), "openai-reasoning"),
        (("o4-mini",), "openai-reasoning"),
        (("my-reasoner", "o4-mini"), "openai-reasoning"),  # the deployment's model, later
        (("DeepSeek-R1-0528",), "deepseek-r1"),
        (("MAI-DS-R1",), "deepseek-r1"),
        (("azureml://registries/azureml/models/Qwen3-32B",), "qwen3"),
        (("QwQ-32B",), "qwq"),
        (("Phi-4-reasoning",), "phi-4-reasoning"),
        (("Phi-4-mini-reasoning",), "phi-4-reasoning"),
        (("gpt-oss-120b",), "gpt-oss"),
        (("gpt-5-chat",), None),
        (("gpt-5.1-chat-latest",), None),
        (("gpt-4o",), None),
        (("my-reasoner", None), None),
    ],
)
def test_families_by_name(names: tuple[str | None, ...], family: str | None) -> None:
    rules = find_reasoning_rules(*names)
    assert (rules.family if rules else None) == family


GPT5 = find_reasoning_rules("gpt-5-mini")


def test_a_known_reasoning_model_gets_max_completion_tokens_and_no_sampling() -> None:
    params: dict[str, Any] = {
        "max_tokens": 100,
        "temperature": 0,
        "top_p": 1,  # the default: sent
        "presence_penalty": 0.5,
        "seed": 7,
        "stop": ["END"],
    }
    dropped = adapt_params(params, GPT5)
    assert params == {"max_completion_tokens": 100, "top_p": 1, "seed": 7, "stop": ["END"]}
    assert [(d.param, d.value, d.renamed_to) for d in dropped] == [
        ("max_tokens", 100, "max_completion_tokens"),
        ("temperature", 0, None),
        ("presence_penalty", 0.5, None),
    ]
    assert "take only the default temperature (1)" in dropped[1].reason


def test_reasoning_effort_none_keeps_sampling() -> None:
    params: dict[str, Any] = {"temperature": 0.2, "reasoning_effort": "none", "max_tokens": 9}
    adapt_params(params, find_reasoning_rules("gpt-5.1"))
    assert params == {"temperature": 0.2, "reasoning_effort": "none", "max_completion_tokens": 9}


def test_temperature_one_and_logprobs_false_are_the_defaults() -> None:
    params: dict[str, Any] = {"temperature": 1.0, "logprobs": False, "top_logprobs": 2}
    dropped = adapt_params(params, GPT5)
    assert params == {"temperature": 1.0, "logprobs": False}
    assert [d.param for d in dropped] == ["top_logprobs"]


def test_max_completion_tokens_given_too_wins() -> None:
    params: dict[str, Any] = {"max_tokens": 10, "max_completion_tokens": 50}
    assert adapt_params(params, GPT5) == [
        Dropped(
            "max_tokens", 10, "max_completion_tokens is given too, and this model takes only that"
        )
    ]
    assert params == {"max_completion_tokens": 50}


@pytest.mark.parametrize("name", ["deepseek-r1", "gpt-oss-20b", "gpt-4o", None])
def test_other_models_are_sent_everything(name: str | None) -> None:
    params: dict[str, Any] = {"max_tokens": 10, "temperature": 0, "reasoning_effort": "high"}
    assert adapt_params(params, find_reasoning_rules(name)) == []
    assert params == {"max_tokens": 10, "temperature": 0, "reasoning_effort": "high"}


def test_lessons_rename_and_drop() -> None:
    lessons = Lessons()
    lessons.learn(Refused("max_tokens", "use max_completion_tokens", "max_completion_tokens"))
    lessons.learn(Refused("temperature", "Only the default (1) value is supported."))
    params: dict[str, Any] = {"max_tokens": 5, "temperature": 0.3, "top_p": 0.5}
    dropped = adapt_params(params, None, lessons)
    assert params == {"max_completion_tokens": 5, "top_p": 0.5}
    assert dropped[1] == Dropped("temperature", 0.3, "Only the default (1) value is supported.")


def _recorded(name: str) -> tuple[int, Any]:
    path = REALWIRE / "recordings" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"../shared/realwire is not here ({path})")
    response = json.loads(path.read_text())["response"]
    return response["status"], json.loads(base64.b64decode(response["body_b64"]))


def test_azure_openai_max_tokens_refusal_asks_for_max_completion_tokens() -> None:
    status, body = _recorded("aoai_v1_unsupported_param")
    err = error_from_payload(status, body)
    refused = read_refusal(err, {"max_tokens": 100})
    assert refused == Refused(
        "max_tokens",
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
        "'max_completion_tokens' instead.",
        "max_completion_tokens",
    )
    # Without max_tokens in the request, the refusal is not about this request.
    assert read_refusal(err, {"max_completion_tokens": 100}) is None


def test_openai_refusal_of_stop_is_not_learned() -> None:
    # gpt-5-mini refuses stop: the user's stop sequences are not a sampling default to drop.
    status, body = _recorded("openai_err_400_param")
    assert read_refusal(error_from_payload(status, body), {"stop": ["x"]}) is None


AZURE_TEMPERATURE = {
    "error": {
        "message": "Unsupported value: 'temperature' does not support 0 with this model. Only "
        "the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
}


@pytest.mark.parametrize(
    ("status", "body", "params", "learned"),
    [
        (400, AZURE_TEMPERATURE, {"temperature": 0}, "temperature"),
        (400, AZURE_TEMPERATURE, {"top_p": 0.5}, None),  # names a parameter not sent
        (
            422,
            {
                "status": 422,
                "code": "parameter_not_supported",
                "message": "One of the parameters contain invalid values.",
                "detail": {"loc": ["body", "top_p"], "input": 0.5},
            },
            {"top_p": 0.5},
            "top_p",
        ),
        (  # the Model Inference API's 422 for max_tokens: resent as max_completion_tokens
            422,
            {
                "status": 422,
                "code": "parameter_not_supported",
                "message": "One of the parameters contain invalid values.",
                "detail": {"loc": ["body", "max_tokens"], "input": 5},
            },
            {"max_tokens": 5},
            "max_tokens",
        ),
        (  # a value out of range is the user's to fix
            400,
            {"error": {"message": "bad", "param": "temperature", "code": "invalid_value"}},
            {"temperature": 5},
            None,
        ),
        (  # top_logprobs is not logprobs
            400,
            {"error": {"message": "x", "param": "top_logprobs", "code": "unsupported_parameter"}},
            {"logprobs": True, "top_logprobs": 2},
            "top_logprobs",
        ),
        (  # a nameless refusal (a gateway's) teaches nothing
            400,
            {"error": {"message": "One of the parameters contain invalid values.", "param": None}},
            {"temperature": 0},
            None,
        ),
    ],
)
def test_read_refusal(status: int, body: Any, params: dict[str, Any], learned: str | None) -> None:
    refused = read_refusal(error_from_payload(status, body), params)
    assert (refused.param if refused else None) == learned
