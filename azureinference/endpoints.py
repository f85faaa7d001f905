"""Endpoint forms copied from a portal, made into one `Endpoint`: kind, routes, api-version, scope.

Accepted forms (a trailing ``/chat/completions``, ``/embeddings`` or ``/images/embeddings`` is a
"target URI" and is cut off, as is a route after ``/openai/v1``; an ``api-version`` query is kept):

| form | kind |
| --- | --- |
| ``https://<res>.services.ai.azure.com/openai/v1`` (recommended) | ``openai_v1`` |
| ``https://<res>.openai.azure.com/openai/v1`` | ``openai_v1`` |
| ``https://<res>.services.ai.azure.com/api/projects/<p>`` (+ ``/openai/v1``) | ``openai_v1`` |
| ``https://<name>.<region>.models.ai.azure.com`` (serverless) | ``serverless`` |
| ``https://<name>.<region>.inference.ai.azure.com``, ``.inference.ml.azure.com`` | ``serverless`` |
| ``https://<res>.services.ai.azure.com/models`` (or any host + ``/models``) | ``ai_services`` |
| ``https://<res>.openai.azure.com/openai/deployments/<dep>`` (any host) | ``azure_openai`` |
| ``https://<res>.openai.azure.com`` (deployment = the model name) | ``azure_openai`` |
| ``.../openai/v1`` or ``.../api/projects/<p>`` on any other host | ``openai_v1`` |
| ``https://models.inference.ai.azure.com``, ``https://models.github.ai/inference`` | ``github`` |
| anything else (an OpenAI-compatible base URL) | ``openai_compatible`` |

A user name and password in the URL (``https://user:pass@host``) are refused: they would not be
sent. Query parameters (``?code=...`` of an Azure Function, ``?sig=...`` of a signed URL) are sent
on every request, and their secret-looking values are hidden wherever an endpoint is shown
(``repr``, errors, logs: see `azureinference.redaction`). An Azure OpenAI deployment taken from
``model`` is quoted into the path, so it cannot change the route.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit, urlunsplit

import idna

from .errors import ConfigurationError
from .redaction import redact_url

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_AZURE_OPENAI_API_VERSION",
    "PROJECT_ENDPOINT_FORM",
    "Endpoint",
    "EndpointKind",
    "is_loopback_host",
    "parse_endpoint",
    "parse_project_endpoint",
]

DEFAULT_API_VERSION = "2024-05-01-preview"
"""The Model Inference api-version sent when none is given (the reference SDK's default)."""

DEFAULT_AZURE_OPENAI_API_VERSION = "2024-10-21"
"""The api-version sent to Azure OpenAI ``/openai/deployments`` routes when none is given."""

PROJECT_ENDPOINT_FORM = "https://<resource>.services.ai.azure.com/api/projects/<project>"
"""A Foundry project endpoint, as the portal shows it."""

_TARGET_SUFFIXES = ("/chat/completions", "/images/embeddings", "/embeddings", "/info")


class EndpointKind(enum.StrEnum):
    """Which family of service an endpoint belongs to."""

    SERVERLESS = "serverless"
    AI_SERVICES = "ai_services"
    AZURE_OPENAI = "azure_openai"
    OPENAI_V1 = "openai_v1"
    GITHUB = "github"
    OPENAI_COMPATIBLE = "openai_compatible"


_SCOPES = {
    EndpointKind.SERVERLESS: "https://ml.azure.com/.default",
    EndpointKind.AI_SERVICES: "https://cognitiveservices.azure.com/.default",
    EndpointKind.AZURE_OPENAI: "https://cognitiveservices.azure.com/.default",
    EndpointKind.OPENAI_V1: "https://ai.azure.com/.default",
    EndpointKind.GITHUB: "https://ml.azure.com/.default",
    EndpointKind.OPENAI_COMPATIBLE: "https://ml.azure.com/.default",
}

_AZURE_KEY_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
)


