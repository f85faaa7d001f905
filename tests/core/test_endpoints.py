"""Every portal endpoint form -> the right kind, routes, api-version and token scope."""

from __future__ import annotations

import httpx2
import pytest

from azureinference import ConfigurationError, Endpoint, EndpointKind, parse_endpoint
from azureinference.endpoints import (
    DEFAULT_API_VERSION,
    DEFAULT_AZURE_OPENAI_API_VERSION,
    is_loopback_host,
)

from .core_support import KEY, make_client

ML = "https://ml.azure.com/.default"
COG = "https://cognitiveservices.azure.com/.default"
AI = "https://ai.azure.com/.default"

# url -> (kind, chat URL, token scope, sends api-key)
FORMS: list[tuple[str, EndpointKind, str, str, bool]] = [
    (
        "https://my-ep.eastus2.models.ai.azure.com",
        EndpointKind.SERVERLESS,
        f"https://my-ep.eastus2.models.ai.azure.com/chat/completions?api-version={DEFAULT_API_VERSION}",
        ML,
        False,
    ),
    (
        "https://my-ep.eastus2.models.ai.azure.com/",
        EndpointKind.SERVERLESS,
        f"https://my-ep.eastus2.models.ai.azure.com/chat/completions?api-version={DEFAULT_API_VERSION}",
        ML,
        False,
    ),
    (
        "https://my-ep.eastus2.inference.ai.azure.com",
        EndpointKind.SERVERLESS,
        f"https://my-ep.eastus2.inference.ai.azure.com/chat/completions?api-version={DEFAULT_API_VERSION}",
        ML,
        False,
    ),
    (
        "https://my-ep.eastus2.inference.ml.azure.com/score",
        EndpointKind.SERVERLESS,
        f"https://my-ep.eastus2.inference.ml.azure.com/score/chat/completions?api-version={DEFAULT_API_VERSION}",
        ML,
        False,
    ),
    (
        "https://res.services.ai.azure.com/models",
        EndpointKind.AI_SERVICES,
        f"https://res.services.ai.azure.com/models/chat/completions?api-version={DEFAULT_API_VERSION}",
        COG,
        True,
    ),
    (
        # The resource URL without /models: the Model Inference routes live under /models.
        "https://res.services.ai.azure.com",
        EndpointKind.AI_SERVICES,
        f"https://res.services.ai.azure.com/models/chat/completions?api-version={DEFAULT_API_VERSION}",
        COG,
        True,
    ),
    (
        "https://res.services.ai.azure.com/models/chat/completions?api-version=2025-04-01",
        EndpointKind.AI_SERVICES,
        "https://res.services.ai.azure.com/models/chat/completions?api-version=2025-04-01",
        COG,
        True,
    ),
    (
        "https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-06-01",
        EndpointKind.AZURE_OPENAI,
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
        COG,
        True,
    ),
    (
        # The "Target URI" the Azure OpenAI portal shows (seed 000).
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-08-01-preview",
        EndpointKind.AZURE_OPENAI,
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-08-01-preview",
        COG,
        True,
    ),
    (
        "https://res.openai.azure.com/openai/deployments/gpt-4o",
        EndpointKind.AZURE_OPENAI,
        f"https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version={DEFAULT_AZURE_OPENAI_API_VERSION}",
        COG,
        True,
    ),
    (
        "https://res.cognitiveservices.azure.com/openai/deployments/gpt-4o",
        EndpointKind.AZURE_OPENAI,
        f"https://res.cognitiveservices.azure.com/openai/deployments/gpt-4o/chat/completions?api-version={DEFAULT_AZURE_OPENAI_API_VERSION}",
        COG,
        True,
    ),
    (
        "https://res.openai.azure.com/openai/v1",
        EndpointKind.OPENAI_V1,
        "https://res.openai.azure.com/openai/v1/chat/completions",
        AI,
        True,
    ),
    (
        "https://res.services.ai.azure.com/openai/v1/",
        EndpointKind.OPENAI_V1,
        "https://res.services.ai.azure.com/openai/v1/chat/completions",
        AI,
        True,
    ),
    (
        "https://models.inference.ai.azure.com",
        EndpointKind.GITHUB,
        f"https://models.inference.ai.azure.com/chat/completions?api-version={DEFAULT_API_VERSION}",
        ML,
        False,
    ),
    (
        "https://models.github.ai/inference",
        EndpointKind.GITHUB,
        "https://models.github.ai/inference/chat/completions",
        ML,
        False,
    ),
    (
        "https://api.openai.com/v1",
        EndpointKind.OPENAI_COMPATIBLE,
        "https://api.openai.com/v1/chat/completions",
        ML,
        False,
    ),
    (
        # seed 001: an OpenAI-compatible gateway, given as its full target URI over http.
        "http://192.168.10.202:18081/api/v1/ai/chat/completions",
        EndpointKind.OPENAI_COMPATIBLE,
        "http://192.168.10.202:18081/api/v1/ai/chat/completions",
        ML,
        False,
    ),
    (
        "http://localhost:8000/v1/",
        EndpointKind.OPENAI_COMPATIBLE,
        "http://localhost:8000/v1/chat/completions",
        ML,
        False,
    ),
]


