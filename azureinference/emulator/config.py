"""What the emulator serves: its models, its faults and its scripted replies.

All plain dataclasses, so a test builds them without starting anything.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "EmulatorConfig",
    "Fault",
    "ModelSpec",
    "ScriptedReply",
    "config_from_file",
    "default_models",
    "model_from_arg",
]

ModelKind = Literal["chat", "embeddings", "image_embeddings"]
ReasoningStyle = Literal["reasoning_content", "think"]
_REASONING_STYLES = ("reasoning_content", "think")

_MODEL_TYPES = {
    "chat": "chat-completion",
    "embeddings": "embeddings",
    "image_embeddings": "image-embeddings",
}


def check_quota(name: str, value: Any, *, allow_none: bool = True) -> None:
    """Raise ValueError unless ``value`` is a positive integer (or None, when allowed)."""
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        what = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"{name} must be {what}, not {value!r}")


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
        tokens_per_minute: This deployment's token quota (None: the config's, else no limit).
        requests_per_minute: This deployment's request quota (None: the config's, else none).
        reasoning: A reasoning model: ``"reasoning_content"`` answers with its reasoning in
            ``message.reasoning_content`` (its tokens in ``completion_tokens_details
            .reasoning_tokens``); ``"think"`` writes it into the text as ``<think>...</think>``
            before the answer, as DeepSeek-R1 and Qwen3 do on servers without a reasoning
            parser. ``reasoning_effort`` (``minimal`` to ``xhigh``) sets how long it reasons;
            ``max_tokens`` / ``max_completion_tokens`` count the reasoning too, so a small
            budget ends in reasoning with finish reason ``length``.
        fixed_sampling: Refuse, as Azure OpenAI refuses them for gpt-5 and the o-series, with
            its exact 400 bodies: ``max_tokens`` ("Use 'max_completion_tokens' instead."),
            ``temperature`` and ``top_p`` other than 1, the penalties other than 0,
            ``logprobs``, ``top_logprobs`` and ``logit_bias``.
    """

    name: str
    kind: ModelKind = "chat"
    provider: str = "Emulator"
    unsupported: frozenset[str] = frozenset()
    dimensions: int = 1024
    tokens_per_minute: int | None = None
    requests_per_minute: int | None = None
    reasoning: ReasoningStyle | None = None
    fixed_sampling: bool = False

    def __post_init__(self) -> None:
        check_quota("tokens_per_minute", self.tokens_per_minute)
        check_quota("requests_per_minute", self.requests_per_minute)
        if self.reasoning is not None and self.reasoning not in _REASONING_STYLES:
            raise ValueError(
                f"reasoning must be one of {list(_REASONING_STYLES)} or None, not "
                f"{self.reasoning!r}"
            )

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
        ModelSpec(
            "emulator-reasoner",
            provider="EmulatorReasoner",
            reasoning="reasoning_content",
            fixed_sampling=True,
        ),
        ModelSpec("emulator-thinker", provider="EmulatorThinker", reasoning="think"),
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
        entra_audience: Also accept Entra ID tokens (JWTs, signature not checked) whose ``aud``
            is this audience, e.g. ``"https://ai.azure.com"``; a token for another audience is
            refused with 401 naming both. None (default): only the key is accepted.
        tokens_per_minute: The token quota of every deployment that sets none itself
            (None: no limit). Tokens charged per request: the prompt's (``usage.prompt_tokens``)
            plus ``max_tokens`` (or ``max_completion_tokens``) when set, else the answer's.
        requests_per_minute: The request quota of every deployment that sets none itself.
        time_scale: Emulated seconds per real second, for quotas: 60 makes a minute's quota
            refill in one second. Waits the emulator reports are in real seconds.
        clock: Real time in seconds (default ``time.monotonic``); a test passes its own to
            make quota answers exact.
        max_body_bytes: The largest request body read; a larger one is answered 413 (in the
            route's error shape) without being kept. The key is checked before any body is read.
        request_log_size: How many requests the request log keeps (the newest; a ring).
        max_answer_tokens: The most words one answer holds over all its choices (``n``) and
            prompts: past it each choice is cut, with ``finish_reason: "length"``, as a service
            cuts an answer at its output limit. Bounds the work of one request (a streamed
            "count to 100000" with ``n=8``).
        max_answer_bytes: The same bound in characters (a 1 MB prompt echoed to ``n=128``).
    """

    models: list[ModelSpec] = field(default_factory=default_models)
    key: str | None = None
    envelope: bool = False
    latency: float = 0.0
    require_auth: bool = True
    entra_audience: str | None = None
    tokens_per_minute: int | None = None
    requests_per_minute: int | None = None
    time_scale: float = 1.0
    clock: Callable[[], float] | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    request_log_size: int = 1000
    max_answer_tokens: int = 100_000
    max_answer_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be a positive number, not {self.time_scale!r}")
        for name in ("max_body_bytes", "request_log_size", "max_answer_tokens", "max_answer_bytes"):
            check_quota(name, getattr(self, name), allow_none=False)
        check_quota("tokens_per_minute", self.tokens_per_minute)
        check_quota("requests_per_minute", self.requests_per_minute)

    def model(self, name: str | None, kind: ModelKind) -> ModelSpec | None:
        """The model called ``name``, or the first of ``kind`` when no name is given."""
        if name is None:
            return next((m for m in self.models if m.kind == kind), None)
        return next((m for m in self.models if m.name == name), None)


_CONFIG_KEYS = frozenset(
    {
        "models",
        "key",
        "envelope",
        "latency",
        "require_auth",
        "entra_audience",
        "tokens_per_minute",
        "requests_per_minute",
        "time_scale",
        "max_body_bytes",
        "request_log_size",
        "max_answer_tokens",
        "max_answer_bytes",
    }
)
_MODEL_KEYS = frozenset(
    {
        "name",
        "kind",
        "provider",
        "unsupported",
        "dimensions",
        "tokens_per_minute",
        "requests_per_minute",
        "reasoning",
        "fixed_sampling",
    }
)
_SHORT_KEYS = {"tpm": "tokens_per_minute", "rpm": "requests_per_minute"}


def model_from_dict(entry: Any, where: str = "model") -> ModelSpec:
    """A `ModelSpec` from a config file entry such as ``{"name": ..., "kind": "embeddings"}``.

    Raises:
        ValueError: Not an object, no name, an unknown key or kind, or a bad value.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ValueError(f"{where} must be an object with a non-empty 'name'")
    unknown = sorted(set(entry) - _MODEL_KEYS)
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}; known: {sorted(_MODEL_KEYS)}")
    if entry.get("kind", "chat") not in _MODEL_TYPES:
        raise ValueError(f"{where}: kind must be one of {sorted(_MODEL_TYPES)}")
    fields = dict(entry)
    if "unsupported" in fields:
        fields["unsupported"] = frozenset(fields["unsupported"])
    if "dimensions" in fields and (
        not isinstance(fields["dimensions"], int) or not 1 <= fields["dimensions"] <= 8192
    ):
        raise ValueError(f"{where}: dimensions must be an integer from 1 to 8192")
    try:
        return ModelSpec(**fields)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def model_from_arg(arg: str) -> ModelSpec:
    """A `ModelSpec` from ``--model NAME[:KIND][,tpm=N][,rpm=N][,dimensions=N][,provider=P]``.

    Raises:
        ValueError: A malformed option, naming the argument.
    """
    head, *options = arg.split(",")
    name, _, kind = head.partition(":")
    entry: dict[str, Any] = {"name": name.strip(), "kind": kind.strip() or "chat"}
    for option in options:
        key, sep, value = option.partition("=")
        key = _SHORT_KEYS.get(key.strip(), key.strip())
        if not sep or key not in _MODEL_KEYS - {"name", "kind", "unsupported"}:
            raise ValueError(
                f"--model {arg!r}: options are tpm=N, rpm=N, dimensions=N, provider=NAME, "
                "reasoning=reasoning_content|think, fixed_sampling=true|false"
            )
        if key in ("provider", "reasoning"):
            entry[key] = value.strip()
            continue
        if key == "fixed_sampling":
            if value.strip().lower() not in ("true", "false"):
                raise ValueError(f"--model {arg!r}: fixed_sampling must be true or false")
            entry[key] = value.strip().lower() == "true"
            continue
        try:
            entry[key] = int(value)
        except ValueError:
            raise ValueError(f"--model {arg!r}: {key} must be an integer") from None
    return model_from_dict(entry, f"--model {arg!r}")


