"""Every example runs offline as a newcomer runs it, and fails loudly when Portkey is
unreachable.

Each script in ``examples/`` runs in its own subprocess with no ``PORTKEY_*``
variables, so it must opt into the local server itself; its output must contain what
a reader is told to look for. A second run points it at a closed port with a key set:
it must exit non-zero, name the URL it tried and never print the key (one example per
way of calling: a chain, an async agent, the gateway route, the prompts CLI; running
every one twice would double the suite's time for no new path).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OPT_IN = "running offline"
UNREACHABLE = "http://127.0.0.1:9/v1"
SECRET = "pk-example-secret-4242"

# What each example must print offline: the lines a reader is told to judge.
EXPECTED: dict[str, list[str]] = {
    "langchain_chain.py": [
        "answer: Echo: Tell me a dry joke about otters.",
        "streamed: Echo: Tell me a silly joke about penguins.",
        "batch: Echo: Tell me a short joke about rain.",
    ],
    "langchain_agent.py": [
        "ai: calls get_weather",
        "tool: sunny, 21 C",
        "ai: calls get_local_time",
        "get_local_time: 14:05",
    ],
    "langchain_version_pin.py": [
        "pp-joke: Echo: Tell me a dry joke about otters.   [version: published",
        "pp-joke@2: Echo: Tell me a dry joke about otters, please.   [version: 2,",
        "pp-joke@production: Echo: Tell me a dry joke about otters, please.",
        "prompt_version=2 runs pp-joke@2",
    ],
    "langchain_chat_history.py": [
        "assistant: Echo: My name is Ann and I keep bees.",
        "the next turn sends 6 messages:",
        "assistant: Echo: What is a good name for a queen bee?",
        "user: What is my name?",
    ],
    "langchain_structured_output.py": [
        "function_calling:\n  setup:     Tell me a dry joke about owls.",
        "json_schema:\n  setup:     Tell me a dry joke about owls.",
        "rating:    1/10",
        "include_raw: tool call 'Joke', parsing error: None",
    ],
    "gateway_config.py": [
        "answer: Echo: Say hello to the gateway.",
        "cache: MISS",
        "x-portkey-provider: openai",
        'x-portkey-config: {"retry":{"attempts":3,"on_status_codes":[429,503]}',
        'x-portkey-metadata: {"_user":"example-user","feature":"gateway-example"}',
        "-2\n",  # the per-call trace id came back
    ],
    "async_fanout.py": [
        "Echo: Tell me a short joke about topic number 0.",
        "Echo: Tell me a short joke about topic number 49.",
        "50 answers in ",
    ],
    "batch_offline.py": [
        "batch: Echo: Tell me a short joke about owls.",
        "batch: Echo: Tell me a short joke about maps.",
        "5 answers from job batch",
        "  job completed (5/5 done)",
        "submitted batch",
        "retrieved: Echo: Tell me a short joke about tea.",
        "status: completed",
    ],
    "prompts_round_trip.py": [
        "pp-joke@2                    renders identically",
        "pp-joke@production           renders identically",
        "new version 3, tested offline: Echo: One dry line on owls.",
        "pp-joke: pushed as v3 (label 'staging')",
        "nothing to push",
        "in sync: 2 prompt(s)",
        '"content": "One dry line on owls."',
    ],
    "llama_index_query_engine.py": [
        "Query: How long does Zephyr keep cache entries?",
        "ten minutes",
        "refine: Echo: The original query is as follows",  # pp-refine ran the refine step
        "tree_summarize: Echo: Context information from multiple sources",  # pp-summary
        "Streamed: Echo:",
    ],
    "traces_feedback.py": [
        "answer: Echo: Tell me a honest joke about this joke: Echo: Tell me a dry joke",
        "trace ids of the two calls: ['",
        "feedback sent: success",
        " value 8",
    ],
    "llama_index_agent.py": ["tool add(", "tool multiply(", "Final answer:", "multiply: "],
    "embeddings_rag.py": ["Retrieved: cache.md", "Answer: Echo: Context information is below."],
}


UNREACHABLE_CHECKED = (
    "langchain_chain.py",
    "llama_index_agent.py",
    "gateway_config.py",
    "prompts_round_trip.py",
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTKEY_")}
    return {**env, **extra}


def _run(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[tuple[str, str], Future[subprocess.CompletedProcess[str]]]]:
    """Every run, started at once: the scripts wait on their subprocesses, not the CPU."""
    broken = _env(PORTKEY_API_KEY=SECRET, PORTKEY_BASE_URL=UNREACHABLE, PORTKEY_PROMPT_ID="pp-x")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {(name, "offline"): pool.submit(_run, name, _env()) for name in EXPECTED}
        futures |= {(n, "broken"): pool.submit(_run, n, broken) for n in UNREACHABLE_CHECKED}
        yield futures


def test_every_example_has_expectations() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED)
    assert len(EXPECTED) >= 8
    assert set(UNREACHABLE_CHECKED) <= set(EXPECTED)
    readme = (EXAMPLES.parent / "README.md").read_text()
    assert [name for name in EXPECTED if f"`examples/{name}`" not in readme] == []


@pytest.mark.slow  # each example in its own interpreter
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(
    name: str, runs: dict[tuple[str, str], Future[subprocess.CompletedProcess[str]]]
) -> None:
    done = runs[name, "offline"].result()
    assert done.returncode == 0, done.stdout + done.stderr
    assert OPT_IN in done.stdout.splitlines()[0]  # it says, first, that it opted in
    missing = [text for text in EXPECTED[name] if text not in done.stdout]
    assert not missing, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    # Warnings of the package itself (or raised at an example's line) are bugs in the
    # example; a framework's own deprecation notices at some versions are not.
    ours = [
        line
        for line in done.stderr.splitlines()
        if "Warning" in line and ("portkey_integrations" in line or "examples/" in line)
    ]
    assert ours == [], done.stderr


@pytest.mark.slow  # each example in its own interpreter
@pytest.mark.parametrize("name", UNREACHABLE_CHECKED)
def test_example_fails_loudly_when_portkey_is_unreachable(
    name: str, runs: dict[tuple[str, str], Future[subprocess.CompletedProcess[str]]]
) -> None:
    done = runs[name, "broken"].result()
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert OPT_IN not in output  # a configured URL is used, never replaced
    assert "127.0.0.1:9" in output  # the error names where it tried
    assert SECRET not in output
