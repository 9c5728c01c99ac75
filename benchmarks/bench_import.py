"""What ``import portkey_integrations.langchain`` adds to langchain-core's BaseChatModel
plus httpx, in fresh interpreters. Target: under 50 ms. Also checks that neither
``portkey_integrations`` nor its LangChain adapter imports llama_index.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

BASE = "import httpx; from langchain_core.language_models import BaseChatModel"
CASES = {
    "baseline (BaseChatModel + httpx)": BASE,
    "+ portkey_integrations.langchain": BASE + "; import portkey_integrations.langchain",
}
CHECK = (
    "import sys, portkey_integrations.langchain; "
    "assert not [m for m in sys.modules if m.startswith('llama_index')], 'llama_index imported'"
)


def run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> int:
    subprocess.run([sys.executable, "-c", CHECK], check=True)
    for code in CASES.values():  # warm the filesystem and bytecode caches
        run(code)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(15):
        for name, code in CASES.items():
            samples[name].append(run(code))
    medians = {name: statistics.median(times) for name, times in samples.items()}
    base, adapter = medians.values()
    added_ms = (adapter - base) * 1000
    print("\nimport time (median of 15 fresh interpreters)")
    for name, seconds in medians.items():
        print(f"  {name:<40} {seconds * 1000:8.1f} ms")
    verdict = "ok" if added_ms < 50 else "MISSED"
    print(f"  added by the adapter: {added_ms:.1f} ms (target < 50 ms) {verdict}")
    return 0 if added_ms < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
