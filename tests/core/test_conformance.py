"""Conformance with the reference SDK's wire capture and the API's official examples.

``sdk_wire_capture.json``: for every scenario, we make the same call, compare what we put on the
wire (method, path, query, parsed body, auth / extra-parameters / caller headers), replay what the
server answered through ``httpx2.MockTransport``, and check we return what the SDK returned. Where
we differ on purpose, the case says how and why (``note``).

``spec_examples/``: every 200 body of GetChatCompletions, GetEmbeddings, GetImageEmbeddings and
GetModelInfo parses with nothing lost, and the realistic request bodies are rebuilt from
parameters by `build_chat_body` / `build_embeddings_body`.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from azureinference import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConfigurationError,
    ContentFilterError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnsupportedParameterError,
    parse_endpoint,
)
from azureinference.requests import (
    build_chat_body,
    build_chat_request,
    build_embeddings_body,
    build_image_embeddings_request,
    build_info_request,
)
from azureinference.responses import parse_chat_completion, parse_embeddings, parse_model_info

from .core_support import (
    AI_SERVICES,
    DATA,
    GITHUB,
    KEY,
    ROTATED_KEY,
    SERVERLESS,
    TOKEN,
    FakeAsyncTokenCredential,
    FakeKeyCredential,
    FakeTokenCredential,
    Recorder,
    collect,
    load_json,
    reply,
    split,
)

CAPTURE = load_json("sdk_wire_capture.json")
SCENARIOS = {s["name"]: s for s in CAPTURE["scenarios"]}
FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
AOAI_GPT4O = "https://my-resource.openai.azure.com/openai/deployments/gpt-4o"

# Request headers that are transport or per-request noise, never compared.
_NOISE = {
    "host",
    "user-agent",
    "accept-encoding",
    "connection",
    "content-length",
    "x-ms-client-request-id",
}
_REDACTED = {
    "Bearer <redacted>:key": f"Bearer {KEY}",
    "Bearer <redacted>:rotated-key": f"Bearer {ROTATED_KEY}",
    "Bearer <redacted>:entra-token": f"Bearer {TOKEN}-1",
    "<redacted>:key": KEY,
    "<redacted>:rotated-key": ROTATED_KEY,
}

TOOLS = [
    {
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
            },
        },
        "type": "function",
    }
]
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def msgs(name: str) -> list[dict[str, Any]]:
    """The scenario's messages, as wire dicts (the core takes wire messages as they are)."""
    return copy.deepcopy(SCENARIOS[name]["requests"][0]["body"]["messages"])


@dataclass
class Case:
    """How we make the scenario's call, and how our request or result differs on purpose."""

    call: Callable[[Any], Any]
    endpoint: str = SERVERLESS
    credential: Callable[[], Any] = lambda: KEY
    client_kw: dict[str, Any] = field(default_factory=dict)
    asynchronous: bool = False
    pieces: int | None = None  # replay SSE bodies in pieces of this size
    body_drop: tuple[str, ...] = ()  # keys the SDK sent and we do not
    body_add: dict[str, Any] = field(default_factory=dict)  # keys we send and the SDK did not
    query: dict[str, str] | None = None  # our query, when it differs from the SDK's
    extra_parameters: str | None = "same"  # our header value, when it differs
    requests: int | None = None  # our request count, when it differs
    check: Callable[[Any, dict[str, Any]], None] | None = None  # our result vs the scenario
    note: str = ""


def _same_result(result: Any, scenario: dict[str, Any]) -> None:
    expected = scenario["sdk_result"]
    if isinstance(expected, dict) and "result" in expected:
        expected = expected["result"]
    assert _dump(result) == expected


def _dump(result: Any) -> Any:
    if isinstance(result, list):
        return [_dump(r) for r in result]
    if isinstance(result, tuple):
        return tuple(_dump(r) for r in result)
    return result.model_dump(mode="json", exclude_unset=True)


