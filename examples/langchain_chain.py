"""A LangChain chain: prompt | model | parser, invoked and batched.

python examples/langchain_chain.py
"""

from __future__ import annotations

from _endpoint import chat_model
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate


def main() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You translate English into {language}. Answer with the translation only."),
            ("human", "{text}"),
        ]
    )
    with chat_model(temperature=0) as llm:
        chain = prompt | llm | StrOutputParser()
        print(chain.invoke({"language": "Italian", "text": "Good morning!"}))
        for answer in chain.batch(
            [
                {"language": "French", "text": "Thank you."},
                {"language": "Spanish", "text": "See you tomorrow."},
            ]
        ):
            print(answer)


if __name__ == "__main__":
    main()
