"""`AzureAIEmbeddingsModel`: LangChain embeddings on the shared core.

A drop-in for ``langchain_azure_ai.embeddings.AzureAIEmbeddingsModel``. Documents are sent with
``input_type: "document"`` and queries with ``"query"`` (what Cohere-style models need); the core
drops ``input_type`` for an endpoint that refuses it, and asks for base64 vectors where accepted.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import Field

from azureinference.adapters import (
    EMBEDDINGS_FIELDS,
    check_text,
    check_texts,
    split_model_kwargs,
)

from ._client import ConnectionFields
from ._errors import map_errors

__all__ = ["AzureAIEmbeddingsModel"]


class AzureAIEmbeddingsModel(ConnectionFields, Embeddings):
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

    embed_batch_size: int = Field(default=1024, gt=0)
    """Texts per request."""

    dimensions: int | None = None
    """The vector size, for models that can shorten their embeddings."""

    input_type_documents: str | None = "document"
    """``input_type`` sent with `embed_documents` (None to send none)."""

    input_type_query: str | None = "query"
    """``input_type`` sent with `embed_query` (None to send none)."""

    def _params(self, input_type: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"batch_size": self.embed_batch_size}
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        if input_type is not None:
            params["input_type"] = input_type
        extras = split_model_kwargs(self.model_kwargs, EMBEDDINGS_FIELDS, params, self.model_extras)
        if extras:
            params["model_extras"] = extras
        return params

    # ---- each sync/async pair mirrors the other -----------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (``input_type="document"``), ``embed_batch_size`` per request.

        The requests after the first go concurrently, paced at the deployment's quota by the
        client's rate limiter; the vectors come back in input order.

        Raises:
            azureinference.APIError: The call failed (also a ``langchain_core`` model error); a
                failed batch names its inputs (``inputs 256-511 of 20000``, ``.input_range``).
            azureinference.ConfigurationError: ``texts`` is not a list of str.
        """
        texts = check_texts(texts)
        if not texts:
            return []
        with map_errors():
            result = self.client.embed(list(texts), **self._params(self.input_type_documents))
        return result.vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (see `embed_documents`)."""
        texts = check_texts(texts)
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
        text = check_text(text)
        with map_errors():
            result = self.client.embed([text], **self._params(self.input_type_query))
        return result.vectors[0]

    async def aembed_query(self, text: str) -> list[float]:
        """Embed a query (see `embed_query`)."""
        text = check_text(text)
        with map_errors():
            result = await self.async_client.embed([text], **self._params(self.input_type_query))
        return result.vectors[0]