def is_loopback_host(host: str | None) -> bool:
    """Return True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint: where each route goes and how to authenticate.

    Attributes:
        base_url: Scheme, host and path prefix, without a trailing slash or query.
        kind: The family of service.
        api_version: The ``api-version`` query to send, or None to send none.
        deployment: The Azure OpenAI deployment in the URL, if any.
        token_scope: The default Entra ID scope for this kind.
        extra_query: Other query parameters found in the URL, kept on every request.
        project: The Foundry project, when the URL is a project endpoint (served at
            ``.../api/projects/<project>/openai/v1``; Entra ID only).
    """

    base_url: str
    kind: EndpointKind
    api_version: str | None = None
    deployment: str | None = None
    token_scope: str = _SCOPES[EndpointKind.SERVERLESS]
    extra_query: tuple[tuple[str, str], ...] = field(default=())
    project: str | None = None

    def __repr__(self) -> str:
        return (
            f"Endpoint(base_url={self.base_url!r}, kind={self.kind.value!r}, "
            f"api_version={self.api_version!r}, deployment={self.deployment!r}, "
            f"query={redact_url('?' + urlencode(self.extra_query))[1:]!r})"
        )

    @property
    def display_url(self) -> str:
        """The endpoint as it may be shown: base URL and query, secret values hidden."""
        if not self.extra_query:
            return self.base_url
        return redact_url(self.base_url + "?" + urlencode(self.extra_query))

    @property
    def scheme(self) -> str:
        """``http`` or ``https``."""
        return urlsplit(self.base_url).scheme

    @cached_property
    def host(self) -> str:
        """The host name, without port."""
        return urlsplit(self.base_url).hostname or ""

    @property
    def is_loopback(self) -> bool:
        """True when the host is this machine."""
        return is_loopback_host(self.host)

    @cached_property  # read on every request
    def sends_api_key_header(self) -> bool:
        """True when a key should also go in an ``api-key`` header (Azure OpenAI style hosts)."""
        if self.kind in (EndpointKind.AZURE_OPENAI, EndpointKind.OPENAI_V1):
            return True
        return self.host.endswith(_AZURE_KEY_HOST_SUFFIXES)

    @property
    def model_in_body(self) -> bool:
        """False for Azure OpenAI deployment routes, where the deployment names the model."""
        return self.kind is not EndpointKind.AZURE_OPENAI

    @property
    def has_info_route(self) -> bool:
        """False where ``/info`` is known not to exist (Azure OpenAI deployment routes)."""
        return self.kind is not EndpointKind.AZURE_OPENAI

    def url(self, route: str, *, model: str | None = None) -> str:
        """Return the full URL (with query) for a route such as ``/chat/completions``.

        Args:
            route: The API route, starting with ``/``.
            model: For an Azure OpenAI resource URL without a deployment, the deployment name.

        Raises:
            ConfigurationError: An Azure OpenAI resource URL without a deployment and no model.
        """
        if model is not None and not isinstance(model, str):
            return self._build_url(route, model)  # raises, naming the model
        return _route_url(self, route, model)

    def _build_url(self, route: str, model: str | None) -> str:
        base = self.base_url
        if self.kind is EndpointKind.AZURE_OPENAI:
            deployment = self.deployment
            if not deployment:
                if not model:
                    raise ConfigurationError(
                        f"The endpoint {self.base_url!r} is an Azure OpenAI resource without a "
                        "deployment: pass model=<deployment name>, or use the endpoint "
                        "'.../openai/deployments/<deployment>'."
                    )
                deployment = _quote_deployment(model)
            base = f"{base}/openai/deployments/{deployment}"
        url = base + route
        query = list(self.extra_query)
        if self.api_version:
            query.append(("api-version", self.api_version))
        if query:
            # Re-encode: parse_qsl decoded them, and a gateway's signature may hold "+" or "/".
            url += "?" + urlencode(query)
        return url


@lru_cache(maxsize=512)
def _route_url(endpoint: Endpoint, route: str, model: str | None) -> str:
    # Built once per (endpoint, route, model): urlencode on every request was ~2% of a call.
    return endpoint._build_url(route, model)


def _quote_deployment(model: str) -> str:
    """``model`` as one path segment: ``/``, ``?`` and ``#`` cannot change the route."""
    if not isinstance(model, str) or model.strip(".") == "":
        raise ConfigurationError(
            f"model={model!r} is not an Azure OpenAI deployment name (it goes in the URL path)."
        )
    return quote(model, safe="")


_OPENAI_V1 = "/openai/v1"
# What may follow ``/openai/v1`` in a URL copied from a portal or a sample: a route, cut off.
_OPENAI_V1_ROUTES = ("", "/chat/completions", "/embeddings", "/responses", "/models")
_PROJECT_PATH = re.compile(r"^(?P<prefix>/api/projects/(?P<project>[^/]+))(?P<rest>/.*)?$", re.I)


def _project_path(path: str) -> tuple[str, str] | None:
    """``(path, project)`` of a Foundry project endpoint path, served at ``<path>/openai/v1``.

    ``/api/projects/<p>`` is what the portal shows; ``/api/projects/<p>/openai/v1`` (and a route
    after it) is where its OpenAI-compatible API lives. None for any other path.
    """
    match = _PROJECT_PATH.match(path)
    if match is None:
        return None
    rest = (match["rest"] or "").rstrip("/")
    if rest.lower() in ("", "/openai") or _openai_v1_prefix(rest) == "":
        return match["prefix"] + _OPENAI_V1, match["project"]
    return None


