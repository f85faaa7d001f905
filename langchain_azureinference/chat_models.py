"""`AzureAIChatCompletionsModel`: a LangChain chat model on the shared core.

A drop-in for ``langchain_azure_ai.chat_models.AzureAIChatCompletionsModel`` (same class name and
constructor arguments). All HTTP (URLs, headers, retries, SSE) is the core's; this module shapes
requests from LangChain's arguments and turns answers into LangChain messages through the pure
functions of `_convert`.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from pydantic import Field, field_validator

from azureinference import (
    AsyncChatStream,
    AsyncClient,
    ChatCompletion,
    ChatStream,
    Client,
    ConfigurationError,
    JsonSchemaRefusedError,
    paced,
    parse_endpoint,
)
from azureinference.adapters import (
    CHAT_FIELDS,
    check_chat_params,
    fallback_refused,
    public_headers,
    redact_options,
    split_model_kwargs,
    stop_sequences,
    tool_choice_for,
)
from azureinference.responses_api import (
    AsyncResponseStream,
    Response,
    ResponsesNotSupportedError,
    ResponseStream,
    responses_only_features,
)

from ._client import CREDENTIAL_ENV_VARS, ConnectionFields
from ._convert import (
    MODEL_PROVIDER,
    final_chunk_from_state,
    from_wire_completion,
    from_wire_delta,
    to_wire_messages,
    to_wire_tool,
)
from ._errors import map_errors
from ._profiles import langchain_profile
from ._responses import ResponsesChunks, from_response, responses_call
from ._structured import (
    StructuredOutputParser,
    check_schema,
    is_pydantic_class,
    to_response_format,
)

__all__ = ["AzureAIChatCompletionsModel"]

_FALLBACK_KEY = "json_schema_fallback_tool"
"""Bound by ``with_structured_output(method="json_schema")``: the tool used where json_schema is
refused. Never sent as such."""

_METHODS = ("json_schema", "function_calling", "json_mode")

# The constructor's API parameters, sent when set (a call's keywords override them).
_DEFAULT_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "reasoning_effort",
    "logprobs",
    "top_logprobs",
    "reasoning",
    "include",
)
# OpenAI body fields the Model Inference API does not define: sent as extras where needed.
_DEFAULT_OPENAI_FIELDS = ("service_tier", "store")


# Options of the core's call that are not body fields (``model_kwargs`` may carry them).
class _Request:
    """One call's wire messages and parameters, and what is needed to read or redo it."""

    __slots__ = ("fallback", "messages", "model", "params", "parse_schema", "stream_usage")

    def __init__(
        self,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        model: str | None,
        fallback: dict[str, Any] | None,
        parse_schema: Any,
        stream_usage: bool | None,
    ) -> None:
        self.messages = messages
        self.params = params
        self.model = model
        self.fallback = fallback
        self.parse_schema = parse_schema
        self.stream_usage = stream_usage

    def use_fallback(self) -> None:
        """Swap ``response_format: json_schema`` for a forced call of the schema's tool."""
        tool = self.fallback
        assert tool is not None
        params = dict(self.params)
        params.pop("response_format", None)
        params["tools"] = [*params.get("tools", ()), tool]
        params["tool_choice"] = {"type": "function", "function": {"name": tool["function"]["name"]}}
        params.pop("parallel_tool_calls", None)
        self.params = params
        self.fallback = None

    def to_chat(self) -> None:
        """Leave out what only a Responses request takes and chat needs in another form.

        ``reasoning={"effort": ...}`` is chat's ``reasoning_effort``; ``store=False`` (nothing
        kept) is what chat completions does anyway. Responses-only parameters were refused
        before (`responses_only_features`).
        """
        params = self.params
        reasoning = params.pop("reasoning", None)
        if isinstance(reasoning, Mapping) and reasoning.get("effort") is not None:
            params.setdefault("reasoning_effort", reasoning["effort"])
        if params.get("store") is False:
            del params["store"]
        for name in ("include", "previous_response_id"):
            if not params.get(name):
                params.pop(name, None)

    def falls_back(self) -> bool:
        """After a `JsonSchemaRefusedError`: True (and switched to the tool) where one is bound."""
        if self.fallback is None:
            return False
        self.use_fallback()
        return True


