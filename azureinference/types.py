"""The API's JSON as pydantic models (responses, stream chunks, /info) and TypedDicts (requests).

Response models keep unknown fields (``extra="allow"``) so nothing a service adds is lost, and
accept missing optional fields: parsing is lenient, checking is done where it matters.
"""

from __future__ import annotations

import binascii
import sys
from array import array
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChatChoice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessageDict",
    "ChatResponseMessage",
    "CompletionUsage",
    "EmbeddingItem",
    "EmbeddingsResult",
    "FunctionCall",
    "ImageEmbeddingInput",
    "ModelInfo",
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
    """A piece of a tool call in a stream; ``index`` may be absent (the spec's deltas have none)."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class CompletionUsage(_Wire):
    """Token counts. Details (``completion_tokens_details``...) stay as extra fields."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatResponseMessage(_Wire):
    """The assistant's message in an answer."""

    role: str | None = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    reasoning_content: str | None = None


class ChatChoice(_Wire):
    """One choice of an answer."""

    index: int = 0
    message: ChatResponseMessage = Field(default_factory=ChatResponseMessage)
    finish_reason: str | None = None


class ChatCompletion(_Wire):
    """A chat completion answer."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChatChoice] | None = None
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None


class Delta(_Wire):
    """What a stream chunk adds to a choice."""

    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    reasoning_content: str | None = None


class StreamingChoice(_Wire):
    """One choice of a stream chunk."""

    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None


class ChatCompletionChunk(_Wire):
    """One server-sent event of a chat stream."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[StreamingChoice] | None = None
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None


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
