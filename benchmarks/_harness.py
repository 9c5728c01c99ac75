"""Side-by-side timing: candidates and their baseline run interleaved in one process,
against the same local server, so the ratio cancels out the machine's speed."""

from __future__ import annotations

import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def compare(
    candidates: dict[str, Callable[[], object]],
    *,
    calls: int = 200,
    rounds: int = 7,
    warmup: int = 30,
) -> dict[str, float]:
    """Median seconds per call of each candidate, measured in interleaved rounds."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(times) for name, times in samples.items()}


def report(title: str, times: dict[str, float], baseline: str, targets: dict[str, float]) -> bool:
    """Print each candidate's time and ratio to the baseline; True when all meet targets."""
    base = times[baseline]
    print(f"\n{title}")
    ok = True
    for name, seconds in times.items():
        ratio = seconds / base
        target = targets.get(name)
        verdict = ""
        if target is not None:
            passed = ratio <= target
            ok &= passed
            verdict = f"  target <= {target:.2f}x  {'ok' if passed else 'MISSED'}"
        print(f"  {name:<40} {seconds * 1e6:9.1f} us/call  {ratio:5.2f}x{verdict}")
    return ok


@contextlib.contextmanager
def serve(prompts: dict[str, Any] | None = None) -> Iterator[str]:
    """Run the local server in its own process (so it does not share the benchmark's
    GIL) with the given prompt files; yields its base URL."""
    with tempfile.TemporaryDirectory() as folder:
        for prompt_id, data in (prompts or {}).items():
            Path(folder, f"{prompt_id}.json").write_text(json.dumps({"id": prompt_id, **data}))
        command = [sys.executable, "-m", "portkey_integrations.server.cli", "serve"]
        process = subprocess.Popen(
            [*command, "--port", "0", "--prompts", folder],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            yield line.rsplit(" ", 1)[-1].strip()
        finally:
            process.terminate()
            process.wait(10)
