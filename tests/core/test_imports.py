"""The core imports no framework and not the server (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import portkey_integrations
heavy = ("langchain", "langchain_core", "llama_index", "starlette", "uvicorn")
loaded = [m for m in sys.modules if m.split(".")[0] in heavy]
loaded += [m for m in sys.modules if m.startswith("portkey_integrations.server")]
print(",".join(sorted(loaded)) or "clean")
"""


def test_core_import_is_framework_free() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "clean"
