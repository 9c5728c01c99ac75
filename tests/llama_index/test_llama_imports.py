"""What importing the LlamaIndex adapter loads, and what it leaves for the calls that
need it (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import sys
import portkey_integrations.llama_index as li
loaded = set(sys.modules)
lazy = [
    "portkey_integrations.llama_index.embedding",  # embedding models
    "portkey_integrations.llama_index.templates",  # pull_prompt
    "portkey_integrations.llama_index._conserve",  # prompt-route checks, local renders
    "portkey_integrations._adapters.mapping",
    "portkey_integrations._templates.checks",
    "portkey_integrations._templates.analysis",
    "portkey_integrations._templates.cache",
    "portkey_integrations.server",
    "portkey_integrations._templates.template",  # PortkeyTemplate and its renderer
    "portkey_integrations._templates.mustache",
    "portkey_integrations._streaming",  # the core's streams (httpx-sse)
    "httpx_sse",
    "portkey_integrations.resources.embeddings",  # the embeddings API
    "difflib",  # the typo hints of unknown options and keywords
]
assert not [m for m in lazy if m in loaded], [m for m in lazy if m in loaded]
from portkey_integrations._adapters.settings import PortkeyClientSettings, PortkeySettings
assert not PortkeyClientSettings.__pydantic_complete__, "settings schema built at import"
assert not PortkeySettings.__pydantic_complete__, "settings schema built at import"
assert not li.PortkeyChatModel.__pydantic_complete__, "validators built at import"
assert li.PortkeyEmbedding.__name__ == "PortkeyEmbedding"
assert li.pull_prompt.__name__ == "pull_prompt"
assert "portkey_integrations.llama_index.embedding" in sys.modules
li.PortkeyChatModel(model="m", api_key="k", base_url="http://127.0.0.1:9")
assert li.PortkeyChatModel.__pydantic_complete__
print("ok")
"""


@pytest.mark.slow  # a fresh interpreter
def test_import_leaves_what_only_some_calls_need() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
