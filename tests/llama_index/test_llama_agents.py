"""FunctionAgent and AgentWorkflow driving PortkeyChatModel through tool-calling turns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.agent.workflow import (
    AgentInput,
    AgentOutput,
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.memory import Memory
from llama_index.core.tools import FunctionTool

from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

# Workflows inspect agents with inspect.getmembers, which trips pydantic's deprecation
# warnings on every run; they are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b + 40  # distinctive, so the answer shows the tool really ran


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b * 7


TOOLS = [FunctionTool.from_defaults(add), FunctionTool.from_defaults(multiply)]


@pytest.mark.parametrize("streaming", [True, False])
async def test_function_agent_calls_two_tools_over_several_turns(
    tool_llm: PortkeyChatModel, server: LocalPortkeyServer, streaming: bool
) -> None:
    agent = FunctionAgent(
        tools=TOOLS,
        llm=tool_llm,
        system_prompt="Use the tools.",
        allow_parallel_tool_calls=False,
        streaming=streaming,
    )
    handler = agent.run(user_msg="Please add and then multiply 1 and 1.")
    events: list[Any] = [event async for event in handler.stream_events()]
    result = await handler

    calls = [
        e.tool_name for e in events if isinstance(e, ToolCall) and not isinstance(e, ToolCallResult)
    ]
    results = [
        (e.tool_name, e.tool_output.content) for e in events if isinstance(e, ToolCallResult)
    ]
    assert calls == ["add", "multiply"]
    assert results == [("add", "42"), ("multiply", "7")]
    outputs = [e for e in events if isinstance(e, AgentOutput)]
    assert len(outputs) == 3  # two tool-calling turns, then the answer
    assert [o.tool_calls[0].tool_name for o in outputs[:2]] == ["add", "multiply"]
    assert len([e for e in events if isinstance(e, AgentInput)]) == 3
    final = str(result.response.content)
    assert "add: 42" in final and "multiply: 7" in final
    streams = [e for e in events if isinstance(e, AgentStream)]
    if streaming:
        answer = [s for s in streams if s.delta]
        assert "".join(s.delta for s in answer) == final
        tool_turns = [s for s in streams if s.tool_calls]
        assert {s.tool_calls[0].tool_name for s in tool_turns} == {"add", "multiply"}
    else:
        assert streams == []
    assert len(server.requests) == 3
    last = server.requests[-1].body
    turns = last["variables"]["agent_scratchpad"] if "variables" in last else last["messages"][2:]
    assert [t["role"] for t in turns] == ["assistant", "tool", "assistant", "tool"]


async def test_function_agent_remembers_earlier_runs(
    tool_llm: PortkeyChatModel, server: LocalPortkeyServer
) -> None:
    agent = FunctionAgent(tools=TOOLS, llm=tool_llm, allow_parallel_tool_calls=False)
    memory = Memory.from_defaults()
    await agent.run(user_msg="multiply", memory=memory)
    await agent.run(user_msg="now add", memory=memory)
    body = server.requests[-1].body
    if "variables" in body:
        history = body["variables"]["chat_history"]
        assert body["variables"]["input"] == "now add"
    else:
        history = body["messages"][:-3]
    assert history[0] == {"role": "user", "content": "multiply"}
    assert any(m.get("tool_calls") for m in history)


async def test_agent_workflow_hands_off(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    # The offline model fills string arguments with the user's text, so the user's
    # message names the agent to hand off to.
    triage = FunctionAgent(
        name="triage",
        description="Routes requests.",
        system_prompt="Hand arithmetic to the calculator.",
        llm=chat_model(model="portkey-local"),
        tools=[],
        can_handoff_to=["calculator"],
    )
    calculator = FunctionAgent(
        name="calculator",
        description="Does arithmetic with tools.",
        llm=chat_model(prompt_id="pp-li-agent"),
        tools=TOOLS,
        allow_parallel_tool_calls=False,
    )
    workflow = AgentWorkflow(agents=[triage, calculator], root_agent="triage")
    handler = workflow.run(user_msg="calculator")
    events = [event async for event in handler.stream_events()]
    result = await handler

    agents = [e.current_agent_name for e in events if isinstance(e, AgentOutput)]
    assert agents[0] == "triage" and agents[-1] == "calculator"
    tools_called = [e.tool_name for e in events if isinstance(e, ToolCallResult)]
    assert tools_called == ["handoff", "add", "multiply"]
    assert "add: 42" in str(result.response.content)
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[-1].prompt_id == "pp-li-agent"