def _raises(cls: type[Exception], **attrs: Any) -> Callable[[Any, dict[str, Any]], None]:
    def check(outcome: Any, scenario: dict[str, Any]) -> None:
        assert isinstance(outcome, cls), outcome
        expected = scenario.get("sdk_exception") or {}
        if "status_code" in expected:
            assert outcome.status_code == expected["status_code"]  # type: ignore[attr-defined]
            assert outcome.code == expected["error_code"]  # type: ignore[attr-defined]
        for name, value in attrs.items():
            assert getattr(outcome, name) == value

    return check


def _model_info(model_type: str) -> Callable[[Any, dict[str, Any]], None]:
    def check(info: Any, scenario: dict[str, Any]) -> None:
        body = scenario["responses_served"][0]["body"]
        assert _dump(info) == {**body, "model_type": model_type}

    return check


def _events_of(scenario: dict[str, Any]) -> list[Any]:
    """The JSON of each data event the scenario's stream served, read by hand."""
    text = scenario["responses_served"][0]["sse"].replace("\r\n", "\n")
    out = []
    for line in text.split("\n"):
        if line.startswith("data:"):
            data = line[5:].strip()
            if data != "[DONE]":
                out.append(json.loads(data))
    return out


def _stream_the_sdk_rejected(outcome: Any, scenario: dict[str, Any]) -> None:
    assert scenario["sdk_exception"]["type"] == "builtins.ValueError"
    assert _dump(outcome) == _events_of(scenario)


def _embeddings(
    expected_vectors: list[list[float]] | None = None,
) -> Callable[[Any, dict[str, Any]], None]:
    def check(result: Any, scenario: dict[str, Any]) -> None:
        sdk = scenario["sdk_result"]
        assert result.id == sdk["id"]
        assert result.model == sdk["model"]
        assert _dump(result.usage) == sdk["usage"]
        vectors = expected_vectors or [item["embedding"] for item in sdk["data"]]
        assert result.vectors == [pytest.approx(v, rel=1e-6) for v in vectors]
        assert [item.index for item in result.data] == [item["index"] for item in sdk["data"]]

    return check


