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


LAZY = """
import sys
import portkey_integrations as pk
lazy = [
    "portkey_integrations._templates.template",
    "portkey_integrations._templates.mustache",
    "portkey_integrations._templates.cache",
    "portkey_integrations._streaming",
    "httpx_sse",
    "portkey_integrations.resources.embeddings",
    "difflib",
]
assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]
assert set(pk.__all__) <= set(dir(pk))
from portkey_integrations import PortkeyTemplate, Stream, AsyncStream, Embedding
assert PortkeyTemplate.__module__ == "portkey_integrations._templates.template"
assert [getattr(pk, name) for name in pk.__all__]  # every public name resolves
assert pk.Stream is Stream and pk.AsyncStream is AsyncStream and pk.Embedding is Embedding
try:
    pk.NoSuchName
except AttributeError as exc:
    assert "NoSuchName" in str(exc)
else:
    raise AssertionError("an unknown name resolved")
print("ok")
"""


def test_what_only_some_programs_use_loads_on_first_use() -> None:
    # The template machinery, streams and embeddings are public names of the package,
    # imported when first read (issue 23: import cost).
    out = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
