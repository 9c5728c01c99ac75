"""Small helpers shared by the server tests."""

from __future__ import annotations

import json
from typing import Any

import httpx


def sse_events(response: httpx.Response) -> list[str]:
    """The raw ``data:`` payloads of a finished event-stream response, in order."""
    events = []
    for block in response.text.split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                events.append(line[len("data: ") :])
    return events


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON chunks of a stream (``[DONE]`` excluded); asserts it ended with ``[DONE]``."""
    events = sse_events(response)
    assert events[-1] == "[DONE]", events[-3:]
    return [json.loads(e) for e in events[:-1]]


def content_of(parts: list[dict[str, Any]], index: int = 0) -> str:
    """The text a chat stream's chunks add up to, for one choice."""
    return "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in parts
        if c["choices"] and c["choices"][0]["index"] == index
    )


def chat(messages: Any, **params: Any) -> dict[str, Any]:
    """A chat completions body."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    return {"model": "portkey-local", "messages": messages, **params}