CASES: dict[str, Case] = {
    # ---- /info (the SDK's load_client reads it to choose a client) ----
    "load_client": Case(lambda c: c.get_model_info(), check=_model_info("chat-completion")),
    "load_client_embeddings": Case(lambda c: c.get_model_info(), check=_model_info("embeddings")),
    "load_client_image_embeddings": Case(
        lambda c: c.get_model_info(),
        check=_model_info("image-embeddings"),
        note="model_type spellings are normalised: image_embeddings -> image-embeddings",
    ),
    "load_client_404": Case(
        lambda c: c.get_model_info(),
        check=lambda info, _: info is None,
        note="a missing /info is not an error: None (the SDK raises ResourceNotFoundError)",
    ),
    "load_client_unknown_type": Case(
        lambda c: c.get_model_info(),
        check=_model_info("audio-generation"),
        note="an unknown model_type is kept (the SDK's load_client raises ValueError)",
    ),
    "get_model_info_chat_client": Case(
        lambda c: [c.get_model_info(), c.get_model_info()], check=_same_result
    ),
    "get_model_info_embeddings_client": Case(lambda c: c.get_model_info(), check=_same_result),
    "get_model_info_404": Case(
        lambda c: c.get_model_info(),
        check=lambda info, _: info is None,
        note="None instead of ResourceNotFoundError: /info is optional",
    ),
    # ---- chat ----
    "chat_plain": Case(
        lambda c: c.complete(
            msgs("chat_plain"),
            frequency_penalty=0.1,
            max_tokens=256,
            model="mistral-large",
            presence_penalty=0.2,
            seed=42,
            stop=["\n\n", "END"],
            temperature=0.5,
            top_p=0.9,
        )
    ),
    "chat_minimal": Case(lambda c: c.complete(msgs("chat_minimal"))),
    "chat_dict_messages": Case(
        lambda c: c.complete(msgs("chat_dict_messages"), stream=False),
        body_drop=("stream",),
        note='we never send "stream": false, the API default',
    ),
    "chat_developer_message": Case(lambda c: c.complete(msgs("chat_developer_message"))),
    "chat_body_passthrough": Case(
        lambda c: c.complete(
            msgs("chat_body_passthrough"), temperature=0, model_extras={"top_k": 3}
        ),
        extra_parameters="pass-through",
        note="no body= passthrough: top_k is an extra, so extra-parameters: pass-through is sent "
        "(the SDK sent top_k without it, which the service refuses by default)",
    ),
    "chat_tools_auto": Case(
        lambda c: c.complete(msgs("chat_tools_auto"), tools=TOOLS, tool_choice="auto")
    ),
    "chat_tools_required": Case(
        lambda c: c.complete(msgs("chat_tools_required"), tools=TOOLS, tool_choice="required")
    ),
    "chat_tools_named": Case(
        lambda c: c.complete(
            msgs("chat_tools_named"), tools=TOOLS, tool_choice={"name": "get_weather"}
        )
    ),
    "chat_tools_followup": Case(lambda c: c.complete(msgs("chat_tools_followup"), tools=TOOLS)),
    "chat_response_format_json_object": Case(
        lambda c: c.complete(
            msgs("chat_response_format_json_object"), response_format="json_object"
        )
    ),
    "chat_response_format_text": Case(
        lambda c: c.complete(msgs("chat_response_format_text"), response_format="text")
    ),
    "chat_response_format_json_schema": Case(
        lambda c: c.complete(
            msgs("chat_response_format_json_schema"),
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "math_response",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "steps": {"type": "array", "items": {"type": "string"}},
                            "answer": {"type": "string"},
                        },
                        "required": ["steps", "answer"],
                        "additionalProperties": False,
                    },
                    "description": "A step by step solution",
                    "strict": True,
                },
            },
        )
    ),
    "chat_model_extras": Case(
        lambda c: c.complete(
            msgs("chat_model_extras"),
            temperature=0.1,
            model_extras={"safe_prompt": True, "top_k": 40},
        )
    ),
    "chat_model_extras_override": Case(
        lambda c: c.complete(
            msgs("chat_model_extras_override"),
            temperature=0.1,
            model_extras={"temperature": 0.9, "logprobs": True},
        ),
        requests=0,
        check=_raises(ConfigurationError),
        note="an extra naming a standard field raises before any request; the SDK silently "
        "sent the extra's temperature",
    ),
    "chat_extra_parameters_header_override": Case(
        lambda c: c.complete(
            msgs("chat_extra_parameters_header_override"),
            model_extras={"top_k": 40},
            headers={"extra-parameters": "drop"},
        ),
        extra_parameters="drop",
        note="the caller's extra-parameters header is kept; the SDK replaced it with pass-through",
    ),
    "chat_custom_headers": Case(
        lambda c: c.complete(
            msgs("chat_custom_headers"), headers={"azureml-model-deployment": "my-deployment"}
        )
    ),
    "chat_extra_parameters_header_only": Case(
        lambda c: c.complete(
            msgs("chat_extra_parameters_header_only"), headers={"extra-parameters": "drop"}
        )
    ),
    "chat_client_defaults": Case(
        lambda c: c.complete(
            msgs("chat_client_defaults"),
            max_tokens=5,
            response_format="json_object",
            temperature=0.3,
            model_extras={"top_k": 7},
        ),
        client_kw={"model": "phi-3"},
        note="the core client keeps model (and headers, extra_parameters) as defaults; other "
        "defaults belong to the adapters, so they are passed per call here",
    ),
    "chat_image_data_url": Case(lambda c: c.complete(msgs("chat_image_data_url"))),
    "chat_image_url": Case(lambda c: c.complete(msgs("chat_image_url"))),
    "chat_audio_data": Case(lambda c: c.complete(msgs("chat_audio_data"))),
    # ---- chat streams ----
    "chat_streaming": Case(
        lambda c: c.stream(msgs("chat_streaming"), max_tokens=16), check=_same_result
    ),
    "chat_streaming_split_bytes": Case(
        lambda c: c.stream(msgs("chat_streaming_split_bytes")), pieces=7, check=_same_result
    ),
    "chat_streaming_crlf": Case(
        lambda c: c.stream(msgs("chat_streaming_crlf")),
        check=_stream_the_sdk_rejected,
        note="CRLF line ends decode (the SDK raised ValueError)",
    ),
    "chat_streaming_event_lines": Case(
        lambda c: c.stream(msgs("chat_streaming_event_lines")),
        check=_stream_the_sdk_rejected,
        note="event: lines are read (the SDK raised ValueError)",
    ),
    "chat_streaming_no_space": Case(
        lambda c: c.stream(msgs("chat_streaming_no_space")),
        check=_stream_the_sdk_rejected,
        note="data: without a space is read (the SDK raised ValueError)",
    ),
    "chat_streaming_comment_line": Case(
        lambda c: c.stream(msgs("chat_streaming_comment_line")),
        check=_stream_the_sdk_rejected,
        note="SSE comments are skipped (the SDK raised ValueError)",
    ),
    "chat_streaming_no_done": Case(
        lambda c: c.stream(msgs("chat_streaming_no_done")), check=_same_result
    ),
    "chat_streaming_tool_calls": Case(
        lambda c: c.stream(msgs("chat_streaming_tool_calls"), tools=TOOLS), check=_same_result
    ),
    "chat_streaming_error_event": Case(
        lambda c: c.stream(msgs("chat_streaming_error_event")),
        check=_raises(ServerError, code="server_error"),
        note="the error event raises; the SDK dropped it and returned the partial text",
    ),
    "chat_streaming_error_status": Case(
        lambda c: c.stream(msgs("chat_streaming_error_status")),
        check=_raises(ContentFilterError, param="prompt"),
    ),
    "chat_streaming_model_extras": Case(
        lambda c: c.stream(msgs("chat_streaming_model_extras"), model_extras={"top_k": 5}),
        check=_same_result,
    ),
    # ---- errors and retries ----
    "error_422_parameter_not_supported": Case(
        lambda c: c.complete(
            msgs("error_422_parameter_not_supported"), response_format="json_object"
        ),
        check=_raises(UnsupportedParameterError, param="response_format"),
    ),
    "error_400_content_filter": Case(
        lambda c: c.complete(msgs("error_400_content_filter")),
        check=_raises(ContentFilterError, param="messages"),
    ),
    "error_400_azure_core_shape": Case(
        lambda c: c.complete(msgs("error_400_azure_core_shape")),
        check=_raises(ContentFilterError, param="prompt"),
    ),
    "error_401": Case(lambda c: c.complete(msgs("error_401")), check=_raises(AuthenticationError)),
    "error_404": Case(lambda c: c.complete(msgs("error_404")), check=_raises(NotFoundError)),
    "error_429_retry_after": Case(
        lambda c: c.complete(msgs("error_429_retry_after")),
        note="replayed with retry-after-ms: 50 instead of retry-after: 1 to keep the suite fast",
    ),
    "error_429_no_retry_after": Case(
        lambda c: c.complete(msgs("error_429_no_retry_after")),
        requests=3,
        check=_raises(RateLimitError, retry_after=None),
        # Unpaced: a paced call's 429s are waited out by the limiter (8 more, test_emulator).
        client_kw={"rate_limit": False},
        note="a 429 is retried with backoff even without retry-after (the SDK gave up at once)",
    ),
    "error_503_retry": Case(lambda c: c.complete(msgs("error_503_retry"))),
    # ---- embeddings ----
    "embeddings_full": Case(
        lambda c: c.embed(
            ["first phrase", "second phrase"],
            dimensions=256,
            encoding_format="float",
            input_type="query",
            model="cohere-embed",
        ),
        check=_embeddings(),
    ),
    "embeddings_minimal": Case(
        lambda c: c.embed(["first phrase", "second phrase"]),
        body_add={"encoding_format": "base64"},
        check=_embeddings(),
        note="base64 is asked for by default (a quarter of the bytes) and decoded",
    ),
    "embeddings_document_base64": Case(
        lambda c: c.embed(["doc"], input_type="document", encoding_format="base64"),
        check=_embeddings([[0.5, -0.25, 1.0]]),
        note="base64 is decoded to floats (the SDK hands back the base64 string)",
    ),
    "embeddings_model_extras": Case(
        lambda c: c.embed(["x"], model_extras={"truncate": "END"}),
        body_add={"encoding_format": "base64"},
        check=_embeddings(),
    ),
    "image_embeddings": Case(
        lambda c: c.embed_images(
            [{"image": PNG, "text": "a pixel"}], dimensions=1024, input_type="text"
        ),
        body_add={"encoding_format": "base64"},
        check=_embeddings(),
    ),
    "image_embeddings_plain": Case(
        lambda c: c.embed_images([{"image": PNG}]),
        body_add={"encoding_format": "base64"},
        check=_embeddings(),
    ),
    # ---- Entra ID ----
    "entra_default_scope": Case(
        lambda c: c.complete(msgs("entra_default_scope")),
        credential=FakeTokenCredential,
        check=_same_result,
    ),
    "entra_cognitiveservices_scope": Case(
        lambda c: c.complete(msgs("entra_cognitiveservices_scope")),
        credential=FakeTokenCredential,
        client_kw={"credential_scopes": ["https://cognitiveservices.azure.com/.default"]},
        check=_same_result,
    ),
    # ---- endpoint forms ----
    "aoai_style_endpoint": Case(
        lambda c: c.complete(msgs("aoai_style_endpoint")),
        endpoint=AOAI_GPT4O,
        client_kw={"api_version": "2024-06-01"},
    ),
    "foundry_models_endpoint": Case(
        lambda c: c.complete(msgs("foundry_models_endpoint"), model="DeepSeek-R1"),
        endpoint=AI_SERVICES,
        client_kw={"api_version": "2025-04-01"},
    ),
    "github_style_endpoint": Case(
        lambda c: c.complete(msgs("github_style_endpoint")),
        endpoint=GITHUB,
        client_kw={"model": "openai/gpt-4o-mini"},
        query={},
        note="no api-version on models.github.ai/inference: it is an OpenAI-style route",
    ),
    "endpoint_trailing_slash": Case(
        lambda c: c.complete(msgs("endpoint_trailing_slash")), endpoint=SERVERLESS + "/"
    ),
    "user_agent_prefix": Case(
        lambda c: c.complete(msgs("user_agent_prefix")), client_kw={"user_agent": "my-app/1.0"}
    ),
    "key_rotation": Case(
        lambda c: _call_rotate_call(c),
        credential=lambda: FakeKeyCredential(KEY),
        check=lambda result, scenario: _dump(result) == [scenario["sdk_result"]] * 2,
        note="both headers follow the update (test_auth shows api-key on an Azure OpenAI host)",
    ),
}

