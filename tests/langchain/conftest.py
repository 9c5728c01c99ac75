"""Fixtures for the LangChain adapter's tests: prompts registered on the local server."""

from __future__ import annotations

from collections.abc import Iterator

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


def register_prompts(server: LocalPortkeyServer) -> None:
    """Register this suite's prompts once per server (the store outlives resets)."""
    store = server.store
    if AGENT_PROMPT in set(store.ids()):
        return
    store.register(AGENT_PROMPT, template=AGENT_TEMPLATE, model="portkey-local")
    store.register(
        TOPIC_PROMPT,
        template=[
            {"role": "system", "content": "Style: {{style}}. Audience: {{audience}}."},
            {"role": "user", "content": "Talk about {{topic}}."},
        ],
        model="portkey-local",
        parameters={"temperature": 0.3},
    )
    store.register(
        TOPIC_PROMPT,
        template=[{"role": "user", "content": "v2 about {{topic}}"}],
        model="portkey-local",
        publish=False,
        labels=("staging",),
    )


@pytest.fixture
def server(portkey_local: LocalPortkeyServer) -> LocalPortkeyServer:
    """The reset local server, with this suite's prompts registered."""
    register_prompts(portkey_local)
    return portkey_local


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


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries back off for real otherwise; the tests only care that they happen.
    monkeypatch.setattr("portkey_integrations._retry._INITIAL_RETRY_DELAY", 0.001)


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
