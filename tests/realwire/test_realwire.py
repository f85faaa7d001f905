"""Real answers of real services, read by every layer (issue 14).

Each recording in ``../shared/realwire/recordings/`` (beside the checkout; never copied into the
repo) is served by a local server on 127.0.0.1, as the service sent it (status, content-type,
content-encoding, body; streamed pieces one HTTP chunk each where recorded so), and read by the
core (`Client`/`AsyncClient`), LangChain and LlamaIndex, sync and async. What each layer must
make of it is derived from the recorded body itself: text, reasoning, refusal, tool calls with
parsed arguments, finish reason, token usage, embeddings, or the error with its status and the
service's message.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from realwire_support import LAYERS, RUNNERS, Answer, Got, serve

from azureinference import APIStatusError

REALWIRE = Path(__file__).resolve().parents[2].parent / "shared" / "realwire"
RECORDINGS = REALWIRE / "recordings"

# How many recordings the shared set holds (INDEX.md): a clean clone without it says how many
# checks it did not run, and a checkout with it fails if the set is not all read.
RECORDINGS_EXPECTED = 86
CHECKS_PER_RECORDING = len(LAYERS) * 2  # sync and async

if not RECORDINGS.is_dir():
    pytest.skip(
        f"{RECORDINGS_EXPECTED * CHECKS_PER_RECORDING} recorded-answer checks skipped "
        f"({RECORDINGS_EXPECTED} real-service recordings x {len(LAYERS)} layers x sync/async): "
        f"the recordings are not here ({RECORDINGS}); the shared data set lives beside the "
        "checkout, in ../shared/realwire.",
        allow_module_level=True,
    )


def _load() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(RECORDINGS.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        out[rec["id"]] = rec
    return out


RECS = _load()


def test_every_recording_is_read() -> None:
    assert len(RECS) == RECORDINGS_EXPECTED, (
        f"../shared/realwire/recordings holds {len(RECS)} recordings, not {RECORDINGS_EXPECTED}: "
        "update RECORDINGS_EXPECTED"
    )


# ---- what the recorded body says (derived here, independently of the code under test) -------


@dataclass
class Expected:
    """What a layer must make of a recording."""

    text: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    tool_calls: list[tuple[str | None, str | None, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: tuple[int, int, int] | None = None
    vectors: list[list[float]] | None = None
    error: tuple[int, str] | None = None  # (status, the service's message)


def _body(rec: dict[str, Any]) -> bytes:
    raw = base64.b64decode(rec["response"]["body_b64"])
    if rec["response"]["headers"].get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    return raw


def _service_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(error, str):
        return error
    for key in ("message", "detail"):
        if isinstance(body.get(key), str):
            return str(body[key])
    raise AssertionError(f"no message in {body!r}")


def _error_status(error: dict[str, Any], default: int) -> int:
    for key in ("status", "status_code", "code"):
        value = error.get(key)
        if isinstance(value, int) and 400 <= value < 600:
            return value
    return default


def _parts(content: Any, kind: str) -> str:
    """The ``kind`` parts (text or thinking) of a content list, joined; a string is text."""
    if isinstance(content, str):
        return content if kind == "text" else ""
    out = ""
    for part in content or ():
        if part.get("type") != kind:
            continue
        value = part[kind]
        out += value if isinstance(value, str) else _parts(value, "text")
    return out


def _reasoning(said: dict[str, Any]) -> str:
    for key in ("reasoning_content", "reasoning"):
        if isinstance(said.get(key), str) and said[key]:
            return str(said[key])
    details = said.get("reasoning_details")
    if details:
        return "".join(d.get("text") or d.get("summary") or "" for d in details)
    return _parts(said.get("content"), "thinking")


def _args(text: str | None) -> Any:
    return json.loads(text) if text and text.strip() else {}


def _usage(usage: Any) -> tuple[int, int, int] | None:
    if not usage:
        return None
    return (usage["prompt_tokens"], usage.get("completion_tokens") or 0, usage["total_tokens"])


def _events(body: bytes) -> Iterator[tuple[str | None, str]]:
    text = body.decode("utf-8").replace("\r\n", "\n")
    for block in text.split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            yield event, "\n".join(data)


def _expected_stream(body: bytes) -> Expected:
    exp = Expected(text="", reasoning="", refusal="")
    calls: list[dict[str, Any]] = []
    keys: dict[Any, int] = {}
    for event, data in _events(body):
        if data.strip() == "[DONE]":
            continue
        obj = json.loads(data)
        error = obj.get("error") if isinstance(obj, dict) else None
        if event == "error" or error:
            error = error or obj
            exp.error = (_error_status(error, 500), _service_message({"error": error}))
            return exp
        usage = obj.get("usage") or (obj.get("x_groq") or {}).get("usage")
        if usage:
            exp.usage = _usage(usage)
        for choice in obj.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            exp.text += _parts(delta.get("content"), "text")
            exp.reasoning += _reasoning(delta)
            exp.refusal += delta.get("refusal") or ""
            for tc in delta.get("tool_calls") or ():
                if tc.get("index") is not None:
                    key: Any = ("index", tc["index"])
                elif tc.get("id"):
                    key = ("id", tc["id"])
                else:
                    key = next(reversed(keys)) if keys else ("index", 0)
                if key not in keys:
                    keys[key] = len(calls)
                    calls.append({"id": None, "name": None, "args": ""})
                call = calls[keys[key]]
                fn = tc.get("function") or {}
                call["id"] = call["id"] or tc.get("id")
                call["name"] = call["name"] or fn.get("name")
                call["args"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                exp.finish_reason = choice["finish_reason"]
    exp.tool_calls = [(c["id"], c["name"], _args(c["args"])) for c in calls]
    exp.text, exp.reasoning, exp.refusal = exp.text or None, exp.reasoning or None, exp.refusal
    exp.refusal = exp.refusal or None
    return exp


def expected(rec: dict[str, Any]) -> Expected:
    """What the recorded body says."""
    status = rec["response"]["status"]
    body = _body(rec)
    if status >= 400:
        return Expected(error=(status, _service_message(json.loads(body))))
    if rec["route"] == "embeddings":
        data = sorted(json.loads(body)["data"], key=lambda d: d["index"])
        vectors = []
        for item in data:
            vector = item["embedding"]
            if isinstance(vector, str):
                raw = base64.b64decode(vector)
                vector = list(struct.unpack(f"<{len(raw) // 4}f", raw))
            vectors.append(vector)
        return Expected(vectors=vectors)
    if rec["request"].get("stream"):
        return _expected_stream(body)
    obj = json.loads(body)
    choice = obj["choices"][0]
    message = choice["message"]
    return Expected(
        text=_parts(message.get("content"), "text") or None,
        reasoning=_reasoning(message) or None,
        refusal=message.get("refusal") or None,
        tool_calls=[
            (c.get("id"), c["function"]["name"], _args(c["function"].get("arguments")))
            for c in message.get("tool_calls") or ()
        ],
        finish_reason=choice.get("finish_reason"),
        usage=_usage(obj.get("usage")),
    )


# ---- the local server ------------------------------------------------------------------------


def _answer(path: str) -> Answer:
    rec = RECS[path.split("/")[2]]  # /rw/<id>/...
    response = rec["response"]
    return (
        response["status"],
        response["headers"],
        base64.b64decode(response["body_b64"]),
        response.get("chunks"),
    )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    with serve(_answer) as running:
        yield running


def _endpoint(base: str, rec: dict[str, Any]) -> str:
    path = rec["endpoint_path"] or "/models"  # the Model Inference API's own route
    return f"{base}/rw/{rec['id']}{path}"


# ---- what each layer made of it, in one shape ----------------------------------------------


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("rec_id", sorted(RECS))
def test_every_layer_reads_the_recording(
    server: tuple[str, list[tuple[str, Any]]], rec_id: str, layer: str, sync: bool
) -> None:
    base, seen = server
    rec = RECS[rec_id]
    exp = expected(rec)
    run = RUNNERS[layer](rec, _endpoint(base, rec), sync)
    if exp.error is not None:
        status, message = exp.error
        with pytest.raises(APIStatusError) as caught:
            asyncio.run(run)
        assert caught.value.status_code == status
        assert message in str(caught.value)
    else:
        got = asyncio.run(run)
        if exp.vectors is not None:
            assert got == exp.vectors
        else:
            assert isinstance(got, Got)
            norm = [(i or None, n, a) for i, n, a in exp.tool_calls]
            assert [(i or None, n, a) for i, n, a in got.tool_calls] == norm
            said = (got.text, got.reasoning, got.refusal or None)
            assert said == (exp.text, exp.reasoning, exp.refusal)
            # Snowflake sends finish_reason "": no reason, as absent.
            assert (got.finish_reason or None) == (exp.finish_reason or None)
            assert got.usage == exp.usage
    route = "/embeddings" if rec["route"] == "embeddings" else "/chat/completions"
    path = seen[-1][0]
    assert path.startswith(f"/rw/{rec_id}/")
    assert path.endswith(route)