ASYNC_CASES: dict[str, Case] = {
    "async_chat_and_stream": Case(
        lambda c: _async_chat_and_stream(c),
        asynchronous=True,
        check=lambda result, scenario: (
            _dump(result[0]) == scenario["sdk_result"]["complete"]
            and _dump(result[1]) == scenario["sdk_result"]["stream"]
        ),
    ),
    "async_entra_default_scope": Case(
        lambda c: c.complete(msgs("async_entra_default_scope")),
        asynchronous=True,
        credential=FakeAsyncTokenCredential,
        check=_same_result,
    ),
}

NOT_A_WIRE_CALL = {"entra_http_refused"}  # no request: see test_entra_http_refused


def _call_rotate_call(client: Client) -> list[Any]:
    """Scenario ``key_rotation``: a call, ``AzureKeyCredential.update()``, another call."""
    first = client.complete(msgs("key_rotation"))
    client.auth._credential.update(ROTATED_KEY)
    return [first, client.complete(msgs("key_rotation"))]


async def _async_chat_and_stream(client: AsyncClient) -> tuple[Any, Any]:
    first = await client.complete(msgs("async_chat_and_stream"))
    stream = await client.stream([{"role": "user", "content": "Say hello"}])
    return first, await collect(stream)


def test_every_scenario_has_a_case() -> None:
    assert set(SCENARIOS) == set(CASES) | set(ASYNC_CASES) | NOT_A_WIRE_CALL


