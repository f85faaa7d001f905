"""LangChain <-> wire conversions, all pure functions: data in, data out, no client.

- ``to_wire_*``: LangChain messages, content blocks, tools and ``tool_choice`` to the API's JSON.
- ``from_wire_*``: the core's parsed answers and stream chunks to LangChain messages.
- `usage_from_wire`: token counts to ``UsageMetadata``.

Content blocks accepted in user (and tool) messages: ``text``; the OpenAI ``image_url`` block (a URL
or a data URL); LangChain's standard image blocks in the v0 spelling (``{"type": "image",
"source_type": "base64" | "url", "data" | "url", "mime_type"}``), the v1 spelling (``{"type":
"image", "base64" | "url", "mime_type"}``) and Anthropic's (``{"type": "image", "source": {...}}``);
audio as ``input_audio`` or a standard ``audio`` block; files as an OpenAI ``file`` block or a
standard base64 ``file`` block. Assistant-side blocks (``tool_use``, ``thinking``, ``reasoning``,
``tool_call``) are left out of what is sent: the tool calls travel in ``tool_calls``.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from azureinference import ChatCompletion, ChatStreamState, CompletionUsage
from azureinference.adapters import ChatResponseMessage, ChoiceDelta
from azureinference.adapters import ToolCall as WireToolCall

__all__ = [
    "MODEL_PROVIDER",
    "final_chunk_from_state",
    "from_wire_completion",
    "from_wire_delta",
    "image_from_file",
    "to_wire_content",
    "to_wire_message",
    "to_wire_messages",
    "to_wire_tool",
    "to_wire_tool_call",
    "tool_calls_from_wire",
    "usage_from_wire",
]

MODEL_PROVIDER = "azure_ai"
"""``response_metadata["model_provider"]`` and the LangSmith ``ls_provider``."""

# Blocks that only make sense in an assistant's own output: never sent back as content.
_ASSISTANT_ONLY_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_result",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "reasoning_content",
        # Responses API output items (the Responses mode's content): the function calls are in
        # tool_calls; the rest has no chat form.
        "function_call",
        "refusal",
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "mcp_call",
        "mcp_list_tools",
        "image_generation_call",
    }
)
# The first base64 characters of common image formats, for blocks that give no mime type.
_IMAGE_SIGNATURES = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)
_AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


# ---- messages -------------------------------------------------------------------------------


def to_wire_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Convert LangChain messages to wire messages (``{"role", "content", ...}`` dicts).

    Raises:
        ValueError: A message type or content block the API cannot carry.
    """
    return [to_wire_message(m) for m in messages]


def to_wire_message(message: BaseMessage) -> dict[str, Any]:
    """Convert one LangChain message to a wire message.

    Raises:
        ValueError: A message type or content block the API cannot carry.
    """
    content = message.content
    out: dict[str, Any]
    match message:
        case HumanMessage():
            out = {"role": "user", "content": to_wire_content(content)}
        case AIMessage():
            audio, content = _audio_reference(message, content)
            out = {"role": "assistant", "content": _text_of(content, "assistant")}
            calls = [to_wire_tool_call(c) for c in message.tool_calls]
            calls.extend(_invalid_to_wire(c) for c in message.invalid_tool_calls)
            if not calls and message.additional_kwargs.get("tool_calls"):
                calls = list(message.additional_kwargs["tool_calls"])  # legacy OpenAI form
            if calls:
                out["tool_calls"] = calls
            if audio is not None:
                out["audio"] = audio
            if (calls or audio is not None) and not out["content"]:
                out["content"] = None
        case SystemMessage():
            role = message.additional_kwargs.get("__openai_role__")
            out = {"role": "developer" if role == "developer" else "system"}
            out["content"] = _text_of(content, out["role"])
        case ToolMessage():
            return {
                "role": "tool",
                "tool_call_id": message.tool_call_id,
                "content": _tool_content(content),
            }
        case ChatMessage():
            out = {"role": message.role, "content": to_wire_content(content)}
        case FunctionMessage():
            return {
                "role": "function",
                "name": message.name,
                "content": _text_of(content, "function"),
            }
        case _:
            raise ValueError(
                f"Cannot send a {type(message).__name__} to the chat completions API: use "
                "System, Human, AI, Tool or Chat messages."
            )
    if message.name:
        out["name"] = message.name
    return out


