"""`Client.respond` / `Client.stream_response` (sync and async) on real answers and the emulator.

Every Responses recording is served from a local server as the service sent it (gzip kept, one
HTTP chunk per event) and read through the client, sync and async; what comes out is compared
with what the recorded body says. Then the chat fallback of issue 23 item 4: a model the service
refuses, or an endpoint without the route, raises `ResponsesNotSupportedError` once from the
service and afterwards without a request; the emulator's routes per endpoint kind.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from azureinference import (
    APIError,
    APIStatusError,
    AsyncClient,
    Client,
    ConfigurationError,
    IncompleteStreamError,
    RateLimitError,
    ResponsesNotSupportedError,
    RetryPolicy,
    ServerError,
)
from azureinference.emulator import Emulator, EmulatorConfig, Fault, ModelSpec, running_emulator
from azureinference.emulator.config import default_models

from .responses_wire import (
    RECORDINGS,
    Answer,
    answer_of,
    expected,
    final_json,
    got,
    is_stream,
    serve,
)

if not RECORDINGS:
    pytest.skip(
        "The Responses recordings (../shared/realwire/responses) are not beside the checkout.",
        allow_module_level=True,
    )

KEY = "test-key-not-a-secret"
_TLS = ssl.create_default_context()
OPTIONS: dict[str, Any] = {"max_retries": 0, "httpx_kwargs": {"verify": _TLS}}
SYNC = pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])


def _run(
    endpoint: str,
    sync: bool,
    stream: bool,
    key: str = KEY,
    retry_policy: RetryPolicy | None = None,
    **params: Any,
) -> Any:
    """Call the client once (sync or async); return the answer."""
    input = params.pop("input", "Hi")
    options = dict(OPTIONS, retry_policy=retry_policy) if retry_policy else OPTIONS

    async def run_async() -> Any:
        async with AsyncClient(endpoint, key, **options) as client:
            if stream:
                answer = await client.stream_response(input, **params)
                return await answer.until_done()
            return await client.respond(input, **params)

    if not sync:
        return asyncio.run(run_async())
    with Client(endpoint, key, **options) as client:
        if stream:
            with client.stream_response(input, **params) as answer:
                return answer.until_done()
        return client.respond(input, **params)


def _params(rec: dict[str, Any]) -> dict[str, Any]:
    request = rec["request"]
    params: dict[str, Any] = {"model": request.get("model") or "gpt-4o"}
    tools = [t for t in request.get("tools") or () if t.get("type") == "function"]
    if tools:
        params["tools"] = tools
    return params


def _served(rec: dict[str, Any]) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    def responder(path: str, body: Any) -> Answer:
        return answer_of(rec)

    return serve(responder)  # type: ignore[return-value]


@SYNC
@pytest.mark.parametrize("rec_id", sorted(RECORDINGS))
def test_recording_through_the_client(rec_id: str, sync: bool) -> None:
    rec = RECORDINGS[rec_id]
    status = rec["response"]["status"]
    final = final_json(rec)
    with _served(rec) as (url, seen):
        endpoint = url + (rec["endpoint_path"] or "")
        try:
            answer = _run(endpoint, sync, is_stream(rec), **_params(rec))
        except APIStatusError as err:
            error = err
        else:
            error = None
    assert seen[0][0].split("?")[0] == (rec["endpoint_path"] or "") + "/responses"
    assert seen[0][1]["stream"] is True if is_stream(rec) else "stream" not in seen[0][1]
    if status >= 400:
        body = json.loads(_body(rec))["error"]
        assert error is not None
        assert (error.status_code, error.code) == (status, body["code"])
        assert body["message"] in error.message
        return
    assert final is not None
    if final["status"] == "failed":
        assert isinstance(error, (RateLimitError, ServerError))
        failure = final.get("error") or {}
        events = [e for e in _events(rec) if e["type"] == "error"]
        message = events[0]["error"]["message"] if events else failure["message"]
        assert message in error.message
        return
    assert error is None
    assert got(answer) == expected(final)


def _body(rec: dict[str, Any]) -> bytes:
    from .responses_wire import body_bytes

    return body_bytes(rec)


def _events(rec: dict[str, Any]) -> list[dict[str, Any]]:
    from .responses_wire import events

    return events(rec)


@SYNC
def test_events_as_they_come(sync: bool) -> None:
    """What an adapter reads while streaming: typed events, and the item each belongs to."""
    rec = RECORDINGS["openai_tools_parallel_stream"]
    with _served(rec) as (url, _):
        if sync:
            with Client(url + "/v1", KEY, **OPTIONS) as client:
                stream = client.stream_response("Hi", model="gpt-4o")
                seen = [(e.type, e.output_index, stream.state.item(e.output_index)) for e in stream]
        else:

            async def run() -> list[Any]:
                async with AsyncClient(url + "/v1", KEY, **OPTIONS) as client:
                    stream = await client.stream_response("Hi", model="gpt-4o")
                    return [
                        (e.type, e.output_index, stream.state.item(e.output_index))
                        async for e in stream
                    ]

            seen = asyncio.run(run())
    deltas = [(i, item.call_id, item.name) for t, i, item in seen if t.endswith("arguments.delta")]
    raw = [e for e in _events(rec) if e["type"] == "response.output_item.added"]
    assert {d[0] for d in deltas} == {0, 1}
    for index, call_id, name in deltas:
        assert (call_id, name) == (raw[index]["item"]["call_id"], raw[index]["item"]["name"])


@SYNC
def test_a_stream_cut_short_is_incomplete(sync: bool) -> None:
    rec = RECORDINGS["openai_text_stream"]
    status, headers, _, chunks = answer_of(rec)
    assert chunks is not None
    cut = chunks[:-1]  # no response.completed

    def responder(path: str, body: Any) -> Answer:
        return status, headers, b"", cut

    with serve(responder) as (url, _), pytest.raises(IncompleteStreamError):
        _run(url + "/v1", sync, True, model="gpt-4o")


# ---- the chat fallback (issue 23, item 4) -----------------------------------------------------

REFUSAL = {
    "error": {
        "code": "invalid_request_error",
        "message": "This model is not supported by the Responses API.",
        "param": None,
        "type": "invalid_request_error",
    }
}


def _refusing(status: int, body: Any) -> Any:
    def responder(path: str, sent: Any) -> Answer:
        return status, {"content-type": "application/json"}, json.dumps(body).encode(), None

    return serve(responder)


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["respond", "stream"])
def test_a_refused_model_is_remembered(sync: bool, stream: bool) -> None:
    with _refusing(400, REFUSAL) as (url, seen):

        async def calls_async() -> list[Any]:
            async with AsyncClient(url + "/openai/v1", KEY, **OPTIONS) as client:
                out = []
                for model in ("DeepSeek-R1", "DeepSeek-R1", "gpt-5"):
                    try:
                        if stream:
                            await client.stream_response("Hi", model=model)
                        else:
                            await client.respond("Hi", model=model)
                    except ResponsesNotSupportedError as err:
                        out.append(err)
                out.append(client.responses_supported("DeepSeek-R1"))
                return out

        def calls_sync() -> list[Any]:
            with Client(url + "/openai/v1", KEY, **OPTIONS) as client:
                out = []
                for model in ("DeepSeek-R1", "DeepSeek-R1", "gpt-5"):
                    try:
                        if stream:
                            client.stream_response("Hi", model=model)
                        else:
                            client.respond("Hi", model=model)
                    except ResponsesNotSupportedError as err:
                        out.append(err)
                out.append(client.responses_supported("DeepSeek-R1"))
                return out

        first, again, other, supported = calls_sync() if sync else asyncio.run(calls_async())
    assert (first.model, first.reason, first.learned, first.status_code) == (
        "DeepSeek-R1",
        "refused",
        True,
        400,
    )
    assert "not supported by the Responses API" in str(first)
    assert (again.model, again.learned) == ("DeepSeek-R1", False)
    # Remembered per model: the second call for DeepSeek-R1 sent nothing; gpt-5 was asked.
    assert [body["model"] for _, body in seen] == ["DeepSeek-R1", "gpt-5"]
    assert other.model == "gpt-5"
    assert supported is False


@SYNC
def test_no_route_is_remembered_for_every_model(sync: bool) -> None:
    with _refusing(404, {"detail": "Not Found"}) as (url, seen):
        if sync:
            with Client(url, KEY, **OPTIONS) as client:
                errors = []
                for model in ("a", "b"):
                    with pytest.raises(ResponsesNotSupportedError) as caught:
                        client.respond("Hi", model=model)
                    errors.append(caught.value)
                assert client.responses_supported("c") is False
        else:

            async def run() -> list[Any]:
                async with AsyncClient(url, KEY, **OPTIONS) as client:
                    out = []
                    for model in ("a", "b"):
                        with pytest.raises(ResponsesNotSupportedError) as caught:
                            await client.respond("Hi", model=model)
                        out.append(caught.value)
                    return out

            errors = asyncio.run(run())
    assert [e.reason for e in errors] == ["no_route", "no_route"]
    assert [e.learned for e in errors] == [True, False]
    assert len(seen) == 1


@SYNC
def test_other_errors_are_not_a_fallback(sync: bool) -> None:
    body = json.loads(_body(RECORDINGS["openai_err_404_model"]))
    with _refusing(404, body) as (url, seen):
        for _ in range(2):
            with pytest.raises(APIStatusError) as caught:
                _run(url + "/v1", sync, False, model="o4-mini-deep-research")
            assert not isinstance(caught.value, ResponsesNotSupportedError)
    assert len(seen) == 2


def test_bad_parameters_are_named_before_any_request() -> None:
    with Client("http://127.0.0.1:9/v1", KEY, **OPTIONS) as client:
        with pytest.raises(ConfigurationError, match="max_output_tokens"):
            client.respond("Hi", model="m", max_tokens=5)
        with pytest.raises(ConfigurationError, match=r"message\.output_text\.logprobs"):
            client.respond("Hi", model="m", logprobs=True)
        with pytest.raises(ConfigurationError, match="stream_response"):
            client.respond("Hi", model="m", stream=True)


# ---- the emulator, per endpoint kind -----------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    config = EmulatorConfig(
        models=[
            *default_models(),
            ModelSpec("emulator-chat-only", unsupported=frozenset({"responses"})),
        ]
    )
    with running_emulator(config) as emulator:
        yield emulator


@SYNC
@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/openai/v1", "/openai/v1/responses"),
        ("/models", "/openai/v1/responses"),
        ("/openai/deployments/emulator-chat", "/openai/responses"),
        ("/v1", "/v1/responses"),
    ],
)
def test_emulator_routes_per_endpoint_kind(
    emu: Emulator, sync: bool, path: str, route: str
) -> None:
    emu.reset()
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    for stream in (False, True):
        answer = _emulator_call(
            emu,
            path,
            sync,
            stream,
            input="What is the weather in Paris?",
            tools=[tool],
            model="emulator-chat",
        )
        assert [(c.name, json.loads(c.arguments)) for c in answer.function_calls] == [
            ("get_weather", {"city": "Paris"})
        ]
        assert answer.finish_reason == "tool_calls"
    assert [r.path for r in emu.requests] == [route, route]
    follow_up = _emulator_call(
        emu,
        path,
        sync,
        False,
        model="emulator-chat",
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            *answer.function_calls,
            {"role": "tool", "tool_call_id": answer.function_calls[0].call_id, "content": "Sun"},
        ],
        tools=[tool],
    )
    assert follow_up.output_text == "The tool returned: Sun"


def _emulator_call(emu: Emulator, path: str, sync: bool, stream: bool, **params: Any) -> Any:
    return _run(emu.url + path, sync, stream, key=emu.key, **params)


@SYNC
def test_emulator_refusal_and_missing_route(emu: Emulator, sync: bool) -> None:
    with pytest.raises(ResponsesNotSupportedError) as refused:
        _emulator_call(emu, "/openai/v1", sync, False, model="emulator-chat-only")
    assert refused.value.reason == "refused"
    # The emulator's root is a serverless-style endpoint: no Responses route there.
    with pytest.raises(ResponsesNotSupportedError) as missing:
        _emulator_call(emu, "", sync, True, model="emulator-chat")
    assert missing.value.reason == "no_route"


@SYNC
def test_structured_output_and_incomplete_on_the_emulator(emu: Emulator, sync: bool) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    answer = _emulator_call(
        emu,
        "/openai/v1",
        sync,
        True,
        model="emulator-chat",
        input="Alice is 31.",
        response_format={"type": "json_schema", "json_schema": {"name": "P", "schema": schema}},
    )
    assert set(json.loads(answer.output_text)) == {"name", "age"}
    sent = emu.requests[-1].json
    assert sent["text"]["format"]["type"] == "json_schema"
    assert sent["text"]["format"]["name"] == "P"
    cut = _emulator_call(
        emu,
        "/openai/v1",
        sync,
        False,
        model="emulator-chat",
        input="count to 9",
        max_output_tokens=3,
    )
    assert (cut.status, cut.incomplete_reason, cut.finish_reason) == (
        "incomplete",
        "max_output_tokens",
        "length",
    )
    assert cut.output_text == "1 2 3"


def test_recorded_responses_calls_hold_no_credentials(
    tmp_path: Any, vcr_config: dict[str, Any]
) -> None:
    """A Responses call and stream recorded with the project's scrubbing: no key, no secret."""
    import vcr

    secret, query_secret = "s3cret-responses-0123456789", "s3cret-code-0123456789"
    text_rec, stream_rec = RECORDINGS["openai_text"], RECORDINGS["openai_text_stream"]

    def responder(path: str, body: Any) -> Answer:
        return answer_of(stream_rec if body.get("stream") else text_rec)

    def calls(url: str) -> list[str]:
        with Client(f"{url}/v1?code={query_secret}", secret, **OPTIONS) as client:
            answer = client.respond("Hi", model="gpt-4o")
            with client.stream_response("Hi", model="gpt-4o") as stream:
                streamed = stream.until_done()
        return [answer.output_text, streamed.output_text]

    recorder = vcr.VCR(**vcr_config)
    cassette = tmp_path / "responses.yaml"
    with serve(responder) as (url, seen):
        with recorder.use_cassette(str(cassette), record_mode="once"):
            recorded = calls(url)
        text = cassette.read_text()
        assert secret not in text
        assert query_secret not in text
        with recorder.use_cassette(str(cassette), record_mode="none"):
            assert calls(url) == recorded
        assert len(seen) == 2  # replayed, not sent
    assert recorded == [expected(final_json(text_rec) or {}).text] * 2


