"""`AzureAIEmbeddingsModel`: LangChain embeddings on the shared core.

A drop-in for ``langchain_azure_ai.embeddings.AzureAIEmbeddingsModel``. Documents are sent with
``input_type: "document"`` and queries with ``"query"`` (what Cohere-style models need); the core
drops ``input_type`` for an endpoint that refuses it, and asks for base64 vectors where accepted.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)

from azureinference import AsyncClient, Client
from azureinference.requests import EMBEDDINGS_FIELDS

from ._client import (
    CONNECTION_FIELDS,
    ClientCache,
    check_endpoint,
    client_options,
    move_unknown_to_model_kwargs,
    resolve_credential,
    resolve_endpoint,
)
from ._errors import map_errors

__all__ = ["AzureAIEmbeddingsModel"]


class AzureAIEmbeddingsModel(BaseModel, Embeddings):
    """Embeddings from models behind the Azure AI Model Inference API or an OpenAI-compatible one.

    Example:
        ```python
        from langchain_azureinference import AzureAIEmbeddingsModel

        embeddings = AzureAIEmbeddingsModel(
            endpoint="https://<resource>.services.ai.azure.com/models",
            credential="<key>",
            model="cohere-embed-v3-multilingual",
        )
        embeddings.embed_documents(["a", "b"])  # input_type="document"
        embeddings.embed_query("a")  # input_type="query"
        ```
    """

    model_config = ConfigDict(
        populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=()
    )

    endpoint: str | None = None
    """The endpoint URL; default ``AZURE_INFERENCE_ENDPOINT`` or ``AZURE_AI_INFERENCE_ENDPOINT``."""

    credential: Any = Field(default=None, validation_alias=AliasChoices("credential", "api_key"))
    """A key (kept as ``SecretStr``), an ``AzureKeyCredential`` or a token credential; default
    ``AZURE_INFERENCE_CREDENTIAL`` or ``AZURE_AI_INFERENCE_CREDENTIAL``."""

    api_version: str | None = None
    """The ``api-version`` to send; default the endpoint kind's."""

    project_endpoint: str | None = None
    """Accepted for compatibility with langchain-azure-ai; not supported (raises)."""

    client_kwargs: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)
    """Options of the core client (``headers``, ``credential_scopes``, ``httpx_kwargs``...)."""

    model_name: str | None = Field(default=None, alias="model")
    """The model (or deployment); None for single-model endpoints."""

    embed_batch_size: int = Field(default=1024, gt=0)
    """Texts per request."""

    dimensions: int | None = None
    """The vector size, for models that can shorten their embeddings."""

    input_type_documents: str | None = "document"
    """``input_type`` sent with `embed_documents` (None to send none)."""

    input_type_query: str | None = "query"
    """``input_type`` sent with `embed_query` (None to send none)."""

    timeout: float | None = Field(
        default=None, validation_alias=AliasChoices("timeout", "request_timeout")
    )
    """Seconds per request; default the core's (120)."""

    max_retries: int = 2
    """Retries on 408/429/5xx and connection errors."""

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More body parameters: API ones (``encoding_format``, ``user``) as such, others as extras."""

    model_extras: dict[str, Any] = Field(default_factory=dict)
    """Model-specific parameters the API does not define, sent with ``extra-parameters``."""

    _clients: ClientCache = PrivateAttr(default_factory=ClientCache)

    @model_validator(mode="before")
    @classmethod
    def _prepare_arguments(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = move_unknown_to_model_kwargs(cls, data)
        data["endpoint"] = resolve_endpoint(data.get("endpoint"))
        check_endpoint(data["endpoint"], data.get("project_endpoint"))
        key = "api_key" if data.get("credential") is None and "api_key" in data else "credential"
        credential = resolve_credential(data.get(key))
        data.pop("api_key", None)
        data["credential"] = SecretStr(credential) if isinstance(credential, str) else credential
        return data

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in CONNECTION_FIELDS:
            self._clients.clear()

    def __copy__(self) -> AzureAIEmbeddingsModel:
        copied = super().__copy__()
        copied._clients = ClientCache()
        return copied

    def _client_options(self) -> dict[str, Any]:
        return client_options(
            endpoint=self.endpoint,
            credential=self.credential,
            api_version=self.api_version,
            model=self.model_name,
            timeout=self.timeout,
            max_retries=self.max_retries,
            client_kwargs=self.client_kwargs,
        )

    @property
    def client(self) -> Client:
        """The core sync client (built on first use, then reused)."""
        return self._clients.sync(self._client_options)

    @property
    def async_client(self) -> AsyncClient:
        """The core async client (built on first use, then reused)."""
        return self._clients.async_(self._client_options)

    def _params(self, input_type: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"batch_size": self.embed_batch_size}
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        if input_type is not None:
            params["input_type"] = input_type
        extras = dict(self.model_extras) if self.model_extras else {}
        for key, value in self.model_kwargs.items():
            if key in EMBEDDINGS_FIELDS or key in ("extra_parameters", "headers"):
                params[key] = value
            else:
                extras[key] = value
        if extras:
            params["model_extras"] = extras
        return params

    # ---- each sync/async pair mirrors the other -----------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (``input_type="document"``), ``embed_batch_size`` per request.

        Raises:
            azureinference.APIError: The call failed (also a ``langchain_core`` model error).
        """
        if not texts:
            return []
        with map_errors():
            result = self.client.embed(list(texts), **self._params(self.input_type_documents))
        return result.vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (see `embed_documents`)."""
        if not texts:
            return []
        with map_errors():
            result = await self.async_client.embed(
                list(texts), **self._params(self.input_type_documents)
            )
        return result.vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (``input_type="query"``).

        Raises:
            azureinference.APIError: The call failed (also a ``langchain_core`` model error).
        """
        with map_errors():
            result = self.client.embed([text], **self._params(self.input_type_query))
        return result.vectors[0]

    async def aembed_query(self, text: str) -> list[float]:
        """Embed a query (see `embed_query`)."""
        with map_errors():
            result = await self.async_client.embed([text], **self._params(self.input_type_query))
        return result.vectors[0]

    def close(self) -> None:
        """Close the sync client's connections."""
        if self._clients._sync is not None:
            self._clients._sync.close()

    async def aclose(self) -> None:
        """Close the async client's connections (of the running event loop)."""
        if self._clients._async is not None:
            await self._clients._async.aclose()
