"""The exchange in the log, for a client built with ``logging_enable=True``; answer headers to show.

As azure-core's ``logging_enable`` does for the peers: each request (method, URL, headers and
body), each answer (status, headers and body) and each streamed event go to the ``azureinference``
logger at DEBUG, for that client only. Secrets are hidden wherever they may be: credential
header values, secret query values of URLs (the request's, and image URLs inside a body, such as
``?sig=``, or one an answer quotes), and body fields named like a credential (``api_key``,
``password``...). Image data (``data:`` URLs) is shortened to its type and length: the log says
an image was sent, not its bytes.

`public_headers` is the answer's headers without any that may carry a credential: what
``include_response_headers=True`` puts in LangChain's ``response_metadata["headers"]``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from .redaction import REDACTED, SECRET_HEADER_NAMES, credential_header_names, redact_url

__all__ = ["body_log", "log_event", "log_request", "log_response", "public_headers"]

body_log = logging.getLogger("azureinference")

# Body fields that hold a credential whatever their value looks like (lower case).
_SECRET_FIELDS = frozenset(
    {
        "api_key",
        "api-key",
        "apikey",
        "key",
        "authorization",
        "password",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "token",
    }
)
# Header names that may carry a credential besides the known ones. Not "token": the rate-limit
# headers (x-ratelimit-remaining-tokens) are what a user wants to see.
_SECRET_HEADER_WORDS = re.compile(r"key|secret|passw|auth|cookie|signature|credential", re.I)
_URL = re.compile(r"https?://[^\s\"'<>]+", re.I)
_DATA_URL = re.compile(r"^data:([\w/+.-]+)?(;base64)?,", re.I)


def _is_secret_header(name: str) -> bool:
    lower = name.lower()
    return (
        lower in SECRET_HEADER_NAMES
        or lower in credential_header_names()
        or bool(_SECRET_HEADER_WORDS.search(lower))
    )


def public_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers without those that may carry a credential (names lower case)."""
    return {k.lower(): v for k, v in headers.items() if not _is_secret_header(k)}


def _shown_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): REDACTED if _is_secret_header(k) else v for k, v in headers.items()}


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        data = _DATA_URL.match(value)
        if data:
            return f"data:{data.group(1) or ''}{data.group(2) or ''},<{len(value)} characters>"
        # A URL anywhere in a text (an answer may quote the image URL it was sent) loses its
        # secrets too.
        return _URL.sub(lambda m: redact_url(m.group(0)), value) if "://" in value else value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in _SECRET_FIELDS else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def _shown_body(content: bytes | str | None) -> str:
    """A body as it may be logged: JSON with its secrets hidden, or a note of what it is."""
    if not content:
        return "(empty)"
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return f"(not JSON: {len(content)} bytes)"
    return json.dumps(_redact_value(parsed), ensure_ascii=False)


def log_request(method: str, url: str, headers: Mapping[str, str], content: bytes | None) -> None:
    """Log a request about to be sent (the caller checked ``logging_enable``)."""
    body_log.debug(
        "Request: %s %s\nheaders: %s\nbody: %s",
        method,
        redact_url(url),
        _shown_headers(headers),
        _shown_body(content),
    )


def log_response(status: int, headers: Mapping[str, str], content: bytes | None) -> None:
    """Log an answer; ``content`` None for a stream, whose events are logged one by one."""
    body = "(a stream: its events follow)" if content is None else _shown_body(content)
    body_log.debug("Response: %s\nheaders: %s\nbody: %s", status, _shown_headers(headers), body)


def log_event(data: str) -> None:
    """Log one streamed event's data."""
    body_log.debug("Stream event: %s", data if data == "[DONE]" else _shown_body(data))
