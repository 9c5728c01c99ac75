"""Fixtures for the LangChain adapter's tests: prompts registered on the local server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import lc_mapping_support
import pytest

from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

# A chat template for agents: the conversation before the last user message is
# spliced in front of it, the agent's tool calls and results after it. Mustache renders
# each message dict as raw JSON; the loops leave no stray comma when a list is empty.
AGENT_TEMPLATE = (
    '[{"role": "system", "content": "You are a careful assistant."},'
    "{{#chat_history}}{{{.}}},{{/chat_history}}"
    '{"role": "user", "content": "{{input}}"}'
    "{{#agent_scratchpad}},{{{.}}}{{/agent_scratchpad}}]"
)
AGENT_PROMPT = "pp-lc-agent"
TOPIC_PROMPT = "pp-lc-topic"


@pytest.fixture(scope="session")
def server_prompts() -> Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]:
    """The agent prompt, and a topic prompt with an unpublished labelled v2."""
    return {
        AGENT_PROMPT: {"template": AGENT_TEMPLATE, "model": "portkey-local"},
        TOPIC_PROMPT: [
            {
                "template": [
                    # Optional variables: most tests send only the topic.
                    {
                        "role": "system",
                        "content": "{{#style}}Style: {{style}}. {{/style}}"
                        "{{#audience}}Audience: {{audience}}.{{/audience}}",
                    },
                    {"role": "user", "content": "Talk about {{topic}}."},
                ],
                "model": "portkey-local",
                "parameters": {"temperature": 0.3},
            },
            {
                "template": [{"role": "user", "content": "v2 about {{topic}}"}],
                "model": "portkey-local",
                "publish": False,
                "labels": ("staging",),
            },
        ],
    }


@pytest.fixture
def fresh_templates(server: LocalPortkeyServer) -> Iterator[LocalPortkeyServer]:
    """The server, with the process's template cache emptied before and after (a
    template cached under one test's key must not answer for another's) and the scoped
    keys removed after; the mapping-rule prompts registered."""
    lc_mapping_support.register(server)
    prompt_cache.clear()
    yield server
    server.set_api_keys({})
    prompt_cache.clear()


@pytest.fixture
def chat(server: LocalPortkeyServer) -> PortkeyChatModel:
    """A chat model on the plain chat route of the local server."""
    return PortkeyChatModel(
        model="portkey-local", provider="openai", base_url=server.base_url, api_key="pk-test"
    )


@pytest.fixture
def agent_chat(server: LocalPortkeyServer) -> PortkeyChatModel:
    """A chat model running the agent prompt on the local server."""
    return PortkeyChatModel(prompt_id=AGENT_PROMPT, base_url=server.base_url, api_key="pk-test")
