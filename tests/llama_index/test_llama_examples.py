"""The LlamaIndex examples run offline, against the embedded local server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTKEY_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "llama_index_query_engine.py",
            ["Query: How long does Zephyr keep cache entries?", "ten minutes", "Streamed: Echo:"],
        ),
        ("llama_index_agent.py", ["tool add(", "tool multiply(", "Final answer:", "multiply: "]),
    ],
)
def test_example_runs_offline(name: str, expected: list[str]) -> None:
    out = _run(name)
    for text in expected:
        assert text in out
