"""Each route family keeps its own rules; what issue 10 asked of the emulator, item by item."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from azureinference.emulator import Emulator, EmulatorConfig, ModelSpec, running_emulator
from azureinference.emulator.__main__ import _parser, _serve, build_config
from azureinference.emulator.answers import chat_answer, json_answer

CLI = [sys.executable, "-m", "azureinference.emulator"]
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


def post(emu: Emulator, path: str, body: Any, **headers: str) -> httpx.Response:
    headers.setdefault("authorization", f"Bearer {emu.key}")
    return httpx.post(emu.url + path, json=body, headers=headers)


def get(emu: Emulator, path: str) -> httpx.Response:
    return httpx.get(emu.url + path, headers={"api-key": emu.key})


# 1. OpenAI chat fields: standard on the OpenAI-style routes, extra on the Model Inference ones.


@pytest.mark.parametrize("prefix", ["/v1", "/openai/v1"])
def test_openai_fields_are_standard_on_openai_routes(emu: Emulator, prefix: str) -> None:
    body = {"model": "emulator-chat", "messages": HI, "store": False, "service_tier": "auto"}
    assert post(emu, prefix + "/chat/completions", body).status_code == 200


def test_openai_fields_stay_extra_on_model_inference_routes(emu: Emulator) -> None:
    refused = post(emu, "/models/chat/completions", {"messages": HI, "store": False})
    assert refused.status_code == 422
    assert refused.json()["code"] == "extra_parameters_not_allowed"
    assert refused.json()["detail"]["loc"] == ["body", "store"]


# 2. Token arrays: OpenAI-style embeddings only.


def test_token_arrays_on_openai_routes_only(emu: Emulator) -> None:
    body = {"model": "emulator-embed", "input": [[15339, 1917]]}
    taken = post(emu, "/v1/embeddings", body)
    assert taken.status_code == 200
    assert taken.json()["usage"]["prompt_tokens"] == 2
    refused = post(emu, "/models/embeddings", body)
    assert refused.status_code == 422
    assert refused.json()["detail"]["loc"] == ["body", "input"]
    bad = post(emu, "/v1/embeddings", {"model": "emulator-embed", "input": [[1], "x", [True]]})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "input"


# 3. Error shapes and statuses.


def test_openai_error_shape(emu: Emulator) -> None:
    bad = post(emu, "/v1/chat/completions", {"model": "emulator-chat", "messages": []})
    assert bad.status_code == 400
    assert set(bad.json()["error"]) == {"message", "type", "param", "code"}
    assert bad.json()["error"]["param"] == "messages"
    nested = post(
        emu,
        "/v1/chat/completions",
        {"model": "emulator-chat", "messages": [{"role": "tool", "content": "x"}]},
    )
    assert nested.json()["error"]["param"] == "messages[0].tool_call_id"
    unauthorized = httpx.post(emu.url + "/v1/chat/completions", json={"messages": HI})
    assert unauthorized.status_code == 401
    assert unauthorized.json()["error"]["code"] == "invalid_api_key"
    missing = post(emu, "/v1/chat/completions", {"model": "gpt-9", "messages": HI})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "model_not_found")
    route = post(emu, "/v1/nothing", {})
    assert route.status_code == 404
    assert route.json()["error"]["message"] == "Invalid URL (POST /v1/nothing)"
    wrong_kind = post(emu, "/v1/embeddings", {"model": "emulator-chat", "input": "x"})
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["error"]["param"] == "model"


def test_model_inference_errors_keep_their_shape(emu: Emulator) -> None:
    unknown = post(emu, "/models/chat/completions", {"model": "gpt-9", "messages": HI})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_model"
    denied = httpx.post(emu.url + "/models/chat/completions", json={"messages": HI})
    assert denied.json()["error"] == "Unauthorized"


# 4. Routes: model listing and legacy completions.


@pytest.mark.parametrize("path", ["/v1/models", "/openai/v1/models", "/openai/models"])
def test_model_listing(emu: Emulator, path: str) -> None:
    listing = get(emu, path + ("?api-version=2024-10-21" if path == "/openai/models" else ""))
    assert listing.json()["object"] == "list"
    ids = [m["id"] for m in listing.json()["data"]]
    assert ids == [m.name for m in emu.config.models]
    one = get(emu, "/v1/models/emulator-embed").json()
    assert (one["id"], one["object"], one["capabilities"]["embeddings"]) == (
        "emulator-embed",
        "model",
        True,
    )


def test_legacy_completions(emu: Emulator) -> None:
    body = {"model": "emulator-chat", "prompt": ["count to 2", "Hi"], "n": 2, "logprobs": 1}
    answer = post(emu, "/v1/completions", body).json()
    assert [c["text"] for c in answer["choices"]] == ["1 2", "1 2", "You said: Hi", "You said: Hi"]
    assert answer["choices"][0]["logprobs"]["tokens"] == ["1", " 2"]
    assert answer["usage"]["completion_tokens"] == 2 * (2 + 3)


# 5 and 6. Fresh ids, n, logprobs, request ids, /info per model.


def test_request_ids_on_every_answer(emu: Emulator) -> None:
    for response in (
        post(emu, "/models/chat/completions", {"messages": HI}),
        post(emu, "/models/chat/completions", {"messages": []}),
        get(emu, "/info"),
    ):
        assert response.headers["x-request-id"] == response.headers["apim-request-id"]
    first = post(emu, "/models/chat/completions", {"messages": HI})
    second = post(emu, "/models/chat/completions", {"messages": HI})
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.json()["id"] != second.json()["id"]


def test_streamed_n_choices_and_logprobs(emu: Emulator) -> None:
    body = {"messages": HI, "stream": True, "n": 2, "logprobs": True, "top_logprobs": 1}
    with httpx.stream(
        "POST",
        emu.url + "/v1/chat/completions",
        json={"model": "emulator-chat", **body},
        headers={"api-key": emu.key},
    ) as response:
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    chunks = [json.loads(line) for line in lines if line != "[DONE]"]
    texts = {0: "", 1: ""}
    for chunk in chunks:
        for choice in chunk["choices"]:
            texts[choice["index"]] += choice["delta"].get("content") or ""
            if choice["delta"].get("content"):
                assert len(choice["logprobs"]["content"][0]["top_logprobs"]) == 1
    assert texts == {0: "You said: Hi", 1: "You said: Hi"}


def test_info_describes_each_model(emu: Emulator) -> None:
    assert get(emu, "/info?model=emulator-embed").json()["model_type"] == "embeddings"
    serverless = get(emu, "/serverless/emulator-image-embed/info").json()
    assert serverless["model_name"] == "emulator-image-embed"
    assert serverless["model_type"] == "image-embeddings"
    deployment = get(emu, "/openai/deployments/emulator-embed/info?api-version=2024-10-21")
    assert deployment.json()["model_name"] == "emulator-embed"
    assert get(emu, "/info").json()["model_name"] == "emulator-chat"
    embedded = post(emu, "/serverless/emulator-embed/embeddings", {"input": ["a"]})
    assert embedded.json()["model"] == "emulator-embed"


# 7. JSON mode answers what was asked.


def _json_mode(text: str, system: str | None = None) -> Any:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    body = {"messages": messages, "response_format": {"type": "json_object"}}
    return json.loads(chat_answer(body).content or "")


@pytest.mark.parametrize(
    ("prompt", "keys"),
    [
        ("Return the result as a JSON with 'setup' and 'punchline' keys.", {"setup", "punchline"}),
        ('Answer in JSON with the fields "city" and "country".', {"city", "country"}),
        ("Give JSON with keys: name, age and email.", {"name", "age", "email"}),
        ('Reply in JSON like {"title": "...", "year": 2000}.', {"title", "year"}),
        ("Answer in JSON.", {"answer"}),
    ],
)
def test_json_mode_answers_the_keys_the_prompt_names(prompt: str, keys: set[str]) -> None:
    assert set(_json_mode(prompt)) == keys


def test_json_mode_follows_a_schema_in_the_prompt() -> None:
    schema = {
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    instructions = (
        "The output should be formatted as a JSON instance that conforms to the JSON schema "
        'below.\n\nAs an example, for the schema {"properties": {"foo": {"type": "array", '
        '"items": {"type": "string"}}}, "required": ["foo"]} the object {"foo": ["bar"]} is a '
        f"well-formatted instance.\n\nHere is the output schema:\n```\n{json.dumps(schema)}\n```"
    )
    assert _json_mode("Ada Lovelace was 36.", system=instructions) == {
        "name": "Ada Lovelace",
        "age": 36,
    }
    assert json_answer([{"role": "user", "content": "x"}], "x") == {"answer": "You said: x"}


# 11. "auto" tool choice matches the words of the tool's name and description.

POPULATION = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Number of people living in a country",
        "parameters": {"type": "object", "properties": {"country": {"type": "string"}}},
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.mark.parametrize(
    ("text", "called"),
    [
        ("Weather in Paris?", ["get_weather"]),
        ("How many people are living in France?", ["lookup"]),
        ("Hello there", []),
        ("Is it a given that you help?", []),  # one generic description word calls nothing
        ("Weather and people living in Oslo", ["get_weather", "lookup"]),
    ],
)
def test_auto_tool_choice_matches_name_and_description_words(text: str, called: list[str]) -> None:
    body = {"messages": [{"role": "user", "content": text}], "tools": [POPULATION, WEATHER]}
    answer = chat_answer(body)
    assert sorted(c["function"]["name"] for c in answer.tool_calls) == sorted(called)


# 8, 9, 10. The command line.


def test_cli_declares_models_and_reads_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "emulator.json"
    config.write_text(
        json.dumps(
            {
                "models": [{"name": "from-file"}, {"name": "vectors", "kind": "embeddings"}],
                "requests_per_minute": 100,
                "key": "file-key",
            }
        )
    )
    built = build_config(_parser().parse_args(["--config", str(config), "--rpm", "200"]))
    assert [m.name for m in built.models] == ["from-file", "vectors"]
    assert built.models[1].kind == "embeddings"
    assert (built.key, built.requests_per_minute) == ("file-key", 200)
    args = ["--model", "gpt-4o-mini", "--model", "text-embedding-3-small:embeddings,tpm=1000"]
    declared = build_config(_parser().parse_args(args))
    assert [(m.name, m.kind) for m in declared.models] == [
        ("gpt-4o-mini", "chat"),
        ("text-embedding-3-small", "embeddings"),
    ]
    assert declared.models[1].tokens_per_minute == 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "m:vectors"], "kind must be one of"),
        (["--model", "m,tpm=lots"], "tpm"),
        (["--model", "m,colour=red"], "options are"),
        (["--time-scale", "0"], "time_scale"),
    ],
)
def test_cli_names_a_bad_value(args: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_config(_parser().parse_args(args))


def test_config_file_names_an_unknown_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"models": [{"name": "m", "colour": "red"}]}))
    with pytest.raises(ValueError, match=r"models\[0\] has unknown keys \['colour'\]"):
        build_config(_parser().parse_args(["--config", str(config)]))


def test_cli_serves_declared_models_on_a_free_port() -> None:
    proc = subprocess.Popen(
        [*CLI, "--port", "0", "--key", "k", "--model", "gpt-4o-mini"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
        assert not url.endswith(":0")
        # Printed once the port accepts connections: connecting at once works.
        answer = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": HI},
            headers={"api-key": "k"},
        )
        assert answer.json()["choices"][0]["message"]["content"] == "You said: Hi"
        printed = [proc.stdout.readline() for _ in range(4)]
        assert any("model: gpt-4o-mini (chat)" in line for line in printed)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_busy_port_is_named_with_the_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*CLI, "--port", str(port)], capture_output=True, text=True, timeout=60
        )
        with pytest.raises(OSError, match="already in use"), running_emulator(port=port):
            pass
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_ready_is_announced_only_once_the_server_listens() -> None:
    class Server:
        started = False
        seen_at_ready: bool | None = None

        async def serve(self, sockets: Any) -> None:
            for _ in range(3):
                await asyncio.sleep(0)
            self.started = True
            await asyncio.sleep(0.02)

    server = Server()

    def ready() -> None:
        server.seen_at_ready = server.started

    asyncio.run(_serve(server, None, ready))
    assert server.seen_at_ready is True


def test_config_quota_per_model_from_python() -> None:
    config = EmulatorConfig(models=[ModelSpec("m", requests_per_minute=5)], tokens_per_minute=9)
    with running_emulator(config) as emu:
        answer = post(emu, "/models/chat/completions", {"model": "m", "messages": HI})
    assert answer.headers["x-ratelimit-limit-requests"] == "5"
    assert answer.headers["x-ratelimit-limit-tokens"] == "9"


def test_tool_calls_get_fresh_ids() -> None:
    body = {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [WEATHER]}
    first, second = chat_answer(body), chat_answer(body)
    assert first.tool_calls[0]["function"] == second.tool_calls[0]["function"]
    assert first.tool_calls[0]["id"] != second.tool_calls[0]["id"]
