"""The errors a call raises for what happened on the way, not for what the service said.

A transport failure, an answer that could not be decoded, and a streamed call whose answer is
not a stream (an error status, or JSON where ``text/event-stream`` was asked for).
"""

from __future__ import annotations

import httpx2

from ._answer_log import url_for_log
from ._failures import request_failure
from .errors import APIError, MalformedResponseError, error_from_response
from .requests import PreparedRequest
from .responses import parse_chat_completion

__all__ = ["check_stream_status", "decoding_error", "is_event_stream", "transport_error"]


def transport_error(exc: Exception, req: PreparedRequest) -> APIError:
    """Our error for an ``httpx2`` error while sending ``req`` (see `request_failure`)."""
    return request_failure(exc, url_for_log(httpx2.URL(req.url)))


def decoding_error(exc: Exception, req: PreparedRequest) -> MalformedResponseError:
    """The `MalformedResponseError` for an answer ``httpx2`` could not decode."""
    error = request_failure(exc, url_for_log(httpx2.URL(req.url)))
    assert isinstance(error, MalformedResponseError)
    return error


def is_event_stream(response: httpx2.Response) -> bool:
    """True when a streamed call's answer is the stream: a success, and not only JSON.

    A content type naming ``event-stream`` is a stream, even with ``json`` in it too (its
    reader says so if the body is not server-sent events).
    """
    if response.status_code >= 300:
        return False
    ctype = response.headers.get("content-type", "")
    return "json" not in ctype or "event-stream" in ctype


def check_stream_status(response: httpx2.Response, content: bytes) -> None:
    """Raise the error a streamed call's answer that is not a stream stands for.

    It always raises: an answer that is neither a stream nor an error must not make the call
    send the request again.

    Raises:
        APIStatusError: An error status, or an error in a JSON answer with status 200.
        MalformedResponseError: A JSON answer where a stream was asked for.
    """
    if response.status_code >= 300:
        raise error_from_response(response.status_code, response.headers, content)
    ctype = response.headers.get("content-type", "")
    if "json" in ctype:
        # An error with status 200 (an envelope's code, an "error" object) raises here...
        parse_chat_completion(response.status_code, response.headers, content)
    # ...and a service that ignored stream=true is named as such.
    raise MalformedResponseError(
        "A streamed answer was expected (text/event-stream) but the service answered "
        f"{ctype!r}: {content[:300].decode('utf-8', 'replace')!r}",
        status_code=response.status_code,
        body=content[:300].decode("utf-8", "replace"),
    )
