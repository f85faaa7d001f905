"""`azureinference.adapters`: the adapters' whole contract with the core, and what it gives them.

The adapters import only public names (``azureinference.__all__`` and
``azureinference.adapters.__all__``): checked on their source. One `Connection` per model: its
sync and async clients share what the endpoint refused, the rate limiter and ``/info``. A refused
``json_schema`` is a typed error (`JsonSchemaRefusedError`) that is still its status class.
"""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

import azureinference
from azureinference import (
    BadRequestError,
    Client,
    ConfigurationError,
    JsonSchemaRefusedError,
    UnsupportedParameterError,
    adapters,
    responses_api,
)
from azureinference.adapters import ENDPOINT_ENV_VARS, Connection, connect
from azureinference.emulator import (
    EmulatorConfig,
    ModelSpec,
    default_models,
    running_emulator,
)

ROOT = Path(__file__).resolve().parents[2]
ADAPTER_PACKAGES = ("langchain_azureinference", "llamaindex_azureinference")
PUBLIC = {
    "azureinference": set(azureinference.__all__),
    "azureinference.adapters": set(adapters.__all__),
    "azureinference.responses_api": set(responses_api.__all__),
}

EXPECTED_ADAPTERS_ALL = [
    "AZURE_CORE_OPTIONS",
    "CHAT_FIELDS",
    "CLIENT_OPTIONS",
    "CREDENTIAL_ENV_VARS",
    "EMBEDDINGS_FIELDS",
    "ENDPOINT_ENV_VARS",
    "OPENAI_ENV_VARS",
    "PROJECT_ENDPOINT_ENV_VARS",
    "Capabilities",
    "ChatResponseMessage",
    "ChatStreamState",
    "ChoiceDelta",
    "ChoiceState",
    "ClientKwargs",
    "Connection",
    "JsonSchemaRefusedError",
    "ModelProfile",
    "ResolvedConnection",
    "ToolCall",
    "ToolCallPiece",
    "check_chat_params",
    "check_text",
    "check_texts",
    "connect",
    "fallback_refused",
    "find_profile",
    "first_env",
    "near_miss",
    "normalize_tool_choice",
    "public_headers",
    "read_client_kwargs",
    "redact_options",
    "redact_url",
    "resolve_connection",
    "resolve_credential",
    "resolve_endpoint",
    "split_model_kwargs",
    "stop_sequences",
    "tool_choice_for",
    "unknown_arguments_error",
]


def _core_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for each core name ``path`` imports, ``name`` "*" for a module."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("azureinference"):
            for alias in node.names:
                found.append((node.lineno, node.module or "", alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("azureinference"):
                    found.append((node.lineno, alias.name, "*"))
                    aliases[alias.asname or alias.name] = alias.name
    # ``import azureinference as core`` then ``core.X``: X must be public too.
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append((node.lineno, aliases[node.value.id], node.attr))
    return found


def test_adapters_import_only_public_core_names() -> None:
    wrong = []
    for package in ADAPTER_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            for line, module, name in _core_imports(path):
                ok = module in PUBLIC if name == "*" else name in PUBLIC.get(module, set())
                if not ok:
                    wrong.append(f"{package}/{path.name}:{line}: {module} {name}")
    assert wrong == [], "adapters reach past the public core:\n" + "\n".join(wrong)


def test_the_scan_sees_a_private_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import azureinference as core\n"
        "from azureinference.requests import CHAT_FIELDS\n"
        "core._base_client\n",
        encoding="utf-8",
    )
    found = _core_imports(source)
    assert (2, "azureinference.requests", "CHAT_FIELDS") in found
    assert (3, "azureinference", "_base_client") in found


def test_adapters_all_is_pinned_and_resolves() -> None:
    assert adapters.__all__ == EXPECTED_ADAPTERS_ALL
    for name in adapters.__all__:
        assert getattr(adapters, name) is not None, name


# ---- connect: constructor arguments, environment, secrets, user agent ----


def test_connect_reads_the_environment_unwraps_secrets_and_names_the_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ENDPOINT_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ENDPOINT_ENV_VARS[-1], "https://r.services.ai.azure.com/models")
    connection = connect(
        credential=SecretStr("sekrit"),
        model="m",
        client_kwargs={"retry_total": 5, "user_agent": "app/1"},
        user_agent="my-framework/2",
    )
    client = connection.client
    assert client.endpoint.base_url == "https://r.services.ai.azure.com/models"
    assert client.auth._credential.key == "sekrit"  # type: ignore[attr-defined]
    assert client._headers["User-Agent"].startswith("app/1 my-framework/2 azureinference-python/")
    assert "sekrit" not in repr(connection)


