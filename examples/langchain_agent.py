"""A LangChain agent with two tools, each model turn running a Portkey prompt.

The prompt (``examples/prompts/pp-lc-agent.json``) splices the conversation before the
user's message (``chat_history``) and the agent's tool calls and results after it
(``agent_scratchpad``) into its messages; ``PortkeyChatModel`` fills those variables
from the messages the agent passes. With ``PORTKEY_API_KEY`` set, save that template
as a Portkey prompt and pass its id in ``PORTKEY_AGENT_PROMPT_ID``. Without a key or
base URL this opts into the embedded local Portkey-compatible server (``base_url="local"``),
which also serves the prompt files of ``examples/prompts``.

Run: ``python examples/langchain_agent.py``
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from portkey_integrations.langchain import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly (the package never
    # falls back to it by itself); it also loads the example prompt files.
    os.environ["PORTKEY_BASE_URL"] = "local"
    os.environ.setdefault("PORTKEY_LOCAL_PROMPTS", str(Path(__file__).parent / "prompts"))
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return "sunny, 21 C"


@tool
def get_local_time(city: str) -> str:
    """Get the local time in a city."""
    return "14:05"


def main() -> None:
    prompt_id = os.environ.get("PORTKEY_AGENT_PROMPT_ID", "pp-lc-agent")
    llm = PortkeyChatModel(prompt_id=prompt_id, temperature=0)
    agent = create_agent(llm, tools=[get_weather, get_local_time])

    question = "Use get_weather and get_local_time for Lisbon, then sum up."
    state = agent.invoke({"messages": [HumanMessage(question)]})
    *steps, answer = state["messages"]
    for message in steps:
        calls = getattr(message, "tool_calls", None)
        detail = "calls " + ", ".join(c["name"] for c in calls) if calls else message.text
        print(f"{message.type:>5}: {detail}")
    print("answer:", answer.text)


if __name__ == "__main__":
    main()
