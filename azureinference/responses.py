"""Pure response parsing: ``(status, headers, body) -> model | error``.

Also unwraps the ``{"code", "msg", "data"}`` envelope some OpenAI-compatible gateways put around
their answers and stream chunks (seed 001), and turns an ``{"error": ...}`` payload that arrives
with a 200 status (or inside a stream) into the error it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic
import pydantic_core

from .errors import (
    APIStatusError,
    MalformedResponseError,
    error_from_payload,
    error_from_response,
    request_id_from,
)
from .types import ChatCompletion, ChatCompletionChunk, EmbeddingsResult, ModelInfo

__all__ = [
    "parse_chat_chunk",
    "parse_chat_completion",
    "parse_embeddings",
    "parse_model_info",
    "parse_stream_error",
    "raise_for_status",
    "unwrap_envelope",
]

_M = TypeVar("_M", bound=pydantic.BaseModel)


def unwrap_envelope(obj: Any) -> Any:
    """Return ``obj["data"]`` for a ``{"code", "msg", "data"}`` envelope, else ``obj``.

    Raises:
        APIStatusError: The envelope carries an error code (not 0/200) and no data.
    """
    if isinstance(obj, Mapping) and "data" in obj and "code" in obj and "choices" not in obj:
        code = obj.get("code")
        data = obj.get("data")
        if data is None or (isinstance(code, int) and code not in (0, 200)):
            status = code if isinstance(code, int) and 400 <= code < 600 else 500
            raise error_from_payload(
                status, {"code": str(code), "message": obj.get("msg") or obj.get("message")}
            )
        return data
    return obj


def raise_for_status(status_code: int, headers: Mapping[str, str], content: bytes) -> None:
    """Raise the mapped error for a non-2xx answer.

    Raises:
        APIStatusError: The status is not 2xx.
    """
    if status_code >= 300:
        raise error_from_response(status_code, headers, content)


def _validate(
    model: type[_M], status_code: int, headers: Mapping[str, str], content: bytes, what: str
) -> _M:
    raise_for_status(status_code, headers, content)
    try:
        result = model.model_validate_json(content)
    except pydantic.ValidationError as exc:
        return _validate_slow(model, status_code, headers, content, what, exc)
    extra = result.model_extra
    if extra and ("data" in extra or "error" in extra):
        return _validate_slow(model, status_code, headers, content, what, None)
    return result


def _validate_slow(
    model: type[_M],
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    what: str,
    exc: Exception | None,
) -> _M:
    request_id = request_id_from(headers)
    try:
        obj = pydantic_core.from_json(content)
    except ValueError as err:
        snippet = content[:200].decode("utf-8", "replace")
        raise MalformedResponseError(
            f"The {what} answer (status {status_code}) is not JSON: {snippet!r}",
            status_code=status_code,
            request_id=request_id,
            body=snippet,
        ) from err
    if isinstance(obj, Mapping) and isinstance(obj.get("error"), (Mapping, str)):
        raise error_from_payload(status_code if status_code >= 400 else 500, obj, headers)
    obj = unwrap_envelope(obj)
    try:
        return model.model_validate(obj)
    except pydantic.ValidationError as err:
        if _drop_refused_nulls(obj, err):
            try:
                return model.model_validate(obj)
            except pydantic.ValidationError:
                pass
        raise MalformedResponseError(
            f"The {what} answer (status {status_code}) does not have the API's shape: "
            f"{err.errors()[0]['loc']} {err.errors()[0]['msg']}",
            status_code=status_code,
            request_id=request_id,
            body=obj,
        ) from (exc or err)


def _drop_refused_nulls(obj: Any, err: pydantic.ValidationError) -> bool:
    """Delete the nulls a model refused (``"index": null``, ``"completion_tokens": null``...).

    Some OpenAI-compatible servers send null where the API has a number or an object; the field's
    default is a better reading than refusing the whole answer. True when anything was deleted.
    """
    removed = False
    for error in err.errors():
        if error.get("input", ...) is not None:
            continue
        parent: Any = None
        key: Any = None
        node = obj
        for part in error["loc"]:
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            if not (in_dict or in_list):
                break
            parent, key, node = node, part, node[part]
        if node is None and isinstance(parent, dict):
            del parent[key]
            removed = True
    return removed


def parse_chat_completion(
    status_code: int, headers: Mapping[str, str], content: bytes
) -> ChatCompletion:
    """Parse a chat completions answer.

    Raises:
        APIStatusError: An error status or an error payload.
        MalformedResponseError: Not JSON, or no ``choices``.
    """
    result = _validate(ChatCompletion, status_code, headers, content, "chat completions")
    if not result.choices:
        what = "no 'choices'" if result.choices is None else "an empty 'choices' list"
        raise MalformedResponseError(
            f"The chat completions answer (status {status_code}) has {what}: there is no "
            "message to read.",
            status_code=status_code,
            request_id=request_id_from(headers),
            body=content[:500].decode("utf-8", "replace"),
        )
    result._response_headers = {k.lower(): v for k, v in headers.items()}
    return result


def parse_chat_chunk(data: bytes) -> ChatCompletionChunk:
    """Parse one stream event's data into a chunk (unwrapping an envelope).

    Raises:
        APIStatusError: The event is an ``{"error": ...}`` object.
        MalformedResponseError: The event's data is not JSON of the chunk shape.
    """
    try:
        chunk = ChatCompletionChunk.model_validate_json(data)
    except pydantic.ValidationError:
        chunk = _validate_slow(ChatCompletionChunk, 200, {}, data, "stream event", None)
    extra = chunk.model_extra
    if extra:
        error = extra.get("error")
        if isinstance(error, (Mapping, str)) and error:
            # Also with ``choices`` beside it (OpenRouter ends a cut answer that way): an answer
            # that carries an error is the error, never a short answer.
            raise _stream_error(error)
        if "data" in extra and "code" in extra:
            inner = unwrap_envelope(extra)
            if isinstance(inner, Mapping) and "error" in inner:
                raise _stream_error(inner["error"])
            try:
                chunk = ChatCompletionChunk.model_validate(inner)
            except pydantic.ValidationError:  # nulls to drop, or not a chunk at all
                inner_bytes = pydantic_core.to_json(inner)
                chunk = _validate_slow(
                    ChatCompletionChunk, 200, {}, inner_bytes, "stream event", None
                )
    return chunk


def parse_stream_error(data: bytes) -> APIStatusError:
    """The error an SSE ``event: error`` carries, whatever its data looks like (JSON or text)."""
    try:
        obj = pydantic_core.from_json(data)
    except ValueError:
        obj = None
    if isinstance(obj, Mapping):
        inner = obj.get("error", obj)
        return _stream_error(inner if isinstance(inner, Mapping) else {"message": _as_text(inner)})
    text = data.decode("utf-8", "replace").strip()
    return _stream_error({"message": text or "an error event without details"})


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else pydantic_core.to_json(value).decode()


def _stream_error(error: Any) -> APIStatusError:
    status = 500
    if isinstance(error, Mapping):
        for key in ("status", "status_code", "code"):
            raw_status = error.get(key)
            if isinstance(raw_status, str) and raw_status.isdigit():
                raw_status = int(raw_status)
            if isinstance(raw_status, int) and 400 <= raw_status < 600:
                status = raw_status
                break
    else:
        error = {"message": _as_text(error)}
    err = error_from_payload(status, {"error": error})
    err.args = ("The stream carried an error event: " + err.message,)
    err.message = err.args[0]
    return err


def parse_embeddings(
    status_code: int, headers: Mapping[str, str], content: bytes
) -> EmbeddingsResult:
    """Parse an embeddings answer (base64 items are decoded later, by `EmbeddingsResult.vectors`).

    Raises:
        APIStatusError: An error status or an error payload.
        MalformedResponseError: Not JSON, or no ``data``.
    """
    result = _validate(EmbeddingsResult, status_code, headers, content, "embeddings")
    if result.data is None:
        raise MalformedResponseError(
            f"The embeddings answer (status {status_code}) has no 'data'.",
            status_code=status_code,
            request_id=request_id_from(headers),
        )
    return result


def parse_model_info(status_code: int, headers: Mapping[str, str], content: bytes) -> ModelInfo:
    """Parse a ``/info`` answer.

    Raises:
        APIStatusError: An error status.
        MalformedResponseError: Not JSON.
    """
    return _validate(ModelInfo, status_code, headers, content, "/info")
