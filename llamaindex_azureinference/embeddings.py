"""`AzureAIEmbeddingsModel`: a LlamaIndex embedder (text and images) on the shared core.

Drop-in for ``llama_index.embeddings.azure_inference.AzureAIEmbeddingsModel`` (same constructor
arguments). Texts go to ``/embeddings`` (base64 on the wire, ``input_type`` ``"document"`` for
texts and ``"query"`` for queries, dropped for endpoints that refuse it), images to
``/images/embeddings``; it is a `MultiModalEmbedding`, so multi-modal indexes can use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from llama_index.core.schema import ImageType

from azureinference import AsyncClient, Client, ModelInfo
from azureinference.adapters import EMBEDDINGS_FIELDS, Connection, check_text, split_model_kwargs

from ._connection import (
    RedactedFields,
    check_arguments,
    make_connection,
    resolve_arguments,
    restore_state,
)
from ._convert import image_to_url

__all__ = ["AzureAIEmbeddingsModel"]

dispatcher = get_dispatcher(__name__)

DEFAULT_EMBED_BATCH_SIZE = 96
"""Texts per request: LlamaIndex's default of 10 makes 2,000 texts 200 requests; 96 is the most
Cohere's embedding models take in one request (OpenAI's take 2,048)."""


def _image_url(image: ImageType) -> str:
    """A data URL (or the URL) for a path, bytes-like object or URL string."""
    from llama_index.core.base.llms.types import ImageBlock

    if isinstance(image, str) and image.startswith(("http://", "https://", "data:")):
        return image
    if isinstance(image, (bytes, bytearray)):
        return image_to_url(ImageBlock(image=bytes(image)))
    if hasattr(image, "read"):
        return image_to_url(ImageBlock(image=image.read()))
    return image_to_url(ImageBlock(path=image))


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Callable[[int, Any], None]]:
    """An ``on_batch`` callback that moves a tqdm bar (LlamaIndex's ``show_progress``)."""
    bar: Any = None
    if show:
        try:  # through importlib: tqdm ships no type hints
            tqdm = importlib.import_module("tqdm.auto").tqdm
        except ImportError:  # pragma: no cover - tqdm comes with llama-index-core
            pass
        else:
            bar = tqdm(total=total, desc="Generating embeddings")
    try:
        yield lambda _index, result: bar.update(len(result.data or [])) if bar else None
    finally:
        if bar is not None:
            bar.close()


class AzureAIEmbeddingsModel(RedactedFields, MultiModalEmbedding):
    """An embeddings model of the Azure AI Model Inference API (or an OpenAI-compatible one).

    ```python
    from llamaindex_azureinference import AzureAIEmbeddingsModel

    embed_model = AzureAIEmbeddingsModel(
        endpoint="https://<resource>.services.ai.azure.com/models",
        credential="<key>",
        model_name="text-embedding-3-small",
    )
    ```
    """

    model_config = ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)

    endpoint: str | None = Field(default=None, description="The endpoint URL.")
    api_version: str | None = Field(default=None, description="Overrides the api-version.")
    dimensions: int | None = Field(default=None, gt=0, description="Vector length, if settable.")
    input_type: bool = Field(
        default=True,
        description='Send input_type "document" for texts and "query" for queries (dropped '
        "automatically where the endpoint refuses it).",
    )
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="More request parameters; those the API does not define go as model_extras.",
    )
    model_extras: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(default=120.0)
    max_retries: int = Field(default=2, ge=0)
    default_headers: dict[str, str] | None = Field(
        default=None,
        description="Headers sent with every request (a gateway's subscription key...); their "
        "values are hidden wherever the model is shown.",
    )
    client_kwargs: dict[str, Any] = Field(default_factory=dict, exclude=True)

    _credential: Any = PrivateAttr(default=None)
    _connection: Connection = PrivateAttr()
    _model_given: bool = PrivateAttr(default=False)

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        model_name: str | None = None,
        *,
        embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE,
        client_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["model_name"] = model_name
        endpoint, credential = resolve_arguments(endpoint, credential, kwargs)
        credential = check_arguments(
            "AzureAIEmbeddingsModel", kwargs, type(self).model_fields, credential, client_kwargs
        )
        model_name = kwargs.pop("model_name")
        super().__init__(
            endpoint=endpoint,
            model_name=model_name or "unknown",
            embed_batch_size=embed_batch_size,
            client_kwargs=dict(client_kwargs or {}),
            **kwargs,
        )
        self._credential = credential
        self._model_given = bool(model_name)
        self._connection = make_connection(
            endpoint,
            self._credential,
            model=model_name,
            api_version=self.api_version,
            timeout=self.timeout,
            max_retries=self.max_retries,
            client_kwargs={"embed_batch_size": embed_batch_size, **self.client_kwargs},
            headers=self.default_headers,
        )

    @classmethod
    def class_name(cls) -> str:
        """The name ``to_dict`` records."""
        return "AzureAIEmbeddingsModel"

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_state(self, state)

    @property
    def _client(self) -> Client:
        """The core sync client of the model's connection."""
        return self._connection.client

    @property
    def _aclient(self) -> AsyncClient:
        """The core async client of the model's connection."""
        return self._connection.async_client

    def _params(self, input_type: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"batch_size": self.embed_batch_size}
        if self._model_given:
            params["model"] = self.model_name
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        if self.input_type and input_type is not None:
            params["input_type"] = input_type
        extras = split_model_kwargs(self.model_kwargs, EMBEDDINGS_FIELDS, params, self.model_extras)
        if extras:
            params["model_extras"] = extras
        return params

    def get_model_info(self) -> ModelInfo | None:
        """The endpoint's ``/info`` (fetched once; None where the endpoint has none).

        Where no ``model_name`` was given, ``model_name`` becomes the one ``/info`` names.
        """
        info = self._client.get_model_info(self.model_name if self._model_given else None)
        if info is not None:
            self._note_model(info.model_name)
        return info

    def _note_model(self, model: str | None) -> None:
        """Name the model as the service does when the user did not (no ``/info`` call needed).

        Only ``model_name`` changes: requests go on without a ``model``, as before.
        """
        if model and self.model_name == "unknown" and not self._model_given:
            self.model_name = model

    def _embed(self, texts: list[str], input_type: str) -> list[Embedding]:
        result = self._client.embed(texts, **self._params(input_type))
        self._note_model(result.model)
        return result.vectors

    async def _aembed(self, texts: list[str], input_type: str) -> list[Embedding]:
        result = await self._aclient.embed(texts, **self._params(input_type))
        self._note_model(result.model)
        return result.vectors

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([check_text(query, "query")], "query")[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([check_text(query, "query")], "query"))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([check_text(text, "text")], "document")[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([check_text(text, "text")], "document"))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(texts, "document")

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed(texts, "document")

    # ---- batches: concurrent, paced at the quota, in order ----------------------------------

    def _bulk(self, texts: list[str]) -> bool:
        # LlamaIndex's own cache and rate limiter work batch by batch: leave those to it.
        return bool(texts) and self.embeddings_cache is None and self.rate_limiter is None

    def _report_batches(self, texts: list[str], vectors: list[Embedding]) -> None:
        """The events LlamaIndex sends per batch (callbacks, instrumentation), once all are in."""
        model_dict = self.to_payload()
        size = self.embed_batch_size
        for start in range(0, len(texts), size):
            chunks, embeddings = texts[start : start + size], vectors[start : start + size]
            dispatcher.event(EmbeddingStartEvent(model_dict=model_dict))
            with self.callback_manager.event(
                CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: model_dict}
            ) as event:
                event.on_end(
                    payload={EventPayload.CHUNKS: chunks, EventPayload.EMBEDDINGS: embeddings}
                )
            dispatcher.event(EmbeddingEndEvent(chunks=chunks, embeddings=embeddings))

    @dispatcher.span
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed texts: ``embed_batch_size`` per request, the requests concurrently.

        They go at the deployment's quota (the core's rate limiter) and come back in input
        order; a failure names the inputs of its batch.
        """
        if not self._bulk(texts):
            return super().get_text_embedding_batch(texts, show_progress, **kwargs)
        with _progress(show_progress, len(texts)) as on_batch:
            vectors = self._client.embed(
                texts, on_batch=on_batch, **self._params("document")
            ).vectors
        self._report_batches(texts, vectors)
        return vectors

    @dispatcher.span
    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed texts (see `get_text_embedding_batch`)."""
        if not self._bulk(texts):
            return await super().aget_text_embedding_batch(texts, show_progress, **kwargs)
        with _progress(show_progress, len(texts)) as on_batch:
            result = await self._aclient.embed(texts, on_batch=on_batch, **self._params("document"))
        self._report_batches(texts, result.vectors)
        return result.vectors

    def _image_params(self) -> dict[str, Any]:
        params = self._params(None)
        params.pop("input_type", None)
        return params

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        vectors = self._client.embed_images(
            [{"image": _image_url(img_file_path)}], **self._image_params()
        )
        return vectors.vectors[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        result = await self._aclient.embed_images(
            [{"image": _image_url(img_file_path)}], **self._image_params()
        )
        return result.vectors[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        images = [{"image": _image_url(p)} for p in img_file_paths]
        return self._client.embed_images(images, **self._image_params()).vectors

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        images = [{"image": _image_url(p)} for p in img_file_paths]
        return (await self._aclient.embed_images(images, **self._image_params())).vectors
