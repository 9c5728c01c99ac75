"""What importing the adapter pulls in (checked in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = """
import sys
import portkey_integrations.langchain as lc
loaded = set(sys.modules)
assert not any(m == "llama_index" or m.startswith("llama_index.") for m in loaded), "llama_index"
assert "portkey_integrations.server" not in loaded, "server"
assert "langchain_core.language_models.llms" not in loaded, "BaseLLM eagerly"
assert "portkey_integrations.langchain._structured" not in loaded, "structured output"
assert "langchain_core.output_parsers.pydantic" not in loaded, "parsers"
# What only some calls need is imported by them, not by the package (issue 23: import
# cost over the framework's base classes).
lazy = {
    "langchain_core.tracers.context": "the tracer context (tenacity, LangSmith helpers)",
    "tenacity": "tenacity",
    "portkey_integrations._templates.cache": "the prompt API and the template cache",
    "portkey_integrations._templates.analysis": "the template analysis",
    "portkey_integrations.langchain._chunks": "the stream converters",
    "portkey_integrations.langchain._history": "the listeners' step",
    "portkey_integrations.langchain.templates": "pull_prompt",
    "langchain_core.prompts": "langchain-core's prompt templates",
    "langchain_core.tools": "langchain-core's tools",
    "portkey_integrations._templates.template": "PortkeyTemplate",
    "portkey_integrations._templates.mustache": "the Mustache renderer",
    "portkey_integrations._streaming": "the core's streams",
    "httpx_sse": "httpx-sse",
    "portkey_integrations.resources.embeddings": "the embeddings API",
    "portkey_integrations._adapters.batch": "the Batch API runner",
    "portkey_integrations._adapters.polling": "BatchPolling",
    "portkey_integrations._adapters.mapping": "the mapping rule",
    "portkey_integrations._templates.checks": "the variables check",
}
eager = [what for name, what in lazy.items() if name in loaded]
assert not eager, eager
# The settings' schema is built with the first model, not at import.
from portkey_integrations._adapters.settings import PortkeyClientSettings, PortkeySettings
assert not PortkeyClientSettings.__pydantic_complete__, "settings schema built at import"
assert not PortkeySettings.__pydantic_complete__, "settings schema built at import"
assert not lc.PortkeyChatModel.__pydantic_complete__, "model schema built at import"
assert lc.PortkeyPromptLLM.__name__ == "PortkeyPromptLLM"
assert lc.BatchPolling().max_delay == 60.0
assert "langchain_core.language_models.llms" in sys.modules
print("ok")
"""


@pytest.mark.slow  # a fresh interpreter
def test_import_is_lazy_and_framework_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


SIDE_EFFECTS = """
import os, sys, threading
from langchain_core.tracers.context import _configure_hooks
environ, hooks = dict(os.environ), list(_configure_hooks)
import portkey_integrations.langchain as lc
from portkey_integrations.langchain import PortkeyEmbeddings, PortkeyPromptLLM
assert dict(os.environ) == environ, "the environment changed"
assert _configure_hooks == hooks, "a configure hook was registered at import"
# The first model built installs the hook, once, however many threads build at once.
threads = [threading.Thread(target=lc.PortkeyChatModel, kwargs={"prompt_id": "pp-x"})
           for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
PortkeyPromptLLM(prompt_id="pp-x")
assert len(_configure_hooks) == len(hooks) + 1, _configure_hooks
assert dict(os.environ) == environ, "the environment changed"
print("ok")
"""


@pytest.mark.slow  # a fresh interpreter importing langchain
def test_import_has_no_side_effects_and_building_installs_the_hook_once() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SIDE_EFFECTS], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.slow  # a fresh interpreter importing langchain
def test_the_hook_can_be_turned_off_from_the_environment() -> None:
    code = SIDE_EFFECTS.replace("+ 1, _configure_hooks", ", _configure_hooks")
    env = {**os.environ, "PORTKEY_LANGCHAIN_TRACES": "false"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.slow  # a fresh interpreter importing langchain
def test_an_unpickled_model_installs_the_hook_in_its_process() -> None:
    import pickle

    from portkey_integrations.langchain import PortkeyChatModel

    pickled = pickle.dumps(PortkeyChatModel(prompt_id="pp-x"))
    code = f"""
import pickle
from langchain_core.tracers.context import _configure_hooks
hooks = len(_configure_hooks)
model = pickle.loads({pickled!r})
assert model.prompt_id == "pp-x"
assert len(_configure_hooks) == hooks + 1, _configure_hooks
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
