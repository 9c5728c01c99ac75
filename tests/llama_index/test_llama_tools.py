"""Tool calling with PortkeyChatModel, on the chat route and through a Portkey prompt."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ToolCallBlock
from llama_index.core.tools import FunctionTool

from portkey_integrations import PortkeyConfigError
from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = [FunctionTool.from_defaults(add), FunctionTool.from_defaults(multiply)]


def _calls(response: ChatResponse) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c.tool_name, c.tool_kwargs)
        for c in PortkeyChatModel.get_tool_calls_from_response(PortkeyChatModel(), response)
    ]


def test_chat_with_tools(tool_llm: PortkeyChatModel, server: LocalPortkeyServer) -> None:
    response = tool_llm.chat_with_tools(TOOLS, user_msg="please multiply 6 by 7")
    selections = tool_llm.get_tool_calls_from_response(response)
    assert [s.tool_name for s in selections] == ["multiply"]
    kwargs = selections[0].tool_kwargs
    assert set(kwargs) == {"a", "b"} and all(isinstance(v, int) for v in kwargs.values())
    assert selections[0].tool_id.startswith("call_")
    call = response.message.additional_kwargs["tool_calls"][0]
    assert call["id"] == selections[0].tool_id
    assert call["function"]["name"] == "multiply"
    body = server.requests[-1].body
    assert [t["function"]["name"] for t in body["tools"]] == ["add", "multiply"]
    assert (body["tool_choice"], body["parallel_tool_calls"]) == ("auto", False)


async def test_achat_with_tools(tool_llm: PortkeyChatModel) -> None:
    response = await tool_llm.achat_with_tools(TOOLS, user_msg="add these", tool_required=True)
    assert [s.tool_name for s in tool_llm.get_tool_calls_from_response(response)] == ["add"]


def test_stream_chat_with_tools_yields_cumulative_tool_calls(tool_llm: PortkeyChatModel) -> None:
    responses = list(tool_llm.stream_chat_with_tools(TOOLS, user_msg="multiply please"))
    last = responses[-1]
    blocks = [b for b in last.message.blocks if isinstance(b, ToolCallBlock)]
    assert [b.tool_name for b in blocks] == ["multiply"]
    assert last.message.additional_kwargs["tool_calls"][0]["function"]["name"] == "multiply"
    assert tool_llm.get_tool_calls_from_response(last)[0].tool_kwargs.keys() == {"a", "b"}
    assert all(r.delta == "" for r in responses)
    # Every response is the message so far: once a call appears it stays.
    seen = False
    for response in responses:
        has = bool(response.message.additional_kwargs.get("tool_calls"))
        assert has or not seen
        seen = seen or has


async def test_astream_chat_with_tools(tool_llm: PortkeyChatModel) -> None:
    gen = await tool_llm.astream_chat_with_tools(TOOLS, user_msg="go", tool_choice="multiply")
    responses = [r async for r in gen]
    assert [s.tool_name for s in tool_llm.get_tool_calls_from_response(responses[-1])] == [
        "multiply"
    ]


def test_parallel_tool_calls(tool_llm: PortkeyChatModel, server: LocalPortkeyServer) -> None:
    message = "add and multiply"
    both = tool_llm.chat_with_tools(TOOLS, user_msg=message, allow_parallel_tool_calls=True)
    assert [s.tool_name for s in tool_llm.get_tool_calls_from_response(both)] == ["add", "multiply"]
    assert server.requests[-1].body["parallel_tool_calls"] is True
    single = tool_llm.chat_with_tools(TOOLS, user_msg=message)
    assert [s.tool_name for s in tool_llm.get_tool_calls_from_response(single)] == ["add"]


def test_tool_results_complete_the_turn(
    tool_llm: PortkeyChatModel, server: LocalPortkeyServer
) -> None:
    history = [ChatMessage(role="user", content="add 2 and 3")]
    first = tool_llm.chat_with_tools(TOOLS, chat_history=history)
    [selection] = tool_llm.get_tool_calls_from_response(first)
    history += [
        first.message,
        ChatMessage(
            role="tool", content="5", additional_kwargs={"tool_call_id": selection.tool_id}
        ),
    ]
    final = tool_llm.chat_with_tools(TOOLS, chat_history=history)
    assert tool_llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
    assert "add: 5" in (final.message.content or "")
    sent = server.requests[-1].body
    turns = sent["variables"]["agent_scratchpad"] if "variables" in sent else sent["messages"][1:]
    assert turns[0]["tool_calls"][0]["id"] == selection.tool_id
    assert turns[1] == {"role": "tool", "content": "5", "tool_call_id": selection.tool_id}


def test_predict_and_call(tool_llm: PortkeyChatModel) -> None:
    result = tool_llm.predict_and_call(TOOLS, user_msg="multiply two numbers")
    assert result.response == "1"
    assert result.sources[0].tool_name == "multiply"


def test_invalid_tool_choice_fails_before_sending(
    tool_llm: PortkeyChatModel, server: LocalPortkeyServer
) -> None:
    with pytest.raises(PortkeyConfigError):
        tool_llm.chat_with_tools(TOOLS, user_msg="x", tool_choice="divide")
    assert server.requests == []


def test_no_tool_call_and_bad_arguments() -> None:
    plain = ChatResponse(message=ChatMessage(role="assistant", content="no tools"))
    with pytest.raises(ValueError):
        PortkeyChatModel().get_tool_calls_from_response(plain)
    bad = ChatResponse(
        message=ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="x", tool_name="add", tool_kwargs="{not json")],
        )
    )
    assert _calls(bad) == [("add", {})]
