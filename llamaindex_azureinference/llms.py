"""`AzureAICompletionsModel`: a LlamaIndex `FunctionCallingLLM` on the shared core.

Drop-in for ``llama_index.llms.azure_inference.AzureAICompletionsModel`` (same constructor
arguments), with streaming token usage, streamed tool calls, ``json_schema`` structured output,
images, ``model_extras`` and the core's errors, retries and endpoint forms.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any, Literal

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr, field_validator
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel

from azureinference import (
    AsyncClient,
    ChatCompletion,
    ChatCompletionChunk,
    ChatStreamState,
    Client,
    ConfigurationError,
    JsonSchemaRefusedError,
    ModelInfo,
)
from azureinference.adapters import (
    CHAT_FIELDS,
    Connection,
    fallback_refused,
    split_model_kwargs,
    stop_sequences,
    tool_choice_for,
)
from azureinference.responses_api import (
    RESPONSES_FIELDS,
    AsyncResponseStream,
    Response,
    ResponsesNotSupportedError,
    ResponsesStreamState,
    ResponseStream,
    ResponseStreamEvent,
    responses_only_features,
)

from ._connection import (
    RedactedFields,
    check_arguments,
    check_tools,
    make_connection,
    resolve_arguments,
    restore_state,
)
from ._convert import (
    RawAnswer,
    completion_message,
    filter_kwargs,
    from_wire_message,
    message_from_state,
    to_logprobs,
    to_wire_messages,
    to_wire_tool,
    tool_selections,
    usage_kwargs,
)
from ._responses import message_from_items, new_turns, response_kwargs, to_responses_input
from ._structured import JsonSchemaProgram

__all__ = ["AzureAICompletionsModel"]

log = logging.getLogger(__name__)
dispatcher = get_dispatcher(__name__)

_DEFAULTS = (
    "logprobs",
    "top_logprobs",
    "temperature",
    "max_tokens",
    "seed",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "reasoning_effort",
)


class AzureAICompletionsModel(RedactedFields, FunctionCallingLLM):
    """A chat model of the Azure AI Model Inference API (or any OpenAI-compatible endpoint).

    ```python
    from llamaindex_azureinference import AzureAICompletionsModel

    llm = AzureAICompletionsModel(
        endpoint="https://<resource>.services.ai.azure.com/models",
        credential="<key>",  # or AzureKeyCredential, DefaultAzureCredential(), "api-key: <key>"
        model_name="gpt-4o-mini",
    )
    ```

    ``endpoint`` and ``credential`` default to ``AZURE_INFERENCE_ENDPOINT`` and
    ``AZURE_INFERENCE_CREDENTIAL``. The credential is never part of ``repr``, ``to_dict`` or
    logs; a model rebuilt with ``from_dict`` reads it from the environment (or pass it again).
    """

    model_config = ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)

    endpoint: str | None = Field(
        default=None, description="The endpoint URL, as the portal shows it."
    )
    model_name: str | None = Field(
        default=None,
        description="The model (or deployment); optional where the endpoint serves one.",
    )
    api_version: str | None = Field(
        default=None, description="Overrides the endpoint's api-version."
    )
    temperature: float | None = Field(
        default=None,
        ge=0.0,
        le=2.0,
        description="Sampling temperature, 0 to 2; None (the default) sends none, so the model "
        "uses its own (reasoning models such as gpt-5 and the o-series take no other).",
    )
    max_tokens: int | None = Field(
        default=None,
        gt=0,
        description="The most tokens to generate; sent as max_completion_tokens to the "
        "reasoning models that take only that.",
    )
    reasoning_effort: str | None = Field(
        default=None,
        description="How long a reasoning model thinks: 'none', 'minimal', 'low', 'medium', "
        "'high', 'xhigh'... (any string: the service decides; sent to any model).",
    )
    verbosity: str | None = Field(
        default=None,
        description="How long the answer is: 'low', 'medium' or 'high' (gpt-5 and later).",
    )
    keep_think_tags: bool = Field(
        default=False,
        description="Keep a <think>...</think> block at the start of the text as the service "
        "sent it; by default it becomes a ThinkingBlock before the answer's TextBlock "
        "(DeepSeek-R1, QwQ, Qwen3, Phi-4-reasoning write their reasoning there).",
    )
    seed: int | None = Field(default=None, description="The random seed for sampling.")
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="More request parameters; those the API does not define go as model_extras.",
    )
    model_extras: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameters the model knows but the API does not, sent with "
        "extra-parameters: pass-through.",
    )
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="The model's context window; default: the model's profile "
        "(azureinference.profiles), else LlamaIndex's default (3,900).",
    )
    num_output: int | None = Field(
        default=None,
        gt=0,
        description="Tokens reserved for the answer; default: max_tokens, else the model's "
        "output limit (at most a quarter of its window), else LlamaIndex's default (256).",
    )
    timeout: float | None = Field(default=120.0, description="Seconds per request.")
    max_retries: int = Field(default=2, ge=0)
    structured_output_method: Literal["json_schema", "function_calling"] = Field(
        default="json_schema",
        description="How structured_predict asks: the API's json_schema response format "
        "(falls back to function calling where refused), or function calling.",
    )
    use_responses_api: bool | None = Field(
        default=None,
        description="Ask through the Responses API (POST .../responses) instead of chat "
        "completions; None (default): when a parameter only it has is set (reasoning summaries, "
        "include, store, previous_response_id, track_previous_responses, built_in_tools). A "
        "model the endpoint refuses it for falls back to chat completions, with one warning.",
    )
    reasoning_options: dict[str, Any] | None = Field(
        default=None,
        description="The Responses API's reasoning, e.g. {'effort': 'low', 'summary': 'auto'} "
        "(in chat completions, its effort is sent as reasoning_effort).",
    )
    include: list[str] | None = Field(
        default=None,
        description="What the Responses API adds to its answers, e.g. "
        "['reasoning.encrypted_content'] (sent back with the reasoning next turn).",
    )
    store: bool | None = Field(
        default=None, description="Whether the service stores the answers (None: its default)."
    )
    previous_response_id: str | None = Field(
        default=None,
        description="The answer the next request continues (only the messages after the last "
        "assistant message are sent with it).",
    )
    track_previous_responses: bool = Field(
        default=False,
        description="Continue from each answer: its id becomes previous_response_id.",
    )
    instructions: str | None = Field(
        default=None,
        description="System instructions for every call: the Responses API's instructions; "
        "in chat completions, a first system message.",
    )
    built_in_tools: list[dict[str, Any]] | None = Field(
        default=None,
        description="The Responses API's built-in tools sent with every call, e.g. "
        "[{'type': 'web_search'}] (their calls are in additional_kwargs['built_in_tool_calls']).",
    )
    default_headers: dict[str, str] | None = Field(
        default=None,
        description="Headers sent with every request (a gateway's subscription key...); their "
        "values are hidden wherever the model is shown.",
    )
    logprobs: bool | None = Field(
        default=None,
        description="Ask for the answer tokens' log probabilities (ChatResponse.logprobs).",
    )
    top_logprobs: int | None = Field(
        default=None, ge=0, le=20, description="How many alternatives per token with logprobs."
    )
    strict: bool = Field(
        default=False,
        description="Strict function calling: the tools' schemas sent with strict=True and no "
        "additional properties (as llama-index's OpenAI class).",
    )
    client_kwargs: dict[str, Any] = Field(default_factory=dict, exclude=True)

    _credential: Any = PrivateAttr(default=None)

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return stop_sequences(value) if isinstance(value, str) else value

    _connection: Connection = PrivateAttr()
    _model_info: ModelInfo | None = PrivateAttr(default=None)
    _served_model: str | None = PrivateAttr(default=None)

    def __init__(
        self,
        endpoint: str | None = None,
        credential: Any = None,
        *,
        client_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        endpoint, credential = resolve_arguments(endpoint, credential, kwargs)
        credential = check_arguments(
            "AzureAICompletionsModel", kwargs, type(self).model_fields, credential, client_kwargs
        )
        super().__init__(endpoint=endpoint, client_kwargs=dict(client_kwargs or {}), **kwargs)
        if self.use_responses_api is False and self._responses_only():
            raise ConfigurationError(
                f"use_responses_api=False, but {', '.join(self._responses_only())} only the "
                "Responses API has: leave use_responses_api unset (or True)."
            )
        self._credential = credential
        self._connection = make_connection(
            endpoint,
            self._credential,
            model=self.model_name,
            api_version=self.api_version,
            timeout=self.timeout,
            max_retries=self.max_retries,
            client_kwargs=self.client_kwargs,
            headers=self.default_headers,
        )

    @classmethod
    def class_name(cls) -> str:
        """The name ``to_dict`` records."""
        return "AzureAICompletionsModel"

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

    @property
    def metadata(self) -> LLMMetadata:
        """What LlamaIndex needs to know; never calls the endpoint.

        The model's name is the one given, else the one the first answer named, else
        ``/info``'s once `get_model_info` was called. The context window and the tokens kept for
        the answer come from the arguments, else from the model's profile
        (`azureinference.profiles`), else are LlamaIndex's defaults.
        """
        info_name = self._model_info.model_name if self._model_info else None
        name = self.model_name or self._served_model or info_name
        profile = self._connection.profile(self._served_model, info_name)
        reserve = profile.output_reserve() if profile else None
        window = self.context_window
        if window is None and profile is not None:
            # Never more than the input limit plus the answer (gpt-5: 272,000 in, of 400,000).
            window = min(profile.context_window, profile.input_limit + (reserve or 0))
        calls_tools = profile.tool_calling if profile else None
        return LLMMetadata(
            context_window=window or DEFAULT_CONTEXT_WINDOW,
            num_output=self.num_output or self.max_tokens or reserve or DEFAULT_NUM_OUTPUTS,
            is_chat_model=True,
            is_function_calling_model=calls_tools is not False,
            model_name=name or "unknown",
            system_role=MessageRole.SYSTEM,
        )

    def get_model_info(self) -> ModelInfo | None:
        """The endpoint's ``/info`` (fetched once; None where the endpoint has none)."""
        if self._model_info is None:
            self._model_info = self._client.get_model_info(self.model_name)
        return self._model_info

    def _note_model(self, model: str | None) -> None:
        """Keep the model the first answer named, for `metadata` (no ``/info`` call needed)."""
        if model and self._served_model is None:
            self._served_model = model

    # --- requests ------------------------------------------------------------------------

    def _params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name in _DEFAULTS:
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        effort = (self.reasoning_options or {}).get("effort")
        if effort is not None:
            params["reasoning_effort"] = effort
        extras = split_model_kwargs(self.model_kwargs, CHAT_FIELDS, params, self.model_extras)
        # Not a field of the Model Inference API: an extra (extra-parameters: pass-through),
        # which Azure OpenAI and OpenAI take as the standard field it is.
        verbosity = kwargs.pop("verbosity", None) or self.verbosity
        if verbosity is not None:
            extras["verbosity"] = verbosity
        if "model_extras" in kwargs:
            extras.update(kwargs.pop("model_extras") or {})
        if self.keep_think_tags:
            params["keep_think_tags"] = True
        params.update(kwargs)
        if extras:
            params["model_extras"] = extras
        return params

    def _chat_response(self, completion: ChatCompletion) -> ChatResponse:
        self._note_model(completion.model)
        message = from_wire_message(completion_message(completion))
        choice = (completion.choices or [])[0]  # the client checked that there is one
        if choice.finish_reason:
            message.additional_kwargs["finish_reason"] = choice.finish_reason
        extra = usage_kwargs(completion.usage)
        extra.update(filter_kwargs(completion.prompt_filter_results, choice.content_filter_results))
        return ChatResponse(
            message=message,
            raw=RawAnswer(completion),
            additional_kwargs=extra,
            logprobs=to_logprobs((choice.model_extra or {}).get("logprobs")),
        )

    def _wire(self, messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
        """Chat completions messages, ``instructions`` (where set) first as a system message."""
        wire = to_wire_messages(messages)
        if self.instructions is not None:
            wire.insert(0, {"role": "system", "content": self.instructions})
        return wire

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        if self._responses_mode:
            try:
                return self._respond(messages, kwargs)
            except ResponsesNotSupportedError as err:
                self._fall_back(err, kwargs)
        completion = self._client.complete(self._wire(messages), **self._params(kwargs))
        return self._chat_response(completion)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        if self._responses_mode:
            try:
                return await self._arespond(messages, kwargs)
            except ResponsesNotSupportedError as err:
                self._fall_back(err, kwargs)
        completion = await self._aclient.complete(self._wire(messages), **self._params(kwargs))
        return self._chat_response(completion)

    @staticmethod
    def _stream_response(state: ChatStreamState, chunk: ChatCompletionChunk) -> ChatResponse:
        """One response of a stream: the message so far, read from the core's stream state.

        ``delta`` is the chunk's new text; token usage and filter results are the stream's so
        far (usage may come in a chunk followed by others, as OpenAI's moderation chunk).
        """
        delta = state.delta(0)
        choice = state.choice(0)
        message = message_from_state(choice, finished=state.finished)
        if choice is not None and choice.finish_reason:
            message.additional_kwargs["finish_reason"] = choice.finish_reason
        extra = usage_kwargs(state.usage)
        if state.prompt_filter_results is not None or (
            choice is not None and choice.content_filter_results is not None
        ):
            extra.update(
                filter_kwargs(
                    state.prompt_filter_results,
                    choice.content_filter_results if choice is not None else None,
                )
            )
        return ChatResponse(
            message=message,
            delta=delta.text if delta is not None else "",
            raw=RawAnswer(chunk),
            additional_kwargs=extra,
            logprobs=to_logprobs(delta.logprobs) if delta is not None else None,
        )

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        if self._responses_mode:
            return self._stream_respond(messages, kwargs)
        return self._stream_complete(messages, kwargs)

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        if self._responses_mode:
            return self._astream_respond(messages, kwargs)
        return self._astream_complete(messages, kwargs)

    def _stream_complete(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> ChatResponseGen:
        wire = self._wire(messages)
        params = self._params(kwargs)

        def gen() -> ChatResponseGen:
            with self._client.stream(wire, **params) as stream:
                noted = False  # the model is noted once, from the first chunk naming it
                for chunk in stream:
                    if not noted and chunk.model:
                        self._note_model(chunk.model)
                        noted = True
                    yield self._stream_response(stream.state, chunk)

        return gen()

    def _astream_complete(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> ChatResponseAsyncGen:
        wire = self._wire(messages)
        params = self._params(kwargs)

        async def gen() -> ChatResponseAsyncGen:
            stream = await self._aclient.stream(wire, **params)
            async with stream:
                noted = False  # the model is noted once, from the first chunk naming it
                async for chunk in stream:
                    if not noted and chunk.model:
                        self._note_model(chunk.model)
                        noted = True
                    yield self._stream_response(stream.state, chunk)

        return gen()

    # --- the Responses API ---------------------------------------------------------------

    def _responses_only(self, kwargs: dict[str, Any] | None = None) -> list[str]:
        """What of the model's (and a call's) parameters only the Responses API has."""
        params = {
            "reasoning": self.reasoning_options,
            "include": self.include,
            "store": self.store,
            "previous_response_id": self.previous_response_id,
            **(kwargs or {}),
        }
        if self.built_in_tools:
            params["tools"] = [*self.built_in_tools, *(params.get("tools") or ())]
        found = responses_only_features(params)
        if self.track_previous_responses:
            found.append("track_previous_responses")
        return found

    @property
    def _responses_mode(self) -> bool:
        if self.use_responses_api is not None:
            return self.use_responses_api
        return bool(self._responses_only())

    def _responses_params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The Responses parameters of a call: the model's, then ``model_kwargs``, then the call's.

        ``temperature`` goes only where given (reasoning models refuse it, and the field's
        default is LlamaIndex's), ``max_tokens`` as ``max_output_tokens``; chat-only parameters
        set on the model (``stop``, ``seed``...) reach the core, which names them.
        """
        kwargs = dict(kwargs)
        params: dict[str, Any] = {}
        for name in _DEFAULTS:
            value = getattr(self, name)
            if value is None or (name == "temperature" and name not in self.model_fields_set):
                continue
            params["max_output_tokens" if name == "max_tokens" else name] = value
        for name in ("include", "store", "previous_response_id"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        if self.reasoning_options:
            params["reasoning"] = dict(self.reasoning_options)
        if self.instructions is not None:
            params["instructions"] = self.instructions
        extras = split_model_kwargs(self.model_kwargs, RESPONSES_FIELDS, params, self.model_extras)
        if "model_extras" in kwargs:
            extras.update(kwargs.pop("model_extras") or {})
        params.update(kwargs)
        if self.built_in_tools:
            params["tools"] = [*self.built_in_tools, *(params.get("tools") or ())]
        if extras:
            params["model_extras"] = extras
        return params

    def _responses_request(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        params = self._responses_params(kwargs)
        if params.get("previous_response_id"):
            messages = new_turns(messages)  # the rest is in the answer continued
        return to_responses_input(messages, store=params.get("store")), params

    def _fall_back(self, err: ResponsesNotSupportedError, kwargs: dict[str, Any]) -> None:
        """Chat completions for a model without the Responses API, unless asked what it lacks.

        Raises:
            ConfigurationError: A parameter only the Responses API has, naming the model.
        """
        if err.learned:
            warnings.warn(err.fallback_warning, UserWarning, stacklevel=4)
        features = self._responses_only(kwargs)
        if features:
            raise err.feature_error(features) from err

    def _answered(self, response_id: str | None, model: str | None) -> None:
        self._note_model(model)
        if self.track_previous_responses and response_id:
            self.previous_response_id = response_id

    def _responses_chat_response(self, response: Response) -> ChatResponse:
        self._answered(response.id, response.model)
        usage = response.usage
        message = message_from_items(
            response.output, reasoning_tokens=usage.reasoning_tokens if usage else None
        )
        if response.finish_reason:
            message.additional_kwargs["finish_reason"] = response.finish_reason
        return ChatResponse(
            message=message, raw=RawAnswer(response), additional_kwargs=response_kwargs(response)
        )

    def _respond(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponse:
        wire, params = self._responses_request(messages, kwargs)
        return self._responses_chat_response(self._client.respond(wire, **params))

    async def _arespond(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> ChatResponse:
        wire, params = self._responses_request(messages, kwargs)
        return self._responses_chat_response(await self._aclient.respond(wire, **params))

    def _responses_stream_response(
        self, state: ResponsesStreamState, event: ResponseStreamEvent
    ) -> ChatResponse:
        """One response of a Responses stream: the message so far, from the core's state.

        ``delta`` is the event's new text; usage, the response id and the finish reason come
        with the terminal event (the id from the first).
        """
        extra: dict[str, Any] = {}
        if state.finished:
            answer = state.final()
            self._answered(answer.id, answer.model)
            usage = answer.usage
            message = message_from_items(
                answer.output, reasoning_tokens=usage.reasoning_tokens if usage else None
            )
            if answer.finish_reason:
                message.additional_kwargs["finish_reason"] = answer.finish_reason
            extra = response_kwargs(answer)
        else:
            message = message_from_items(state.items, partial=True)
            if state.id:
                extra["response_id"] = state.id
        delta = event.delta if event.type == "response.output_text.delta" else None
        return ChatResponse(
            message=message,
            delta=delta if isinstance(delta, str) else "",
            raw=RawAnswer(event),
            additional_kwargs=extra,
        )

    def _stream_respond(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> ChatResponseGen:
        wire, params = self._responses_request(messages, kwargs)

        def gen() -> ChatResponseGen:
            try:
                stream: ResponseStream = self._client.stream_response(wire, **params)
            except ResponsesNotSupportedError as err:
                self._fall_back(err, kwargs)
                yield from self._stream_complete(messages, kwargs)
                return
            with stream:
                for event in stream:
                    yield self._responses_stream_response(stream.state, event)

        return gen()

    def _astream_respond(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> ChatResponseAsyncGen:
        wire, params = self._responses_request(messages, kwargs)

        async def gen() -> ChatResponseAsyncGen:
            try:
                stream: AsyncResponseStream = await self._aclient.stream_response(wire, **params)
            except ResponsesNotSupportedError as err:
                self._fall_back(err, kwargs)
                async for response in self._astream_complete(messages, kwargs):
                    yield response
                return
            async with stream:
                async for event in stream:
                    yield self._responses_stream_response(stream.state, event)

        return gen()

    # --- the LLM interface ---------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Chat."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Chat, asynchronously."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream a chat answer; the last response carries the token usage."""
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Stream a chat answer, asynchronously."""
        return await self._astream_chat(messages, **kwargs)

    def _prompt_messages(self, prompt: str, formatted: bool) -> list[ChatMessage]:
        if not formatted and self.completion_to_prompt is not None:
            prompt = self.completion_to_prompt(prompt)
        return [ChatMessage(role=MessageRole.USER, content=prompt)]

    @staticmethod
    def _completion(response: ChatResponse) -> CompletionResponse:
        return CompletionResponse(
            text=response.message.content or "",
            raw=response.raw,
            additional_kwargs=response.additional_kwargs,
            delta=response.delta,
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt (sent as one user message)."""
        return self._completion(self._chat(self._prompt_messages(prompt, formatted), **kwargs))

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Complete a prompt, asynchronously."""
        response = await self._achat(self._prompt_messages(prompt, formatted), **kwargs)
        return self._completion(response)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion."""
        responses = self._stream_chat(self._prompt_messages(prompt, formatted), **kwargs)
        return (self._completion(r) for r in responses)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Stream a completion, asynchronously."""
        responses = await self._astream_chat(self._prompt_messages(prompt, formatted), **kwargs)

        async def gen() -> CompletionResponseAsyncGen:
            async for response in responses:
                yield self._completion(response)

        return gen()

    # --- tools ---------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])  # the caller's list is never changed
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        specs = [to_wire_tool(tool, strict=self.strict) for tool in check_tools(tools)]
        names = [spec["function"]["name"] for spec in specs]
        if tool_choice is None and tool_required:
            # One tool required is that tool, named: as LangChain's structured output asks
            # (llama-cpp-python ignores "required", or answers it with a 500).
            tool_choice = names[0] if len(names) == 1 else "required"
        return {
            "messages": messages,
            "tools": specs or None,
            "tool_choice": tool_choice_for(tool_choice or "auto", names) if specs else None,
            **kwargs,
        }

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[Any],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            seen = False
            kept = []
            for block in response.message.blocks:
                if isinstance(block, ToolCallBlock):
                    if seen:
                        continue
                    seen = True
                kept.append(block)
            response.message.blocks = kept
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The tool calls of a response.

        Raises:
            ValueError: No tool call (when ``error_on_no_tool_call``), or a call whose arguments
                are not a JSON object.
        """
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            raise ValueError("Expected at least one tool call, but got 0 tool calls.")
        return selections

    # --- structured output ---------------------------------------------------------------

    def _json_schema_program(
        self, output_cls: type[BaseModel], prompt: PromptTemplate
    ) -> JsonSchemaProgram | None:
        if (
            self.structured_output_method != "json_schema"
            or self.pydantic_program_mode != PydanticProgramMode.DEFAULT
            or self._connection.capabilities.json_schema is False
        ):
            return None
        return JsonSchemaProgram(self, output_cls, prompt)

    def structured_predict(
        self,
        output_cls: type[BaseModel],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> BaseModel:
        """Predict an instance of ``output_cls``: json_schema where taken, else function calling."""
        program = self._json_schema_program(output_cls, prompt)
        if program is not None:
            dispatcher.event(
                LLMStructuredPredictStartEvent(
                    output_cls=output_cls, template=prompt, template_args=prompt_args
                )
            )
            try:
                result = program(llm_kwargs=llm_kwargs, **prompt_args)
            except JsonSchemaRefusedError as err:
                with _fallback_refused(err):
                    return super().structured_predict(  # type: ignore[no-any-return]
                        output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
                    )
            else:
                dispatcher.event(LLMStructuredPredictEndEvent(output=result))
                return result
        fallback: BaseModel = super().structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
        return fallback

    async def astructured_predict(
        self,
        output_cls: type[BaseModel],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> BaseModel:
        """`structured_predict`, asynchronously."""
        program = self._json_schema_program(output_cls, prompt)
        if program is not None:
            dispatcher.event(
                LLMStructuredPredictStartEvent(
                    output_cls=output_cls, template=prompt, template_args=prompt_args
                )
            )
            try:
                result = await program.acall(llm_kwargs=llm_kwargs, **prompt_args)
            except JsonSchemaRefusedError as err:
                with _fallback_refused(err):
                    return await super().astructured_predict(  # type: ignore[no-any-return]
                        output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
                    )
            else:
                dispatcher.event(LLMStructuredPredictEndEvent(output=result))
                return result
        fallback: BaseModel = await super().astructured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
        return fallback

    def _structured_stream_call(
        self,
        output_cls: type[BaseModel],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        program = self._json_schema_program(output_cls, prompt)
        if program is not None:
            stream = program.stream_call(llm_kwargs=llm_kwargs, **prompt_args)
            try:
                first = next(stream)  # a refusal comes before the first object
            except JsonSchemaRefusedError as err:
                return _restated(
                    err,
                    super()._structured_stream_call(
                        output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
                    ),
                )
            else:
                return _chain(first, stream)
        return super()._structured_stream_call(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )

    async def _structured_astream_call(
        self,
        output_cls: type[BaseModel],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        program = self._json_schema_program(output_cls, prompt)
        if program is not None:
            stream = program.astream_call(llm_kwargs=llm_kwargs, **prompt_args)
            try:
                first = await stream.__anext__()
            except JsonSchemaRefusedError as err:
                return _arestated(
                    err,
                    await super()._structured_astream_call(
                        output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
                    ),
                )
            else:
                return _achain(first, stream)
        return await super()._structured_astream_call(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )


def _fallback_refused(refusal: JsonSchemaRefusedError) -> fallback_refused:
    log.info("The endpoint refused json_schema; using function calling: %s", refusal)
    return fallback_refused(refusal, "json_schema structured output", "function calling")


def _restated(
    refusal: JsonSchemaRefusedError, rest: Generator[Any, None, None]
) -> Generator[Any, None, None]:
    with _fallback_refused(refusal):
        yield from rest


async def _arestated(
    refusal: JsonSchemaRefusedError, rest: AsyncGenerator[Any, None]
) -> AsyncGenerator[Any, None]:
    with _fallback_refused(refusal):
        async for item in rest:
            yield item


def _chain(first: Any, rest: Generator[Any, None, None]) -> Generator[Any, None, None]:
    yield first
    yield from rest


async def _achain(first: Any, rest: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    yield first
    async for item in rest:
        yield item
