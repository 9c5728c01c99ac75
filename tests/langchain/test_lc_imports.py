"""What importing the adapter pulls in (checked in a fresh interpreter)."""

from __future__ import annotations

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
assert lc.PortkeyPromptLLM.__name__ == "PortkeyPromptLLM"
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
