"""The LangChain examples run offline, against the embedded local server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTKEY_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("langchain_chain.py", ["answer: Echo: Tell me a dry joke about otters.",
                                "streamed: Echo: Tell me a silly joke about penguins.",
                                "batch: Echo: Tell me a short joke about rain."]),
        ("langchain_agent.py", ["ai: calls get_weather", "tool: sunny, 21 C",
                                "ai: calls get_local_time", "get_local_time: 14:05"]),
    ],
)
def test_example_runs_offline(name: str, expected: list[str]) -> None:
    out = run_example(name)
    for line in expected:
        assert line in out
