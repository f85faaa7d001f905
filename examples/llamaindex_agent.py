"""A LlamaIndex FunctionAgent with tools: it calls them, reads the results, and answers.

python examples/llamaindex_agent.py
"""

from __future__ import annotations

import asyncio

from _endpoint import llamaindex_models
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def run(agent: FunctionAgent, question: str) -> None:
    handler = agent.run(user_msg=question)
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"-> {event.tool_name}({event.tool_kwargs}) = {event.tool_output.content}")
    print("answer:", await handler)


def main() -> None:
    with llamaindex_models(temperature=0) as (llm, _):
        agent = FunctionAgent(
            tools=[FunctionTool.from_defaults(get_weather), FunctionTool.from_defaults(add)],
            llm=llm,
            system_prompt="Use the tools to answer.",
        )
        asyncio.run(run(agent, "Use get_weather: what is the weather in Lisbon?"))

        # Without an agent: one call that must pick a tool, then the tool runs.
        tool = FunctionTool.from_defaults(add)
        response = llm.chat_with_tools([tool], user_msg="Add 2 and 3.", tool_required=True)
        for call in llm.get_tool_calls_from_response(response):
            print(f"{call.tool_name}({call.tool_kwargs}) = {tool(**call.tool_kwargs).content}")


if __name__ == "__main__":
    main()
