"""Structured output with LlamaIndex: pydantic objects, whole or as they stream.

The API's json_schema response format is used where the endpoint takes it; where it refuses it,
the same calls fall back to function calling.

python examples/llamaindex_structured_output.py
"""

from __future__ import annotations

from _endpoint import llamaindex_models
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="The person's full name")
    age: int = Field(description="The person's age in years")


def main() -> None:
    with llamaindex_models(temperature=0) as (llm, _):
        prompt = PromptTemplate("Extract the person: {text}")
        print(llm.structured_predict(Person, prompt, text="Grace Hopper was 85."))

        print("streamed:")
        for partial in llm.stream_structured_predict(Person, prompt, text="Alan Turing was 41."):
            print("  ", partial)

        structured = llm.as_structured_llm(Person)
        reply = structured.chat([ChatMessage(role="user", content="Ada Lovelace was 36.")])
        print("as_structured_llm:", reply.raw)


if __name__ == "__main__":
    main()
