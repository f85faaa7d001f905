"""Structured output: schemas to ``response_format`` and tools, and one parser for every method.

`StructuredOutputParser` reads the answer wherever it is: the first call of the schema's tool
(``function_calling``, or ``json_schema`` after the endpoint refused it and the model fell back to a
tool), else the message's JSON text (``json_schema`` and ``json_mode``). It parses partial output
while streaming and validates pydantic classes (v1 and v2) at the end.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_function
from langchain_core.utils.json import parse_json_markdown
from langchain_core.utils.pydantic import is_basemodel_subclass
from typing_extensions import is_typeddict

from azureinference import ConfigurationError

__all__ = [
    "StructuredOutputParser",
    "check_schema",
    "is_pydantic_class",
    "to_response_format",
]


def is_pydantic_class(obj: Any) -> bool:
    """True for a pydantic (v1 or v2) model class."""
    return isinstance(obj, type) and is_basemodel_subclass(obj)


SCHEMA_KINDS = (
    "a pydantic class (v1 or v2), a TypedDict class, a JSON schema or OpenAI function/tool dict, "
    "a ready response_format dict, a LangChain tool or a typed Python function"
)


def check_schema(schema: Any) -> None:
    """Refuse a structured-output schema no JSON schema can be made from, naming what is taken.

    Raises:
        ConfigurationError: ``schema`` is a class that is neither pydantic nor a TypedDict
            (``int``, a dataclass), or an object that is not a dict, tool or function.
    """
    if isinstance(schema, Mapping) or is_pydantic_class(schema) or is_typeddict(schema):
        return
    if isinstance(schema, BaseTool) or inspect.isfunction(schema) or inspect.ismethod(schema):
        return
    if isinstance(schema, type):
        what = f"the class {schema.__name__}, neither a pydantic class nor a TypedDict"
    else:
        what = f"a {type(schema).__name__}"
    raise ConfigurationError(
        f"with_structured_output: schema is {what}, from which no JSON schema can be made; pass "
        f"{SCHEMA_KINDS}."
    )


def to_response_format(schema: Any, *, strict: bool | None = None) -> dict[str, Any]:
    """Build a ``{"type": "json_schema", "json_schema": {...}}`` response format.

    Args:
        schema: A pydantic class, TypedDict, JSON schema, OpenAI function/tool dict, or a
            ready ``response_format`` (``{"type": "json_schema", ...}`` or ``{"name", "schema"}``).
        strict: Sets ``json_schema.strict`` when given.

    Raises:
        ValueError: ``strict`` given twice with different values.
    """
    if isinstance(schema, Mapping):
        if schema.get("type") == "json_schema" and isinstance(schema.get("json_schema"), Mapping):
            spec = dict(schema["json_schema"])
            if strict is not None and "strict" in spec and spec["strict"] is not strict:
                raise ValueError(
                    f"The schema sets strict={spec['strict']} and strict={strict} was passed too."
                )
            if strict is not None:
                spec["strict"] = strict
            return {"type": "json_schema", "json_schema": spec}
        if "name" in schema and isinstance(schema.get("schema"), Mapping):
            spec = dict(schema)
            if strict is not None:
                spec["strict"] = strict
            return {"type": "json_schema", "json_schema": spec}
        if strict is None and isinstance(schema.get("strict"), bool):
            strict = schema["strict"]
    function = convert_to_openai_function(schema, strict=strict)
    spec = {"name": function["name"], "schema": function.get("parameters", {})}
    if function.get("description"):
        spec["description"] = function["description"]
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


class StructuredOutputParser(BaseCumulativeTransformOutputParser[Any]):
    """Parse structured output from a tool call or from JSON text, for every method.

    Attributes:
        pydantic_schema: The pydantic class to validate into, or None to return dicts.
        tool_name: The schema's tool name: its call is read first when present (None: tool
            calls are not read, as for ``json_mode``).
        require_tool: True for ``function_calling``: no call means no output (None).
    """

    pydantic_schema: Any = None
    tool_name: str | None = None
    require_tool: bool = False

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """Parse the first generation.

        Raises:
            OutputParserException: Not JSON, not the schema, or a refusal (never when partial).
        """
        generation = result[0]
        message = generation.message if isinstance(generation, ChatGeneration) else None
        obj: Any = None
        found = False
        if self.tool_name is not None and isinstance(message, AIMessage) and message.tool_calls:
            call = next((c for c in message.tool_calls if c["name"] == self.tool_name), None)
            if call is not None:
                obj, found = call["args"], True
            elif not self.require_tool and not generation.text.strip():
                return None  # the model called one of the other bound tools instead
        if not found:
            if self.require_tool:
                if not partial and isinstance(message, AIMessage) and message.invalid_tool_calls:
                    bad = message.invalid_tool_calls[0]
                    raise OutputParserException(
                        f"The model called {bad.get('name')!r} with invalid arguments: "
                        f"{bad.get('error')}",
                        llm_output=bad.get("args"),
                    )
                return None
            if isinstance(message, AIMessage) and message.additional_kwargs.get("refusal"):
                if partial:
                    return None
                raise OutputParserException(
                    f"The model refused: {message.additional_kwargs['refusal']}"
                )
            text = generation.text.strip()
            if not text:
                if partial:
                    return None
                raise OutputParserException(
                    "The model answered with neither JSON nor a tool call.", llm_output=text
                )
            try:
                obj = parse_json_markdown(text)
            except ValueError as exc:
                if partial:
                    return None
                raise OutputParserException(
                    f"The model's answer is not JSON: {exc}", llm_output=text
                ) from exc
        return self._validate(obj, partial)

    def _validate(self, obj: Any, partial: bool) -> Any:
        schema = self.pydantic_schema
        if schema is None:
            return obj
        try:
            if hasattr(schema, "model_validate"):
                return schema.model_validate(obj)
            return schema.parse_obj(obj)  # pydantic.v1
        except Exception as exc:  # v1 and v2 raise different ValidationError classes
            if partial:
                return None
            raise OutputParserException(
                f"The model's answer does not match {schema.__name__}: {exc}", llm_output=str(obj)
            ) from exc

    def parse(self, text: str) -> Any:
        """Parse JSON text (for callers that only have the text)."""
        return self.parse_result([Generation(text=text)])

    @property
    def _type(self) -> str:
        return "azureinference_structured_output"
