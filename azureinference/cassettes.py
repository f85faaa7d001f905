"""Scrubbing for recorded HTTP (vcrpy, pytest-recording): no credential ever lands in a cassette.

Users record cassettes of their own chains too, so the scrubbing is public::

    # conftest.py
    import pytest
    from azureinference.cassettes import vcr_config as azure_vcr_config

    @pytest.fixture(scope="module")
    def vcr_config():
        return azure_vcr_config(secret_headers=["x-my-gateway-key"])

What is removed from each request before it is stored (and before a replayed request is matched,
as vcrpy applies the same hook to both):

- every header our credentials set (``Authorization``, ``api-key``, the name of each
  `HeaderCredential` or ``"Name: value"`` credential created in the process), the well-known key
  headers (`azureinference.redaction.SECRET_HEADER_NAMES`: ``x-api-key``, ``x-goog-api-key``,
  ``x-functions-key``, ``ocp-apim-subscription-key``, cookies...), any header whose name holds
  ``key``, ``token``, ``secret``, ``auth``, ``sig``..., and the ones passed as ``secret_headers``;
- the values of secret-looking query parameters (``code``, ``sig``, ``key``, ``token``...), which
  become ``REDACTED`` (the parameter stays, so the request still matches on replay);
- ``Host`` and ``x-ms-client-request-id`` (they name the machine or the call, not the request);
- optionally the host itself, rewritten to ``placeholder_host``.

Responses keep only an allow-list of headers (content type, retry hints, request ids), and
anything shaped like a JWT in a body becomes ``[redacted-jwt]``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .redaction import SECRET_HEADER_NAMES, is_secret_header, redact_query

__all__ = [
    "KEEP_RESPONSE_HEADERS",
    "REDACTED_VALUE",
    "scrub_request",
    "scrub_response",
    "scrub_uri",
    "vcr_config",
]

REDACTED_VALUE = "REDACTED"
"""What a secret query value is replaced with."""

KEEP_RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "retry-after",
        "retry-after-ms",
        "x-ms-error-code",
        "x-request-id",
        "apim-request-id",
    }
)
"""Response headers kept in a cassette (lower case); every other one is dropped."""

_DROP_REQUEST_HEADERS = frozenset({"host", "x-ms-client-request-id"})
_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def scrub_uri(uri: str, placeholder_host: str | None = None) -> str:
    """Hide secret query values (and user info) of a URI; rewrite its host if asked."""
    parts = urlsplit(uri)
    query = redact_query(parts.query, REDACTED_VALUE)
    netloc = parts.netloc.rpartition("@")[2]
    scheme = parts.scheme
    if placeholder_host is not None and parts.hostname != placeholder_host:
        scheme, netloc = "https", placeholder_host
    return urlunsplit((scheme, netloc, parts.path, query, ""))


def scrub_request(
    request: Any,
    *,
    secret_headers: Iterable[str] = (),
    placeholder_host: str | None = None,
) -> Any:
    """Remove credentials from a vcrpy request (in place) and return it.

    Args:
        request: A ``vcr.request.Request``.
        secret_headers: More header names to remove (any case).
        placeholder_host: Rewrite the host to this one (and the scheme to https).
    """
    extra = {name.lower() for name in secret_headers}
    request.uri = scrub_uri(request.uri, placeholder_host)
    for name in list(request.headers):
        lower = name.lower()
        if lower in extra or lower in _DROP_REQUEST_HEADERS or is_secret_header(lower):
            del request.headers[name]
    return request


def scrub_response(
    response: dict[str, Any], *, keep_headers: Iterable[str] = KEEP_RESPONSE_HEADERS
) -> dict[str, Any]:
    """Keep only allowed response headers and mask JWTs in the body (in place); return it."""
    keep = {name.lower() for name in keep_headers}
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() not in keep:
            del headers[name]
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes) and _JWT.search(body):
        response["body"]["string"] = _JWT.sub(b"[redacted-jwt]", body)
    return response


def vcr_config(
    *,
    secret_headers: Iterable[str] = (),
    placeholder_host: str | None = None,
    keep_response_headers: Iterable[str] = KEEP_RESPONSE_HEADERS,
    **overrides: Any,
) -> dict[str, Any]:
    """A vcrpy / pytest-recording configuration that scrubs credentials (see the module doc).

    Args:
        secret_headers: Header names of your own that carry credentials.
        placeholder_host: Store every request with this host instead of the real one.
        keep_response_headers: Response headers to keep (all others are dropped).
        **overrides: Other vcrpy options (``match_on``, ``decode_compressed_response``...).
    """
    secret = tuple(secret_headers)
    before_request: Callable[[Any], Any] = functools.partial(
        scrub_request, secret_headers=secret, placeholder_host=placeholder_host
    )
    before_response: Callable[[dict[str, Any]], dict[str, Any]] = functools.partial(
        scrub_response, keep_headers=tuple(keep_response_headers)
    )
    config: dict[str, Any] = {
        "filter_headers": sorted(SECRET_HEADER_NAMES | {h.lower() for h in secret}),
        "before_record_request": before_request,
        "before_record_response": before_response,
        "decode_compressed_response": True,
    }
    config.update(overrides)
    return config
