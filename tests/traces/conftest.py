"""Fixtures for the trace tests: the local server with an agent prompt registered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from portkey_integrations.server import LocalPortkeyServer

AGENT_PROMPT = "pp-trace-agent"
AGENT_TEMPLATE = (
    '[{"role": "system", "content": "You are careful."},'
    "{{#chat_history}}{{{.}}},{{/chat_history}}"
    '{"role": "user", "content": "{{input}}"}'
    "{{#agent_scratchpad}},{{{.}}}{{/agent_scratchpad}}]"
)
SECRET = "pk-trace-secret-0123456789"


@pytest.fixture(scope="session")
def server_prompts() -> Mapping[str, Mapping[str, Any]]:
    """The agent prompt."""
    return {AGENT_PROMPT: {"template": AGENT_TEMPLATE, "model": "portkey-local"}}


def trace_headers(server: LocalPortkeyServer) -> list[dict[str, str]]:
    """The trace and span headers of every completion request the server received."""
    names = (
        "x-portkey-trace-id",
        "x-portkey-span-id",
        "x-portkey-parent-span-id",
        "x-portkey-span-name",
        "x-portkey-metadata",
        "traceparent",
    )
    return [{k: r.headers[k] for k in names if k in r.headers} for r in server.requests]