@pytest.mark.parametrize(("url", "kind", "chat_url", "scope", "api_key_header"), FORMS)
def test_portal_forms(
    url: str, kind: EndpointKind, chat_url: str, scope: str, api_key_header: bool
) -> None:
    endpoint = parse_endpoint(url)
    assert endpoint.kind is kind
    assert endpoint.url("/chat/completions") == chat_url
    assert endpoint.token_scope == scope
    assert endpoint.sends_api_key_header is api_key_header
    assert not endpoint.base_url.endswith("/")


@pytest.mark.parametrize(
    "suffix",
    ["/chat/completions", "/embeddings", "/images/embeddings", "/info", "/chat/completions/"],
)
def test_target_uri_suffix_is_cut(suffix: str) -> None:
    endpoint = parse_endpoint("https://res.services.ai.azure.com/models" + suffix)
    assert endpoint.base_url == "https://res.services.ai.azure.com/models"
    assert endpoint.url("/embeddings").startswith(
        "https://res.services.ai.azure.com/models/embeddings?"
    )
    assert endpoint.url("/images/embeddings").split("?")[0].endswith("/models/images/embeddings")


def test_routes() -> None:
    endpoint = parse_endpoint("https://my-ep.eastus2.models.ai.azure.com")
    base = "https://my-ep.eastus2.models.ai.azure.com"
    query = f"?api-version={DEFAULT_API_VERSION}"
    assert endpoint.url("/chat/completions") == f"{base}/chat/completions{query}"
    assert endpoint.url("/embeddings") == f"{base}/embeddings{query}"
    assert endpoint.url("/images/embeddings") == f"{base}/images/embeddings{query}"
    assert endpoint.url("/info") == f"{base}/info{query}"


def test_api_version_argument_overrides_the_url() -> None:
    url = "https://res.services.ai.azure.com/models?api-version=2024-05-01-preview"
    assert parse_endpoint(url, api_version="2025-05-01").api_version == "2025-05-01"
    assert parse_endpoint(url).api_version == "2024-05-01-preview"


def test_api_version_given_for_a_kind_without_default() -> None:
    endpoint = parse_endpoint("https://api.example.com/v1", api_version="2025-01-01")
    assert endpoint.url("/chat/completions").endswith("?api-version=2025-01-01")


def test_token_scope_override() -> None:
    endpoint = parse_endpoint("https://my-ep.eastus2.models.ai.azure.com", token_scope=COG)
    assert endpoint.token_scope == COG


def test_other_query_parameters_are_kept_and_encoded() -> None:
    """A gateway's own query (e.g. a signature with ``+`` and ``/``) survives the round trip."""
    endpoint = parse_endpoint("https://gw.example.com/v1?sig=a%2Bb%2Fc%3D&x=1")
    url = endpoint.url("/chat/completions")
    assert httpx2.URL(url).params.multi_items() == [("sig", "a+b/c="), ("x", "1")]


def test_azure_openai_resource_takes_the_model_as_deployment() -> None:
    endpoint = parse_endpoint("https://res.openai.azure.com")
    assert endpoint.kind is EndpointKind.AZURE_OPENAI
    assert endpoint.deployment is None
    assert endpoint.url("/embeddings", model="text-embedding-3-small").startswith(
        "https://res.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?"
    )
    with pytest.raises(ConfigurationError, match="deployment"):
        endpoint.url("/chat/completions")


def test_azure_openai_deployment_route_has_no_model_in_body_and_no_info() -> None:
    endpoint = parse_endpoint("https://res.openai.azure.com/openai/deployments/gpt-4o")
    assert endpoint.deployment == "gpt-4o"
    assert not endpoint.model_in_body
    assert not endpoint.has_info_route
    assert parse_endpoint("https://res.services.ai.azure.com/models").model_in_body


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "not a url", "ftp://example.com/models", "https://", "//example.com/x", None],
)
def test_bad_endpoints_raise_configuration_error(bad: str | None) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_endpoint(bad)
    assert isinstance(info.value, ValueError)


def test_missing_endpoint_names_the_env_var() -> None:
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_ENDPOINT"):
        parse_endpoint("")


@pytest.mark.parametrize(
    "url",
    [
        "https://res.openai.azure.com",
        "https://res.openai.azure.com/openai",
        "https://res.openai.azure.com/openai/deployments/",
    ],
)
def test_azure_openai_resource_forms_without_a_deployment(url: str) -> None:
    endpoint = parse_endpoint(url)
    assert endpoint.kind is EndpointKind.AZURE_OPENAI
    assert endpoint.base_url == "https://res.openai.azure.com"
    assert endpoint.url("/chat/completions", model="gpt-4o").startswith(
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?"
    )


