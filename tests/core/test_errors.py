"""The error tree: every documented error shape, transport failures, malformed answers."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from azureinference import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AzureInferenceError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    IncompleteStreamError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnsupportedParameterError,
)
from azureinference.errors import error_from_payload, error_from_response, parse_retry_after
from azureinference.responses import parse_chat_completion, parse_embeddings, parse_model_info

from .core_support import (
    KEY,
    SERVERLESS,
    TOKEN,
    FakeTokenCredential,
    load_json,
    make_client,
    maybe_await,
    reply,
)

HI = [{"role": "user", "content": "Hi"}]
NO_RETRY = RetryPolicy(max_retries=0)


def _err(status: int, body: Any, headers: dict[str, str] | None = None) -> APIStatusError:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(status, httpx2.Headers(headers or {}), content)


def test_tree() -> None:
    assert issubclass(ConfigurationError, AzureInferenceError)
    assert issubclass(ConfigurationError, ValueError)
    for cls in (APIConnectionError, IncompleteStreamError, MalformedResponseError, APIStatusError):
        assert issubclass(cls, APIError)
    assert issubclass(APIError, AzureInferenceError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(ContentFilterError, BadRequestError)
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        UnsupportedParameterError,
        RateLimitError,
        ServerError,
    ):
        assert issubclass(cls, APIStatusError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, APIStatusError),
        (409, APIStatusError),
        (422, BadRequestError),  # a 422 that does not say "not supported": a refused value
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (599, ServerError),
    ],
)
def test_one_class_per_status(status: int, cls: type[APIStatusError]) -> None:
    err = _err(status, {"error": {"code": "c", "message": "m"}})
    assert type(err) is cls
    assert err.status_code == status
    assert (err.code, err.service_message) == ("c", "m")


# ---- documented bodies (tests/data/documented_errors.json) ----


DOCUMENTED = {e["name"]: e for e in load_json("documented_errors.json")["examples"]}


def test_documented_422_parameter_not_supported() -> None:
    doc = DOCUMENTED["422_parameter_not_supported"]
    err = _err(doc["status"], doc["response_body"], {"x-request-id": "req-9"})
    assert isinstance(err, UnsupportedParameterError)
    assert err.code == "parameter_not_supported"
    assert err.param == "response_format"
    assert err.service_message == "One of the parameters contain invalid values."
    assert err.request_id == "req-9"
    text = str(err)
    for part in ("422", "parameter_not_supported", "response_format", "req-9", "invalid values"):
        assert part in text


def test_documented_400_content_filter_flat() -> None:
    doc = DOCUMENTED["400_content_filter_flat"]
    err = _err(doc["status"], doc["response_body"])
    assert isinstance(err, ContentFilterError)
    assert (err.code, err.param) == ("content_filter", "messages")
    assert "The response was filtered" in str(err)


def test_documented_400_content_filter_nested() -> None:
    doc = DOCUMENTED["400_content_filter_nested"]
    err = _err(doc["status"], doc["response_body"])
    assert isinstance(err, ContentFilterError)
    assert (err.code, err.param) == ("content_filter", "prompt")
    assert "content management policy" in str(err)


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        # The 2024-05-01-preview reference page's models: {error: string, message, status}.
        (
            401,
            {
                "error": "Unauthorized",
                "message": "Access denied due to invalid key.",
                "status": 401,
            },
            AuthenticationError,
            "Unauthorized",
        ),
        (
            404,
            {"error": "NotFound", "message": "Route not supported by the model.", "status": 404},
            NotFoundError,
            "NotFound",
        ),
        (
            429,
            {"error": "TooManyRequests", "message": "Rate limit exceeded.", "status": 429},
            RateLimitError,
            "TooManyRequests",
        ),
    ],
)
def test_documented_error_models_with_header(
    status: int, body: dict[str, Any], cls: type[APIStatusError], code: str
) -> None:
    """The reference page's models carry the code in ``x-ms-error-code`` and a string ``error``."""
    err = _err(status, body, {"x-ms-error-code": code})
    assert type(err) is cls
    assert err.code == code
    assert err.service_message == body["message"]
    assert body["message"] in str(err)