def _audio_reference(
    message: AIMessage, content: str | list[Any]
) -> tuple[dict[str, Any] | None, str | list[Any]]:
    """An earlier spoken answer, sent back by its id (the API keeps the audio), and the rest.

    The id comes from a v1 ``audio`` block with an ``id`` in the content, or from
    ``additional_kwargs["audio"]`` (where `from_wire_completion` puts the answer's ``audio``).
    """
    audio: dict[str, Any] | None = None
    if isinstance(content, list):
        rest = []
        for block in content:
            if isinstance(block, Mapping) and block.get("type") == "audio" and block.get("id"):
                audio = {"id": block["id"]}
            else:
                rest.append(block)
        content = rest
    raw = message.additional_kwargs.get("audio")
    if audio is None and isinstance(raw, Mapping):
        audio = {"id": raw["id"]} if raw.get("id") else dict(raw)
    return audio, content


def _text_of(content: str | list[Any], role: str) -> str:
    """The text of a content: a string as is, the text blocks of a list joined.

    Blocks of an assistant's own output (reasoning, tool calls) are left out: the tool calls travel
    in ``tool_calls``. Any other block (an image in a system message...) cannot be sent in this
    role, and is an error rather than silently dropped.

    Raises:
        ValueError: A block this role cannot carry.
    """
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
            continue
        kind = block.get("type", "text") if isinstance(block, Mapping) else None
        if kind in ("text", "text-plain"):
            text = block.get("text")
            if isinstance(text, str):
                parts.append(text)
        elif kind not in _ASSISTANT_ONLY_BLOCKS:
            shown = _preview(block) if isinstance(block, Mapping) else repr(block)
            raise ValueError(
                f"A {role} message can only carry text: cannot send this block: {shown}"
            )
    return "".join(parts)


def _tool_content(content: str | list[Any]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts = to_wire_content(content)
    if isinstance(parts, list) and all(p.get("type") == "text" for p in parts):
        return "".join(p["text"] for p in parts)  # the API's tool content is a string
    return parts


def to_wire_content(content: str | list[Any]) -> str | list[dict[str, Any]]:
    """Convert a user message's content (a string or a list of blocks) to wire content parts.

    Raises:
        ValueError: A block the API cannot carry (a provider file id, a file URL).
    """
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
            continue
        kind = block.get("type")
        match kind:
            case "text" | "text-plain" | None if "text" in block:
                parts.append({"type": "text", "text": block["text"]})
            case "image_url":
                parts.append(_image_url_part(block))
            case "image":
                parts.append(_image_part(block))
            case "input_audio":
                parts.append({"type": "input_audio", "input_audio": dict(block["input_audio"])})
            case "audio":
                parts.append(_audio_part(block))
            case "file":
                parts.append(_file_part(block))
            case _ if kind in _ASSISTANT_ONLY_BLOCKS:
                continue
            case _:
                # An unknown block goes as is: the endpoint knows better than a guess here.
                parts.append(dict(block))
    return parts


def _image_url_part(block: Mapping[str, Any]) -> dict[str, Any]:
    value = block.get("image_url")
    if isinstance(value, str):
        return {"type": "image_url", "image_url": {"url": value}}
    if isinstance(value, Mapping) and isinstance(value.get("url"), str):
        image = {"url": value["url"]}
        if value.get("detail"):
            image["detail"] = value["detail"]
        return {"type": "image_url", "image_url": image}
    raise ValueError(f"An image_url block needs a URL: {_preview(block)}")


def _image_part(block: Mapping[str, Any]) -> dict[str, Any]:
    """A standard image block (v0, v1 or Anthropic spelling) as an ``image_url`` part."""
    url: str | None = None
    source_type = block.get("source_type")
    source = block.get("source")
    if source_type == "base64" or (source_type is None and "base64" in block):
        data = block.get("data") if source_type == "base64" else block.get("base64")
        url = _data_url(data, block.get("mime_type"))
    elif source_type == "url" or (source_type is None and "url" in block):
        url = block.get("url")
    elif isinstance(source, Mapping):  # Anthropic: {"source": {"type": "base64", ...}}
        if source.get("type") == "base64":
            url = _data_url(source.get("data"), source.get("media_type"))
        elif source.get("type") == "url":
            url = source.get("url")
    if not isinstance(url, str) or not url:
        raise ValueError(
            "Cannot send this image block: use base64 data or a URL (provider file ids are not "
            f"part of the API): {_preview(block)}"
        )
    image = {"url": url}
    detail = block.get("detail") or (block.get("extras") or {}).get("detail")
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def _data_url(data: Any, mime_type: Any) -> str | None:
    if not isinstance(data, str) or not data:
        return None
    if data.startswith("data:"):
        return data
    if not isinstance(mime_type, str) or not mime_type:
        mime_type = next((m for sig, m in _IMAGE_SIGNATURES if data.startswith(sig)), "image/jpeg")
    return f"data:{mime_type};base64,{data}"


def _audio_part(block: Mapping[str, Any]) -> dict[str, Any]:
    data = _base64_of(block)
    if not isinstance(data, str):
        raise ValueError(f"Cannot send this audio block: use base64 data: {_preview(block)}")
    mime = block.get("mime_type") or "audio/wav"
    fmt = _AUDIO_FORMATS.get(mime, mime.rsplit("/", 1)[-1])
    return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}


