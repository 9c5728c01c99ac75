"""What the mapping-rule tests share: the prompts they run, inputs, and helpers."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

AGENT = "pp-lc-agent"
"""Registered by conftest.py: history, the user's text and the agent's scratchpad."""
NO_PAD = "pp-lc-no-pad"
"""A system message, history and the user's text: no slot for an agent's tool calls."""
BARE = "pp-lc-bare"
"""The user's text only."""
INVOICE = "pp-lc-invoice"

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
TOOL_TURN: list[BaseMessage] = [
    HumanMessage("weather in Oslo?"),
    AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}]),
    ToolMessage("sunny in Oslo", tool_call_id="c1"),
]


def register(server: LocalPortkeyServer) -> None:
    """Register the prompts once per server (the store outlives resets)."""
    store = server.store
    if NO_PAD in set(store.ids()):
        return
    store.register(
        NO_PAD,
        template=(
            '[{"role": "system", "content": "Be brief."},'
            "{{#chat_history}}{{{.}}},{{/chat_history}}"
            '{"role": "user", "content": "{{input}}"}]'
        ),
    )
    store.register(BARE, template=[{"role": "user", "content": "{{input}}"}])
    store.register(
        INVOICE,
        template=[
            {"role": "user", "content": "Total: {{total}} {{currency}} due {{due}} ({{ref}})"}
        ],
    )


def model(server: LocalPortkeyServer, prompt_id: str, **kwargs: Any) -> PortkeyChatModel:
    return PortkeyChatModel(
        prompt_id=prompt_id, base_url=server.base_url, api_key="pk-test", **kwargs
    )


def prompt_requests(server: LocalPortkeyServer, prompt_id: str) -> list[Any]:
    return [r for r in server.requests if r.prompt_id == prompt_id]


def image_message(*parts: dict[str, Any]) -> HumanMessage:
    return HumanMessage(content=[{"type": "text", "text": "What is this?"}, *(parts or (IMAGE,))])