def config_from_dict(data: Any, where: str = "config") -> EmulatorConfig:
    """An `EmulatorConfig` from a parsed config file (see `config_from_file`).

    Raises:
        ValueError: An unknown key or a bad value, naming it.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    unknown = sorted(set(data) - _CONFIG_KEYS)
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}; known: {sorted(_CONFIG_KEYS)}")
    fields = dict(data)
    if "models" in fields:
        if not isinstance(fields["models"], list) or not fields["models"]:
            raise ValueError(f"{where}: models must be a non-empty list")
        fields["models"] = [
            model_from_dict(m, f"{where}: models[{i}]") for i, m in enumerate(fields["models"])
        ]
    try:
        return EmulatorConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def config_from_file(path: str) -> EmulatorConfig:
    """Read a config file: JSON, or TOML (``.toml``, Python 3.11+).

    ```json
    {"models": [{"name": "gpt-4o-mini"},
                {"name": "text-embedding-3-small", "kind": "embeddings", "dimensions": 1536,
                 "tokens_per_minute": 350000}],
     "requests_per_minute": 600, "time_scale": 60, "key": "local-key"}
    ```

    Raises:
        OSError: The file cannot be read.
        ValueError: It does not parse, or holds an unknown key or a bad value (named).
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        if path.endswith(".toml"):
            import tomllib  # Python 3.11+

            data = tomllib.loads(raw.decode())
        else:
            data = json.loads(raw)
    except ImportError:  # pragma: no cover - Python 3.10
        raise ValueError(f"{path}: TOML needs Python 3.11+; use JSON") from None
    except ValueError as exc:
        raise ValueError(f"{path} does not parse: {exc}") from None
    return config_from_dict(data, path)


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
