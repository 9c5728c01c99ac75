"""What the LangChain adapter relies on that langchain-core does not promise publicly.

Each test pins one behaviour, so a langchain-core release that changes it fails here
(on both ends of the supported range) instead of in users' apps.
"""

from __future__ import annotations

import inspect
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableBinding

from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer


def test_precomputed_generate_signatures_still_offer_run_manager() -> None:
    # BaseChatModel/BaseLLM look at _generate's signature on every call to decide
    # whether to pass run_manager; the classes stamp __signature__ to make that cheap.
    for cls in (PortkeyChatModel, PortkeyPromptLLM):
        for method in (cls._generate, cls._agenerate):
            stamped = method.__signature__  # type: ignore[attr-defined]
            assert "run_manager" in stamped.parameters
            assert stamped == inspect.signature(method)


def test_run_manager_reaches_generate(server: LocalPortkeyServer) -> None:
    tokens: list[str] = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append(token)

    model = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, streaming=True)
    reply = model.invoke({"topic": "owls", "adjective": "dry"}, config={"callbacks": [Tokens()]})
    assert "".join(tokens) == reply.content and "owls" in reply.content


def test_bind_returns_a_public_runnable_binding_serialized_as_such() -> None:
    bound = PortkeyChatModel(prompt_id="pp-joke").bind(temperature=0)
    assert isinstance(bound, RunnableBinding)
    assert bound.lc_id()[-1] == "RunnableBinding"
    again = bound.bind(variables={"topic": "x"})
    assert isinstance(again, type(bound))


def test_invocation_params_come_from_the_models_own_fields() -> None:
    # The base class builds invocation params from dict()/asdict(), which read
    # _identifying_params; no deprecated override is needed.
    model = PortkeyChatModel(prompt_id="pp-joke", temperature=0.5)
    params = model._get_invocation_params(stop=None)
    assert params["prompt_id"] == "pp-joke" and params["temperature"] == 0.5
    assert params["_type"] == "portkey-chat"
