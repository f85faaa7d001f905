"""The API's JSON as pydantic models (responses, stream chunks, /info) and TypedDicts (requests).

Response models keep unknown fields (``extra="allow"``) so nothing a service adds is lost, and
accept missing optional fields: parsing is lenient, checking is done where it matters.

The wire is read here, once, for every layer: a message or a delta says its text
(`ChatResponseMessage.text`), its reasoning (`ChatResponseMessage.reasoning_text`) and its refusal
whatever spelling or shape the service used: ``content`` as a string or as a list of ``text`` and
``thinking`` parts (Mistral), reasoning as ``reasoning_content`` (DeepSeek, vLLM), ``reasoning``
(Groq, OpenRouter, Cerebras, Ollama) or ``reasoning_details`` (Snowflake). Token counts are
checked: a negative count is a malformed answer.
"""

from __future__ import annotations

import binascii
import sys
from array import array
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

__all__ = [
    "ChatChoice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessageDict",
    "ChatResponseMessage",
    "CompletionTokensDetails",
    "CompletionUsage",
    "EmbeddingItem",
    "EmbeddingsResult",
    "FunctionCall",
    "ImageEmbeddingInput",
    "ModelInfo",
    "PromptTokensDetails",
    "StreamingChoice",
    "ToolCall",
    "ToolCallDelta",
    "decode_base64_embedding",
    "normalize_model_type",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())


class FunctionCall(_Wire):
    """A function name and its JSON arguments (a string, possibly partial in a stream)."""

    name: str | None = None
    arguments: str | None = None


class ToolCall(_Wire):
    """A tool call in an answer."""

    id: str | None = None
    type: str | None = "function"
    function: FunctionCall = Field(default_factory=FunctionCall)


class ToolCallDelta(_Wire):
    """A piece of a tool call in a stream; ``index`` may be absent (the spec's deltas have none).

    Kept as the service sent it: `ChatStreamState.delta` gives each piece with the call's
    stable position, and its id and name only where they are new (`ToolCallPiece`).
    """

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class PromptTokensDetails(_Wire):
    """What the prompt's tokens were: read from the cache, written to it, audio.

    ``cached_tokens`` is OpenAI's and Azure OpenAI's count of prompt tokens read from the cache;
    ``cache_write_tokens`` the count written to it (OpenRouter, for Anthropic's and others' caches).
    None where the service sent no such count.
    """

    cached_tokens: int | None = Field(None, ge=0)
    cache_write_tokens: int | None = Field(None, ge=0)
    audio_tokens: int | None = Field(None, ge=0)


class CompletionTokensDetails(_Wire):
    """What the answer's tokens were: reasoning (billed, not shown), audio, predictions.

    None where the service sent no such count.
    """

    reasoning_tokens: int | None = Field(None, ge=0)
    audio_tokens: int | None = Field(None, ge=0)
    accepted_prediction_tokens: int | None = Field(None, ge=0)
    rejected_prediction_tokens: int | None = Field(None, ge=0)


class CompletionUsage(_Wire):
    """Token counts (never negative), with their details where the service sends them.

    The details are read here once for every layer: LangChain's ``usage_metadata`` token details
    and LlamaIndex's ``additional_kwargs`` are mapped from `prompt_tokens_details` and
    `completion_tokens_details` (`cache_read`, `cache_write`, `reasoning_tokens`...).
    """

    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)
    total_tokens: int = Field(0, ge=0)
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None

    @property
    def cache_read(self) -> int | None:
        """Prompt tokens read from the cache (``prompt_tokens_details.cached_tokens``)."""
        details = self.prompt_tokens_details
        return details.cached_tokens if details is not None else None

    @property
    def cache_write(self) -> int | None:
        """Prompt tokens written to the cache (``prompt_tokens_details.cache_write_tokens``)."""
        details = self.prompt_tokens_details
        return details.cache_write_tokens if details is not None else None

    @property
    def reasoning_tokens(self) -> int | None:
        """Answer tokens spent reasoning (``completion_tokens_details.reasoning_tokens``)."""
        details = self.completion_tokens_details
        return details.reasoning_tokens if details is not None else None


def _parts_text(parts: list[Any], kind: str) -> str | None:
    """The text of the ``kind`` parts (``text`` or ``thinking``) of a content list, joined."""
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            if kind == "text":
                pieces.append(part)
            continue
        if not isinstance(part, dict) or part.get("type", "text") != kind:
            continue
        value = part.get(kind)
        if isinstance(value, str):
            pieces.append(value)
        elif isinstance(value, list):  # Mistral: "thinking": [{"type": "text", "text": ...}]
            inner = _parts_text(value, "text")
            if inner:
                pieces.append(inner)
    return "".join(pieces) if pieces else None


def _details_text(details: Any) -> str | None:
    """The text of OpenRouter-style ``reasoning_details`` (``reasoning.text``/``.summary``)."""
    if not isinstance(details, list):
        return None
    pieces: list[str] = []
    for item in details:
        if isinstance(item, dict):
            text = item.get("text") or item.get("summary")
            if isinstance(text, str):
                pieces.append(text)
    return "".join(pieces) if pieces else None


