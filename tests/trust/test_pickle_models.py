"""Models pickle (multiprocessing, Ray, LangGraph checkpoints) without their connections."""

from __future__ import annotations

import pickle

import pytest
from llama_index.core.llms import ChatMessage

from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

SECRET = "pk-pickle-secret"


@pytest.mark.parametrize("cls", [LCChat, LCLLM, LIChat, LILLM])
def test_a_used_model_pickles_and_works_after(cls: type, server: LocalPortkeyServer) -> None:
    model = cls(prompt_id="pp-assistant", base_url=server.base_url, api_key=SECRET, seed=3)
    assert model.client is not None  # connections built before pickling
    copy = pickle.loads(pickle.dumps(model))
    assert copy.seed == 3 and copy.api_key.get_secret_value() == SECRET
    if cls in (LCChat, LCLLM):
        out = copy.invoke("hello")
        text = getattr(out, "content", out)
    else:
        text = copy.chat([ChatMessage(role="user", content="hello")]).message.content
    assert "hello" in str(text)
    assert server.requests[-1].headers["x-portkey-api-key"] == SECRET
    assert server.requests[-1].body["seed"] == 3