def _file_part(block: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(block.get("file"), Mapping):  # already the OpenAI form
        return {"type": "file", "file": dict(block["file"])}
    data = _base64_of(block)
    if not isinstance(data, str):
        raise ValueError(f"Cannot send this file block: use base64 data: {_preview(block)}")
    mime = block.get("mime_type") or "application/pdf"
    extras = block.get("extras") or {}
    name = (
        block.get("filename")
        or extras.get("filename")
        or (block.get("metadata") or {}).get("filename")
    )
    return {
        "type": "file",
        "file": {"filename": name or "file", "file_data": f"data:{mime};base64,{data}"},
    }


def _base64_of(block: Mapping[str, Any]) -> Any:
    if block.get("source_type") == "base64":
        return block.get("data")
    return block.get("base64")


def _preview(block: Mapping[str, Any]) -> str:
    """The block's keys and short values: base64 payloads never go into an error message."""
    shown = {
        k: v
        if isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 80)
        else "..."
        for k, v in block.items()
    }
    return repr(shown)


def image_from_file(path: str | Path, *, detail: str | None = None) -> dict[str, Any]:
    """Read a local image file into an ``image_url`` content block (a base64 data URL).

    Args:
        path: The image file.
        detail: ``"auto"``, ``"low"`` or ``"high"``, for models that take it.

    Returns:
        ``{"type": "image_url", "image_url": {"url": "data:<mime>;base64,...", "detail"?}}``,
        ready for ``HumanMessage(content=[{"type": "text", ...}, image_from_file("cat.png")])``.

    Raises:
        OSError: The file cannot be read.
    """
    path = Path(path)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    image: dict[str, Any] = {"url": f"data:{mime};base64,{data}"}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


# ---- tools ----------------------------------------------------------------------------------


def to_wire_tool(tool: Any, *, strict: bool | None = None) -> dict[str, Any]:
    """Convert a LangChain tool, function, pydantic model, TypedDict or dict to a wire tool."""
    return convert_to_openai_tool(tool, strict=strict)


def to_wire_tool_call(call: ToolCall) -> dict[str, Any]:
    """Convert a LangChain tool call to the wire form an assistant message sends back."""
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
    }


def _invalid_to_wire(call: InvalidToolCall) -> dict[str, Any]:
    # Sent back as the model wrote it, so the conversation stays consistent with the tool reply.
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call.get("name") or "", "arguments": call.get("args") or ""},
    }


# ---- answers --------------------------------------------------------------------------------


