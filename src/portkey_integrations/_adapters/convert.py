"""Framework-free conversions both adapters share.

The adapters turn their own messages into OpenAI-format dicts; everything after that
(conversation to prompt variables, tool choice, streamed tool-call assembly) is here,
written once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._call import INPUT_PARTS_VARIABLE
from .._errors import PortkeyConfigError
from .._response import DeltaToolCall

__all__ = [
    "INPUT_PARTS_VARIABLE",
    "ToolCallAccumulator",
    "content_parts",
    "conversation_variables",
    "last_user_index",
    "message_text",
    "normalize_tool_choice",
    "parse_tool_arguments",
]


def message_text(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and part.get("type", "text") == "text":
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return str(content)


def conversation_variables(
    messages: Sequence[Mapping[str, Any]],
    *,
    input_variable: str,
    history_variable: str | None,
    scratchpad_variable: str | None,
) -> dict[str, Any]:
    """Map a conversation onto prompt variables.

    The last user message's text goes into ``input_variable`` and, when it has parts
    other than text (images, audio, files), all its parts into
    :data:`INPUT_PARTS_VARIABLE`; the messages before it
    into ``history_variable`` and the messages after it (the assistant's tool calls and
    the tool results of an agent loop) into ``scratchpad_variable``, both as lists of
    OpenAI message dicts that a template splices into its messages array. A variable
    name of ``None`` drops that part.
    """
    last_user = last_user_index(messages)
    variables: dict[str, Any] = {}
    if last_user >= 0:
        content = messages[last_user].get("content")
        variables[input_variable] = message_text(content)
        parts = content_parts(content)
        if parts is not None:
            variables[INPUT_PARTS_VARIABLE] = parts
        before, after = messages[:last_user], messages[last_user + 1 :]
    else:
        variables[input_variable] = ""
        before, after = messages, []
    if history_variable is not None:
        variables[history_variable] = [dict(m) for m in before]
    if scratchpad_variable is not None:
        variables[scratchpad_variable] = [dict(m) for m in after]
    return variables


def last_user_index(messages: Sequence[Mapping[str, Any]]) -> int:
    """The index of the last user message, ``-1`` when there is none."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return -1


def content_parts(content: Any) -> list[dict[str, Any]] | None:
    """The parts of a message ``content`` (copies) when any of them is not text."""
    if isinstance(content, str) or not isinstance(content, Sequence):
        return None
    parts = [dict(p) if isinstance(p, Mapping) else {"type": "text", "text": p} for p in content]
    if all(p.get("type", "text") == "text" for p in parts):
        return None
    return parts


def normalize_tool_choice(
    tool_choice: str | bool | Mapping[str, Any] | None, tool_names: Sequence[str]
) -> str | dict[str, Any] | None:
    """OpenAI's ``tool_choice`` from the forms frameworks accept.

    ``"auto"``, ``"none"`` and ``"required"`` pass; ``"any"`` and ``True`` mean
    ``"required"`` (``True`` with one tool forces that tool); a tool name forces it.
    """
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True:
        if len(tool_names) == 1:
            return {"type": "function", "function": {"name": tool_names[0]}}
        return "required"
    if isinstance(tool_choice, Mapping):
        return dict(tool_choice)
    if tool_choice in ("auto", "none", "required"):
        return tool_choice
    if tool_choice == "any":
        return "required"
    if tool_choice in tool_names:
        return {"type": "function", "function": {"name": tool_choice}}
    raise PortkeyConfigError(
        f"tool_choice {tool_choice!r} is neither auto, none, any, required nor one of the "
        f"bound tools {list(tool_names)}"
    )


def parse_tool_arguments(arguments: str | None) -> dict[str, Any]:
    """Parse a tool call's JSON arguments; ``""`` is ``{}``. Raises ``ValueError``."""
    if not arguments:
        return {}
    value = json.loads(arguments)
    if not isinstance(value, dict):
        raise ValueError(f"tool arguments must be a JSON object, got {type(value).__name__}")
    return value


class ToolCallAccumulator:
    """Assembles streamed tool-call deltas (id and name first, argument fragments after)
    into complete OpenAI tool calls, keyed by their ``index``."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}

    def add(self, deltas: Sequence[DeltaToolCall]) -> None:
        for delta in deltas:
            call = self._calls.get(delta.index)
            if call is None:
                call = self._calls[delta.index] = {
                    "id": delta.id,
                    "type": "function",
                    "function": {"name": "", "arguments": ""},
                }
            elif delta.id and not call["id"]:
                call["id"] = delta.id
            fn = delta.function
            if fn is not None:
                if fn.name:
                    call["function"]["name"] += fn.name
                if fn.arguments:
                    call["function"]["arguments"] += fn.arguments

    def __bool__(self) -> bool:
        return bool(self._calls)

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """The calls so far, in index order, as OpenAI ``tool_calls`` dicts (copies)."""
        return [
            {**call, "function": dict(call["function"])} for _, call in sorted(self._calls.items())
        ]
