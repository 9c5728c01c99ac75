"""A LlamaIndex FunctionAgent with two tools, its turns run by a Portkey prompt.

The agent's conversation reaches the prompt as variables: the last user message as
``input``, earlier turns as ``chat_history`` and the agent's tool calls and results as
``agent_scratchpad``. The prompt's template places them (Portkey splices lists of
messages into the messages array):

    [{"role": "system", "content": "..."},
     {{#chat_history}}{{{.}}}, {{/chat_history}}
     {"role": "user", "content": "{{input}}"}
     {{#agent_scratchpad}}, {{{.}}}{{/agent_scratchpad}}]

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it
opts into the embedded local Portkey-compatible server (``base_url="local"``; this
script registers the template there) and an offline model that calls the tools the
message names, one per turn. With a key, create a chat prompt with that template and
set ``PORTKEY_PROMPT_ID``.

    python examples/llama_index_agent.py
"""

from __future__ import annotations

import asyncio
import os

from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool

from portkey_integrations.llama_index import PortkeyChatModel

AGENT_TEMPLATE = (
    '[{"role": "system", "content": "You are a calculator. Use the tools."}, '
    "{{#chat_history}}{{{.}}}, {{/chat_history}}"
    '{"role": "user", "content": "{{input}}"}'
    "{{#agent_scratchpad}}, {{{.}}}{{/agent_scratchpad}}]"
)


def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


def agent_prompt_id() -> str:
    if os.environ.get("PORTKEY_API_KEY") or os.environ.get("PORTKEY_BASE_URL"):
        return os.environ["PORTKEY_PROMPT_ID"]
    # Offline: opt into the embedded local server explicitly and put the template there.
    from portkey_integrations.server import embedded_server

    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")
    embedded_server().register("pp-calculator-agent", template=AGENT_TEMPLATE)
    return "pp-calculator-agent"


async def main() -> None:
    llm = PortkeyChatModel(prompt_id=agent_prompt_id(), temperature=0)
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(add), FunctionTool.from_defaults(multiply)],
        llm=llm,
        allow_parallel_tool_calls=False,  # one tool per turn: several turns
    )
    handler = agent.run(user_msg="Add 2 and 3, then multiply the result by 4.")
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
        elif isinstance(event, AgentStream) and event.delta:
            print(event.delta, end="", flush=True)
    result = await handler
    print(f"\n\nFinal answer:\n{result}")


if __name__ == "__main__":
    asyncio.run(main())
