"""Model calls as GenAI semantic-convention attributes: pure functions, no opentelemetry.

`telemetry` puts what these return on spans: the provider name of an endpoint, the
``gen_ai.request.*`` attributes of the parameters sent, usage, and (when content recording is on)
messages in the shape of ``gen_ai.input.messages`` / ``gen_ai.output.messages``, with secret
query parameters of image URLs masked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .endpoints import Endpoint, EndpointKind
from .redaction import redact_url

if TYPE_CHECKING:
    from .types import ChatCompletion, CompletionUsage

__all__ = [
    "GENERIC_PROVIDER",
    "chat_request_attributes",
    "embeddings_request_attributes",
    "input_messages",
    "output_messages",
    "provider_name",
    "server_of",
    "to_json",
    "tool_definitions",
    "usage_attributes",
]

# gen_ai.provider.name by endpoint kind. GitHub Models runs on Azure AI model inference.
_PROVIDERS = {
    EndpointKind.SERVERLESS: "azure.ai.inference",
    EndpointKind.AI_SERVICES: "azure.ai.inference",
    EndpointKind.GITHUB: "azure.ai.inference",
    EndpointKind.AZURE_OPENAI: "azure.ai.openai",
    EndpointKind.OPENAI_V1: "azure.ai.openai",
}
# OpenAI-compatible hosts that have a value of their own in the conventions' registry.
_PROVIDER_HOSTS = {
    "api.openai.com": "openai",
    "api.mistral.ai": "mistral_ai",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
}
GENERIC_PROVIDER = "openai_compatible"
"""``gen_ai.provider.name`` of any other OpenAI-compatible endpoint (a custom value, as the
conventions allow): ``server.address`` tells which one."""


def provider_name(endpoint: Endpoint) -> str:
    """``gen_ai.provider.name`` for an endpoint: Azure AI inference, Azure OpenAI, OpenAI, ..."""
    return _PROVIDERS.get(endpoint.kind) or _PROVIDER_HOSTS.get(endpoint.host, GENERIC_PROVIDER)


@functools.lru_cache(maxsize=64)
def server_of(endpoint: Endpoint) -> tuple[str, int]:
    """``server.address`` and ``server.port`` of an endpoint."""
    # The host and port only: never the userinfo, path or query of the endpoint URL.
    parts = urlsplit(endpoint.base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chat_request_attributes(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``gen_ai.request.*`` attributes of the chat parameters that are sent."""
    attrs: dict[str, Any] = {}
    for key, name in (
        ("temperature", "gen_ai.request.temperature"),
        ("top_p", "gen_ai.request.top_p"),
        ("frequency_penalty", "gen_ai.request.frequency_penalty"),
        ("presence_penalty", "gen_ai.request.presence_penalty"),
        ("seed", "gen_ai.request.seed"),
    ):
        value = params.get(key)
        if _number(value):
            attrs[name] = value
    max_tokens = params.get("max_tokens")
    if max_tokens is None:
        max_tokens = params.get("max_completion_tokens")
    if _number(max_tokens):
        attrs["gen_ai.request.max_tokens"] = max_tokens
    stop = params.get("stop")
    if isinstance(stop, str):
        attrs["gen_ai.request.stop_sequences"] = [stop]
    elif isinstance(stop, Sequence) and stop and all(isinstance(s, str) for s in stop):
        attrs["gen_ai.request.stop_sequences"] = list(stop)
    n = params.get("n")
    if _number(n) and n != 1:
        attrs["gen_ai.request.choice.count"] = n
    extras = params.get("model_extras")
    if isinstance(extras, Mapping) and _number(extras.get("top_k")):
        attrs["gen_ai.request.top_k"] = extras["top_k"]
    rf = params.get("response_format")
    kind = rf if isinstance(rf, str) else rf.get("type") if isinstance(rf, Mapping) else None
    if kind in ("json_object", "json_schema"):
        attrs["gen_ai.output.type"] = "json"
    elif kind == "text":
        attrs["gen_ai.output.type"] = "text"
    return attrs