@SYNC
def test_emulator_faults_on_the_responses_route(emu: Emulator, sync: bool) -> None:
    """Retries, a body cut short and a dropped stream, as on the chat route."""
    fast = RetryPolicy(max_retries=1, initial_delay=0.01, max_delay=0.02)
    emu.reset()
    emu.inject(Fault.server_error(503, route="responses"))
    answer = _run(emu.endpoint, sync, False, key=emu.key, retry_policy=fast, model="emulator-chat")
    assert answer.output_text == "You said: Hi"
    assert len(emu.requests) == 2  # the 503, then its retry
    emu.inject(Fault.drop_stream(after_chunks=4, route="responses"))
    with pytest.raises(IncompleteStreamError):
        _run(emu.endpoint, sync, True, key=emu.key, model="emulator-chat")
    emu.inject(Fault.drop_stream(route="responses"))
    with pytest.raises(APIError):
        _run(emu.endpoint, sync, False, key=emu.key, model="emulator-chat")


def test_an_adapter_connection_learns_once_for_sync_and_async() -> None:
    """The sync and async clients of one `Connection` share what was learned; so does a copy."""
    import pickle

    from azureinference.adapters import connect

    with _refusing(400, REFUSAL) as (url, seen):
        # (no SSL context in the options: the connection is pickled below)
        connection = connect(
            url + "/openai/v1", KEY, model="DeepSeek-R1", client_kwargs={"max_retries": 0}
        )
        with pytest.raises(ResponsesNotSupportedError) as first:
            connection.client.respond("Hi")
        assert first.value.learned is True

        async def again() -> ResponsesNotSupportedError:
            try:
                await connection.async_client.respond("Hi")
            except ResponsesNotSupportedError as err:
                return err
            finally:
                await connection.aclose()
            raise AssertionError("no refusal")

        second = asyncio.run(again())
        copy = pickle.loads(pickle.dumps(connection))
        with pytest.raises(ResponsesNotSupportedError) as third:
            copy.client.stream_response("Hi")
        connection.close()
        copy.close()
    assert (second.learned, third.value.learned) == (False, False)
    assert third.value.service_message == REFUSAL["error"]["message"]
    assert copy.client.responses_supported() is False
    assert len(seen) == 1
