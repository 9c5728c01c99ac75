"""Fixtures for the LlamaIndex adapter tests: the local server with this suite's prompts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from llama_index.core import Settings
from llama_index.core.embeddings import MockEmbedding

from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

SECRET = "pk-li-secret-0123456789"

# A chat prompt that places the conversation around the user message: history before
# it, the agent's tool calls and results after it (Portkey joins arrays with commas).
AGENT_TEMPLATE = (
    '[{"role": "system", "content": "You are a careful calculator."}, '
    "{{#chat_history}}{{{.}}}, {{/chat_history}}"
    '{"role": "user", "content": "{{input}}"}'
    "{{#agent_scratchpad}}, {{{.}}}{{/agent_scratchpad}}]"
)

PROMPTS: dict[str, dict[str, Any]] = {
    "pp-li-agent": {"template": AGENT_TEMPLATE},
    "pp-li-topic": {
        "template": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Tell me about {{topic}}."},
        ]
    },
    "pp-li-topic-text": {"template": "Tell me about {{topic}}.", "kind": "text"},
    "pp-li-extract": {
        "template": [{"role": "user", "content": "Extract the person from: {{text}}"}]
    },
}


@pytest.fixture(autouse=True, scope="session")
def _no_default_openai() -> None:
    # LlamaIndex falls back to OpenAI embeddings when none is given; make that
    # fallback offline and deterministic (every test also passes its models explicitly).
    Settings.embed_model = MockEmbedding(embed_dim=8)


@pytest.fixture
def secret() -> str:
    """The API key every model in these tests is built with; it must never leak."""
    return SECRET


@pytest.fixture(scope="session")
def server_prompts() -> Mapping[str, Mapping[str, Any]]:
    """This suite's prompts on ``server``."""
    return PROMPTS


@pytest.fixture
def chat_model(server: LocalPortkeyServer) -> Callable[..., PortkeyChatModel]:
    """Build a chat model pointed at the local server."""

    def make(**kwargs: Any) -> PortkeyChatModel:
        kwargs.setdefault("max_retries", 0)
        if "prompt_id" not in kwargs:
            kwargs.setdefault("provider", "openai")  # Portkey's gateway routes need routing
        return PortkeyChatModel(base_url=server.base_url, api_key=SECRET, **kwargs)

    return make


@pytest.fixture
def prompt_llm(server: LocalPortkeyServer) -> Callable[..., PortkeyPromptLLM]:
    """Build a completion model pointed at the local server."""

    def make(**kwargs: Any) -> PortkeyPromptLLM:
        kwargs.setdefault("max_retries", 0)
        if "prompt_id" not in kwargs:
            kwargs.setdefault("provider", "openai")  # Portkey's gateway routes need routing
        return PortkeyPromptLLM(base_url=server.base_url, api_key=SECRET, **kwargs)

    return make


@pytest.fixture(params=["direct", "prompt"])
def tool_llm(
    request: pytest.FixtureRequest, chat_model: Callable[..., PortkeyChatModel]
) -> PortkeyChatModel:
    """A tool-calling chat model on the chat route and on the agent prompt route."""
    if request.param == "prompt":
        return chat_model(prompt_id="pp-li-agent")
    return chat_model(model="portkey-local")