def tool_calls_from_wire(
    raw: Sequence[WireToolCall] | None,
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parse an answer's tool calls; arguments that are not a JSON object become invalid calls."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw_call in raw or ():
        fn = raw_call.function
        name, text = fn.name, fn.arguments
        try:
            # strict=False: models put raw newlines inside JSON strings.
            args = json.loads(text, strict=False) if text and not text.isspace() else {}
        except ValueError as exc:
            invalid.append(
                invalid_tool_call(
                    name=name, args=text, id=raw_call.id, error=f"Arguments are not JSON: {exc}"
                )
            )
            continue
        if not isinstance(args, dict) or not name:
            error = "No function name" if not name else "Arguments are not a JSON object"
            invalid.append(invalid_tool_call(name=name, args=text, id=raw_call.id, error=error))
            continue
        calls.append(tool_call(name=name, args=args, id=raw_call.id))
    return calls, invalid


def usage_from_wire(usage: CompletionUsage) -> UsageMetadata:
    """Convert the API's token counts and their details to ``UsageMetadata``, as ChatOpenAI does.

    ``input_token_details``: ``cache_read`` (``cached_tokens``), ``cache_creation``
    (``cache_write_tokens``), ``audio``; ``output_token_details``: ``reasoning``, ``audio``.
    A detail the service did not send is left out.
    """
    input_tokens = usage.prompt_tokens or 0
    output_tokens = usage.completion_tokens or 0
    total = usage.total_tokens or (input_tokens + output_tokens)
    result = UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=total
    )
    prompt = usage.prompt_tokens_details
    if prompt is not None:
        details = InputTokenDetails()
        if prompt.audio_tokens is not None:
            details["audio"] = prompt.audio_tokens
        if prompt.cached_tokens is not None:
            details["cache_read"] = prompt.cached_tokens
        if prompt.cache_write_tokens is not None:
            details["cache_creation"] = prompt.cache_write_tokens
        if details:
            result["input_token_details"] = details
    completion = usage.completion_tokens_details
    if completion is not None:
        out_details = OutputTokenDetails()
        if completion.audio_tokens is not None:
            out_details["audio"] = completion.audio_tokens
        if completion.reasoning_tokens is not None:
            out_details["reasoning"] = completion.reasoning_tokens
        if out_details:
            result["output_token_details"] = out_details
    return result


def _usage_dict(usage: CompletionUsage) -> dict[str, Any]:
    """Token counts under both spellings: ChatOpenAI's and the peer's (``input_tokens``...).

    The details (``prompt_tokens_details``...) and anything else the service sent are kept as
    they came, as ChatOpenAI's ``token_usage`` keeps them.
    """
    out: dict[str, Any] = usage.model_dump(exclude_unset=True)
    out.update(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
    )
    return out


def _answer_metadata(
    model_name: str | None,
    answer_id: str | None,
    system_fingerprint: str | None,
    usage: CompletionUsage | None,
    prompt_filter_results: list[Any] | None,
) -> dict[str, Any]:
    """What both a message's ``response_metadata`` and ``llm_output`` say about an answer.

    The keys of ChatOpenAI (``model_name``, ``token_usage`` with ``prompt_tokens``...) and of the
    peer ``langchain-azure-ai`` (``model``, ``token_usage`` with ``input_tokens``...) together, so
    code written for either works; Azure's ``prompt_filter_results`` as AzureChatOpenAI keeps them.
    """
    metadata: dict[str, Any] = {"model_name": model_name, "model": model_name}
    if answer_id:
        metadata["id"] = answer_id
    if system_fingerprint:
        metadata["system_fingerprint"] = system_fingerprint
    if usage is not None:
        metadata["token_usage"] = _usage_dict(usage)
    if prompt_filter_results is not None:
        metadata["prompt_filter_results"] = prompt_filter_results
    return metadata


def _message_kwargs(wire: ChatResponseMessage) -> dict[str, Any]:
    """``additional_kwargs`` of an answer's message: reasoning, refusal and audio."""
    additional: dict[str, Any] = {}
    reasoning = wire.reasoning_text
    if reasoning:
        additional["reasoning_content"] = reasoning
    if wire.refusal:
        additional["refusal"] = wire.refusal
    extra = wire.model_extra
    if extra and extra.get("audio"):  # modalities=["text", "audio"]: id, data, transcript...
        additional["audio"] = extra["audio"]
    return additional


