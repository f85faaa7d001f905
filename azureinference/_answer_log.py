"""The DEBUG lines the clients write about answers and retries: URLs without their query."""

from __future__ import annotations

import logging

import httpx2

__all__ = ["log", "log_answer", "url_for_log"]

log = logging.getLogger("azureinference")


def url_for_log(url: httpx2.URL) -> str:
    """``url`` as logs and error messages show it: scheme, host, port and path.

    The query is left out: a gateway may carry a key in it. The port stays: "could not reach
    localhost" is no help when the server is on :8001.
    """
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def log_answer(response: httpx2.Response, attempt: int) -> None:
    """One DEBUG line per answer: method, URL without its query, status, the service's ids.

    Headers and bodies are never logged (they carry keys, tokens and the user's data).
    """
    headers = response.headers
    ids = [
        f"{name}={headers[name]}"
        for name in ("x-ms-client-request-id", "apim-request-id", "x-request-id")
        if name in headers
    ]
    log.debug(
        "%s %s -> %d%s%s",
        response.request.method,
        url_for_log(response.request.url),
        response.status_code,
        f" after {attempt} retr{'y' if attempt == 1 else 'ies'}" if attempt else "",
        f" ({', '.join(ids)})" if ids else "",
    )