def test_deployment_route_on_any_host() -> None:
    """An APIM gateway in front of Azure OpenAI keeps the deployment route."""
    endpoint = parse_endpoint("https://gw.example.com/aoai/openai/deployments/x/chat/completions")
    assert endpoint.kind is EndpointKind.AZURE_OPENAI
    assert endpoint.deployment == "x"
    assert endpoint.url("/chat/completions").startswith(
        "https://gw.example.com/aoai/openai/deployments/x/chat/completions?api-version="
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("api.localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("192.168.10.202", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_endpoint_object_is_accepted_by_the_client() -> None:
    endpoint = Endpoint(
        base_url="http://127.0.0.1:9/x", kind=EndpointKind.SERVERLESS, api_version="v"
    )
    client, recorder = make_client(endpoint, KEY)  # type: ignore[arg-type]
    client.complete([{"role": "user", "content": "Hi"}])
    assert str(recorder.last.url) == "http://127.0.0.1:9/x/chat/completions?api-version=v"


def test_client_routes_every_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    client, recorder = make_client("https://res.services.ai.azure.com/models", KEY, model="m")
    client.complete([{"role": "user", "content": "Hi"}])
    client.get_model_info()
    paths = [r.url.path for r in recorder.requests]
    assert paths == ["/models/chat/completions", "/models/info"]


def test_endpoint_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://env-ep.westus.models.ai.azure.com")
    client, recorder = make_client(None, KEY)
    assert client.endpoint.kind is EndpointKind.SERVERLESS
    client.complete([{"role": "user", "content": "Hi"}])
    assert recorder.last.url.host == "env-ep.westus.models.ai.azure.com"


def test_no_endpoint_anywhere() -> None:
    with pytest.raises(ConfigurationError, match="AZURE_INFERENCE_ENDPOINT"):
        make_client(None, KEY)


# ---- /openai/v1 forms and Foundry project endpoints ----


@pytest.mark.parametrize(
    ("url", "base", "project"),
    [
        (
            "https://r.services.ai.azure.com/openai/v1",
            "https://r.services.ai.azure.com/openai/v1",
            None,
        ),
        ("https://r.openai.azure.com/openai/v1/", "https://r.openai.azure.com/openai/v1", None),
        (
            "https://r.openai.azure.com/openai/v1/chat/completions",
            "https://r.openai.azure.com/openai/v1",
            None,
        ),
        (
            "https://r.openai.azure.com/openai/v1/responses",
            "https://r.openai.azure.com/openai/v1",
            None,
        ),
        (
            "https://r.openai.azure.com/openai/v1/models",
            "https://r.openai.azure.com/openai/v1",
            None,
        ),
        (
            "https://r.services.ai.azure.com/api/projects/p1",
            "https://r.services.ai.azure.com/api/projects/p1/openai/v1",
            "p1",
        ),
        (
            "https://r.services.ai.azure.com/api/projects/p1/",
            "https://r.services.ai.azure.com/api/projects/p1/openai/v1",
            "p1",
        ),
        (
            "https://r.services.ai.azure.com/api/projects/p1/openai/v1/chat/completions",
            "https://r.services.ai.azure.com/api/projects/p1/openai/v1",
            "p1",
        ),
        (
            "http://127.0.0.1:8000/api/projects/p1",
            "http://127.0.0.1:8000/api/projects/p1/openai/v1",
            "p1",
        ),
    ],
)
def test_openai_v1_and_project_forms(url: str, base: str, project: str | None) -> None:
    endpoint = parse_endpoint(url)
    assert endpoint.kind is EndpointKind.OPENAI_V1
    assert endpoint.base_url == base
    assert endpoint.project == project
    assert endpoint.api_version is None  # the v1 routes take none
    assert endpoint.token_scope == AI
    assert endpoint.url("/chat/completions") == base + "/chat/completions"


def test_openai_v1_keeps_a_given_api_version() -> None:
    endpoint = parse_endpoint("https://r.openai.azure.com/openai/v1?api-version=preview")
    assert endpoint.url("/chat/completions").endswith(
        "/openai/v1/chat/completions?api-version=preview"
    )


def test_parse_project_endpoint_names_the_argument() -> None:
    from azureinference.endpoints import parse_project_endpoint

    assert parse_project_endpoint("https://r.services.ai.azure.com/api/projects/p").project == "p"
    for bad in ("https://r.services.ai.azure.com/models", "", None):
        with pytest.raises(ConfigurationError, match="project_endpoint"):
            parse_project_endpoint(bad)  # type: ignore[arg-type]
