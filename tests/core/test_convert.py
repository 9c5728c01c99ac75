"""Framework-free conversions shared by both adapters."""

from __future__ import annotations

from typing import Any

import pytest

from portkey_integrations import DeltaToolCall, FunctionCall, PortkeyConfigError
from portkey_integrations._adapters.convert import (
    ToolCallAccumulator,
    conversation_variables,
    message_text,
    normalize_tool_choice,
    parse_tool_arguments,
)

SYSTEM = {"role": "system", "content": "be brief"}
HUMAN_1 = {"role": "user", "content": "first"}
AI_1 = {"role": "assistant", "content": "ok"}
HUMAN_2 = {
    "role": "user",
    "content": [{"type": "text", "text": "sec"}, {"type": "text", "text": "ond"}],
}
AI_CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
}
TOOL = {"role": "tool", "tool_call_id": "c1", "content": "42"}


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([HUMAN_1], {"input": "first", "chat_history": [], "agent_scratchpad": []}),
        (
            [SYSTEM, HUMAN_1, AI_1, HUMAN_2],
            {"input": "second", "chat_history": [SYSTEM, HUMAN_1, AI_1], "agent_scratchpad": []},
        ),
        (
            [SYSTEM, HUMAN_1, AI_CALL, TOOL],
            {"input": "first", "chat_history": [SYSTEM], "agent_scratchpad": [AI_CALL, TOOL]},
        ),
        ([SYSTEM], {"input": "", "chat_history": [SYSTEM], "agent_scratchpad": []}),
    ],
)
def test_conversation_variables(messages: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    got = conversation_variables(
        messages,
        input_variable="input",
        history_variable="chat_history",
        scratchpad_variable="agent_scratchpad",
    )
    assert got == expected


def test_conversation_variables_can_drop_parts() -> None:
    got = conversation_variables(
        [SYSTEM, HUMAN_1], input_variable="q", history_variable=None, scratchpad_variable=None
    )
    assert got == {"q": "first"}


def test_message_text() -> None:
    assert message_text(None) == ""
    assert message_text("a") == "a"
    assert message_text(["a", {"type": "text", "text": "b"}, {"type": "image_url"}]) == "ab"


@pytest.mark.parametrize(
    ("choice", "names", "expected"),
    [
        ("auto", ["a", "b"], "auto"),
        ("none", ["a"], "none"),
        ("any", ["a", "b"], "required"),
        ("required", ["a"], "required"),
        (True, ["a", "b"], "required"),
        (True, ["a"], {"type": "function", "function": {"name": "a"}}),
        ("b", ["a", "b"], {"type": "function", "function": {"name": "b"}}),
        (None, ["a"], None),
        (False, ["a"], None),
        (
            {"type": "function", "function": {"name": "a"}},
            ["a"],
            {"type": "function", "function": {"name": "a"}},
        ),
    ],
)
def test_normalize_tool_choice(choice: Any, names: list[str], expected: Any) -> None:
    assert normalize_tool_choice(choice, names) == expected


def test_unknown_tool_choice_is_rejected() -> None:
    with pytest.raises(PortkeyConfigError, match="'c'"):
        normalize_tool_choice("c", ["a", "b"])


def test_parse_tool_arguments() -> None:
    assert parse_tool_arguments("") == {}
    assert parse_tool_arguments('{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError):
        parse_tool_arguments("{bad")
    with pytest.raises(ValueError):
        parse_tool_arguments("[1]")


def test_tool_call_accumulator_assembles_deltas_by_index() -> None:
    acc = ToolCallAccumulator()
    assert not acc
    acc.add(
        [
            DeltaToolCall(
                index=0, id="c0", type="function", function=FunctionCall(name="get", arguments="")
            )
        ]
    )
    acc.add([DeltaToolCall(index=1, id="c1", function=FunctionCall(name="put", arguments=""))])
    acc.add([DeltaToolCall(index=0, function=FunctionCall(arguments='{"a":'))])
    snapshot = acc.tool_calls
    acc.add([DeltaToolCall(index=0, function=FunctionCall(arguments=" 1}"))])
    assert acc.tool_calls == [
        {"id": "c0", "type": "function", "function": {"name": "get", "arguments": '{"a": 1}'}},
        {"id": "c1", "type": "function", "function": {"name": "put", "arguments": ""}},
    ]
    assert snapshot[0]["function"]["arguments"] == '{"a":'
