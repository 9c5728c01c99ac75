"""Import cost of the package's modules against their peers, in fresh interpreters.

Each sample is a fresh interpreter that imports the shared baseline first (httpx plus
the framework's base class) and then times the subject's import alone; samples of ours
and the peer alternate, the first ones (which write bytecode caches) are dropped, and
the median is kept. Also checks that the LangChain adapter never imports llama_index.
Run alone: ``python -m benchmarks.bench_import``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from ._harness import Row, Settings, has_module

SAMPLE = """
import sys, time
exec(sys.argv[1])
t0 = time.perf_counter()
exec(sys.argv[2])
print(time.perf_counter() - t0)
"""
CHECK = (
    "import sys, portkey_integrations.langchain; "
    "assert not [m for m in sys.modules if m.startswith('llama_index')], 'llama_index imported'"
)
# (row, baseline, ours, peer module, peer statement, target ms)
CASES = [
    (
        "portkey_integrations.langchain",
        "import httpx; from langchain_core.language_models import BaseChatModel",
        "import portkey_integrations.langchain",
        "langchain_openai",
        "import langchain_openai",
        30.0,
    ),
    (
        "portkey_integrations.llama_index",
        "import httpx; from llama_index.core.llms import LLM",
        "import portkey_integrations.llama_index",
        "llama_index.llms.openai",
        "import llama_index.llms.openai",
        30.0,
    ),
    (
        "portkey_integrations (core)",
        "import httpx, pydantic",
        "import portkey_integrations",
        "portkey_ai",
        "import portkey_ai",
        None,
    ),
]


def _sample(env: dict[str, str], baseline: str, statement: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SAMPLE, baseline, statement],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    return float(out) * 1000


def run(settings: Settings) -> list[Row]:
    """One row per case: milliseconds the import adds over its baseline."""
    # Bytecode caches may be written, as they are on a user's machine after one import.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", CHECK], check=True, env=env)
    samples, warm = settings.pick(7, 2), settings.pick(2, 1)
    rows = []
    for name, baseline, ours, peer_module, peer, target in CASES[: settings.pick(3, 1)]:
        with_peer = has_module(peer_module)
        mine: list[float] = []
        theirs: list[float] = []
        for index in range(warm + samples):
            a = _sample(env, baseline, ours)
            b = _sample(env, baseline, peer) if with_peer else 0.0
            if index >= warm:
                mine.append(a)
                theirs.append(b)
        rows.append(
            Row(
                "import",
                name,
                statistics.median(mine),
                statistics.median(theirs) if with_peer else None,
                peer_module if with_peer else "-",
                "ms",
                target=target,
                target_on_ours=True,
                note=f"over `{baseline}`",
            )
        )
    return rows


if __name__ == "__main__":
    from ._harness import table_lines

    print("\n".join(table_lines(run(Settings()))))
