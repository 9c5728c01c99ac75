"""examples/embeddings_rag.py runs offline and retrieves the document about the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the example in a subprocess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "embeddings_rag.py"


def test_the_example_runs_offline_and_retrieves_the_cache_document() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTKEY_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("PORTKEY_API_KEY is not set: running offline on the local server")
    assert "Retrieved: cache.md" in done.stdout
    assert "ten minutes" in done.stdout.split("Answer:", 1)[1]