def test_documented_422_with_detail_value() -> None:
    """The reference page says ``detail.value`` where the concept page says ``detail.input``."""
    body = {
        "code": "parameter_not_supported",
        "detail": {"loc": ["body", "tools"], "value": "[...]"},
        "error": "Unprocessable Content",
        "message": "One of the parameters contain invalid values.",
        "status": 422,
    }
    err = _err(422, body, {"x-ms-error-code": "parameter_not_supported"})
    assert isinstance(err, UnsupportedParameterError)
    assert (err.code, err.param) == ("parameter_not_supported", "tools")


def test_azure_core_error_shape_with_target_and_header() -> None:
    body = {
        "error": {
            "code": "InvalidParameter",
            "message": "Bad value",
            "target": "temperature",
            "details": [],
            "innererror": {"code": "Inner"},
        }
    }
    err = _err(
        400, body, {"x-ms-error-code": "ignored-when-the-body-has-one", "apim-request-id": "apim-1"}
    )
    assert type(err) is BadRequestError
    assert (err.code, err.param, err.request_id) == ("InvalidParameter", "temperature", "apim-1")


def test_code_from_header_when_the_body_has_none() -> None:
    err = _err(400, {"message": "nope"}, {"x-ms-error-code": "content_filter"})
    assert isinstance(err, ContentFilterError)


def test_nested_detail_loc_and_fastapi_lists() -> None:
    err = _err(422, {"detail": {"loc": ["body", "tools", 0, "function"]}, "message": "bad"})
    assert err.param == "tools.0.function"
    err = _err(422, {"detail": [{"loc": ["body", "n"], "msg": "must be 1", "type": "value_error"}]})
    assert err.param == "n"
    assert type(err) is BadRequestError  # a validation error: the value, not the parameter


# ---- the SDK's error scenarios ----


SDK_ERRORS = [
    ("error_422_parameter_not_supported", UnsupportedParameterError, "response_format"),
    ("error_400_content_filter", ContentFilterError, "messages"),
    ("error_400_azure_core_shape", ContentFilterError, "prompt"),
    ("error_401", AuthenticationError, None),
    ("error_404", NotFoundError, None),
    ("error_429_no_retry_after", RateLimitError, None),
    ("chat_streaming_error_status", ContentFilterError, "prompt"),
]


@pytest.mark.parametrize(("name", "cls", "param"), SDK_ERRORS)
async def test_sdk_error_scenarios(
    sdk_scenarios: dict[str, Any],
    name: str,
    cls: type[APIStatusError],
    param: str | None,
    sync: bool,
) -> None:
    """Same status and code as the SDK, one class per status, and the parameter named."""
    scenario = sdk_scenarios[name]
    served = scenario["responses_served"][0]
    expected = scenario["sdk_exception"]
    client, rec = make_client(
        SERVERLESS,
        KEY,
        [reply(served["status"], served["body"], headers=served["headers"])],
        asynchronous=not sync,
        retry_policy=NO_RETRY,
    )
    stream = bool(scenario["requests"][0]["body"].get("stream"))
    call = client.stream if stream else client.complete
    with pytest.raises(cls) as info:
        await maybe_await(call(HI))
    err = info.value
    assert err.status_code == expected["status_code"]
    assert err.code == expected["error_code"]
    assert err.param == param
    assert str(expected["status_code"]) in str(err)
    assert expected["error_code"] in str(err)
    assert len(rec.requests) == 1


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_rate_limit_error_carries_retry_after() -> None:
    err = _err(
        429, {"error": {"code": "429", "message": "Rate limit is exceeded."}}, {"retry-after": "7"}
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7.0
    assert "retry after 7s" in str(err)
    assert _err(429, {}).retry_after is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after-ms": "junk", "retry-after": "2"}, 2.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "not a date"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(httpx2.Headers(headers)) == seconds


def test_retry_after_http_date_in_the_future() -> None:
    import email.utils
    import time

    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    value = parse_retry_after(httpx2.Headers({"retry-after": when}))
    assert value is not None
    assert 100 < value <= 121


# ---- malformed answers ----

HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    b"</center><hr><center>nginx</center></body></html>"
)


