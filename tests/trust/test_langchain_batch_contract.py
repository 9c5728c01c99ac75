"""What the Batch API path relies on in langchain-core beyond its public API.

``use_batch_api`` hands each job answer to LangChain through ``invoke`` on a copy of the
model whose ``_generate_with_cache`` answers from the job, so every input keeps its own
callbacks. A langchain-core release that renames that hook, changes its arguments or
stops calling it from ``generate`` fails here, on both ends of the supported range.
"""

from __future__ import annotations

import inspect
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel

from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.langchain._batch import replaying
from portkey_integrations.server import LocalPortkeyServer


def test_generate_with_cache_keeps_its_arguments() -> None:
    for name in ("_generate_with_cache", "_agenerate_with_cache"):
        parameters = list(inspect.signature(getattr(BaseChatModel, name)).parameters)
        assert parameters[:4] == ["self", "messages", "stop", "run_manager"], name


def test_invoke_asks_generate_with_cache_between_the_callbacks(
    server: LocalPortkeyServer,
) -> None:
    events: list[str] = []

    class Events(BaseCallbackHandler):
        def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
            events.append("start")

        def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
            events.append("end")

    class Spy(PortkeyChatModel):
        def _generate_with_cache(self, *args: Any, **kwargs: Any) -> Any:
            events.append("generate")
            return super()._generate_with_cache(*args, **kwargs)

    model = Spy(prompt_id="pp-joke", base_url=server.base_url)
    reply = model.invoke({"topic": "owls", "adjective": "dry"}, {"callbacks": [Events()]})
    assert events == ["start", "generate", "end"]
    assert "owls" in reply.text
    # The replaying class keeps the model's name, so callbacks and traces see it.
    assert replaying(PortkeyChatModel).__name__ == "PortkeyChatModel"
