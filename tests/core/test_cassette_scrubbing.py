"""Issue 9, item 3: no credential is ever written to a cassette, and the scrubbing is reusable.

Calls with every kind of credential header (ours, a `HeaderCredential`, a ``"Name: value"``
string, a well-known key header given in ``headers``, a header the user marks) and secret query
parameters are recorded through the project's ``vcr_config`` into a temporary cassette, which
must hold none of the secrets, and must still replay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import vcr
from vcr.request import Request

from azureinference import Client, HeaderCredential
from azureinference.cassettes import scrub_request, scrub_uri, vcr_config

from .core_server import LocalServer

HI = [{"role": "user", "content": "hi"}]
SECRETS = [f"s3cret-{i}-0123456789abcdef" for i in range(8)]


def _calls(url: str) -> list[tuple[str, Any, dict[str, str]]]:
    """(endpoint, credential, headers) of each recorded call."""
    s = SECRETS
    return [
        (url + "/models", s[0], {}),
        (url + "/models", HeaderCredential("x-functions-key", s[1]), {}),
        (url + "/models", f"X-Name: {s[2]}", {}),
        (url + "/models", "k", {"x-goog-api-key": s[3], "x-my-private-gate": s[4]}),
        (url + f"/api?code={s[5]}&sig={s[6]}&api-version=1", "k", {}),
        (url + f"/v1?subscription-key={s[7]}", "k", {}),
    ]


def _run(url: str) -> list[str]:
    answers = []
    for endpoint, credential, headers in _calls(url):
        with Client(endpoint, credential, headers=headers, max_retries=0) as client:
            answers.append(client.complete(HI).id or "")
    return answers


def test_recorded_cassettes_hold_no_credentials(
    local_server: LocalServer, tmp_path: Path, vcr_config: dict[str, Any]
) -> None:
    # The project's config, plus a header the user marks as a credential (as a user's conftest).
    config = dict(vcr_config)
    config["before_record_request"] = lambda r: vcr_config["before_record_request"](
        scrub_request(r, secret_headers=["x-my-private-gate"])
    )
    recorder = vcr.VCR(**config)
    cassette = tmp_path / "secrets.yaml"
    with recorder.use_cassette(str(cassette), record_mode="once"):
        recorded = _run(local_server.url)
    text = cassette.read_text()
    assert len(local_server.seen) == len(_calls(""))
    leaked = [s for s in SECRETS if s in text]
    assert leaked == []
    assert "REDACTED" in text
    # The same calls replay from the scrubbed cassette, the server seeing nothing new.
    with recorder.use_cassette(str(cassette), record_mode="none"):
        assert _run(local_server.url) == recorded
    assert len(local_server.seen) == len(_calls(""))


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://h/p?code=abc&x=1", "https://h/p?code=REDACTED&x=1"),
        ("https://h/p?sig=a%2Bb&se=2030", "https://h/p?sig=REDACTED&se=2030"),
        ("https://u:pw@h/p?api-version=1", "https://h/p?api-version=1"),
        ("https://h/p", "https://h/p"),
    ],
)
def test_scrub_uri(uri: str, expected: str) -> None:
    assert scrub_uri(uri) == expected


def test_scrub_uri_rewrites_the_host_to_a_placeholder() -> None:
    assert (
        scrub_uri("http://127.0.0.1:8/m?key=k", "ph.example") == "https://ph.example/m?key=REDACTED"
    )


def test_vcr_config_takes_user_secret_headers_and_overrides() -> None:
    config = vcr_config(secret_headers=["X-Mine"], match_on=["method"])
    assert "x-mine" in config["filter_headers"]
    assert "x-functions-key" in config["filter_headers"]
    assert config["match_on"] == ["method"]
    request = config["before_record_request"](
        Request("POST", "https://h/p", b"{}", {"X-Mine": "s", "x-api-key": "s", "Accept": "a"})
    )
    assert dict(request.headers) == {"Accept": "a"}