def test_html_error_page() -> None:
    err = error_from_response(502, httpx2.Headers({"content-type": "text/html"}), HTML_502)
    assert isinstance(err, ServerError)
    assert "HTML page" in str(err)
    assert "502 Bad Gateway" in str(err)
    assert err.code is None


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (500, b""),
        (400, b"{not json"),
        (503, b"Service Unavailable"),
        (401, b"null"),
        (400, b"[1, 2]"),
        (404, b'"gone"'),
    ],
)
def test_error_bodies_that_are_not_objects(status: int, content: bytes) -> None:
    err = error_from_response(status, httpx2.Headers(), content)
    assert isinstance(err, APIStatusError)
    assert str(status) in str(err)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"<html><title>Oops</title></html>",
        b"[]",
        b"null",
        b"\xff\xfe",
        b'{"choices": 3}',
    ],
)
def test_broken_success_answers_are_malformed_not_key_errors(content: bytes) -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse_chat_completion(200, httpx2.Headers({"x-request-id": "r-1"}), content)
    assert info.value.status_code == 200
    assert info.value.request_id == "r-1"


def test_answer_without_choices() -> None:
    with pytest.raises(MalformedResponseError, match="choices"):
        parse_chat_completion(200, {}, b'{"id": "x"}')
    with pytest.raises(MalformedResponseError, match="data"):
        parse_embeddings(200, {}, b'{"id": "x"}')


def test_error_object_with_a_200_status() -> None:
    with pytest.raises(APIStatusError) as info:
        parse_chat_completion(200, {}, b'{"error": {"code": "server_error", "message": "boom"}}')
    assert info.value.code == "server_error"
    assert "boom" in str(info.value)


def test_envelope_with_an_error_code() -> None:
    """Seed 001: a gateway wraps answers in ``{"code", "msg", "data"}``; a bad code is an error."""
    body = b'{"code": 401, "msg": "Token invalid", "data": null}'
    with pytest.raises(AuthenticationError, match="Token invalid"):
        parse_chat_completion(200, {}, body)
    with pytest.raises(ServerError, match="quota"):
        parse_chat_completion(200, {}, b'{"code": 10001, "msg": "quota", "data": null}')


def test_model_info_parse_error_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        parse_model_info(200, {}, b"<html>")


# ---- through the client ----


def test_messages_never_show_the_key_or_token() -> None:
    body = {"error": {"code": "Unauthorized", "message": "Access denied"}}
    for credential in (KEY, FakeTokenCredential()):
        client, _ = make_client(
            SERVERLESS, credential, [reply(401, body, headers={"x-request-id": "rid-7"})]
        )
        with pytest.raises(AuthenticationError) as info:
            client.complete(HI)
        err = info.value
        text = f"{err} {err!r} {err.body} {err.headers}"
        assert KEY not in text
        assert TOKEN not in text
        assert "rid-7" in str(err)
        assert "401" in str(err)


def test_timeout_and_connection_errors() -> None:
    client, rec = make_client(SERVERLESS, KEY, [httpx2.ReadTimeout("slow")])
    with pytest.raises(APITimeoutError, match="timed out") as timeout:
        client.complete(HI)
    assert len(rec.requests) == 3  # retried twice
    assert isinstance(timeout.value.__cause__, httpx2.ReadTimeout)
    client, rec = make_client(
        SERVERLESS, KEY, [httpx2.ConnectError("refused")], retry_policy=NO_RETRY
    )
    with pytest.raises(APIConnectionError, match="Could not reach https://my-endpoint") as conn:
        client.complete(HI)
    assert not isinstance(conn.value, APITimeoutError)
    assert len(rec.requests) == 1