class AzureAIChatCompletionsModel(BaseChatModel, ConnectionFields):
    """Chat models behind the Azure AI Model Inference API or any OpenAI-compatible endpoint.

    Example:
        ```python
        from langchain_azureinference import AzureAIChatCompletionsModel

        llm = AzureAIChatCompletionsModel(
            endpoint="https://<resource>.services.ai.azure.com/models",
            credential="<key>",  # or api_key=, an AzureKeyCredential, a token credential
            model="gpt-4o-mini",
            temperature=0,
        )
        llm.invoke("Hello!")
        ```

    Every API parameter has a constructor default that a call can override
    (``llm.invoke(..., temperature=0.2)``, ``llm.bind(seed=7)``). ``model_extras`` (and
    ``model_kwargs`` entries that are not API parameters) go into the body with the
    ``extra-parameters: pass-through`` header. Unknown constructor keywords move to
    ``model_kwargs`` with a warning.

    Errors are the core's (`azureinference.errors`), raised as subclasses that are also
    ``langchain_core.exceptions`` errors (see `langchain_azureinference._errors`).
    """

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Sampling temperature, 0 to 2 (checked here, as the LlamaIndex class does)."""

    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    """Nucleus sampling probability mass, 0 to 1."""

    max_tokens: int | None = Field(default=None, gt=0)
    """The most tokens to generate (more than 0)."""

    stop: list[str] | None = None
    """Stop sequences (a single string is taken as a one-item list)."""

    seed: int | None = None
    """Sampling seed, for repeatable answers where the model supports it."""

    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    """Penalty for tokens already present, -2 to 2."""

    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    """Penalty proportional to token frequency, -2 to 2."""

    reasoning_effort: str | None = None
    """How long a reasoning model thinks: ``"none"``, ``"minimal"``, ``"low"``, ``"medium"``,
    ``"high"``, ``"xhigh"``... (any string: the service decides which it takes; sent to any
    model, never dropped). A call's ``reasoning_effort=`` overrides it."""

    verbosity: str | None = None
    """How long the answer is: ``"low"``, ``"medium"`` or ``"high"`` (gpt-5 and later; any string,
    sent to any model, with ``extra-parameters: pass-through`` since the Model Inference API does
    not define it). A call's ``verbosity=`` overrides it."""

    keep_think_tags: bool = False
    """Keep a ``<think>...</think>`` block at the start of the text as the service sent it. By
    default it is separated from the answer (DeepSeek-R1, QwQ, Qwen3, Phi-4-reasoning write
    their reasoning there): ``content`` is the answer alone, and the reasoning goes to
    ``additional_kwargs["reasoning_content"]`` and a reasoning content block."""

    streaming: bool = False
    """Use the streaming API for ``invoke`` too."""

    stream_usage: bool | None = None
    """Ask for token usage at the end of streams (``stream_options``); default on for
    OpenAI-style endpoints, where it is needed."""

    logprobs: bool | None = None
    """Ask for the log probabilities of the answer's tokens (``response_metadata["logprobs"]``)."""

    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    """How many alternatives per token with ``logprobs`` (0 to 20)."""

    service_tier: str | None = None
    """The OpenAI ``service_tier`` body field, sent where given (endpoints that do not define it
    get it as an extra parameter, as ``model_kwargs`` entries)."""

    store: bool | None = None
    """The OpenAI ``store`` body field, sent where given, like ``service_tier``: stored chat
    completions, or with the Responses API whether the service keeps the answer (its default:
    True; ``False`` with ``include=["reasoning.encrypted_content"]`` carries reasoning across
    turns statelessly)."""

    include_response_headers: bool = False
    """Put the answer's HTTP headers (request ids, rate limits; never a credential) in
    ``response_metadata["headers"]``, as ``ChatOpenAI`` does."""

    disabled_params: dict[str, Any] | None = None
    """Parameters never to send, as in ``ChatOpenAI``: ``{"parallel_tool_calls": None}`` drops
    the parameter whatever its value; a list drops it only with one of those values."""

    extra_body: dict[str, Any] | None = None
    """More JSON body fields for every request, as in ``ChatOpenAI``: API parameters are sent as
    such, the others as ``model_extras`` (with ``extra-parameters: pass-through``, which the
    Model Inference API needs to accept them). A call's ``extra_body=`` adds to it."""

    use_responses_api: bool | None = None
    """Send requests to the Responses API (``/openai/v1/responses``) rather than chat
    completions. None (default): only when a call asks for something only it has (a reasoning
    ``summary``, ``include``, ``previous_response_id``, built-in tools) or with
    ``use_previous_response_id``. Answers then come as ``ChatOpenAI``'s Responses mode gives
    them (content blocks with reasoning and text). A model the endpoint refuses it for (or an
    endpoint without the route) is sent to chat completions instead, with one warning."""

    use_previous_response_id: bool = False
    """Responses API: send only the messages after the last answer with a response id, with
    ``previous_response_id`` (the service holds the rest: ``store`` must not be False)."""

    reasoning: dict[str, Any] | None = None
    """Responses API: ``{"effort": "low" | "medium" | "high", "summary": "auto" | "concise" |
    "detailed"}``; asking for a summary chooses the Responses API. With chat completions only
    ``effort`` can be sent (as ``reasoning_effort``)."""

    include: list[str] | None = None
    """Responses API: extra output to include, e.g. ``["reasoning.encrypted_content"]`` (the
    reasoning to pass back in the next turn when ``store`` is False)."""

    # ---- construction -------------------------------------------------------------------------

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return stop_sequences(value) if isinstance(value, str) else value

    @property
    def _llm_type(self) -> str:
        return "AzureAIChatCompletionsModel"

    def _resolve_model_profile(self) -> ModelProfile | None:
        """The model's profile (`azureinference.profiles`), from its name or the deployment.

        Used when no ``profile=`` is given; None for a model not known there.
        """
        deployment = parse_endpoint(self.endpoint).deployment if self.endpoint else None
        return langchain_profile(self.model_name, deployment)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Serializable with ``langchain_core.load``; the credential is stored as a secret."""
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        """The credential is replaced by its environment variable when serialized."""
        return {"credential": CREDENTIAL_ENV_VARS[0], **self.secret_fields()}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model_name": self.model_name}
        for key in (*_DEFAULT_PARAMS, "verbosity"):
            value = getattr(self, key)
            if value is not None:
                params[key] = value
        if self.stop:
            params["stop"] = self.stop
        if self.model_kwargs:
            params["model_kwargs"] = redact_options(self.model_kwargs)
        if self.model_extras:
            params["model_extras"] = self.model_extras
        if self.use_responses_api is not None:
            params["use_responses_api"] = self.use_responses_api
        if self.use_previous_response_id:
            params["use_previous_response_id"] = True
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """Standard LangSmith parameters, honouring per-call overrides (``model``...)."""
        params = LangSmithParams(
            ls_provider=MODEL_PROVIDER,
            ls_model_name=kwargs.get("model") or self.model_name or "",
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        ls_stop = stop or kwargs.get("stop") or self.stop
        if ls_stop:
            check_chat_params({"stop": ls_stop})  # LangChain asks for these before our request
            params["ls_stop"] = stop_sequences(ls_stop)
        return params

    # ---- request shaping (no I/O) ---------------------------------------------------------

    def _request(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        capabilities: Any,
    ) -> _Request:
        """Merge the constructor's defaults with the call's arguments into one request."""
        params = self._default_params(stop)
        extras = self._default_extras(params)
        call = dict(kwargs)
        call.pop("stream", None)
        stream_usage = call.pop("stream_usage", self.stream_usage)
        fallback = call.pop(_FALLBACK_KEY, None)
        extras = _take_call_extras(call, params, extras)
        _take_tools(call, params)
        parse_schema = _take_response_format(call, params)
        params.update(call)
        request = _Request(
            to_wire_messages(messages),
            params,
            params.get("model") or self.model_name,
            fallback,
            parse_schema,
            stream_usage,
        )
        if self.disabled_params:
            _drop_disabled(self.disabled_params, params)
            if extras:
                _drop_disabled(self.disabled_params, extras)
        if extras:
            params["model_extras"] = extras
        if fallback is not None and capabilities.json_schema is False:
            request.use_fallback()  # refused before: ask through the tool at once
        return request

    def _default_params(self, stop: list[str] | None) -> dict[str, Any]:
        """The constructor's API parameters that are set, and the stop sequences."""
        params = {
            name: value for name in _DEFAULT_PARAMS if (value := getattr(self, name)) is not None
        }
        stop = stop if stop is not None else self.stop
        if stop:
            params["stop"] = stop
        if self.keep_think_tags:
            params["keep_think_tags"] = True
        return params

    def _default_extras(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The constructor's ``model_extras``, ``model_kwargs`` and ``extra_body``, sorted."""
        extras: dict[str, Any] | None = dict(self.model_extras) if self.model_extras else None
        if self.verbosity is not None:
            # Not a field of the Model Inference API: sent as an extra (with extra-parameters:
            # pass-through), which Azure OpenAI and OpenAI take as the standard field it is.
            extras = {**(extras or {}), "verbosity": self.verbosity}
        openai_fields = {
            name: value
            for name in _DEFAULT_OPENAI_FIELDS
            if (value := getattr(self, name)) is not None
        }
        if openai_fields:
            extras = split_model_kwargs(openai_fields, CHAT_FIELDS, params, extras)
        if self.model_kwargs:
            extras = split_model_kwargs(self.model_kwargs, CHAT_FIELDS, params, extras)
        return _add_extra_body(self.extra_body, params, extras)

    def _result(self, completion: ChatCompletion, request: _Request) -> ChatResult:
        result = from_wire_completion(completion, model=request.model)
        return self._finish(result, request, completion.response_headers)

    def _finish(
        self, result: ChatResult, request: _Request, headers: Mapping[str, str]
    ) -> ChatResult:
        """A call's result as asked: parsed (structured output), with its headers if asked for."""
        if request.parse_schema is not None:
            _add_parsed(result, request.parse_schema)
        if self.include_response_headers:
            shown = public_headers(headers)
            for generation in result.generations:
                generation.message.response_metadata["headers"] = shown
        return result

    def _last_chunk(self, stream: Any, request: _Request) -> ChatGenerationChunk:
        last = final_chunk_from_state(stream.state, model=request.model)
        if self.include_response_headers:
            last.message.response_metadata["headers"] = public_headers(stream.response.headers)
        return last

    # ---- calls: each sync/async pair mirrors the other ------------------------------------

    def _wants_responses(self, params: Mapping[str, Any]) -> bool:
        """Whether this call goes to the Responses API (see ``use_responses_api``)."""
        if self.use_responses_api is not None:
            return self.use_responses_api
        return self.use_previous_response_id or bool(responses_only_features(params))

    def _responses_input(
        self, messages: list[BaseMessage], request: _Request
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return responses_call(
            messages, request.params, use_previous_response_id=self.use_previous_response_id
        )

    def _response_result(self, response: Response, request: _Request) -> ChatResult:
        result = from_response(response, model=request.model)
        return self._finish(result, request, response.response_headers)

    def _responses_chunks(
        self, responses: ResponseStream | AsyncResponseStream, request: _Request
    ) -> ResponsesChunks:
        headers = responses.response.headers if self.include_response_headers else None
        return ResponsesChunks(request.model, public_headers(headers) if headers else None)

    def _for_chat(self, request: _Request, refused: ResponsesNotSupportedError | None) -> None:
        """Make ``request`` a chat completions request, or say why it cannot be one.

        After the endpoint refused the Responses API (``refused``), the fallback is warned about
        once; a parameter only the Responses API has raises rather than being dropped.

        Raises:
            ConfigurationError: A Responses-only parameter (a reasoning summary, ``include``...)
                with ``use_responses_api=False``, or for a model without the Responses API.
        """
        features = responses_only_features(request.params)
        if features:
            if refused is not None:
                raise refused.feature_error(features) from refused
            raise ConfigurationError(
                f"use_responses_api=False, but {', '.join(features)} only the Responses API "
                "gives: remove them, or leave use_responses_api unset."
            )
        if refused is not None and refused.learned:
            warnings.warn(refused.fallback_warning, UserWarning, stacklevel=5)
        request.to_chat()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        client = self.client
        request = self._request(messages, stop, kwargs, client.capabilities)
        refused = None
        if self._wants_responses(request.params):
            input, params = self._responses_input(messages, request)
            with map_errors():
                try:
                    response = client.respond(input, **params)
                except ResponsesNotSupportedError as err:
                    refused = err
                else:
                    return self._response_result(response, request)
        self._for_chat(request, refused)
        with map_errors():
            try:
                completion = client.complete(request.messages, **request.params)
            except JsonSchemaRefusedError as refusal:
                if not request.falls_back():
                    raise
                with _fallback_refused(refusal):
                    completion = client.complete(request.messages, **request.params)
        return self._result(completion, request)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        client = self.async_client
        request = self._request(messages, stop, kwargs, client.capabilities)
        refused = None
        if self._wants_responses(request.params):
            input, params = self._responses_input(messages, request)
            with map_errors():
                try:
                    response = await client.respond(input, **params)
                except ResponsesNotSupportedError as err:
                    refused = err
                else:
                    return self._response_result(response, request)
        self._for_chat(request, refused)
        with map_errors():
            try:
                completion = await client.complete(request.messages, **request.params)
            except JsonSchemaRefusedError as refusal:
                if not request.falls_back():
                    raise
                with _fallback_refused(refusal):
                    completion = await client.complete(request.messages, **request.params)
        return self._result(completion, request)

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> list[AIMessage]:
        """`Runnable.batch`, paced at the deployment's quota by the client's rate limiter."""
        with paced():
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> list[AIMessage]:
        """`Runnable.abatch`, paced at the deployment's quota by the client's rate limiter."""
        with paced():
            return await super().abatch(
                inputs, config, return_exceptions=return_exceptions, **kwargs
            )

    def _open_stream(self, client: Client, request: _Request) -> ChatStream:
        try:
            return client.stream(
                request.messages, stream_usage=request.stream_usage, **request.params
            )
        except JsonSchemaRefusedError as refusal:
            if not request.falls_back():
                raise
            with _fallback_refused(refusal):
                return client.stream(
                    request.messages, stream_usage=request.stream_usage, **request.params
                )

    async def _aopen_stream(self, client: AsyncClient, request: _Request) -> AsyncChatStream:
        try:
            return await client.stream(
                request.messages, stream_usage=request.stream_usage, **request.params
            )
        except JsonSchemaRefusedError as refusal:
            if not request.falls_back():
                raise
            with _fallback_refused(refusal):
                return await client.stream(
                    request.messages, stream_usage=request.stream_usage, **request.params
                )

    def _open_response_stream(
        self, client: Client, messages: list[BaseMessage], request: _Request
    ) -> ResponseStream | None:
        """The Responses stream, or None where the call goes to chat completions."""
        if not self._wants_responses(request.params):
            self._for_chat(request, None)
            return None
        input, params = self._responses_input(messages, request)
        try:
            return client.stream_response(input, **params)
        except ResponsesNotSupportedError as err:
            self._for_chat(request, err)
            return None

    async def _aopen_response_stream(
        self, client: AsyncClient, messages: list[BaseMessage], request: _Request
    ) -> AsyncResponseStream | None:
        """The Responses stream, or None where the call goes to chat completions."""
        if not self._wants_responses(request.params):
            self._for_chat(request, None)
            return None
        input, params = self._responses_input(messages, request)
        try:
            return await client.stream_response(input, **params)
        except ResponsesNotSupportedError as err:
            self._for_chat(request, err)
            return None

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        client = self.client
        request = self._request(messages, stop, kwargs, client.capabilities)
        with map_errors():
            responses = self._open_response_stream(client, messages, request)
        if responses is not None:
            chunks = self._responses_chunks(responses, request)
            with map_errors(), responses:
                for event in responses:
                    generation = chunks.chunk(event)
                    if generation is None:
                        continue
                    if run_manager:
                        run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
            return
        with map_errors():
            stream = self._open_stream(client, request)
            with stream:
                for _chunk in stream:
                    generation = from_wire_delta(stream.state.delta(0))
                    if generation is None:
                        continue
                    if run_manager:
                        run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
        last = self._last_chunk(stream, request)
        if run_manager:
            run_manager.on_llm_new_token("", chunk=last)
        yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        client = self.async_client
        request = self._request(messages, stop, kwargs, client.capabilities)
        with map_errors():
            responses = await self._aopen_response_stream(client, messages, request)
        if responses is not None:
            chunks = self._responses_chunks(responses, request)
            with map_errors():
                async with responses:
                    async for event in responses:
                        generation = chunks.chunk(event)
                        if generation is None:
                            continue
                        if run_manager:
                            await run_manager.on_llm_new_token(generation.text, chunk=generation)
                        yield generation
            return
        with map_errors():
            stream = await self._aopen_stream(client, request)
            async with stream:
                async for _chunk in stream:
                    generation = from_wire_delta(stream.state.delta(0))
                    if generation is None:
                        continue
                    if run_manager:
                        await run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
        last = self._last_chunk(stream, request)
        if run_manager:
            await run_manager.on_llm_new_token("", chunk=last)
        yield last

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        usage: dict[str, int] = {}
        model_name = None
        for output in llm_outputs:
            if not output:
                continue
            model_name = model_name or output.get("model_name")
            for key, value in (output.get("token_usage") or {}).items():
                if isinstance(value, int):
                    usage[key] = usage.get(key, 0) + value
        model_name = model_name or self.model_name
        return {"token_usage": usage, "model_name": model_name, "model": model_name}

    # ---- tools and structured output --------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: Any = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic models, TypedDicts or dicts).

        Args:
            tools: The tools.
            tool_choice: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True``, a tool's name,
                or ``{"type": "function", "function": {"name": ...}}``.
            strict: Ask for arguments that match the schema exactly (``function.strict``).
            parallel_tool_calls: Sent when set (``False`` asks for one call at a time).
            response_format: A ``response_format`` for answers without a tool call (the OpenAI
                dict ``create_agent`` sends, or a pydantic class).
            **kwargs: Other parameters bound as by ``bind``.

        Raises:
            ValueError: A ``tool_choice`` naming none of the tools.
        """
        formatted = [to_wire_tool(tool, strict=strict) for tool in tools]
        names = [t["function"]["name"] for t in formatted if "function" in t]
        choice = tool_choice_for(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        if response_format is not None:
            kwargs["response_format"] = response_format
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        tools: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable whose output matches ``schema``.

        Args:
            schema: A pydantic class (v1 or v2; instances are returned), a TypedDict or a JSON
                schema (dicts are returned). Optional for ``json_mode``.
            method: ``"json_schema"`` (``response_format``; where the endpoint refuses it, the
                call is made again with a forced tool call, and later calls go straight there),
                ``"function_calling"`` (a forced tool call) or ``"json_mode"``
                (``response_format: json_object``; the prompt must ask for JSON).
            include_raw: Return ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``.
            strict: Ask for exact schema adherence (not for ``json_mode``).
            tools: More tools the model may call with ``json_schema``.
            **kwargs: Other parameters bound to the model.

        Raises:
            ValueError: An unknown method, no schema, or ``strict`` with ``json_mode``.
            ConfigurationError: ``schema`` is not one of the kinds above (``int``, a dataclass).
        """
        if method not in _METHODS:
            raise ValueError(f"Unknown method {method!r}: use one of {list(_METHODS)}.")
        if strict is not None and method == "json_mode":
            raise ValueError("strict is not supported with method='json_mode'.")
        if schema is None and method != "json_mode":
            raise ValueError(f"method={method!r} needs a schema.")
        if schema is not None:
            check_schema(schema)
        pydantic_schema = schema if is_pydantic_class(schema) else None
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        llm: Runnable[LanguageModelInput, Any]
        if method == "function_calling":
            tool = to_wire_tool(schema, strict=strict)
            name = tool["function"]["name"]
            llm = self.bind_tools(
                [tool], tool_choice=name, ls_structured_output_format=ls_format, **kwargs
            )
            parser = StructuredOutputParser(
                pydantic_schema=pydantic_schema, tool_name=name, require_tool=True
            )
        elif method == "json_mode":
            llm = self.bind(
                response_format={"type": "json_object"},
                ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
                **kwargs,
            )
            parser = StructuredOutputParser(pydantic_schema=pydantic_schema)
        else:
            response_format = to_response_format(schema, strict=strict)
            tool = to_wire_tool(schema, strict=strict)
            name = tool["function"]["name"]
            bound: dict[str, Any] = {
                "response_format": response_format,
                _FALLBACK_KEY: tool,
                "ls_structured_output_format": ls_format,
                **kwargs,
            }
            if tools:
                bound["tools"] = [to_wire_tool(t, strict=strict) for t in tools]
            llm = self.bind(**bound)
            parser = StructuredOutputParser(pydantic_schema=pydantic_schema, tool_name=name)
        if not include_raw:
            return llm | parser
        parser_assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        return RunnableMap(raw=llm) | with_fallback


# ---- helpers ----------------------------------------------------------------------------------


def _fallback_refused(refusal: JsonSchemaRefusedError) -> fallback_refused:
    return fallback_refused(refusal, "json_schema structured output", "a forced tool call")


def _take_call_extras(
    call: dict[str, Any], params: dict[str, Any], extras: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Take a call's ``model_extras``, ``model_kwargs`` and ``extra_body`` out of ``call``."""
    call_extras = call.pop("model_extras", None)
    if call_extras:
        extras = {**(extras or {}), **call_extras}
    if call.get("verbosity") is not None:
        extras = {**(extras or {}), "verbosity": call.pop("verbosity")}
    call_kwargs = call.pop("model_kwargs", None)
    if call_kwargs:
        extras = split_model_kwargs(call_kwargs, CHAT_FIELDS, params, extras)
    return _add_extra_body(call.pop("extra_body", None), params, extras)


def _take_tools(call: dict[str, Any], params: dict[str, Any]) -> None:
    """Take a call's ``tools`` (converted to the wire's) and ``tool_choice`` out of ``call``."""
    tools = call.pop("tools", None)
    if tools:
        params["tools"] = [t if _is_wire_tool(t) else to_wire_tool(t) for t in tools]
    if "tool_choice" in call:
        names = [t["function"]["name"] for t in params.get("tools", ()) if "function" in t]
        choice = tool_choice_for(call.pop("tool_choice"), names)
        if choice is not None:
            params["tool_choice"] = choice


def _take_response_format(call: dict[str, Any], params: dict[str, Any]) -> Any:
    """Take a call's ``response_format`` out of ``call``; return the class to parse into."""
    response_format = call.pop("response_format", None)
    parse_schema = None
    if isinstance(response_format, type):
        parse_schema = response_format if is_pydantic_class(response_format) else None
        response_format = to_response_format(response_format)
    if response_format is not None:
        params["response_format"] = response_format
    return parse_schema


def _drop_disabled(disabled: Mapping[str, Any], params: dict[str, Any]) -> None:
    """Drop what ``disabled_params`` names: any value (None), or one of the values listed."""
    for name, values in disabled.items():
        if name in params and (values is None or params[name] in values):
            del params[name]


def _add_extra_body(
    extra_body: Mapping[str, Any] | None, params: dict[str, Any], extras: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Put ``extra_body``'s API fields in ``params`` and the rest in the extras it returns."""
    if not extra_body:
        return extras
    extras = dict(extras or {})
    for key, value in extra_body.items():
        (params if key in CHAT_FIELDS else extras)[key] = value
    return extras or None


def _is_wire_tool(tool: Any) -> bool:
    return isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool


def _add_parsed(result: ChatResult, schema: Any) -> None:
    """Put the answer parsed into ``schema`` in ``additional_kwargs["parsed"]`` (as ChatOpenAI)."""
    parser = StructuredOutputParser(pydantic_schema=schema)
    for generation in result.generations:
        if generation.message.content:
            try:
                generation.message.additional_kwargs["parsed"] = parser.parse_result([generation])
            except ValueError:
                generation.message.additional_kwargs["parsed"] = None
