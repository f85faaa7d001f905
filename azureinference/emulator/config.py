"""What the emulator serves: its models, its faults and its scripted replies.

All plain dataclasses, so a test builds them without starting anything.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["EmulatorConfig", "Fault", "ModelSpec", "ScriptedReply", "default_models"]

ModelKind = Literal["chat", "embeddings", "image_embeddings"]

_MODEL_TYPES = {
    "chat": "chat-completion",
    "embeddings": "embeddings",
    "image_embeddings": "image-embeddings",
}


@dataclass(frozen=True)
class ModelSpec:
    """One model the emulator serves.

    Attributes:
        name: The model (or deployment) name requests use.
        kind: ``"chat"``, ``"embeddings"`` or ``"image_embeddings"``.
        provider: ``model_provider_name`` in ``/info``.
        unsupported: Body parameters the model refuses with 422 ``parameter_not_supported``
            (``"tools"``, ``"seed"``, ``"response_format"``, ``"response_format.json_schema"``,
            ``"input_type"``, ``"encoding_format.base64"``, ...).
        dimensions: Default embedding length (``dimensions`` in a request overrides it).
    """

    name: str
    kind: ModelKind = "chat"
    provider: str = "Emulator"
    unsupported: frozenset[str] = frozenset()
    dimensions: int = 1024

    @property
    def model_type(self) -> str:
        """The ``/info`` ``model_type`` of this kind."""
        return _MODEL_TYPES[self.kind]


def default_models() -> list[ModelSpec]:
    """The models a default emulator serves (the first chat model answers model-less calls)."""
    return [
        ModelSpec("emulator-chat"),
        ModelSpec("emulator-embed", kind="embeddings"),
        ModelSpec("emulator-image-embed", kind="image_embeddings", dimensions=512),
        ModelSpec(
            "emulator-limited",
            provider="EmulatorLimited",
            unsupported=frozenset({"tools", "tool_choice", "seed", "response_format.json_schema"}),
        ),
        ModelSpec(
            "emulator-embed-basic",
            kind="embeddings",
            provider="EmulatorLimited",
            unsupported=frozenset({"input_type", "dimensions", "encoding_format.base64"}),
            dimensions=256,
        ),
    ]


@dataclass
class EmulatorConfig:
    """How an emulator behaves.

    Attributes:
        models: The models served; the first chat model answers requests without ``model``.
        key: The key it accepts (Bearer or ``api-key``); a random one when None.
        envelope: Wrap answers as ``{"code", "msg", "data"}`` and stream ``event:messages``
            lines, as the OpenAI-compatible endpoint of seed 001 does.
        latency: Seconds to wait before every answer.
        require_auth: Refuse requests without the key (401).
    """

    models: list[ModelSpec] = field(default_factory=default_models)
    key: str | None = None
    envelope: bool = False
    latency: float = 0.0
    require_auth: bool = True

    def model(self, name: str | None, kind: ModelKind) -> ModelSpec | None:
        """The model called ``name``, or the first of ``kind`` when no name is given."""
        if name is None:
            return next((m for m in self.models if m.kind == kind), None)
        return next((m for m in self.models if m.name == name), None)


FaultKind = Literal["rate_limit", "server_error", "content_filter", "drop_stream", "latency"]


@dataclass
class Fault:
    """A failure the emulator plays for the next matching request(s).

    Build one with the class methods; ``times`` says for how many requests, ``route``
    (``"chat"``, ``"embeddings"``, ``"images"``, ``"info"``) and ``model`` narrow the match.
    """

    kind: FaultKind
    times: int = 1
    route: str | None = None
    model: str | None = None
    status: int = 500
    retry_after: float | None = None
    html: bool = False
    after_chunks: int = 0
    seconds: float = 0.0

    @classmethod
    def rate_limit(cls, retry_after: float = 1, *, times: int = 1, **match: Any) -> Fault:
        """429 with ``Retry-After`` (seconds) and ``retry-after-ms``."""
        return cls("rate_limit", times=times, status=429, retry_after=retry_after, **match)

    @classmethod
    def server_error(
        cls, status: int = 500, *, html: bool = False, times: int = 1, **match: Any
    ) -> Fault:
        """A 5xx answer: the service's JSON error body, or an HTML page as a gateway sends."""
        return cls("server_error", times=times, status=status, html=html, **match)

    @classmethod
    def content_filter(cls, *, times: int = 1, **match: Any) -> Fault:
        """The documented 400 ``content_filter`` answer."""
        return cls("content_filter", times=times, status=400, **match)

    @classmethod
    def drop_stream(cls, after_chunks: int = 1, *, times: int = 1, **match: Any) -> Fault:
        """Close the connection after ``after_chunks`` chunks: no finish_reason, no ``[DONE]``.

        A non-streamed request is cut off halfway through its body instead.
        """
        return cls("drop_stream", times=times, after_chunks=after_chunks, **match)

    @classmethod
    def latency(cls, seconds: float, *, times: int = 1, **match: Any) -> Fault:
        """Wait ``seconds`` before answering (normally)."""
        return cls("latency", times=times, seconds=seconds, **match)

    def matches(self, route: str, model: str | None) -> bool:
        """Whether this fault applies to a request on ``route`` for ``model``."""
        return (self.route is None or self.route == route) and (
            self.model is None or self.model == model
        )


@dataclass
class ScriptedReply:
    """A canned chat answer, served (streamed or not) instead of the generated one.

    Attributes:
        content: The answer text.
        tool_calls: Calls to make: ``{"name": ..., "arguments": dict | str, "id"?: ...}``.
        finish_reason: Defaults to ``"tool_calls"`` with tool calls, else ``"stop"``.
        reasoning_content: Reasoning text, as reasoning models return it.
        usage: ``{"prompt_tokens", "completion_tokens"}`` to report instead of the counts.
    """

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    reasoning_content: str | None = None
    usage: dict[str, int] | None = None

    def replace(self, **changes: Any) -> ScriptedReply:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)