def test_transport_error_messages_leave_out_the_query() -> None:
    client, _ = make_client(
        "https://gw.example.com/v1?subscription-key=SECRETQUERY",
        KEY,
        [httpx2.ConnectError("x")],
        retry_policy=NO_RETRY,
    )
    with pytest.raises(APIConnectionError) as info:
        client.complete(HI)
    assert "SECRETQUERY" not in str(info.value)


def test_status_error_keeps_headers_and_body() -> None:
    client, _ = make_client(
        SERVERLESS, KEY, [reply(404, {"error": {"code": "NotFound", "message": "x"}})]
    )
    with pytest.raises(NotFoundError) as info:
        client.complete(HI)
    assert info.value.body == {"error": {"code": "NotFound", "message": "x"}}
    assert info.value.headers["content-type"] == "application/json"


def test_error_from_payload_with_junk_does_not_crash() -> None:
    for body in (
        None,
        3,
        "text",
        [],
        {"error": None},
        {"error": {"code": 5}},
        {"detail": {"loc": "x"}},
        {"detail": {"loc": []}},
    ):
        err = error_from_payload(400, body)
        assert isinstance(err, BadRequestError)
    assert error_from_payload(400, {"error": {"code": 5}}).code == "5"


# ---- 422: "not supported" only when the service says so (issue 15, item 5) ----


def test_422_invalid_value_is_a_bad_request_quoting_the_service() -> None:
    body = {
        "status": 422,
        "code": "invalid_value",
        "message": "temperature must be a number between 0 and 2",
        "detail": {"loc": ["body", "temperature"], "input": 5},
    }
    err = _err(422, body, {"x-ms-error-code": "invalid_value"})
    assert type(err) is BadRequestError
    assert (err.status_code, err.code, err.param) == (422, "invalid_value", "temperature")
    assert "temperature must be a number between 0 and 2" in str(err)
    assert "not support" not in str(err)


def test_422_parameter_not_supported_says_so() -> None:
    doc = DOCUMENTED["422_parameter_not_supported"]
    err = _err(doc["status"], doc["response_body"])
    assert type(err) is UnsupportedParameterError
    assert "does not support the parameter 'response_format'" in str(err)


def test_422_extra_parameters_not_allowed_quotes_the_service_only() -> None:
    message = "Extra parameters ['safe_prompt'] are not allowed when extra-parameters is not set"
    err = _err(422, {"code": "extra_parameters_not_allowed", "message": message})
    assert type(err) is UnsupportedParameterError
    assert message in str(err)
    assert "does not support" not in str(err)


def test_422_message_saying_unsupported_without_a_code() -> None:
    err = _err(422, {"message": "Parameter 'seed' is not supported by this model", "param": "seed"})
    assert type(err) is UnsupportedParameterError
    assert err.param == "seed"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 422, 429, 500, 503])
def test_errors_pickle_and_copy_whole(status: int) -> None:
    """A worker process hands its error to the parent, a task queue stores it: every attribute
    comes back, and so does the class (keyword-only constructors do not pickle by default)."""
    import copy
    import pickle

    from azureinference.errors import JsonSchemaRefusedError
    from azureinference.responses_api import ResponsesNotSupportedError

    body = {"error": {"code": "bad_thing", "message": "It is bad.", "param": "temperature"}}
    err = error_from_response(
        status, {"x-request-id": "req-1", "retry-after": "2"}, json.dumps(body).encode()
    )
    for restored in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err)):
        assert type(restored) is type(err)
        assert str(restored) == str(err)
        assert restored.__dict__ == err.__dict__
    others = [
        JsonSchemaRefusedError("refused", status_code=400, code="x", param="response_format"),
        ResponsesNotSupportedError(
            "no route", status_code=404, model="m", reason="no_route", learned=True
        ),
        MalformedResponseError("bad json", status_code=200, request_id="r"),
        ConfigurationError("bad temperature"),
    ]
    for other in others:
        restored = pickle.loads(pickle.dumps(other))
        assert type(restored) is type(other)
        assert restored.__dict__ == other.__dict__
        assert restored.args == other.args
