"""Response parsing: lenient, unknown fields kept, envelopes unwrapped; fuzzed with hypothesis."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import struct
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azureinference import APIError, APIStatusError, MalformedResponseError, ModelInfo
from azureinference.errors import error_from_response
from azureinference.responses import (
    parse_chat_chunk,
    parse_chat_completion,
    parse_embeddings,
    parse_model_info,
    unwrap_envelope,
)
from azureinference.types import decode_base64_embedding, normalize_model_type

from .core_support import COMPLETION, chunk, embeddings_body


def _bytes(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def test_completion_round_trip() -> None:
    result = parse_chat_completion(200, {}, _bytes(COMPLETION))
    assert result.model_dump(mode="json", exclude_unset=True) == COMPLETION


def test_unknown_fields_are_kept() -> None:
    body = copy.deepcopy(COMPLETION)
    body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
    body["choices"][0]["content_filter_results"] = {"hate": {"filtered": False}}
    body["choices"][0]["message"]["annotations"] = []
    body["choices"][0]["stop_reason"] = None
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": 7}
    result = parse_chat_completion(200, {}, _bytes(body))
    # Azure's filter results are read as fields; other unknown fields stay as extras.
    assert result.prompt_filter_results == body["prompt_filter_results"]
    assert result.choices[0].content_filter_results == {"hate": {"filtered": False}}
    assert result.choices[0].model_extra == {"stop_reason": None}
    assert result.choices[0].message.model_extra == {"annotations": []}
    assert result.usage.reasoning_tokens == 7
    assert result.model_dump(mode="json", exclude_unset=True) == body


def test_missing_optional_fields() -> None:
    result = parse_chat_completion(200, {}, b'{"choices": [{"message": {"content": "x"}}]}')
    choice = result.choices[0]
    assert (choice.index, choice.message.role, choice.message.content, choice.finish_reason) == (
        0,
        "assistant",
        "x",
        None,
    )
    assert result.usage is None


@pytest.mark.parametrize(
    "path",
    [
        ("choices", 0, "index"),
        ("choices", 0, "message"),
        ("choices", 0, "message", "tool_calls", 0, "function"),
        ("usage", "prompt_tokens"),
        ("usage", "completion_tokens"),
        ("usage", "total_tokens"),
    ],
)
def test_null_where_the_api_has_a_value_reads_as_the_default(path: tuple[Any, ...]) -> None:
    """Some OpenAI-compatible servers send ``null`` for numbers and objects; that is not fatal."""
    body = copy.deepcopy(COMPLETION)
    body["choices"][0]["message"]["tool_calls"] = [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = None
    result = parse_chat_completion(200, {}, _bytes(body))
    assert len(result.choices or []) == 1


def test_null_in_a_stream_chunk() -> None:
    data = chunk("x")
    data["choices"][0]["index"] = None
    data["usage"] = {"prompt_tokens": 1, "completion_tokens": None, "total_tokens": 1}
    parsed = parse_chat_chunk(_bytes(data))
    assert parsed.choices[0].delta.content == "x"
    assert parsed.usage is not None
    assert parsed.usage.completion_tokens == 0


def test_envelope_is_unwrapped_for_answers() -> None:
    """Seed 001: ``{"code": 200, "msg": "Operation successful", "data": {...}}``."""
    inner = copy.deepcopy(COMPLETION)
    inner["prompt_logprobs"] = None
    inner["choices"][0]["stop_reason"] = None
    inner["choices"][0]["message"]["tool_calls"] = []
    result = parse_chat_completion(
        200, {}, _bytes({"code": 200, "msg": "Operation successful", "data": inner})
    )
    assert result.id == "cmpl-1"
    assert result.choices[0].message.content == "Hello!"
    assert result.model_dump(mode="json", exclude_unset=True) == inner


def test_envelope_for_embeddings_and_info() -> None:
    emb = parse_embeddings(
        200, {}, _bytes({"code": 0, "msg": "ok", "data": embeddings_body([[1.0]])})
    )
    assert emb.vectors == [[1.0]]
    info = parse_model_info(
        200,
        {},
        _bytes(
            {"code": 200, "msg": "ok", "data": {"model_name": "x", "model_type": "chat_completion"}}
        ),
    )
    assert info.model_type == "chat-completion"


def test_envelope_around_something_that_is_not_a_chunk() -> None:
    """Found by hypothesis: ``{"code": null, "data": []}`` once leaked a pydantic error."""
    with pytest.raises(MalformedResponseError):
        parse_chat_chunk(b'{"code": null, "data": []}')
    inner = chunk("x")
    inner["choices"][0]["index"] = None
    parsed = parse_chat_chunk(_bytes({"code": 200, "msg": "ok", "data": inner}))
    assert parsed.choices[0].delta.content == "x"


def test_envelope_rules() -> None:
    assert unwrap_envelope({"code": 200, "data": [1]}) == [1]
    plain = {"code": "x", "choices": [], "data": 1}
    assert unwrap_envelope(plain) is plain  # has choices: not an envelope
    assert unwrap_envelope([1]) == [1]
    with pytest.raises(APIStatusError) as info:
        unwrap_envelope({"code": 403, "msg": "forbidden", "data": None})
    assert info.value.status_code == 403


def test_embeddings_base64_decoding() -> None:
    values = [0.5, -0.25, 1.0, 3.140000104904175]
    encoded = base64.b64encode(struct.pack("<4f", *values)).decode()
    assert decode_base64_embedding(encoded) == values
    result = parse_embeddings(200, {}, _bytes(embeddings_body([encoded, [1.0, 2.0]])))
    assert result.vectors == [values, [1.0, 2.0]]


def test_embeddings_vectors_follow_index_order() -> None:
    body = embeddings_body([[1.0], [2.0]])
    body["data"].reverse()
    assert parse_embeddings(200, {}, _bytes(body)).vectors == [[1.0], [2.0]]


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("chat-completion", "chat-completion"),
        ("chat_completion", "chat-completion"),
        ("chat-completions", "chat-completion"),
        ("ChatCompletion", "chat-completion"),
        ("chat", "chat-completion"),
        ("completion", "completion"),
        ("text-generation", "completion"),
        ("embeddings", "embeddings"),
        ("embedding", "embeddings"),
        ("text_embedding", "embeddings"),
        ("image_embeddings", "image-embeddings"),
        ("image-embeddings", "image-embeddings"),
        ("image_generation", "image-generation"),
        ("audio_generation", "audio-generation"),
        ("Some_New_Type", "some-new-type"),
        ("", None),
        (None, None),
        (3, None),
    ],
)
def test_model_type_spellings(given: Any, normal: str | None) -> None:
    assert normalize_model_type(given) == normal


def test_model_info_keeps_extras() -> None:
    info = parse_model_info(
        200, {}, b'{"model_name": "m", "model_type": "chat-completions", "capabilities": ["tools"]}'
    )
    assert isinstance(info, ModelInfo)
    assert info.model_type == "chat-completion"
    assert info.model_extra == {"capabilities": ["tools"]}


# ---- fuzzing ----

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "choices",
        "message",
        "delta",
        "content",
        "index",
        "usage",
        "error",
        "code",
        "msg",
        "data",
        "embedding",
        "tool_calls",
        "function",
        "detail",
        "loc",
    ]
)
_shaped = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 600) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=25,
)


def _only_our_errors(call: Any) -> None:
    with contextlib.suppress(APIError):
        call()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=60), _json.map(_bytes), _shaped.map(_bytes)))
def test_parsers_raise_only_our_errors(content: bytes) -> None:
    for parse in (parse_chat_completion, parse_embeddings, parse_model_info):
        _only_our_errors(lambda parse=parse: parse(200, {}, content))
    _only_our_errors(lambda: parse_chat_chunk(content))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(300, 599),
    st.one_of(st.binary(max_size=60), _json.map(_bytes), _shaped.map(_bytes)),
    st.dictionaries(
        st.sampled_from(["x-ms-error-code", "retry-after", "retry-after-ms", "x-request-id"]),
        st.text(alphabet="abc019:-. ", max_size=12),
    ),
)
def test_every_error_answer_maps_to_a_status_error(
    status: int, content: bytes, headers: dict[str, str]
) -> None:
    err = error_from_response(status, httpx2.Headers(headers), content)
    assert isinstance(err, APIStatusError)
    assert err.status_code == status
    assert str(status) in str(err)


def _all_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.append((*prefix, key))
            out.extend(_all_paths(value, (*prefix, key)))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out.extend(_all_paths(value, (*prefix, i)))
    return out


_RICH = copy.deepcopy(COMPLETION)
_RICH["choices"][0]["message"]["tool_calls"] = [
    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
]
_RICH["choices"][0]["logprobs"] = {"content": []}
_NULLABLE = [p for p in _all_paths(_RICH) if p != ("choices",)]


@settings(max_examples=200, deadline=None)
@given(st.sets(st.sampled_from(_NULLABLE), max_size=5), st.booleans())
def test_nulls_anywhere_but_choices_still_parse(paths: set[tuple[Any, ...]], wrap: bool) -> None:
    body = copy.deepcopy(_RICH)
    for path in sorted(paths, key=len):
        node: Any = body
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = None
        except (TypeError, KeyError, IndexError):
            continue  # a parent was nulled first
    if wrap:
        body = {"code": 200, "msg": "ok", "data": body}
    result = parse_chat_completion(200, {}, _bytes(body))
    assert result.choices is not None


def test_malformed_is_named() -> None:
    with pytest.raises(MalformedResponseError, match="does not have the API's shape"):
        parse_chat_completion(200, {}, b'{"choices": [[1]]}')
