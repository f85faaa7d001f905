"""A tool-calling agent loop with LangChain: call tools until the model answers.

python examples/langchain_agent.py
"""

from __future__ import annotations

from _endpoint import chat_model
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


TOOLS = {t.name: t for t in (get_weather, add)}


def main() -> None:
    with chat_model(temperature=0) as llm:
        agent = llm.bind_tools(list(TOOLS.values()))
        messages: list[BaseMessage] = [
            SystemMessage("Use the tools when they help."),
            HumanMessage("Use get_weather: what is the weather in Paris?"),
        ]
        for _ in range(5):  # a bound on the loop, as every agent should have
            ai = agent.invoke(messages)
            messages.append(ai)
            if not ai.tool_calls:
                break
            for call in ai.tool_calls:
                print(f"-> {call['name']}({call['args']})")
                messages.append(TOOLS[call["name"]].invoke(call))  # a ToolMessage
        print("answer:", messages[-1].content)


if __name__ == "__main__":
    main()
