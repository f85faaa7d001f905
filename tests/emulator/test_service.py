"""Issue 21 item 14: the emulator as a network service (shared dev endpoint, CI).

The key is checked before a byte of the body is read; bodies, the request log and the work one
request makes are bounded; hostile input (100k-deep JSON, a non-ASCII key) is a 4xx in the route's
error shape, never a 500. The checks count what is read, kept and sent (body chunks consumed,
request-log entries, answer words), not memory or time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from azureinference.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorState,
    ScriptedReply,
    running_emulator,
)
from azureinference.emulator.app import create_app

KEY = "emulator-test-key"


# ---- an in-process ASGI call that counts the body chunks the app reads ----


class _Call:
    """One request sent to the app in pieces; ``read`` is how many pieces it asked for."""

    def __init__(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], pieces: list[bytes]
    ) -> None:
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        self.pieces = pieces
        self.read = 0
        self.status = 0
        self.body = b""

    async def receive(self) -> dict[str, Any]:
        if self.read >= len(self.pieces):
            await asyncio.Event().wait()  # a disconnect would come here; the app never asks
        self.read += 1
        more = self.read < len(self.pieces)
        return {"type": "http.request", "body": self.pieces[self.read - 1], "more_body": more}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def json(self) -> Any:
        return json.loads(self.body)


def _call(
    state: EmulatorState,
    path: str,
    pieces: list[bytes],
    *,
    key: bytes | None = KEY.encode(),
    method: str = "POST",
    length: bool = True,
) -> _Call:
    headers = [(b"content-type", b"application/json")]
    if key is not None:
        headers.append((b"api-key", key))
    if length:
        headers.append((b"content-length", str(sum(map(len, pieces))).encode()))
    call = _Call(method, path, headers, pieces)
    asyncio.run(create_app(state)(call.scope, call.receive, call.send))
    return call


def _state(**config: Any) -> EmulatorState:
    state = EmulatorState(EmulatorConfig(**config))
    state.key = KEY
    return state


_CHAT = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
_ROUTES = {
    "inference": "/models/chat/completions",
    "openai": "/v1/chat/completions",
    "azure_openai": "/openai/v1/chat/completions",
}


def _error_message(style: str, body: Any) -> str:
    """The message of an error body, checking it has the route family's shape."""
    assert isinstance(body["error"], dict), body
    if style == "openai":
        assert set(body["error"]) >= {"message", "type", "param", "code"}
    else:
        assert "code" in body["error"]
    return str(body["error"]["message"])


# ---- the key first ----


@pytest.mark.parametrize("key", [b"wrong-key", None, "ключ-ü".encode(), b"\xff\xfe"])
def test_a_request_without_the_key_is_refused_before_its_body_is_read(key: bytes | None) -> None:
    state = _state()
    pieces = [b'{"messages": [' + b" " * 65536] * 100  # 6.5 MB, never read
    call = _call(state, "/models/chat/completions", pieces, key=key)
    assert call.status == 401
    assert call.read == 0
    assert [r.json for r in state.requests] == [None]  # logged, without a body


def test_a_non_ascii_key_over_the_wire_is_a_401_not_a_500() -> None:
    with running_emulator(key=KEY) as emu:
        for prefix, style in (("/models", "inference"), ("/v1", "openai")):
            answer = httpx.post(
                emu.url + prefix + "/chat/completions",
                content=_CHAT,
                headers={"api-key": "clé-ключ".encode(), "content-type": "application/json"},
            )
            assert answer.status_code == 401
            if style == "openai":
                assert answer.json()["error"]["code"] == "invalid_api_key"


# ---- bodies ----


@pytest.mark.parametrize("style", list(_ROUTES))
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413_in_the_routes_shape(style: str, length: bool) -> None:
    state = _state(max_body_bytes=4096)
    pieces = [b"[" + b" " * 1023] * 50
    call = _call(state, _ROUTES[style], pieces, length=length)
    assert call.status == 413
    assert "4096 bytes" in _error_message(style, call.json())
    # Declared too large: nothing read; sent in chunks: read up to the limit, then stopped.
    assert call.read == (0 if length else 5)
    assert [r.json for r in state.requests] == [None]


def test_a_body_at_the_limit_is_served() -> None:
    state = _state(max_body_bytes=len(_CHAT))
    assert _call(state, "/models/chat/completions", [_CHAT]).status == 200
    assert (
        _call(state, "/models/chat/completions", [_CHAT[:10], _CHAT[10:]], length=False).status
        == 200
    )


@pytest.mark.parametrize("style", list(_ROUTES))
@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_deeply_nested_json_is_a_400_not_a_500(style: str, depth: int) -> None:
    state = _state()
    deep = b'{"messages": [{"role": "user", "content": "hi"}], "x": ' + b"[" * depth + b"]" * depth
    call = _call(state, _ROUTES[style], [deep + b"}"])
    assert call.status == 400
    assert "nested too deeply" in _error_message(style, call.json())