def from_wire_completion(completion: ChatCompletion, *, model: str | None = None) -> ChatResult:
    """Convert a chat completion to a ``ChatResult`` (one generation per choice).

    Args:
        completion: The parsed answer.
        model: The model asked for, used as ``model_name`` when the answer names none.

    The core's client has checked that it has a choice (`parse_chat_completion`).
    """
    usage = completion.usage
    usage_metadata = usage_from_wire(usage) if usage is not None else None
    shared = _answer_metadata(
        completion.model or model,
        completion.id,
        completion.system_fingerprint,
        usage,
        completion.prompt_filter_results,
    )
    metadata = {**shared, "model_provider": MODEL_PROVIDER}
    generations = []
    for choice in completion.choices or ():
        wire = choice.message
        calls, invalid = tool_calls_from_wire(wire.tool_calls)
        response_metadata = {**metadata, "finish_reason": choice.finish_reason}
        info: dict[str, Any] = {"finish_reason": choice.finish_reason}
        if choice.content_filter_results is not None:
            response_metadata["content_filter_results"] = choice.content_filter_results
            info["content_filter_results"] = choice.content_filter_results
        message = AIMessage(
            content=wire.text or "",
            tool_calls=calls,
            invalid_tool_calls=invalid,
            additional_kwargs=_message_kwargs(wire),
            response_metadata=response_metadata,
            usage_metadata=usage_metadata,
            id=completion.id,
        )
        if choice.model_extra and choice.model_extra.get("logprobs"):
            info["logprobs"] = choice.model_extra["logprobs"]  # as ChatOpenAI: in response_metadata
        generations.append(ChatGeneration(message=message, generation_info=info))
    llm_output = {k: v for k, v in shared.items() if k != "id"}
    return ChatResult(generations=generations, llm_output=llm_output)


def from_wire_delta(delta: ChoiceDelta | None) -> ChatGenerationChunk | None:
    """Convert what a stream chunk added to the first choice to a ``ChatGenerationChunk``.

    ``delta`` is the core stream state's reading of the chunk (`ChatStreamState.delta`); None
    comes back where nothing is new. Tool-call pieces carry a call's ``id`` and name once,
    where a server repeats them in every delta (the state drops the repeats).

    Usage, the finish reason, the model name and the answer's id are not read here: they come
    once, on the final chunk (`final_chunk_from_state`), so servers that repeat cumulative usage
    on every chunk are not counted twice, and each token costs one small message. (LangChain
    gives the other chunks the run's id; the aggregated message keeps the answer's.)
    """
    if delta is None or delta.is_empty:
        return None
    info = {"logprobs": delta.logprobs} if delta.logprobs else None
    if not delta.tool_calls and not delta.reasoning and not delta.refusal:
        # The common case: a text token.
        return ChatGenerationChunk(message=AIMessageChunk(content=delta.text), generation_info=info)
    additional: dict[str, Any] = {}
    if delta.reasoning:
        additional["reasoning_content"] = delta.reasoning
    if delta.refusal:
        additional["refusal"] = delta.refusal
    return ChatGenerationChunk(
        generation_info=info,
        message=AIMessageChunk(
            content=delta.text,
            tool_call_chunks=[
                tool_call_chunk(name=p.name, args=p.arguments, id=p.id, index=p.position)
                for p in delta.tool_calls
            ],
            additional_kwargs=additional,
        ),
    )


def final_chunk_from_state(
    state: ChatStreamState, *, model: str | None = None
) -> ChatGenerationChunk:
    """The last chunk of a stream: usage, finish reason and metadata, ``chunk_position="last"``.

    Args:
        state: The core's stream state after the stream ended.
        model: The model asked for, used as ``model_name`` when the stream names none.
    """
    choice = state.choice(0)
    finish_reason = choice.finish_reason if choice is not None else None
    metadata = _answer_metadata(
        state.model or model,
        state.id,
        state.system_fingerprint,
        state.usage,
        state.prompt_filter_results,
    )
    metadata["model_provider"] = MODEL_PROVIDER
    metadata["finish_reason"] = finish_reason
    info: dict[str, Any] = {"finish_reason": finish_reason}
    if choice is not None and choice.content_filter_results is not None:
        metadata["content_filter_results"] = choice.content_filter_results
        info["content_filter_results"] = choice.content_filter_results
    message = AIMessageChunk(
        content="",
        id=state.id,
        usage_metadata=usage_from_wire(state.usage) if state.usage is not None else None,
        response_metadata=metadata,
        chunk_position="last",
    )
    return ChatGenerationChunk(message=message, generation_info=info)
