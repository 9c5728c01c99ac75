"""What ``import portkey_integrations.langchain`` adds to langchain-core's BaseChatModel
plus httpx. Target: under 50 ms. Each sample is a fresh interpreter that imports the
baseline first and then times the adapter's import alone; the baseline's own import
time is printed for scale. Also checks that neither ``portkey_integrations`` nor its
LangChain adapter imports llama_index.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

SAMPLE = """
import time
t0 = time.perf_counter()
import httpx
from langchain_core.language_models import BaseChatModel
t1 = time.perf_counter()
import portkey_integrations.langchain
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""
CHECK = (
    "import sys, portkey_integrations.langchain; "
    "assert not [m for m in sys.modules if m.startswith('llama_index')], 'llama_index imported'"
)


def main() -> int:
    # Bytecode caches may be written, as they are on a user's machine after one import.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", CHECK], check=True, env=env)
    base, added = [], []
    for i in range(17):
        out = subprocess.run(
            [sys.executable, "-c", SAMPLE], check=True, env=env, capture_output=True, text=True
        ).stdout.split()
        if i >= 2:  # the first runs write bytecode caches
            base.append(float(out[0]))
            added.append(float(out[1]))
    base_ms, added_ms = statistics.median(base) * 1000, statistics.median(added) * 1000
    print("\nimport time (median of 15 fresh interpreters)")
    print(f"  httpx + langchain_core BaseChatModel        {base_ms:8.1f} ms")
    verdict = "ok" if added_ms < 50 else "MISSED"
    print(f"  + portkey_integrations.langchain            {added_ms:8.1f} ms (< 50) {verdict}")
    return 0 if added_ms < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