def embeddings_request_attributes(params: Mapping[str, Any], inputs: int) -> dict[str, Any]:
    """The attributes of an embeddings call: its number of inputs, dimensions and format."""
    attrs: dict[str, Any] = {"azureinference.embeddings.input_count": inputs}
    if _number(params.get("dimensions")):
        attrs["gen_ai.embeddings.dimension.count"] = params["dimensions"]
    if isinstance(params.get("encoding_format"), str):
        attrs["gen_ai.request.encoding_formats"] = [params["encoding_format"]]
    return attrs


def _part(part: Any) -> dict[str, Any]:
    """One wire content part in the conventions' message-part shape."""
    if not isinstance(part, Mapping):
        return {"type": "text", "content": str(part)}
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "content": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url", "") if isinstance(image, Mapping) else str(image or "")
        if url.startswith("data:") and ";base64," in url:
            mime, data = url[5:].split(";base64,", 1)
            return {"type": "blob", "modality": "image", "mime_type": mime, "content": data}
        return {"type": "uri", "modality": "image", "uri": redact_url(url)}
    if kind == "input_audio":
        audio = part.get("input_audio")
        audio = audio if isinstance(audio, Mapping) else {}
        return {
            "type": "blob",
            "modality": "audio",
            "mime_type": f"audio/{audio.get('format', '')}",
            "content": audio.get("data", ""),
        }
    return {k: v for k, v in part.items()}


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _tool_call_part(call: Any) -> dict[str, Any]:
    if isinstance(call, Mapping):
        fn = call.get("function") or {}
        return {
            "type": "tool_call",
            "id": call.get("id"),
            "name": fn.get("name") if isinstance(fn, Mapping) else None,
            "arguments": _arguments(fn.get("arguments") if isinstance(fn, Mapping) else None),
        }
    return {
        "type": "tool_call",
        "id": call.id,
        "name": call.function.name,
        "arguments": _arguments(call.function.arguments),
    }


def input_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Wire messages in the shape of ``gen_ai.input.messages`` (role and parts)."""
    out = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        content = message.get("content")
        parts: list[dict[str, Any]] = []
        if role == "tool":
            parts.append(
                {
                    "type": "tool_call_response",
                    "id": message.get("tool_call_id"),
                    "response": content,
                }
            )
        elif isinstance(content, str):
            parts.append({"type": "text", "content": content})
        elif isinstance(content, Sequence):
            parts.extend(_part(p) for p in content)
        parts.extend(_tool_call_part(c) for c in message.get("tool_calls") or ())
        entry: dict[str, Any] = {"role": role, "parts": parts}
        if message.get("name"):
            entry["name"] = message["name"]
        out.append(entry)
    return out


def output_messages(completion: ChatCompletion) -> list[dict[str, Any]]:
    """The choices of an answer in the shape of ``gen_ai.output.messages``."""
    out = []
    for choice in completion.choices or ():
        message = choice.message
        parts: list[dict[str, Any]] = []
        if message.reasoning_content:
            parts.append({"type": "reasoning", "content": message.reasoning_content})
        if message.content:
            parts.append({"type": "text", "content": message.content})
        parts.extend(_tool_call_part(c) for c in message.tool_calls or ())
        out.append(
            {
                "role": message.role or "assistant",
                "parts": parts,
                "finish_reason": choice.finish_reason or "",
            }
        )
    return out


def tool_definitions(tools: Any) -> list[Any]:
    """Wire tools in the shape of ``gen_ai.tool.definitions``."""
    out = []
    for tool in tools or ():
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(fn, Mapping):
            out.append({"type": tool.get("type", "function"), **fn})
        else:
            out.append(tool)
    return out


def to_json(value: Any) -> str:
    """Compact JSON of a structured attribute value (non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def usage_attributes(usage: CompletionUsage, with_output: bool) -> dict[str, Any]:
    """``gen_ai.usage.*`` of an answer's usage (output tokens only for chat)."""
    attrs: dict[str, Any] = {"gen_ai.usage.input_tokens": usage.prompt_tokens}
    if with_output:
        attrs["gen_ai.usage.output_tokens"] = usage.completion_tokens
    if usage.cache_read:
        attrs["gen_ai.usage.cache_read.input_tokens"] = usage.cache_read
    if usage.cache_write:
        attrs["gen_ai.usage.cache_creation.input_tokens"] = usage.cache_write
    if with_output and usage.reasoning_tokens:
        attrs["gen_ai.usage.reasoning.output_tokens"] = usage.reasoning_tokens
    return attrs
