"""Tool choice and JSON-schema values for the offline model.

The offline model calls tools by a fixed rule (see ``docs/local-server.md``)
and fills arguments from the tool's JSON schema, so arguments always validate.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["message_text", "plan_tool_calls", "sample_schema", "tool_results"]

_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
}


def message_text(message: Any) -> str:
    """The text of a message's content: a string, or its text parts joined by newlines."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return ""


def _last_user_index(messages: list[Any]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and messages[i].get("role") == "user":
            return i
    return -1


def _tool_name(tool: Any) -> str | None:
    if isinstance(tool, dict):
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str):
            return name
    return None


def _calls_since_user(messages: list[Any]) -> dict[str, str]:
    """Tool calls made since the last user message: call id -> tool name."""
    calls: dict[str, str] = {}
    for message in messages[_last_user_index(messages) + 1 :]:
        if isinstance(message, dict) and message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    calls[str(call.get("id"))] = str(function.get("name"))
    return calls


def tool_results(messages: list[Any]) -> list[tuple[str, str]]:
    """(tool name, result text) of each tool message since the last user message."""
    calls = _calls_since_user(messages)
    results = []
    for message in messages[_last_user_index(messages) + 1 :]:
        if isinstance(message, dict) and message.get("role") == "tool":
            name = message.get("name") or calls.get(str(message.get("tool_call_id")), "tool")
            results.append((str(name), message_text(message)))
    return results


def plan_tool_calls(
    messages: list[Any], tools: list[Any], tool_choice: Any, parallel: bool
) -> list[dict[str, Any]]:
    """The tools (OpenAI tool dicts) the model calls this turn; empty to answer in text."""
    by_name = {name: tool for tool in tools if (name := _tool_name(tool)) is not None}
    if not by_name or tool_choice == "none":
        return []
    if isinstance(tool_choice, dict):
        function = tool_choice.get("function")
        forced = function.get("name") if isinstance(function, dict) else None
        return [by_name[forced]] if forced in by_name else []
    index = _last_user_index(messages)
    user_text = message_text(messages[index]).lower() if index >= 0 else ""
    called = set(_calls_since_user(messages).values())
    names = list(by_name)
    named = [n for n in names if n.lower() in user_text]
    pending_named = [n for n in named if n not in called]
    if pending_named:
        chosen = pending_named if parallel and len(pending_named) > 1 else pending_named[:1]
    elif not named:
        chosen = [n for n in names if n not in called][:1]
    else:
        chosen = []
    if not chosen and tool_choice == "required":
        chosen = (named or names)[:1]
    return [by_name[n] for n in chosen]


def _resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema.get("$ref"), str) and seen < 32:
        target: Any = root
        for part in schema["$ref"].lstrip("#").strip("/").split("/"):
            if not part:
                continue
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(target, dict)
                else {}
            )
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class _Text(str):
    """The user's text, handing out the numbers written in it one by one, so that
    "add 2 and 3" calls add(a=2, b=3); the last number repeats, 1 when there is none."""

    numbers: list[float]
    used: int

    @classmethod
    def of(cls, text: str) -> _Text:
        if isinstance(text, _Text):
            return text
        made = cls(text)
        made.numbers = [float(n) for n in _NUMBER.findall(text)]
        made.used = 0
        return made

    def next_number(self) -> float:
        if not self.numbers:
            return 1
        value = self.numbers[min(self.used, len(self.numbers) - 1)]
        self.used += 1
        return value


def _number(schema: dict[str, Any], integer: bool, text: _Text) -> int | float:
    value: float = text.next_number()
    if integer:
        value = int(value)
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if isinstance(low, (int, float)) and value <= low:
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if isinstance(high, (int, float)) and value >= high:
        value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        value = step * max(1, round(value / step))
    return int(value) if integer else value


def sample_schema(schema: Any, text: str, root: Any = None, depth: int = 0) -> Any:
    """A value valid against ``schema``: strings are ``text`` (or a format's example),
    numbers those written in ``text`` in turn (else 1) within the schema's bounds, booleans
    true, enums their first value, arrays one item, objects every property."""
    if not isinstance(schema, dict):
        return str(text)
    text = _Text.of(text)
    root = schema if root is None else root
    schema = _resolve_ref(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return sample_schema((usable or options)[0], text, root, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve_ref(part, root) if isinstance(part, dict) else {}
            merged = {
                **merged,
                **part,
                "properties": {**merged.get("properties", {}), **part.get("properties", {})},
            }
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return sample_schema({**merged, **rest}, text, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if depth > 12 and kind in ("object", "array"):
        return {} if kind == "object" else []
    if kind == "object":
        properties = schema.get("properties") or {}
        value = {
            name: sample_schema(sub, text, root, depth + 1) for name, sub in properties.items()
        }
        for name in schema.get("required") or []:
            value.setdefault(name, str(text))
        return value
    if kind == "array":
        count = max(1, int(schema.get("minItems") or 0))
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [sample_schema(s, text, root, depth + 1) for s in prefix]
        return [sample_schema(schema.get("items", {}), text, root, depth + 1) for _ in range(count)]
    if kind in ("number", "integer"):
        return _number(schema, kind == "integer", _Text.of(text))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    string = _FORMATS.get(str(schema.get("format")), str(text))
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(high, int) and len(string) > high:
        string = string[:high]
    if isinstance(low, int) and len(string) < low:
        string += "x" * (low - len(string))
    return string