def _replies(scenario: dict[str, Any], case: Case) -> list[httpx2.Response]:
    out = []
    for served in scenario["responses_served"]:
        headers = dict(served["headers"])
        if headers.pop("retry-after", None) is not None:
            headers["retry-after-ms"] = "50"
        if "sse" in served:
            out.append(
                reply(
                    served["status"],
                    sse_body=served["sse"].encode(),
                    headers=headers,
                    pieces=case.pieces,
                )
            )
        else:
            out.append(reply(served["status"], served["body"], headers=headers))
    return out


def _run(name: str, case: Case) -> tuple[Recorder, Any, Client | AsyncClient]:
    scenario = SCENARIOS[name]
    recorder = Recorder(list(_replies(scenario, case)))
    cls = AsyncClient if case.asynchronous else Client
    client = cls(
        case.endpoint,
        case.credential(),
        retry_policy=FAST,
        httpx_kwargs={"transport": recorder.transport},
        **case.client_kw,
    )

    async def go() -> Any:
        try:
            result = case.call(client)
            if asyncio.iscoroutine(result):
                result = await result
            if hasattr(result, "state") and hasattr(result, "response"):  # a stream
                result = await collect(result)
            return result
        except Exception as exc:
            return exc

    outcome = asyncio.run(go())
    return recorder, outcome, client


