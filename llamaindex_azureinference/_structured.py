"""Structured output through the API's ``json_schema`` response format.

`JsonSchemaProgram` asks for an instance of the output class's JSON schema and validates the
answer; its streamed forms yield partial objects (all-optional copies of the class) as the JSON
arrives, then the validated object. The LLM falls back to function calling (LlamaIndex's own
program) where an endpoint refuses ``json_schema``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

import pydantic_core
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.program.utils import FlexibleModel, create_flexible_model
from llama_index.core.prompts import BasePromptTemplate
from pydantic import BaseModel, ValidationError

__all__ = ["JsonSchemaProgram", "json_schema_format"]


def json_schema_format(output_cls: type[BaseModel]) -> dict[str, Any]:
    """The ``response_format`` asking for an instance of ``output_cls``."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": output_cls.__name__[:64],
            "description": (output_cls.__doc__ or "").strip()[:1000] or None,
            "schema": output_cls.model_json_schema(),
        },
    }


def _partial(flexible: type[BaseModel], text: str) -> BaseModel | None:
    try:
        data = pydantic_core.from_json(text, allow_partial=True)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return flexible.model_validate(data)
    except ValidationError:
        return None


class JsonSchemaProgram:
    """Formats the prompt, asks for JSON matching ``output_cls``'s schema, validates it."""

    def __init__(self, llm: Any, output_cls: type[BaseModel], prompt: BasePromptTemplate) -> None:
        self._llm = llm
        self._output_cls = output_cls
        self._prompt = prompt

    def _request(
        self, llm_kwargs: dict[str, Any] | None, prompt_args: dict[str, Any]
    ) -> tuple[list[ChatMessage], dict[str, Any]]:
        messages = self._llm._extend_messages(
            self._prompt.format_messages(llm=self._llm, **prompt_args)
        )
        kwargs = {k: v for k, v in (llm_kwargs or {}).items() if k != "tool_choice"}
        kwargs["response_format"] = json_schema_format(self._output_cls)
        return messages, kwargs

    def _parse(self, text: str | None) -> BaseModel:
        return self._output_cls.model_validate_json(text or "")

    def __call__(self, llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any) -> BaseModel:
        """Ask and validate."""
        messages, kwargs = self._request(llm_kwargs, prompt_args)
        return self._parse(self._llm._chat(messages, **kwargs).message.content)

    async def acall(
        self, llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any
    ) -> BaseModel:
        """Ask and validate, asynchronously."""
        messages, kwargs = self._request(llm_kwargs, prompt_args)
        return self._parse((await self._llm._achat(messages, **kwargs)).message.content)

    def stream_call(
        self, llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any
    ) -> Generator[BaseModel | FlexibleModel, None, None]:
        """Yield partial objects as the JSON arrives, then the validated object."""
        messages, kwargs = self._request(llm_kwargs, prompt_args)
        flexible = create_flexible_model(self._output_cls)
        text = ""
        for response in self._llm._stream_chat(messages, **kwargs):
            text = response.message.content or ""
            if response.delta:
                partial = _partial(flexible, text)
                if partial is not None:
                    yield partial
        yield self._parse(text)

    async def astream_call(
        self, llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any
    ) -> AsyncGenerator[BaseModel | FlexibleModel, None]:
        """Yield partial objects as the JSON arrives, then the validated object."""
        messages, kwargs = self._request(llm_kwargs, prompt_args)
        flexible = create_flexible_model(self._output_cls)
        text = ""
        async for response in await self._llm._astream_chat(messages, **kwargs):
            text = response.message.content or ""
            if response.delta:
                partial = _partial(flexible, text)
                if partial is not None:
                    yield partial
        yield self._parse(text)
