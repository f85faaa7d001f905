"""Core errors surface as classes that are also ``langchain_core.exceptions`` errors."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from langchain_core import exceptions as lc
from lc_support import FakeEndpoint, call_invoke, call_stream, make_embeddings, make_llm

import azureinference as core
import langchain_azureinference as adapter
from langchain_azureinference._errors import map_errors, to_langchain_error

STATUS_CASES: list[tuple[int, Any, type[Exception], type[Exception], type[Exception]]] = [
    (
        400,
        {"error": {"code": "invalid_request", "message": "Bad messages."}},
        core.BadRequestError,
        lc.ModelInvalidRequestError,
        adapter.AzureAIBadRequestError,
    ),
    (
        400,
        {"error": {"code": "content_filter", "message": "Filtered."}},
        core.ContentFilterError,
        lc.ModelInvalidRequestError,
        adapter.AzureAIContentFilterError,
    ),
    (
        400,
        {
            "error": {
                "code": "context_length_exceeded",
                "message": "This model's maximum context length is 8192 tokens.",
            }
        },
        core.BadRequestError,
        lc.ContextOverflowError,
        adapter.AzureAIContextOverflowError,
    ),
    (
        401,
        {"error": {"code": "401", "message": "Access denied due to invalid key."}},
        core.AuthenticationError,
        lc.ModelAuthenticationError,
        adapter.AzureAIAuthenticationError,
    ),
    (
        403,
        {"error": {"message": "Forbidden."}},
        core.PermissionDeniedError,
        lc.ModelPermissionDeniedError,
        adapter.AzureAIPermissionDeniedError,
    ),
    (
        404,
        {"error": {"code": "DeploymentNotFound", "message": "No such deployment."}},
        core.NotFoundError,
        lc.ModelNotFoundError,
        adapter.AzureAINotFoundError,
    ),
    (
        405,
        {"error": {"message": "Method not allowed."}},
        core.APIStatusError,
        lc.ModelInvalidRequestError,
        adapter.AzureAIStatusError,
    ),
    (
        422,
        {
            "status": 422,
            "code": "parameter_not_supported",
            "detail": {"loc": ["body", "seed"], "input": 1},
            "message": "One of the parameters contain invalid values.",
        },
        core.UnsupportedParameterError,
        lc.ModelInvalidRequestError,
        adapter.AzureAIUnsupportedParameterError,
    ),
    (
        429,
        {"error": {"code": "429", "message": "Rate limit."}},
        core.RateLimitError,
        lc.ModelRateLimitError,
        adapter.AzureAIRateLimitError,
    ),
    (
        500,
        {"error": {"message": "Internal error."}},
        core.ServerError,
        lc.ModelAPIError,
        adapter.AzureAIServerError,
    ),
    (
        503,
        {"error": {"message": "Unavailable."}},
        core.ServerError,
        lc.ModelAPIError,
        adapter.AzureAIServerError,
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "core_cls", "lc_cls", "adapter_cls"),
    STATUS_CASES,
    ids=[f"{c[0]}-{c[4].__name__}" for c in STATUS_CASES],
)
async def test_status_errors_are_both_kinds(
    fake: FakeEndpoint,
    mode: str,
    status: int,
    body: Any,
    core_cls: type[Exception],
    lc_cls: type[Exception],
    adapter_cls: type[Exception],
) -> None:
    llm = make_llm(fake)
    fake.reply(body, status=status, headers={"x-request-id": "req-42"})
    with pytest.raises(core_cls) as info:
        await call_invoke(llm, mode, "hi", seed=1)
    err = info.value
    assert type(err) is adapter_cls
    assert isinstance(err, lc_cls)
    assert isinstance(err, lc.ModelError)
    assert isinstance(err, core.AzureInferenceError)
    assert err.status_code == status  # type: ignore[attr-defined]
    assert err.request_id == "req-42"  # type: ignore[attr-defined]
    assert f"Error code: {status}" in str(err)
    assert isinstance(err.__cause__, core_cls)
    assert type(err.__cause__) is not adapter_cls


async def test_422_names_the_parameter(fake: FakeEndpoint, mode: str) -> None:
    fake.reply(STATUS_CASES[7][1], status=422)
    with pytest.raises(adapter.AzureAIUnsupportedParameterError) as info:
        await call_invoke(make_llm(fake), mode, "hi", seed=1)
    assert info.value.param == "seed"
    assert "parameter='seed'" in str(info.value)
    assert "does not support the parameter 'seed'" in str(info.value)


async def test_rate_limit_keeps_retry_after(fake: FakeEndpoint, mode: str) -> None:
    fake.reply({"error": {"message": "slow"}}, status=429, headers={"retry-after": "120"})
    with pytest.raises(lc.ModelRateLimitError) as info:
        await call_invoke(make_llm(fake), mode, "hi")
    assert info.value.retry_after == 120  # type: ignore[attr-defined]
    assert info.value.is_retryable


async def test_errors_while_streaming_are_mapped(fake: FakeEndpoint, mode: str) -> None:
    fake.reply({"error": {"message": "bad key"}}, status=401)
    with pytest.raises(lc.ModelAuthenticationError):
        await call_stream(make_llm(fake), mode, "hi")


async def test_error_event_inside_a_stream(fake: FakeEndpoint, mode: str) -> None:
    fake.reply_raw(
        httpx2.Response(
            200,
            text='data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
            'data: {"error": {"message": "overloaded", "status": 503}}\n\n',
            headers={"content-type": "text/event-stream"},
        )
    )
    with pytest.raises(core.ServerError) as info:
        await call_stream(make_llm(fake), mode, "hi")
    assert isinstance(info.value, lc.ModelAPIError)


async def test_timeout(fake: FakeEndpoint, mode: str) -> None:
    fake.reply_after_the_test({"choices": []})
    llm = make_llm(fake, timeout=0.2)
    with pytest.raises(core.APITimeoutError) as info:
        await call_invoke(llm, mode, "hi")
    assert isinstance(info.value, lc.ModelTimeoutError)
    assert isinstance(info.value, adapter.AzureAITimeoutError)


async def test_html_error_page(fake: FakeEndpoint, mode: str) -> None:
    fake.reply_raw(
        httpx2.Response(
            200, text="<html><title>Gateway</title></html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(core.MalformedResponseError) as info:
        await call_invoke(make_llm(fake), mode, "hi")
    assert isinstance(info.value, lc.ModelAPIError)


async def test_embeddings_errors_are_mapped(fake: FakeEndpoint, mode: str) -> None:
    fake.reply({"error": {"message": "no such model"}}, status=404)
    emb = make_embeddings(fake)
    call = emb.aembed_query("x") if mode == "async" else None
    with pytest.raises(lc.ModelNotFoundError):
        await call if call is not None else emb.embed_query("x")


def test_configuration_errors_pass_through_unchanged() -> None:
    err = core.ConfigurationError("bad")
    assert to_langchain_error(err) is err
    with pytest.raises(core.ConfigurationError), map_errors():
        raise err


def test_mapping_is_idempotent_and_keeps_attributes() -> None:
    original = core.RateLimitError(
        "Error code: 429", status_code=429, retry_after=3.0, request_id="r", body={"x": 1}
    )
    mapped = to_langchain_error(original)
    assert isinstance(mapped, adapter.AzureAIRateLimitError)
    assert type(mapped) is adapter.AzureAIRateLimitError
    assert to_langchain_error(mapped) is mapped
    assert (mapped.retry_after, mapped.request_id, mapped.body, mapped.args) == (
        3.0,
        "r",
        {"x": 1},
        original.args,
    )


def test_non_api_errors_pass_through() -> None:
    err = KeyError("x")
    assert to_langchain_error(err) is err
