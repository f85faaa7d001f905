"""Pure request building: what goes in the body and headers, and what never does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from azureinference import (
    ConfigurationError,
    EndpointKind,
    build_chat_request,
    build_embeddings_request,
    parse_endpoint,
)
from azureinference.requests import (
    CHAT_FIELDS,
    EMBEDDINGS_FIELDS,
    build_chat_body,
    build_embeddings_body,
    build_image_embeddings_request,
    build_info_request,
    normalize_response_format,
    normalize_tool_choice,
    split_model_kwargs,
    stop_sequences,
    tool_choice_for,
)

from .core_support import (
    AOAI,
    COMPATIBLE,
    GITHUB,
    KEY,
    SERVERLESS,
    V1,
    chunk,
    make_client,
    reply,
    sse,
)

HI = [{"role": "user", "content": "Hi"}]
ENDPOINT = parse_endpoint(SERVERLESS)
TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}


def test_minimal_body() -> None:
    assert build_chat_body(HI) == {"messages": HI}


def test_none_is_never_sent() -> None:
    body = build_chat_body(
        HI,
        model=None,
        temperature=None,
        top_p=None,
        max_tokens=None,
        stop=None,
        seed=None,
        presence_penalty=None,
        frequency_penalty=None,
        tools=None,
        tool_choice=None,
        parallel_tool_calls=None,
        response_format=None,
        n=None,
        user=None,
        reasoning_effort=None,
    )
    assert body == {"messages": HI}


def test_falsy_values_are_sent() -> None:
    body = build_chat_body(
        HI,
        temperature=0,
        top_p=0.0,
        seed=0,
        max_tokens=0,
        presence_penalty=0,
        frequency_penalty=0.0,
        parallel_tool_calls=False,
        logprobs=False,
        user="",
    )
    assert body == {
        "messages": HI,
        "temperature": 0,
        "top_p": 0.0,
        "seed": 0,
        "max_tokens": 0,
        "presence_penalty": 0,
        "frequency_penalty": 0.0,
        "parallel_tool_calls": False,
        "logprobs": False,
        "user": "",
    }


@pytest.mark.parametrize(
    ("stop", "sent"),
    [("END", ["END"]), (["a", "b"], ["a", "b"]), (("x",), ["x"]), ("", [""])],
)
def test_stop_becomes_a_list(stop: Any, sent: list[str]) -> None:
    assert build_chat_body(HI, stop=stop)["stop"] == sent


def test_every_other_standard_field_passes_through() -> None:
    others = {
        "n": 2,
        "user": "u",
        "logprobs": True,
        "top_logprobs": 3,
        "logit_bias": {"50256": -100},
        "max_completion_tokens": 99,
        "modalities": ["text"],
        "reasoning_effort": "low",
    }
    body = build_chat_body(HI, **others)
    assert body == {"messages": HI, **others}


def test_unknown_parameter_points_to_model_extras() -> None:
    with pytest.raises(ConfigurationError, match="model_extras"):
        build_chat_body(HI, top_k=3)


def test_empty_messages() -> None:
    with pytest.raises(ConfigurationError, match="messages"):
        build_chat_body([])


def test_messages_are_sent_as_given() -> None:
    """Every role and content-part shape goes through untouched (the core does not convert)."""
    messages = [
        {"role": "developer", "content": "Be terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "x"},
                {"type": "image_url", "image_url": {"url": "https://e/x.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    assert build_chat_body(messages)["messages"] == messages


# ---- tool_choice / response_format ----


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        (
            {"type": "function", "function": {"name": "f"}},
            {"type": "function", "function": {"name": "f"}},
        ),
        ({"name": "f"}, {"type": "function", "function": {"name": "f"}}),
        ({"function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tool_choice(given: Any, sent: Any) -> None:
    assert normalize_tool_choice(given) == sent
    assert build_chat_body(HI, tools=[TOOL], tool_choice=given)["tool_choice"] == sent


# The adapters' one reading of a framework's tool_choice (True, "any", a tool's name).
TOOL_CHOICE_CASES = [
    (None, None),
    (False, None),
    (True, "required"),
    ("any", "required"),
    ("required", "required"),
    ("auto", "auto"),
    ("none", "none"),
    ("add", {"type": "function", "function": {"name": "add"}}),
    (
        {"type": "function", "function": {"name": "add"}},
        {"type": "function", "function": {"name": "add"}},
    ),
]


@pytest.mark.parametrize(("choice", "wire"), TOOL_CHOICE_CASES)
def test_framework_tool_choice(choice: Any, wire: Any) -> None:
    assert tool_choice_for(choice, ["add"]) == wire


def test_framework_tool_choice_naming_an_unknown_tool() -> None:
    with pytest.raises(ValueError, match="names none of the bound tools"):
        tool_choice_for("multiply", ["add"])
    with pytest.raises(ValueError, match="Unrecognized tool_choice"):
        tool_choice_for(3, ["add"])


def test_stop_as_a_string_is_one_sequence() -> None:
    assert stop_sequences("END") == ["END"]
    assert stop_sequences(("a", "b")) == ["a", "b"]
    assert stop_sequences(None) is None
    assert build_chat_body(HI, stop="END")["stop"] == ["END"]


@pytest.mark.parametrize("bad", ["any", 3, {"type": "function"}, {"function": "f"}])
def test_bad_tool_choice(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="tool_choice"):
        normalize_tool_choice(bad)


def test_empty_tools_are_not_sent() -> None:
    assert "tools" not in build_chat_body(HI, tools=[])


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("text", {"type": "text"}),
        ("json_object", {"type": "json_object"}),
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": True},
            },
            {
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": True},
            },
        ),
        (
            {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
            {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": {"type": "object"}},
            },
        ),
    ],
)
def test_response_format(given: Any, sent: Any) -> None:
    assert normalize_response_format(given) == sent


@pytest.mark.parametrize(
    "bad",
    [
        "xml",
        {"type": "ChatCompletionsResponseFormat"},  # the spec's generated examples
        {"type": "json_schema"},
        {"type": "json_schema", "json_schema": {"name": "r"}},
        42,
    ],
)
def test_bad_response_format(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="response_format"):
        normalize_response_format(bad)


# ---- model_extras and extra-parameters ----


def test_model_extras_are_merged_with_pass_through() -> None:
    req = build_chat_request(
        ENDPOINT, HI, temperature=0.1, model_extras={"safe_prompt": True, "top_k": 40}
    )
    assert req.json == {"messages": HI, "temperature": 0.1, "safe_prompt": True, "top_k": 40}
    assert req.headers["extra-parameters"] == "pass-through"


def test_no_extras_no_header() -> None:
    assert "extra-parameters" not in build_chat_request(ENDPOINT, HI).headers
    assert "extra-parameters" not in build_chat_request(ENDPOINT, HI, model_extras={}).headers


def test_extras_with_none_values_are_left_out() -> None:
    req = build_chat_request(ENDPOINT, HI, model_extras={"top_k": None, "safe_prompt": False})
    assert req.json == {"messages": HI, "safe_prompt": False}


@pytest.mark.parametrize("mode", ["drop", "error", "pass-through"])
def test_extra_parameters_mode_is_choosable(mode: str) -> None:
    req = build_chat_request(ENDPOINT, HI, model_extras={"top_k": 1}, extra_parameters=mode)
    assert req.headers["extra-parameters"] == mode
    # A mode without extras is still sent: the caller asked for it.
    assert (
        build_chat_request(ENDPOINT, HI, extra_parameters=mode).headers["extra-parameters"] == mode
    )


def test_bad_extra_parameters_mode() -> None:
    with pytest.raises(ConfigurationError, match="extra_parameters"):
        build_chat_request(ENDPOINT, HI, model_extras={"top_k": 1}, extra_parameters="allow-all")


def test_extra_never_overrides_a_standard_field(sdk_scenarios: dict[str, Any]) -> None:
    """Stricter than the SDK: an extra naming a standard field raises instead of overriding it.

    In scenario ``chat_model_extras_override`` the SDK was given ``temperature`` and also
    ``model_extras`` holding ``temperature`` and ``logprobs``; it silently sent the extras' values.
    """
    sent = sdk_scenarios["chat_model_extras_override"]["requests"][0]["body"]
    assert sent["temperature"] == 0.9
    with pytest.raises(ConfigurationError, match=r"\['logprobs', 'temperature'\]"):
        build_chat_request(
            ENDPOINT, HI, temperature=0.1, model_extras={"temperature": 0.9, "logprobs": True}
        )
    # Even without the standard parameter given: a standard field is a parameter, not an extra.
    with pytest.raises(ConfigurationError, match="model_extras"):
        build_chat_request(ENDPOINT, HI, model_extras={"messages": []})
    with pytest.raises(ConfigurationError, match="model_extras"):
        build_embeddings_request(ENDPOINT, ["x"], model_extras={"dimensions": 3})


def test_caller_header_wins_over_the_extras_mode(sdk_scenarios: dict[str, Any]) -> None:
    """Better than the SDK: a caller's ``extra-parameters`` header is kept.

    In scenario ``chat_extra_parameters_header_override`` the caller passed
    ``headers={"extra-parameters": "drop"}`` with extras, and the SDK sent ``pass-through``.
    """
    headers = dict(sdk_scenarios["chat_extra_parameters_header_override"]["requests"][0]["headers"])
    assert headers["extra-parameters"] == "pass-through"
    req = build_chat_request(
        ENDPOINT, HI, model_extras={"top_k": 40}, headers={"extra-parameters": "drop"}
    )
    assert req.headers["extra-parameters"] == "drop"
    assert req.json == {"messages": HI, "top_k": 40}


def test_every_chat_field_is_a_parameter_not_an_extra() -> None:
    for name in CHAT_FIELDS - {"messages"}:
        with pytest.raises(ConfigurationError):
            build_chat_request(ENDPOINT, HI, model_extras={name: 1})


# ---- request shape ----


def test_prepared_request_shape() -> None:
    req = build_chat_request(ENDPOINT, HI, model="m", temperature=0.5)
    assert req.method == "POST"
    assert req.url == f"{SERVERLESS}/chat/completions?api-version=2024-05-01-preview"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Accept"] == "application/json"
    assert not req.stream
    assert json.loads(req.content or b"") == {"messages": HI, "model": "m", "temperature": 0.5}


def test_stream_request_shape() -> None:
    """``stream: true`` and SSE accepted; ``stream: false`` is never sent (it is the default)."""
    req = build_chat_request(ENDPOINT, HI, stream=True)
    assert req.stream
    assert req.headers["Accept"] == "text/event-stream"
    assert req.json == {"messages": HI, "stream": True}
    assert "stream" not in build_chat_request(ENDPOINT, HI, stream=False).json


def test_stream_options_only_with_stream() -> None:
    assert "stream_options" not in build_chat_body(HI, stream_options={"include_usage": True})
    body = build_chat_body(HI, stream=True, stream_options={"include_usage": True})
    assert body["stream_options"] == {"include_usage": True}


def test_azure_openai_deployment_route_leaves_model_out_of_the_body() -> None:
    req = build_chat_request(parse_endpoint(AOAI), HI, model="gpt-4o-mini")
    assert req.url.startswith(
        "https://my-resource.openai.azure.com/openai/deployments/gpt-4o/chat/completions?"
    )
    assert "model" not in req.json


def test_azure_openai_resource_uses_the_model_as_deployment() -> None:
    req = build_chat_request(
        parse_endpoint("https://res.openai.azure.com"), HI, model="gpt-4o-mini"
    )
    assert "/openai/deployments/gpt-4o-mini/chat/completions?" in req.url
    assert "model" not in req.json


def test_caller_headers_are_added() -> None:
    req = build_chat_request(ENDPOINT, HI, headers={"azureml-model-deployment": "my-deployment"})
    assert req.headers["azureml-model-deployment"] == "my-deployment"


# ---- embeddings ----


def test_embeddings_body() -> None:
    assert build_embeddings_body(["a", "b"]) == {"input": ["a", "b"]}
    assert build_embeddings_body("a") == {"input": ["a"]}
    full = build_embeddings_body(
        ["a"], model="m", dimensions=256, encoding_format="float", input_type="query", user="u"
    )
    assert full == {
        "input": ["a"],
        "model": "m",
        "dimensions": 256,
        "encoding_format": "float",
        "input_type": "query",
        "user": "u",
    }


@pytest.mark.parametrize("dimensions", [0, -1, 2.5, "3"])
def test_bad_dimensions(dimensions: Any) -> None:
    with pytest.raises(ConfigurationError, match="dimensions"):
        build_embeddings_body(["a"], dimensions=dimensions)


def test_empty_embeddings_input() -> None:
    with pytest.raises(ConfigurationError, match="input"):
        build_embeddings_body([])


def test_embeddings_request_with_extras() -> None:
    req = build_embeddings_request(ENDPOINT, ["x"], model_extras={"truncate": "END"})
    assert req.url == f"{SERVERLESS}/embeddings?api-version=2024-05-01-preview"
    assert req.json == {"input": ["x"], "truncate": "END"}
    assert req.headers["extra-parameters"] == "pass-through"


def test_image_embeddings_request() -> None:
    image = "data:image/png;base64,iVBORw0KGgo="
    req = build_image_embeddings_request(
        ENDPOINT, [{"image": image, "text": "a pixel"}], dimensions=1024
    )
    assert req.url == f"{SERVERLESS}/images/embeddings?api-version=2024-05-01-preview"
    assert req.json == {"input": [{"image": image, "text": "a pixel"}], "dimensions": 1024}


@pytest.mark.parametrize("bad", [["just text"], [{"text": "no image"}], [{"image": 3}]])
def test_image_embeddings_need_an_image(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="image"):
        build_image_embeddings_request(ENDPOINT, bad)


def test_info_request_names_the_model_on_ai_services() -> None:
    endpoint = parse_endpoint("https://res.services.ai.azure.com/models")
    req = build_info_request(endpoint, model="Phi-3.5-mini-instruct")
    assert req.url == (
        "https://res.services.ai.azure.com/models/info?api-version=2024-05-01-preview"
        "&model=Phi-3.5-mini-instruct"
    )
    # A serverless endpoint serves one model: no model query.
    assert "model=" not in build_info_request(ENDPOINT, model="x").url


def test_info_request() -> None:
    req = build_info_request(ENDPOINT)
    assert (req.method, req.url, req.content) == (
        "GET",
        f"{SERVERLESS}/info?api-version=2024-05-01-preview",
        None,
    )


# ---- what the client adds ----


@pytest.mark.parametrize(
    ("endpoint", "kind", "added"),
    [
        (SERVERLESS, EndpointKind.SERVERLESS, False),
        ("https://res.services.ai.azure.com/models", EndpointKind.AI_SERVICES, False),
        (AOAI, EndpointKind.AZURE_OPENAI, True),
        (V1, EndpointKind.OPENAI_V1, True),
        (GITHUB, EndpointKind.GITHUB, True),
        (COMPATIBLE, EndpointKind.OPENAI_COMPATIBLE, True),
    ],
)
def test_stream_usage_is_asked_for_on_openai_style_kinds(
    endpoint: str, kind: EndpointKind, added: bool
) -> None:
    client, rec = make_client(
        endpoint, KEY, model="m", replies=[reply(sse_body=sse(chunk("x", finish_reason="stop")))]
    )
    assert client.endpoint.kind is kind
    list(client.stream(HI))
    body = rec.bodies()[-1]
    assert ("stream_options" in body) is added
    if added:
        assert body["stream_options"] == {"include_usage": True}


def test_stream_usage_switch() -> None:
    answer = [reply(sse_body=sse(chunk("x", finish_reason="stop")))]
    client, rec = make_client(SERVERLESS, KEY, replies=answer)
    list(client.stream(HI, stream_usage=True))
    assert rec.bodies()[-1]["stream_options"] == {"include_usage": True}
    client, rec = make_client(COMPATIBLE, KEY, replies=answer)
    list(client.stream(HI, stream_usage=False))
    assert "stream_options" not in rec.bodies()[-1]


def test_client_model_default_and_per_call_override() -> None:
    client, rec = make_client(SERVERLESS, KEY, model="phi-3")
    client.complete(HI)
    client.complete(HI, model="phi-4")
    assert [b["model"] for b in rec.bodies()] == ["phi-3", "phi-4"]


def test_client_extra_parameters_default() -> None:
    client, rec = make_client(SERVERLESS, KEY, extra_parameters="drop")
    client.complete(HI, model_extras={"top_k": 7})
    assert rec.last.headers["extra-parameters"] == "drop"
    client.complete(HI, model_extras={"top_k": 7}, extra_parameters="error")
    assert rec.last.headers["extra-parameters"] == "error"


def test_client_headers_user_agent_and_request_id() -> None:
    client, rec = make_client(SERVERLESS, KEY, headers={"x-team": "a"}, user_agent="my-app/1.0")
    client.complete(HI, headers={"azureml-model-deployment": "d1"})
    client.complete(HI)
    first, second = rec.requests
    assert first.headers["x-team"] == "a"
    assert first.headers["azureml-model-deployment"] == "d1"
    assert "azureml-model-deployment" not in second.headers
    assert first.headers["user-agent"].startswith("my-app/1.0 azureinference-python/")
    ids = {r.headers["x-ms-client-request-id"] for r in rec.requests}
    assert len(ids) == 2
    assert all(len(i) == 36 for i in ids)


def test_client_does_not_mutate_caller_params() -> None:
    client, _ = make_client(
        COMPATIBLE,
        KEY,
        model="m",
        replies=[reply(), reply(sse_body=sse(chunk("x", finish_reason="stop")))],
    )
    params: dict[str, Any] = {"temperature": 0, "model_extras": {"top_k": 1}}
    messages = [dict(m) for m in HI]
    client.complete(messages, **params)
    list(client.stream(messages, **params))
    assert params == {"temperature": 0, "model_extras": {"top_k": 1}}
    assert messages == HI


def test_model_kwargs_are_sorted_into_parameters_and_extras_never_dropped() -> None:
    params: dict[str, object] = {}
    extras = split_model_kwargs(
        {"top_p": 0.5, "headers": {"x-a": "1"}, "safe_prompt": True, "dimensions": 3},
        CHAT_FIELDS,
        params,
        {"safe_prompt": False, "top_k": 5},
    )
    assert params == {"top_p": 0.5, "headers": {"x-a": "1"}}
    assert extras == {"safe_prompt": True, "top_k": 5, "dimensions": 3}  # later values win
    embed_params: dict[str, object] = {}
    assert split_model_kwargs({"dimensions": 3}, EMBEDDINGS_FIELDS, embed_params) == {}
    assert embed_params == {"dimensions": 3}
