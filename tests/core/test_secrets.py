"""Issue 9, items 4, 5 and 13 (core): secrets never show, bad headers never go out.

A secret in an illegal header (a key with CR/LF, a header name with a space) is refused when the
client is built or the token arrives, by an error that does not quote it, before anything is sent.
A secret in the endpoint URL (user:pass, ``?code=``, ``?sig=``) is hidden in ``repr``, errors
and the HTTP library's log lines; user:pass is refused. Pickles carry the credential, never the
cached access token.
"""

from __future__ import annotations

import logging
import pickle
import time
import uuid
from typing import Any

import pytest

from azureinference import AsyncClient, Client, ConfigurationError, HeaderCredential
from azureinference.endpoints import parse_endpoint
from azureinference.redaction import redact_url

from .core_server import LocalServer
from .core_support import AccessToken, FakeTokenCredential, maybe_await

HI = [{"role": "user", "content": "hi"}]
SECRET = "s3cr3t-Value-0123456789"


class _Key:
    """An ``AzureKeyCredential`` look-alike."""

    def __init__(self, key: str) -> None:
        self.key = key


@pytest.mark.parametrize(
    "credential",
    [
        SECRET + "\r\nx-injected: 1",
        SECRET + "\n",  # stripped: a trailing newline of a pasted key is harmless
        "api-key: " + SECRET + "\rx",
        HeaderCredential.__new__(HeaderCredential),  # filled below
        _Key(SECRET + "\nx"),
        _Key(SECRET + "é"),
    ],
    ids=[
        "key CRLF",
        "key trailing LF",
        "header CR",
        "header name space",
        "key cred LF",
        "non-ascii",
    ],
)
def test_an_illegal_credential_header_is_refused_without_quoting_it(
    local_server: LocalServer, credential: Any
) -> None:
    if isinstance(credential, HeaderCredential):
        with pytest.raises(ConfigurationError) as info:
            HeaderCredential("x my key", SECRET)
        assert SECRET not in str(info.value)
        return
    if credential == SECRET + "\n":
        with Client(local_server.url, credential) as client:
            client.complete(HI)
        assert local_server.seen[0].headers["Authorization"] == "Bearer " + SECRET
        return
    with pytest.raises(ConfigurationError) as info:
        Client(local_server.url, credential)
    assert SECRET not in str(info.value)
    assert "Could not reach" not in str(info.value)
    assert local_server.seen == []


def test_a_rotated_key_with_a_line_break_is_refused_before_sending(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = _Key(SECRET)
    with Client(local_server.url, key) as client:
        client.complete(HI)
        key.key = SECRET + "\r\nx-evil: 1"
        with caplog.at_level(logging.DEBUG), pytest.raises(ConfigurationError) as info:
            client.complete(HI)
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert len(local_server.seen) == 1


@pytest.mark.parametrize("sync", [True, False])
async def test_a_token_with_a_line_break_is_refused_when_it_arrives(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture, sync: bool
) -> None:
    credential = FakeTokenCredential(prefix=SECRET + "\r\nx-evil: 1")
    client: Any = (Client if sync else AsyncClient)(local_server.url, credential)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigurationError) as info:
        await maybe_await(client.complete(HI))
    assert "access token" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert local_server.seen == []


# ---- secrets in the endpoint URL ----

SECRET_URLS = [
    f"https://my-func.azurewebsites.net/api?code={SECRET}",
    f"https://gw.example.com/v1?sig={SECRET}&se=2030-01-01",
    f"https://gw.example.com/v1?subscription-key={SECRET}",
    f"https://gw.example.com/v1?api-version=1&x-api-key={SECRET}",
    f"https://gw.example.com/v1?access_token={SECRET}",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_secret_query_values_are_hidden_wherever_an_endpoint_is_shown(url: str) -> None:
    endpoint = parse_endpoint(url)
    client = Client(url, "k")
    for shown in (repr(endpoint), endpoint.display_url, repr(client), redact_url(url)):
        assert SECRET not in shown
        assert "***" in shown or "Client(" in shown
    assert SECRET in endpoint.url("/chat/completions")  # but sent
    client.close()


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{SECRET}@r.services.ai.azure.com/models",
        f"https://{SECRET}@r.services.ai.azure.com/models",
        f"http://u:{SECRET}@127.0.0.1:1/v1",
    ],
)
def test_userinfo_in_the_endpoint_is_refused_without_quoting_it(url: str) -> None:
    with pytest.raises(ConfigurationError, match="user name or password") as info:
        Client(url, "k")
    assert SECRET not in str(info.value)


def test_a_bad_endpoint_error_does_not_quote_its_secret_query() -> None:
    with pytest.raises(ConfigurationError) as info:
        Client(f"ftp://h/x?code={SECRET}", "k")
    assert SECRET not in str(info.value)


def test_the_http_log_lines_hide_secret_query_values(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), Client(f"{local_server.url}/v1?code={SECRET}", "k") as c:
        c.complete(HI)
    assert local_server.seen[0].path.endswith(f"code={SECRET}")
    assert caplog.records
    assert SECRET not in caplog.text
    assert "code=***" in caplog.text or "code=" not in caplog.text


# ---- pickles ----


class _FreshTokens:
    """A token credential whose tokens cannot be derived from the object (as with Entra ID)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("tok-" + uuid.uuid4().hex, int(time.time()) + 3600)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_pickled_client_carries_the_credential_not_its_token(
    local_server: LocalServer, cls: Any
) -> None:
    client = Client(local_server.url, _FreshTokens())
    client.complete(HI)
    token = local_server.seen[0].headers["Authorization"].removeprefix("Bearer ")
    source = client if cls is Client else AsyncClient(local_server.url, client.auth._credential)
    source._auth = client.auth
    data = pickle.dumps(source)
    client.close()
    assert token.encode() not in data
    assert b"_FreshTokens" in data
    copy = pickle.loads(data)
    assert copy.auth._token is None
    assert isinstance(copy.auth._credential, _FreshTokens)


def test_a_header_credential_marks_its_header_as_a_secret() -> None:
    from azureinference.redaction import credential_header_names, is_secret_header

    HeaderCredential("X-Custom-Gate", SECRET)
    assert "x-custom-gate" in credential_header_names()
    assert is_secret_header("X-Custom-Gate")
    assert is_secret_header("x-goog-api-key")
    assert not is_secret_header("content-type")
