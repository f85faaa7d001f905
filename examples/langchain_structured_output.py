"""Structured output with LangChain: a pydantic class in, an instance out.

``with_structured_output`` uses ``response_format: json_schema`` where the endpoint takes it, and
falls back to a forced tool call where it is refused (the refusal is remembered).

    python examples/langchain_structured_output.py
"""

from __future__ import annotations

from _endpoint import chat_model
from pydantic import BaseModel, Field


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="The person's full name")
    age: int = Field(description="The person's age in years")


def main() -> None:
    with chat_model(temperature=0) as llm:
        extractor = llm.with_structured_output(Person)
        person = extractor.invoke("Ada Lovelace died at 36.")
        print(repr(person))

        # The same with the raw message kept, and with function calling instead.
        raw = llm.with_structured_output(Person, method="function_calling", include_raw=True)
        result = raw.invoke("Alan Turing was 41.")
        print(repr(result["parsed"]), "| tool calls:", result["raw"].tool_calls)


if __name__ == "__main__":
    main()