def _openai_v1_prefix(path: str) -> str | None:
    """The path up to and including ``/openai/v1`` when a known route (or nothing) follows."""
    lower = path.lower()
    idx = lower.rfind(_OPENAI_V1)
    if idx == -1 or lower[idx + len(_OPENAI_V1) :] not in _OPENAI_V1_ROUTES:
        return None
    return path[: idx + len(_OPENAI_V1)][: -len(_OPENAI_V1)]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _check_endpoint_text(url: str) -> None:
    """Refuse an endpoint URL that could not be sent as written, before any I/O.

    A control character (CR, LF, NUL, tab...) would be sent percent-encoded into the path (a CR LF
    pasted with the URL became part of the route) or fail deep in the transport; a host that is
    not a valid domain name (an empty or 64-character label, a bad ``xn--`` label, a name IDNA
    cannot encode) would only fail at DNS.

    Raises:
        ConfigurationError: naming the endpoint and what is wrong with it.
    """
    bad = _CONTROL.search(url)
    if bad is not None:
        raise ConfigurationError(
            f"The endpoint '{redact_url(_CONTROL.sub(_escape, url))}' holds a control character "
            f"({bad.group()!r} at position {bad.start()}): copy the endpoint again without it."
        )
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return  # parse_endpoint says what is wrong with the URL
    if not host or host.startswith("[") or ":" in host:
        return
    problem = _host_problem(host)
    if problem:
        raise ConfigurationError(
            f"The endpoint {redact_url(url)!r} has an invalid host name {host!r}: {problem}."
        )


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def _host_problem(host: str) -> str | None:
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            return f"IDNA cannot encode it ({exc})"
    name = host.lower().removesuffix(".")
    if len(name) > 253:
        return "longer than 253 characters"
    for label in name.split("."):
        if not label:
            return "it has an empty label ('..')"
        if len(label) > 63:
            return f"the label {label[:20]!r}... is longer than 63 characters"
        if not _HOST_LABEL.fullmatch(label):
            return (
                f"the label {label!r} starts or ends with '-' or holds a character a host name "
                "cannot hold"
            )
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                return f"the label {label!r} is not valid punycode ({exc})"
    return None


def _classify(host: str, path: str) -> tuple[EndpointKind, str, str | None]:
    """Return (kind, normalised path prefix, deployment) for a host and path."""
    lower = path.lower()
    v1_prefix = _openai_v1_prefix(path)
    if v1_prefix is not None:
        return EndpointKind.OPENAI_V1, v1_prefix + _OPENAI_V1, None
    marker = "/openai/deployments/"
    idx = lower.find(marker)
    if idx != -1:
        deployment = path[idx + len(marker) :].split("/")[0]
        if not deployment:
            raise ConfigurationError(f"The endpoint path {path!r} names no deployment.")
        return EndpointKind.AZURE_OPENAI, path[:idx], deployment
    if host == "models.github.ai" or (lower.endswith("/inference") and host.endswith("github.ai")):
        return EndpointKind.GITHUB, path or "/inference", None
    if host == "models.inference.ai.azure.com":
        return EndpointKind.GITHUB, path, None
    if lower.endswith("/models"):
        return EndpointKind.AI_SERVICES, path, None
    if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com")):
        if lower in ("", "/openai", "/openai/deployments"):
            return EndpointKind.AZURE_OPENAI, "", None
        return EndpointKind.OPENAI_COMPATIBLE, path, None
    if host.endswith(".services.ai.azure.com"):
        if lower in ("", "/openai"):
            return EndpointKind.AI_SERVICES, "/models", None
        return EndpointKind.AI_SERVICES, path, None
    if host.endswith(
        (".models.ai.azure.com", ".inference.ai.azure.com", ".inference.ml.azure.com")
    ):
        return EndpointKind.SERVERLESS, path, None
    return EndpointKind.OPENAI_COMPATIBLE, path, None


def _check_arguments(url: object, api_version: object, token_scope: object) -> str:
    """The endpoint text, stripped, once every argument is of the right type and not empty.

    The text is also checked for control characters and an invalid host name
    (`_check_endpoint_text`), before anything else reads it.
    """
    if url is not None and not isinstance(url, str):
        raise ConfigurationError(f"endpoint must be a URL (str), not {type(url).__name__}.")
    if not url or not url.strip():
        raise ConfigurationError(
            "No endpoint given: pass endpoint=... or set AZURE_INFERENCE_ENDPOINT."
        )
    _check_endpoint_text(url.strip())
    for name, value in (("api_version", api_version), ("token_scope", token_scope)):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a str, not {type(value).__name__}.")
    return url.strip()