class _Said(_Wire):
    """What a message or a delta says, read the same way whatever the service's spelling."""

    content: str | list[Any] | None = None
    reasoning_content: str | None = None
    refusal: str | None = None

    @property
    def text(self) -> str | None:
        """The text: ``content``, or the ``text`` parts of a content list joined."""
        content = self.content
        if content is None or isinstance(content, str):
            return content
        return _parts_text(content, "text")

    @property
    def reasoning_text(self) -> str | None:
        """The reasoning, in any spelling.

        ``reasoning_content``, else ``reasoning``, else ``reasoning_details``, else the
        ``thinking`` parts of a content list.
        """
        if self.reasoning_content:
            return self.reasoning_content
        extra = self.__pydantic_extra__
        if extra:
            other = extra.get("reasoning")
            if isinstance(other, str) and other:
                return other
            details = _details_text(extra.get("reasoning_details"))
            if details:
                return details
        content = self.content
        if isinstance(content, list):
            return _parts_text(content, "thinking")
        return None


class ChatResponseMessage(_Said):
    """The assistant's message in an answer (see `text`, `reasoning_text` and `refusal`)."""

    role: str | None = "assistant"
    tool_calls: list[ToolCall] | None = None


class ChatChoice(_Wire):
    """One choice of an answer; ``content_filter_results`` as Azure sends them."""

    index: int = 0
    message: ChatResponseMessage = Field(default_factory=ChatResponseMessage)
    finish_reason: str | None = None
    content_filter_results: dict[str, Any] | None = None


class ChatCompletion(_Wire):
    """A chat completion answer."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChatChoice] | None = None
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    prompt_filter_results: list[Any] | None = None
    _response_headers: dict[str, str] | None = PrivateAttr(default=None)

    @property
    def response_headers(self) -> dict[str, str]:
        """The answer's HTTP headers (names lower case), as parsed; empty when not from HTTP."""
        return dict(self._response_headers or {})


class Delta(_Said):
    """What a stream chunk adds to a choice (see `text`, `reasoning_text` and `refusal`)."""

    role: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class StreamingChoice(_Wire):
    """One choice of a stream chunk."""

    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None
    content_filter_results: dict[str, Any] | None = None


class ChatCompletionChunk(_Wire):
    """One server-sent event of a chat stream."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[StreamingChoice] | None = None
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    prompt_filter_results: list[Any] | None = None


class EmbeddingItem(_Wire):
    """One embedding; ``embedding`` is floats, or a base64 string before decoding."""

    index: int = 0
    embedding: list[float] | str = Field(default_factory=list)
    object: str | None = None


class EmbeddingsResult(_Wire):
    """An embeddings answer (the core decodes base64 so ``embedding`` is always floats)."""

    id: str | None = None
    object: str | None = None
    model: str | None = None
    data: list[EmbeddingItem] | None = None
    usage: CompletionUsage | None = None

    @property
    def vectors(self) -> list[list[float]]:
        """The embeddings in input order, as float lists."""
        items = sorted(self.data or [], key=lambda d: d.index)
        return [
            item.embedding
            if isinstance(item.embedding, list)
            else decode_base64_embedding(item.embedding)
            for item in items
        ]


_MODEL_TYPES = {
    "chatcompletion": "chat-completion",
    "chatcompletions": "chat-completion",
    "chat": "chat-completion",
    "completion": "completion",
    "completions": "completion",
    "textgeneration": "completion",
    "embeddings": "embeddings",
    "embedding": "embeddings",
    "textembedding": "embeddings",
    "textembeddings": "embeddings",
    "imageembeddings": "image-embeddings",
    "imageembedding": "image-embeddings",
    "imagegeneration": "image-generation",
    "audiogeneration": "audio-generation",
}


def normalize_model_type(value: Any) -> str | None:
    """Map the spellings of ``model_type`` (``chat-completion``, ``chat_completion``...) to one."""
    if not isinstance(value, str) or not value:
        return None
    key = value.lower().replace("-", "").replace("_", "").replace(" ", "")
    return _MODEL_TYPES.get(key, value.lower().replace("_", "-"))


class ModelInfo(_Wire):
    """What ``/info`` says about the deployed model; ``model_type`` normalised."""

    model_name: str | None = None
    model_type: str | None = None
    model_provider_name: str | None = None

    def model_post_init(self, __context: Any) -> None:
        """Normalise ``model_type``."""
        self.model_type = normalize_model_type(self.model_type)


_LITTLE_ENDIAN = sys.byteorder == "little"


def decode_base64_embedding(data: str) -> list[float]:
    """Decode a base64 string of little-endian float32 values into floats."""
    raw = binascii.a2b_base64(data)
    if _LITTLE_ENDIAN and not len(raw) % 4:
        floats: list[float] = memoryview(raw).cast("f").tolist()  # type: ignore[assignment]
        return floats  # no copy into an array first
    values = array("f")
    values.frombytes(raw)  # a partial float raises ValueError here
    if not _LITTLE_ENDIAN:  # pragma: no cover - the wire is little-endian
        values.byteswap()
    return values.tolist()


# ---- request shapes (TypedDicts: what a caller may pass as wire messages) ----


class ImageUrlDict(TypedDict, total=False):
    """``{"url": ..., "detail": "auto" | "low" | "high"}``."""

    url: str
    detail: str


class ContentPartDict(TypedDict, total=False):
    """A content part: ``text``, ``image_url`` or ``input_audio``."""

    type: str
    text: str
    image_url: ImageUrlDict
    input_audio: dict[str, str]


class ToolCallDict(TypedDict, total=False):
    """An assistant tool call sent back in a follow-up request."""

    id: str
    type: Literal["function"]
    function: dict[str, str]


class ChatMessageDict(TypedDict, total=False):
    """A wire message of any role (system, developer, user, assistant, tool)."""

    role: str
    content: str | list[ContentPartDict] | None
    name: str
    tool_calls: list[ToolCallDict]
    tool_call_id: str


class ImageEmbeddingInput(TypedDict, total=False):
    """An input of ``/images/embeddings``: a data URL image and optional text."""

    image: str
    text: str
