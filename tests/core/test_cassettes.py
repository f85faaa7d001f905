"""Recorded HTTP (vcrpy through pytest-recording), and a scan of every cassette for secrets.

The cassettes in ``cassettes/test_cassettes/`` were recorded with ``--record-mode=once`` against
the local test server of ``core_server.py`` (the emulator was not ready then); the shared
``vcr_config`` in ``tests/conftest.py`` rewrote the host to the placeholder endpoint and dropped
every credential header. CI replays them with the network off. To re-record::

    pytest tests/core/test_cassettes.py --record-mode=once
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from azureinference import AsyncClient, Client

from .core_server import LocalServer
from .core_support import KEY, collect

HI = [{"role": "user", "content": "Say hello"}]
TESTS = Path(__file__).parent.parent
PLACEHOLDER_ENDPOINT = "https://test-resource.services.ai.azure.com/models"
PLACEHOLDER_KEY = "test-key-not-a-secret"


def _recording(config: pytest.Config) -> bool:
    return config.getoption("--record-mode", default="none") not in (None, "none")


@pytest.fixture
def cassette_endpoint(
    request: pytest.FixtureRequest, _local_server: LocalServer
) -> Iterator[tuple[str, str]]:
    """(endpoint, key): the placeholder when replaying; the local test server when recording.

    Overrides the shared fixture, which records against the emulator.
    """
    if _recording(request.config):
        _local_server.reset()
        yield _local_server.url + "/models", KEY
    else:
        yield PLACEHOLDER_ENDPOINT, PLACEHOLDER_KEY


@pytest.mark.vcr
def test_chat_completion(cassette_endpoint: tuple[str, str]) -> None:
    endpoint, key = cassette_endpoint
    with Client(endpoint, key, model="local-model") as client:
        result = client.complete(HI, temperature=0, max_tokens=16)
    assert result.choices is not None
    assert result.choices[0].message.content == "Hello!"
    assert result.usage is not None
    assert result.usage.total_tokens == 5


@pytest.mark.vcr
def test_chat_stream(cassette_endpoint: tuple[str, str]) -> None:
    endpoint, key = cassette_endpoint
    with Client(endpoint, key, model="local-model") as client:
        stream = client.stream(HI, stream_usage=True)
        chunks = list(stream)
    assert len(chunks) == 5
    final = stream.state.final()
    assert final.choices is not None
    assert final.choices[0].message.content == "Hello there"
    assert final.usage is not None
    assert final.usage.total_tokens == 5


@pytest.mark.vcr
async def test_async_embeddings_and_info(cassette_endpoint: tuple[str, str]) -> None:
    endpoint, key = cassette_endpoint
    async with AsyncClient(endpoint, key) as client:
        result = await client.embed(["first", "second"], model="local-embed")
        info = await client.get_model_info()
    assert result.vectors == [[0.0, 0.5, -0.25], [1.0, 0.5, -0.25]]
    assert info is not None
    assert info.model_type == "chat-completion"


@pytest.mark.vcr
async def test_async_stream(cassette_endpoint: tuple[str, str]) -> None:
    endpoint, key = cassette_endpoint
    async with AsyncClient(endpoint, key, model="local-model") as client:
        stream = await client.stream(HI)
        chunks = await collect(stream)
    assert [c.choices[0].delta.content for c in chunks if c.choices] == [
        "",
        "Hello",
        " there",
        None,
    ]


# ---- every cassette under tests/ is free of secrets ----

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_KEY_SHAPES = [
    re.compile(r"\b[0-9a-fA-F]{32}\b"),  # Azure AI / Azure OpenAI keys
    re.compile(r"\b[A-Za-z0-9]{84}\b"),  # newer Azure keys
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),  # OpenAI-style keys
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"Bearer\s+(?!\[)[A-Za-z0-9._~+/=-]{8,}"),  # a bearer value of any kind
]
_SECRET_HEADER = re.compile(
    r"^\s*-?\s*['\"]?(authorization|api-key|x-api-key|ocp-apim-subscription-key|cookie|set-cookie)['\"]?\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def _cassettes() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.yaml") if "cassettes" in p.parts)


def test_this_module_has_cassettes() -> None:
    mine = [p for p in _cassettes() if p.parent.name == "test_cassettes"]
    assert len(mine) >= 4


# A base64 embedding is data, and long enough to hold an 84-character run that looks like a key.
_BASE64_EMBEDDING = re.compile(r'"embedding"\s*:\s*"[A-Za-z0-9+/=]*"')


def secrets_in(text: str) -> list[str]:
    """What in a cassette's text looks like a secret (empty when clean)."""
    text = _BASE64_EMBEDDING.sub('"embedding":"<base64>"', text)
    found = [f"JWT {m[:12]}..." for m in _JWT.findall(text)]
    for pattern in _KEY_SHAPES:
        found += [f"key-shaped {m.group(0)[:12]}..." for m in pattern.finditer(text)]
    found += [f"header {m.group(1)}" for m in _SECRET_HEADER.finditer(text)]
    found += [s for s in (KEY, PLACEHOLDER_KEY, "127.0.0.1", "localhost") if s in text]
    return found


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefgh12345678",
        "      authorization:\n      - Bearer x",
        "    api-key:\n    - 0123",
        "key: 0123456789abcdef0123456789ABCDEF",
        "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "sk-proj-abcdefghijklmnopqrstuvwxyz",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "uri: http://127.0.0.1:8080/models/chat/completions",
        KEY,
    ],
)
def test_the_scan_finds_secrets(text: str) -> None:
    assert secrets_in(text)


def test_the_scan_skips_base64_embeddings_but_not_keys_beside_them() -> None:
    run = "A" * 84
    vector = f'{{"data":[{{"embedding":"W919vK/{run}+Pq=="}}]}}'
    assert secrets_in(vector) == []
    assert secrets_in(vector + f" key: {run}")


def test_the_scan_passes_clean_text() -> None:
    clean = (
        "uri: https://test-resource.services.ai.azure.com/models/chat/completions\nid: emb-local\n"
    )
    assert secrets_in(clean) == []


@pytest.mark.parametrize("path", _cassettes(), ids=lambda p: str(p.relative_to(TESTS)))
def test_cassette_holds_no_secrets(path: Path) -> None:
    assert secrets_in(path.read_text(encoding="utf-8")) == []