def _check_request(
    ours: httpx2.Request, sdk: dict[str, Any], case: Case, endpoint_url: str
) -> None:
    assert ours.method == sdk["method"]
    assert ours.url.path == sdk["path"]
    query = dict(ours.url.params.multi_items())
    assert query == (sdk["query"] if case.query is None else case.query)
    if "body" in sdk:
        expected = {k: v for k, v in sdk["body"].items() if k not in case.body_drop}
        expected.update(case.body_add)
        assert json.loads(ours.content) == expected
    else:
        assert not ours.content
    sdk_headers = {k.lower(): v for k, v in sdk["headers"]}
    ours_headers = ours.headers
    # Authorization: the same form (the key, or the token).
    assert ours_headers.get("authorization") == _REDACTED.get(sdk_headers.get("authorization", ""))
    # api-key: the SDK sends it everywhere with a key; we send it only to Azure OpenAI style
    # hosts, and always the current key.
    if "api-key" in sdk_headers and parse_endpoint(endpoint_url).sends_api_key_header:
        assert ours_headers["api-key"] == KEY
    else:
        assert "api-key" not in ours_headers
    expected_extra = (
        sdk_headers.get("extra-parameters")
        if case.extra_parameters == "same"
        else case.extra_parameters
    )
    assert ours_headers.get("extra-parameters") == expected_extra
    if sdk["method"] == "POST":
        assert ours_headers["content-type"] == sdk_headers["content-type"]
    for name, value in sdk_headers.items():
        if name not in _NOISE | {
            "authorization",
            "api-key",
            "extra-parameters",
            "accept",
            "content-type",
        }:
            assert ours_headers.get(name) == value, name
    assert "x-ms-client-request-id" in ours_headers