def test_deeply_nested_json_schema_is_a_400_not_a_500() -> None:
    # Parsed by json.loads (under its limit), then walked by the answer's schema code.
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(450):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    call = _call(_state(), "/v1/chat/completions", [json.dumps(body).encode()])
    assert call.status in (200, 400)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_a_405_in_the_api_shape(method: str) -> None:
    call = _call(_state(), "/models/chat/completions", [_CHAT], method=method)
    assert call.status == 405
    assert call.json()["error"]["code"] == "MethodNotAllowed"


# ---- the request log is a ring ----


def test_the_request_log_keeps_the_newest_requests_only() -> None:
    state = _state(request_log_size=5)
    for i in range(40):
        body = {"messages": [{"role": "user", "content": f"call {i}"}]}
        assert _call(state, "/models/chat/completions", [json.dumps(body).encode()]).status == 200
    assert len(state.requests) == 5
    assert [r.json["messages"][0]["content"] for r in state.requests] == [
        f"call {i}" for i in range(35, 40)
    ]


def test_the_request_log_size_can_change_on_a_running_emulator() -> None:
    with running_emulator(EmulatorConfig(request_log_size=3)) as emu:
        client = httpx.Client(headers={"api-key": emu.key})
        for _ in range(6):
            client.get(emu.url + "/models/info")
        assert len(emu.requests) == 3
        emu.config.request_log_size = 10
        for _ in range(12):
            client.get(emu.url + "/models/info")
        assert len(emu.requests) == 10
        client.close()


# ---- the work of one request ----


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(EmulatorConfig(max_answer_tokens=2_000, max_answer_bytes=50_000)) as e:
        yield e


def _chat(emu: Emulator, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        emu.url + "/v1/chat/completions", json=body, headers={"api-key": emu.key}, timeout=60
    )


def test_a_streamed_long_answer_with_a_large_n_is_bounded(emu: Emulator) -> None:
    body = {
        "messages": [{"role": "user", "content": "count to 100000"}],
        "n": 8,
        "stream": True,
    }
    answer = _chat(emu, body)
    events = [json.loads(line[6:]) for line in answer.text.splitlines() if line[6:7] == "{"]
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for event in events:
        for choice in event["choices"]:
            texts[choice["index"]] = texts.get(choice["index"], "") + (
                choice["delta"].get("content") or ""
            )
            if choice["finish_reason"]:
                finishes[choice["index"]] = choice["finish_reason"]
    assert len(events) < 2_000 + 8 * 3  # words, plus a role and a finish chunk per choice
    assert finishes == dict.fromkeys(range(8), "length")
    assert texts[0] == " ".join(str(i) for i in range(1, 251))  # 2,000 words / 8 choices
    assert len(set(texts.values())) == 1


def test_a_large_prompt_echoed_to_many_choices_is_bounded(emu: Emulator) -> None:
    prompt = "word " * 200_000  # 1 MB
    answer = _chat(emu, {"messages": [{"role": "user", "content": prompt}], "n": 128})
    choices = answer.json()["choices"]
    assert len(choices) == 128
    assert sum(len(c["message"]["content"]) for c in choices) <= 50_000
    assert {c["finish_reason"] for c in choices} == {"length"}
    assert len(answer.content) < 200_000  # was 128 MB


def test_an_answer_within_the_bound_is_whole(emu: Emulator) -> None:
    answer = _chat(emu, {"messages": [{"role": "user", "content": "count to 100"}], "n": 2})
    for choice in answer.json()["choices"]:
        assert choice["message"]["content"] == " ".join(str(i) for i in range(1, 101))
        assert choice["finish_reason"] == "stop"


def test_legacy_completions_share_the_bound_over_prompts_and_n(emu: Emulator) -> None:
    body = {"model": "emulator-chat", "prompt": ["count to 100000"] * 4, "n": 2}
    answer = httpx.post(emu.url + "/v1/completions", json=body, headers={"api-key": emu.key})
    choices = answer.json()["choices"]
    assert len(choices) == 8
    assert sum(len(c["text"].split()) for c in choices) <= 2_000
    assert {c["finish_reason"] for c in choices} == {"length"}


@pytest.mark.parametrize(
    "name", ["max_body_bytes", "request_log_size", "max_answer_tokens", "max_answer_bytes"]
)
@pytest.mark.parametrize("value", [0, -1, 1.5, None, "10"])
def test_bounds_must_be_positive_integers(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        EmulatorConfig(**{name: value})


def test_a_scripted_answer_and_its_reasoning_are_bounded_too(emu: Emulator) -> None:
    emu.script(
        ScriptedReply(content="line one\nline two\n" * 5_000, reasoning_content="hm " * 10**5)
    )
    answer = _chat(emu, {"messages": [{"role": "user", "content": "hi"}], "n": 4})
    for choice in answer.json()["choices"]:
        message = choice["message"]
        assert choice["finish_reason"] == "length"
        assert message["content"].startswith("line one\nline two\nline one\n")  # kept as written
        assert len(message["content"].split()) == 500  # 2,000 words / 4 choices
        assert len(message["reasoning_content"].split()) == 500