def _split_url(url: str) -> SplitResult:
    """The URL's parts, once it is known to be an http(s) URL with a host and no user info."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # a bad port raises here, not at the first request
    except ValueError as exc:
        raise ConfigurationError(
            f"The endpoint {redact_url(url)!r} is not a valid URL ({exc})."
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"The endpoint {redact_url(url)!r} is not an http(s) URL with a host, such as "
            "'https://<resource>.services.ai.azure.com/openai/v1'."
        )
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"The endpoint {redact_url(url)!r} holds a user name or password "
            "('user:pass@'), which would not be sent: remove it, and pass the key as "
            "credential=... (or credential='Header-Name: <key>' for a header of your choice)."
        )
    return parts


def _strip_target(path: str) -> str:
    """The path without a trailing slash and without a route (a portal's "target URI")."""
    path = path.rstrip("/")
    lower = path.lower()
    for suffix in _TARGET_SUFFIXES:
        if lower.endswith(suffix):
            return path[: -len(suffix)].rstrip("/")
    return path


def _split_query(query: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The ``api-version`` in a query string, and the other parameters (kept, in order)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    version = next((v for k, v in pairs if k == "api-version"), None)
    return version, tuple((k, v) for k, v in pairs if k != "api-version")


def _default_api_version(kind: EndpointKind, host: str) -> str | None:
    """The api-version a kind needs when none is given (None: the routes take none)."""
    if kind is EndpointKind.AZURE_OPENAI:
        return DEFAULT_AZURE_OPENAI_API_VERSION
    if kind in (EndpointKind.SERVERLESS, EndpointKind.AI_SERVICES) or (
        kind is EndpointKind.GITHUB and host == "models.inference.ai.azure.com"
    ):
        return DEFAULT_API_VERSION
    return None


def parse_endpoint(
    url: str,
    *,
    api_version: str | None = None,
    token_scope: str | None = None,
) -> Endpoint:
    """Parse any endpoint form a user may copy from a portal into an `Endpoint`.

    Args:
        url: The endpoint URL, a full target URI, a Foundry project endpoint or an
            OpenAI-compatible base URL.
        api_version: The api-version to send; overrides one in the URL's query.
        token_scope: The Entra ID scope to ask tokens for; overrides the kind's default.

    Raises:
        ConfigurationError: The URL is empty, has no scheme/host, is not http(s), holds a control
            character or its host is not a valid (IDNA) host name.
    """
    parts = _split_url(_check_arguments(url, api_version, token_scope))
    host = (parts.hostname or "").lower()
    path = _strip_target(parts.path)
    project = _project_path(path)
    if project is not None:
        kind, (path, project_name), deployment = EndpointKind.OPENAI_V1, project, None
    else:
        project_name = None
        kind, path, deployment = _classify(host, path)
    url_version, extra_query = _split_query(parts.query)
    return Endpoint(
        base_url=urlunsplit((parts.scheme, parts.netloc, path, "", "")),
        kind=kind,
        api_version=api_version or url_version or _default_api_version(kind, host),
        deployment=deployment,
        token_scope=token_scope or _SCOPES[kind],
        extra_query=extra_query,
        project=project_name,
    )


def parse_project_endpoint(
    url: str,
    *,
    api_version: str | None = None,
    token_scope: str | None = None,
) -> Endpoint:
    """Parse a Foundry project endpoint, ``https://<resource>.services.ai.azure.com/api/projects/<p>``.

    The project's models are served at that URL with ``/openai/v1`` appended (as
    ``azure-ai-projects``' ``get_openai_client`` does), and take Entra ID tokens of the scope
    ``https://ai.azure.com/.default``.

    Raises:
        ConfigurationError: The URL is not a project endpoint (naming ``project_endpoint``).
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(
            "project_endpoint must be a Foundry project endpoint URL (str), such as "
            f"'{PROJECT_ENDPOINT_FORM}', not {url!r}."
        )
    endpoint = parse_endpoint(url, api_version=api_version, token_scope=token_scope)
    if endpoint.project is None:
        raise ConfigurationError(
            f"project_endpoint={redact_url(url.strip())!r} is not a Foundry project endpoint "
            f"('{PROJECT_ENDPOINT_FORM}'): pass a model endpoint as endpoint=... instead."
        )
    return endpoint