@pytest.mark.parametrize("name", sorted(CASES) + sorted(ASYNC_CASES))
def test_sdk_scenario(name: str) -> None:
    case = CASES.get(name) or ASYNC_CASES[name]
    scenario = SCENARIOS[name]
    recorder, outcome, client = _run(name, case)

    expected_count = len(scenario["requests"]) if case.requests is None else case.requests
    assert len(recorder.requests) == expected_count, case.note
    for ours, sdk in zip(recorder.requests, scenario["requests"], strict=False):
        _check_request(ours, sdk, case, case.endpoint)
    if name == "key_rotation":
        auths = [r.headers["authorization"] for r in recorder.requests]
        assert auths == [f"Bearer {KEY}", f"Bearer {ROTATED_KEY}"]
    if name == "user_agent_prefix":
        sdk_ua = dict(scenario["requests"][0]["headers"])["User-Agent"]
        assert sdk_ua.startswith("my-app/1.0 ")
        assert recorder.last.headers["user-agent"].startswith("my-app/1.0 azureinference-python/")
    if name in (
        "entra_default_scope",
        "entra_cognitiveservices_scope",
        "async_entra_default_scope",
    ):
        calls = scenario["sdk_result"]["get_token_calls"]
        assert [list(c) for c in client.auth._credential.calls] == [c["scopes"] for c in calls]

    if case.check is not None:
        result = case.check(outcome, scenario)
        assert result is None or result is True, case.note
    else:
        assert not isinstance(outcome, Exception), outcome
        _same_result(outcome, scenario)


def test_entra_http_refused() -> None:
    """Scenario ``entra_http_refused``: a token over http is refused before any request."""
    scenario = SCENARIOS["entra_http_refused"]
    assert scenario["requests"] == []
    with pytest.raises(ConfigurationError, match="plain http"):
        Client("http://my-endpoint.eastus2.models.ai.azure.com", FakeTokenCredential())


def test_split_bytes_scenario_is_really_split() -> None:
    body = SCENARIOS["chat_streaming_split_bytes"]["responses_served"][0]["sse"].encode()
    pieces = split(body, 7)
    assert any(p.decode("utf-8", "replace") != p.decode("utf-8", "ignore") for p in pieces)


# ---- the official examples (spec_examples/) ----

INDEX = load_json("spec_examples/index.json")["examples"]
PARSERS = {
    "GetChatCompletions": parse_chat_completion,
    "GetEmbeddings": parse_embeddings,
    "GetImageEmbeddings": parse_embeddings,
    "GetModelInfo": parse_model_info,
    "GetModelDeploymentInfo": parse_model_info,
}
PARSED = [e for e in INDEX if e["operationId"] in PARSERS]


