"""What the LangChain adapter relies on that langchain-core does not promise publicly.

Each test pins one behaviour, so a langchain-core release that changes it fails here
(on both ends of the supported range) instead of in users' apps.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from langchain_core.runnables import RunnableBinding

from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.langchain._tracing import RootRun
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


def test_the_configure_hook_gives_each_root_run_its_own_root_run_handler() -> None:
    # _tracing registers an object whose get() makes a new RootRun in place of a
    # ContextVar; configure must add that to a root manager, and a child manager
    # configured from its parent's callbacks must keep the parent's instance.
    PortkeyChatModel(prompt_id="pp-joke")  # building a model installs the hook

    def root_runs(manager: Any) -> list[RootRun]:
        return [h for h in manager.handlers if isinstance(h, RootRun)]

    first, second = CallbackManager.configure(), CallbackManager.configure()
    [a], [b] = root_runs(first), root_runs(second)
    assert a is not b
    run = first.on_chain_start({}, {})
    [inherited] = root_runs(CallbackManager.configure(run.get_child()))
    assert inherited is a and a.root == run.run_id


def _spying(base: type[Any]) -> type[Any]:
    class Spying(base):  # type: ignore[misc,valid-type]
        def _convert_input(self, model_input: Any) -> Any:
            calls.append("convert")
            return super()._convert_input(model_input)

        # The chat model's invocation params; BaseLLM builds its own from this one.
        def _get_invocation_params(self, stop: Any = None, **kwargs: Any) -> dict[str, Any]:
            calls.append("params")
            return super()._get_invocation_params(stop=stop, **kwargs)  # type: ignore[no-any-return]

        def _dict_for_compat(self) -> dict[str, Any]:
            calls.append("params")
            return super()._dict_for_compat()  # type: ignore[no-any-return]

    calls: list[str] = []
    Spying.calls = calls  # type: ignore[attr-defined]
    return Spying


@pytest.mark.parametrize("base", [PortkeyChatModel, PortkeyPromptLLM], ids=["chat", "llm"])
async def test_convert_input_comes_first_then_the_invocation_params(
    base: type[Any], server: LocalPortkeyServer
) -> None:
    # The models read a dict input in _convert_input (the base classes reject dicts)
    # and remember the input there for the invocation params (_get_invocation_params,
    # BaseLLM's _dict_for_compat), which LangChain builds without it: every entry point
    # must call the first, then the second.
    if base is PortkeyChatModel:
        prompt, variables = "pp-joke", {"adjective": "dry", "topic": "owls"}
    else:
        prompt, variables = "pp-text-complete", {"input": "owls"}
    model = _spying(base)(prompt_id=prompt, base_url=server.base_url)
    calls = model.calls
    entries = {
        "invoke": lambda: model.invoke(variables),
        "stream": lambda: list(model.stream(variables)),
        "batch": lambda: model.batch([variables]),
    }
    for name, run in entries.items():
        calls.clear()
        run()
        assert calls[:2] == ["convert", "params"], name
    calls.clear()
    await model.ainvoke(variables)
    assert calls[:2] == ["convert", "params"], "ainvoke"
    calls.clear()
    [_ async for _ in model.astream(variables)]
    assert calls[:2] == ["convert", "params"], "astream"
    assert server.requests[-1].body["variables"] == variables


@pytest.mark.parametrize("cls", [PortkeyChatModel, PortkeyPromptLLM])
def test_calls_read_the_model_dict_through_dict_for_compat(
    cls: Any, server: LocalPortkeyServer
) -> None:
    # The models override the private _dict_for_compat (LangChain's detour through the
    # deprecated dict()) with asdict(); LangChain must still read the params through it.
    reads: list[dict[str, Any]] = []

    class Counted(cls):  # type: ignore[misc,valid-type]
        def _dict_for_compat(self) -> dict[str, Any]:
            reads.append(params := super()._dict_for_compat())
            return params

    model = Counted(prompt_id="pp-joke", base_url=server.base_url)
    model.invoke({"topic": "owls", "adjective": "dry"})
    assert reads and reads[-1]["prompt_id"] == "pp-joke"
    assert reads[-1]["_type"] == model._llm_type  # LangChain adds its own keys after