def test_connect_without_an_endpoint_names_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENDPOINT_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        connect(credential="k")
    for name in ENDPOINT_ENV_VARS:
        assert name in str(caught.value)


def test_the_core_client_reads_the_same_endpoint_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENDPOINT_ENV_VARS[0], raising=False)
    monkeypatch.setenv(ENDPOINT_ENV_VARS[1], "https://r.services.ai.azure.com/models")
    assert Client(credential="k").endpoint.host == "r.services.ai.azure.com"


# ---- one connection per model ----


def test_sync_and_async_clients_share_what_was_learned_and_the_limiter() -> None:
    connection = connect("https://r.services.ai.azure.com/models", "k", client_kwargs={
        "tokens_per_minute": 1000,
    })  # fmt: skip
    sync, async_ = connection.client, connection.async_client
    assert sync.capabilities is async_.capabilities is connection.capabilities
    assert sync.rate_limiter is async_.rate_limiter is connection.rate_limiter
    assert connection.rate_limiter.limit("tokens") == 1000
    sync.capabilities.json_schema = False
    assert async_.capabilities.json_schema is False


def test_copies_and_pickles_build_their_own_clients_and_keep_what_was_learned() -> None:
    connection = connect("https://r.services.ai.azure.com/models", "k", model="gpt-4o-mini")
    connection.client.capabilities.stream_options = False
    for other in (copy.copy(connection), copy.deepcopy(connection), pickle.loads(
        pickle.dumps(connection)
    )):  # fmt: skip
        assert isinstance(other, Connection)
        assert other.client is not connection.client
        assert other.capabilities.stream_options is False
        assert other.client.capabilities is other.async_client.capabilities


def test_profile_from_the_model_or_the_names_given() -> None:
    connection = connect("https://r.services.ai.azure.com/models", "k", model="gpt-4o-mini")
    profile = connection.profile()
    assert profile is not None
    assert profile.name == "gpt-4o-mini"
    unnamed = connect("https://r.services.ai.azure.com/models", "k")
    assert unnamed.profile() is None
    served = unnamed.profile("gpt-4o-2024-08-06")
    assert served is not None
    assert served.name == "gpt-4o"


# ---- a refused json_schema is a typed outcome ----


class Person(BaseModel):
    name: str
    age: int


SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "Person", "schema": Person.model_json_schema()},
}


async def _complete(connection: Connection, sync: bool, messages: Any, **params: Any) -> Any:
    if sync:
        return connection.client.complete(messages, **params)
    return await connection.async_client.complete(messages, **params)


@pytest.mark.parametrize("sync", [True, False])
async def test_a_refused_json_schema_raises_its_typed_error_once_for_both_clients(
    sync: bool,
) -> None:
    models = [
        ModelSpec("no-schema", unsupported=frozenset({"response_format.json_schema"})),
        *default_models(),
    ]
    with running_emulator(EmulatorConfig(models=models)) as emu:
        connection = connect(emu.endpoint, emu.key, model="no-schema", max_retries=0)
        hi = [{"role": "user", "content": "Ada Lovelace was 36."}]
        with pytest.raises(JsonSchemaRefusedError) as caught:
            await _complete(connection, sync, hi, response_format=SCHEMA)
        # Still the status class it came as: existing ``except`` clauses catch it.
        assert isinstance(caught.value, (UnsupportedParameterError, BadRequestError))
        assert caught.value.status_code in (400, 422)
        # Learned once, for both clients.
        assert connection.client.capabilities.json_schema is False
        assert connection.async_client.capabilities.json_schema is False


@pytest.mark.parametrize("sync", [True, False])
async def test_other_refusals_are_not_json_schema_refusals(sync: bool) -> None:
    with running_emulator() as emu:
        connection = connect(emu.endpoint, emu.key, model="emulator-limited", max_retries=0)
        hi = [{"role": "user", "content": "Hi"}]
        with pytest.raises(UnsupportedParameterError) as caught:
            await _complete(connection, sync, hi, seed=1)
        assert not isinstance(caught.value, JsonSchemaRefusedError)
        assert connection.capabilities.json_schema is None


def test_a_responses_refusal_is_known_to_both_clients() -> None:
    from azureinference.responses_api import ResponsesNotSupportedError

    models = [*default_models(), ModelSpec("chat-only", unsupported=frozenset({"responses"}))]
    with running_emulator(EmulatorConfig(models=models)) as emu:
        connection = connect(emu.openai_v1_endpoint, emu.key, model="chat-only", max_retries=0)
        with pytest.raises(ResponsesNotSupportedError):
            connection.client.respond("Hi")
        assert connection.async_client.responses_supported() is False
        restored = pickle.loads(pickle.dumps(connection))  # what was learned is kept
        assert restored.client.responses_supported() is False