def _example(entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads((DATA / entry["file"]).read_text(encoding="utf-8"))


def _id(entry: dict[str, Any]) -> str:
    return str(Path(entry["file"]).relative_to("spec_examples").with_suffix(""))


def test_examples_are_all_there() -> None:
    assert len(INDEX) == 88
    assert len(PARSED) == 80  # all but the 8 GetImageGenerations examples


@pytest.mark.parametrize("entry", PARSED, ids=_id)
def test_official_200_bodies_parse_with_nothing_lost(entry: dict[str, Any]) -> None:
    body = _example(entry)["responses"]["200"]["body"]
    parsed = PARSERS[entry["operationId"]](200, {}, json.dumps(body).encode())
    dumped = parsed.model_dump(mode="json", exclude_unset=True)
    if entry["operationId"] in ("GetModelInfo", "GetModelDeploymentInfo"):
        body = {**body, "model_type": parsed.model_type}
        assert parsed.model_type in ("chat-completion", "embeddings")
    assert dumped == body


# The generated examples of the first spec line hold values that cannot occur on the wire
# (conformance README: "role": "ChatRequestMessage", response_format type
# "ChatCompletionsResponseFormat", a tool of type "ChatCompletionsToolDefinition").
_GENERATED_LINES = ("spec_examples/ModelClient/", "spec_examples/data-plane/AI.Model/")
REQUESTS = [
    e
    for e in INDEX
    if e["operationId"] in ("GetChatCompletions", "GetEmbeddings", "GetImageEmbeddings")
]


def _skip_reason(entry: dict[str, Any]) -> str | None:
    if entry["file"].startswith(_GENERATED_LINES):
        return "machine-generated values that cannot occur on the wire (conformance README)"
    return None


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(e, marks=pytest.mark.skip(reason=r)) if (r := _skip_reason(e)) else e
        for e in REQUESTS
    ],
    ids=_id,
)
def test_official_request_bodies_are_rebuilt_from_parameters(entry: dict[str, Any]) -> None:
    example = _example(entry)
    params = example["parameters"]
    body = params["body"]
    endpoint = parse_endpoint(AI_SERVICES, api_version=params["api-version"])
    mode = params.get("extra-parameters")
    if entry["operationId"] == "GetChatCompletions":
        kwargs = {k: v for k, v in body.items() if k != "messages"}
        assert build_chat_body(body["messages"], **kwargs) == body
        req = build_chat_request(endpoint, body["messages"], extra_parameters=mode, **kwargs)
        route = "/chat/completions"
    elif entry["operationId"] == "GetEmbeddings":
        kwargs = {k: v for k, v in body.items() if k != "input"}
        assert build_embeddings_body(body["input"], **kwargs) == body
        from azureinference import build_embeddings_request

        req = build_embeddings_request(endpoint, body["input"], extra_parameters=mode, **kwargs)
        route = "/embeddings"
    else:
        kwargs = {k: v for k, v in body.items() if k != "input"}
        req = build_image_embeddings_request(
            endpoint, body["input"], extra_parameters=mode, **kwargs
        )
        route = "/images/embeddings"
    assert req.json == body
    url = httpx2.URL(req.url)
    assert url.path == "/models" + route
    assert url.params["api-version"] == params["api-version"]
    assert req.headers.get("extra-parameters") == mode


@pytest.mark.parametrize(
    "entry",
    [e for e in REQUESTS if _skip_reason(e) and e["operationId"] == "GetChatCompletions"],
    ids=_id,
)
def test_generated_examples_with_impossible_values_are_refused(entry: dict[str, Any]) -> None:
    """Where a generated example's values are impossible, the builder says so (not the service)."""
    body = _example(entry)["parameters"]["body"]
    kwargs = {k: v for k, v in body.items() if k != "messages"}
    if isinstance(kwargs.get("response_format"), dict) and kwargs["response_format"][
        "type"
    ] not in ("text", "json_object", "json_schema"):
        with pytest.raises(ConfigurationError, match="response_format"):
            build_chat_body(body["messages"], **kwargs)
    else:
        # Only the message role is impossible; the core passes messages through untouched.
        assert build_chat_body(body["messages"], **kwargs)["messages"] == body["messages"]


INFO_WITH_MODEL = [
    e for e in INDEX if e["operationId"] == "GetModelInfo" and "model" in e["query_or_path_params"]
]


@pytest.mark.parametrize("entry", INFO_WITH_MODEL, ids=_id)
def test_official_info_requests_with_a_model(entry: dict[str, Any]) -> None:
    """GetModelInfo's optional ``model`` query names the deployment on an AI services endpoint."""
    params = _example(entry)["parameters"]
    endpoint = parse_endpoint(AI_SERVICES, api_version=params["api-version"])
    url = httpx2.URL(build_info_request(endpoint, model=params["model"]).url)
    assert url.path == "/models/info"
    assert dict(url.params) == {"api-version": params["api-version"], "model": params["model"]}
