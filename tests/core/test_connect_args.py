"""The adapters' endpoint and credential spellings and the environment, resolved before any I/O."""

from __future__ import annotations

from typing import Any

import pytest

from azureinference import ConfigurationError
from azureinference._connect_args import resolve_connection
from azureinference.auth import TokenProvider

from .core_support import KEY, FakeKeyCredential, FakeTokenCredential

PROJECT = "https://r.services.ai.azure.com/api/projects/p"
V1 = "https://r.services.ai.azure.com/openai/v1"
OTHER = "https://other.openai.azure.com/openai/v1"


def resolve(env: dict[str, str] | None = None, **kw: Any) -> Any:
    return resolve_connection(environ=env or {}, **kw)


def test_endpoint_and_base_url_are_one_argument() -> None:
    assert resolve(base_url=V1).endpoint == V1
    assert resolve(base_url=V1).endpoint_source == "base_url"
    assert resolve(endpoint=V1, base_url=V1).endpoint == V1
    with pytest.raises(ConfigurationError, match=r"endpoint= and base_url="):
        resolve(endpoint=V1, base_url=OTHER)


def test_project_endpoint_argument() -> None:
    found = resolve(project_endpoint=PROJECT, credential=FakeTokenCredential())
    assert (found.endpoint, found.is_project, found.endpoint_source) == (
        PROJECT,
        True,
        "project_endpoint",
    )


@pytest.mark.parametrize("spelling", ["endpoint", "base_url"])
def test_project_endpoint_with_an_endpoint_argument_names_both(spelling: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"project_endpoint= and {spelling}="):
        resolve(project_endpoint=PROJECT, **{spelling: V1})


@pytest.mark.parametrize("var", ["AZURE_INFERENCE_ENDPOINT", "AZURE_AI_INFERENCE_ENDPOINT"])
def test_project_endpoint_with_an_endpoint_variable_names_both(var: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"project_endpoint=.*{var}"):
        resolve({var: V1}, project_endpoint=PROJECT)


def test_project_endpoint_variable() -> None:
    found = resolve({"AZURE_AI_PROJECT_ENDPOINT": PROJECT})
    assert (found.endpoint, found.is_project, found.endpoint_source) == (
        PROJECT,
        True,
        "AZURE_AI_PROJECT_ENDPOINT",
    )
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_ENDPOINT and AZURE_AI_PROJECT"):
        resolve({"AZURE_AI_PROJECT_ENDPOINT": PROJECT, "AZURE_INFERENCE_ENDPOINT": V1})
    # An argument chooses: the project variable (set for other SDKs) does not get in the way.
    assert resolve({"AZURE_AI_PROJECT_ENDPOINT": PROJECT}, endpoint=V1).endpoint == V1


def test_a_project_endpoint_that_is_not_one_names_the_argument() -> None:
    with pytest.raises(ConfigurationError, match="project_endpoint"):
        resolve(project_endpoint=V1)


@pytest.mark.parametrize(
    ("credential", "source"),
    [
        (KEY, "credential="),
        (FakeKeyCredential(KEY), "credential="),
        (f"api-key: {KEY}", "credential="),
    ],
)
def test_project_endpoint_refuses_a_key(credential: Any, source: str) -> None:
    with pytest.raises(ConfigurationError, match="Entra ID only") as info:
        resolve(project_endpoint=PROJECT, credential=credential)
    assert source in str(info.value)
    assert KEY not in str(info.value)
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_CREDENTIAL"):
        resolve({"AZURE_INFERENCE_CREDENTIAL": KEY, "AZURE_AI_PROJECT_ENDPOINT": PROJECT})
    with pytest.raises(ConfigurationError, match="api_key="):
        resolve(project_endpoint=PROJECT, api_key=KEY)


def test_credential_spellings() -> None:
    assert resolve(endpoint=V1, api_key=KEY).credential == KEY
    with pytest.raises(ConfigurationError, match="credential= and api_key="):
        resolve(endpoint=V1, credential=KEY, api_key=KEY)
    with pytest.raises(ConfigurationError, match="api_key= and azure_ad_token_provider="):
        resolve(endpoint=V1, api_key=KEY, azure_ad_token_provider=lambda: "t")
    with pytest.raises(ConfigurationError, match="azure_ad_token_provider must be a callable"):
        resolve(endpoint=V1, azure_ad_token_provider="t")


def test_token_provider_pair() -> None:
    def sync_provider() -> str:
        return "t"

    async def async_provider() -> str:
        return "t"

    pair = resolve(
        endpoint=V1,
        azure_ad_token_provider=sync_provider,
        azure_ad_async_token_provider=async_provider,
    ).credential
    assert isinstance(pair, TokenProvider)
    assert (pair.provider, pair.async_provider, pair.is_async) == (
        sync_provider,
        async_provider,
        False,
    )
    alone = resolve(endpoint=V1, azure_ad_async_token_provider=async_provider).credential
    assert alone.is_async  # the sync client refuses it when built


def test_order_of_the_environment() -> None:
    env = {
        "AZURE_AI_INFERENCE_ENDPOINT": OTHER,
        "AZURE_INFERENCE_ENDPOINT": V1,
        "OPENAI_BASE_URL": "https://api.example.com/v1",
        "OPENAI_API_KEY": "sk-openai",
        "AZURE_AI_INFERENCE_CREDENTIAL": "second",
        "AZURE_INFERENCE_CREDENTIAL": "first",
    }
    found = resolve(env)
    assert (found.endpoint, found.credential) == (V1, "first")
    # Arguments win over every variable.
    assert resolve(env, endpoint=OTHER, credential="arg").credential == "arg"
    # The OpenAI pair only where none of ours is set.
    openai_only = {k: v for k, v in env.items() if k.startswith("OPENAI")}
    found = resolve(openai_only)
    assert (found.endpoint, found.credential, found.credential_source) == (
        "https://api.example.com/v1",
        "sk-openai",
        "OPENAI_API_KEY",
    )
    # OPENAI_API_KEY goes with OPENAI_BASE_URL only, not with our endpoint.
    assert resolve({"AZURE_INFERENCE_ENDPOINT": V1, "OPENAI_API_KEY": "sk"}).credential is None
    assert resolve({}).endpoint is None


def test_malformed_urls_are_named_now() -> None:
    with pytest.raises(ConfigurationError, match="not an http"):
        resolve(base_url="ftp://x")
    with pytest.raises(ConfigurationError, match="base_url must be a URL"):
        resolve(base_url=3)
