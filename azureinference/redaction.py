"""What counts as a secret, and how it is hidden wherever we show a URL or headers.

- `redact_url` hides a URL's user name and password and the values of secret-looking query
  parameters (``code``, ``sig``, ``key``, ``api-key``, ``token``, ``secret``, ``password``...):
  ``https://***@host/path?code=***&api-version=2024-05-01-preview``.
- `redact_headers` keeps header names and hides every value.
- `check_header` refuses a header name or value that HTTP does not allow (a key with a line break,
  a name with a space), without quoting the value: the error must not carry the secret.
- `credential_header_names` are the headers our credentials set (``Authorization``, ``api-key``
  and every `HeaderCredential` name created in this process), which the cassette scrubbing
  (`azureinference.cassettes`) removes along with the well-known key headers.

The ``httpx`` INFO line of each request shows the full URL; a logging filter on the ``httpx`` and
``httpx2`` loggers (public ``logging`` API, installed on import) redacts it as `redact_url` does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SECRET_HEADER_NAMES",
    "check_header",
    "credential_header_names",
    "is_secret_header",
    "is_secret_query_name",
    "mark_credential_header",
    "redact_headers",
    "redact_options",
    "redact_query",
    "redact_text",
    "redact_url",
]

REDACTED = "***"
"""What a hidden value is shown as."""

SECRET_HEADER_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "x-functions-key",
        "ocp-apim-subscription-key",
        "x-ms-token-aad-access-token",
        "cookie",
        "set-cookie",
    }
)
"""Header names that always carry a credential (lower case)."""

# A header or query parameter whose name holds one of these words is taken for a secret:
# ``x-my-gateway-key``, ``access_token``, ``sig`` (Azure SAS), ``code`` (Azure Functions).
_SECRET_WORDS = re.compile(
    r"key|token|secret|passw|pwd|sig|auth|credential|session|cookie|code", re.IGNORECASE
)
# RFC 9110 token characters: what a header name may hold.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Visible ASCII, with spaces and tabs inside only: what a header value may hold (httpx encodes
# values as ASCII; h11 refuses control characters and surrounding whitespace).
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?")

_credential_headers: set[str] = {"authorization", "api-key"}


def mark_credential_header(name: str) -> None:
    """Mark a header name as carrying a credential (scrubbed from cassettes, hidden in logs)."""
    _credential_headers.add(name.lower())


def credential_header_names() -> frozenset[str]:
    """The header names our credentials set in this process, lower case."""
    return frozenset(_credential_headers)


def is_secret_header(name: str) -> bool:
    """True for a header that carries (or may carry) a credential."""
    lower = name.lower()
    return (
        lower in SECRET_HEADER_NAMES
        or lower in _credential_headers
        or bool(_SECRET_WORDS.search(lower))
    )


def is_secret_query_name(name: str) -> bool:
    """True for a query parameter whose value may be a secret (``code``, ``sig``, ``key``...)."""
    return bool(_SECRET_WORDS.search(name))


def redact_query(query: str, placeholder: str = REDACTED) -> str:
    """Replace the values of the secret-looking parameters of a query string (kept as encoded)."""
    if not query:
        return query
    pieces = []
    for piece in query.split("&"):
        name, sep, _ = piece.partition("=")
        pieces.append(f"{name}={placeholder}" if sep and is_secret_query_name(name) else piece)
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """Return ``url`` with its user name, password and secret query values replaced by ``***``.

    Text that is not a URL comes back unchanged.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?")[0].rpartition("@")[2]
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rpartition("@")[2]
    query = redact_query(parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_URL_IN_TEXT = re.compile(r"""https?://[^\s'"<>]+""")


def redact_text(text: str) -> str:
    """Return ``text`` with every URL in it redacted as `redact_url` does (an error message)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def redact_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Header names with every value hidden (headers given by users may carry keys)."""
    return dict.fromkeys(headers, REDACTED)


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options (``model_kwargs``, ``client_kwargs``) as they may be shown: ``headers`` hidden."""
    shown = dict(options)
    headers = shown.get("headers")
    if isinstance(headers, Mapping):
        shown["headers"] = redact_headers(headers)
    return shown


def check_header(name: Any, value: Any, what: str) -> None:
    """Refuse a header that HTTP does not allow, naming ``what`` and never quoting the value.

    Args:
        name: The header name.
        value: The header value (may be a secret).
        what: What the header is, for the message (``"the credential"``, ``"headers"``...).

    Raises:
        ConfigurationError: A name or value that is not a string, or holds characters HTTP does
            not allow (a line break, a control or non-ASCII character, a space in a name).
    """
    from .errors import ConfigurationError

    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        shown = repr(name) if isinstance(name, str) and len(name) <= 40 else type(name).__name__
        raise ConfigurationError(
            f"{what}: {shown} is not a valid HTTP header name (letters, digits and "
            "!#$%&'*+-.^_`|~ only, no spaces or colons)."
        )
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{what}: the value of header {name!r} must be a str, not {type(value).__name__}."
        )
    if not _HEADER_VALUE.fullmatch(value):
        bad = next(
            (i for i, c in enumerate(value) if not ("\x20" <= c <= "\x7e" or c == "\t")),
            None,
        )
        where = (
            f"a line break, control or non-ASCII character at position {bad}"
            if bad is not None
            else "spaces at its start or end"
        )
        raise ConfigurationError(
            f"{what}: the value of header {name!r} holds {where}, which HTTP does not allow "
            "(the value is not shown: it may be a key). Check for a stray newline or a "
            "copy-paste error."
        )


class _RedactURLs(logging.Filter):
    """Redact URLs in the arguments of a log record (the ``httpx`` request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redact_url(str(a)) if _looks_like_url(a) else a for a in args)
        return True


def _looks_like_url(value: Any) -> bool:
    text = str(value) if type(value).__name__ == "URL" or isinstance(value, str) else ""
    return text.startswith(("http://", "https://")) and ("?" in text or "@" in text)


_FILTER = _RedactURLs()
for _name in ("httpx", "httpx2"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactURLs) for f in _logger.filters):
        _logger.addFilter(_FILTER)
