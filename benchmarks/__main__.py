"""``python -m benchmarks``: every benchmark, a table, and ``benchmarks/RESULTS.md``.

``--quick`` is a smoke run (a subset of rows, few rounds, under a minute) that prints
the table and writes nothing unless ``--out`` is given. ``--only core,memory`` runs
some sections. Peers whose packages are missing are left out.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import (
    bench_concurrency,
    bench_core,
    bench_frameworks,
    bench_import,
    bench_memory,
    bench_server,
    bench_templates,
)
from ._harness import Row, Settings, fmt, machine, run_module, table_lines

SECTIONS = ("core", "frameworks", "concurrency", "import", "memory", "server", "templates")
RESULTS = Path(__file__).with_name("RESULTS.md")


def _concurrency(settings: Settings, runs: int) -> tuple[list[Row], list[str]]:
    """Rows from ``runs`` fresh-interpreter runs, each the run whose ratio is the median
    (a ratio is paired: both sides measured in one run, interleaved), and the method
    notes with the run-to-run spread observed."""
    argv = ["-m", "benchmarks.bench_concurrency", *(["--quick"] if settings.quick else [])]
    results = [
        [Row(**row) for row in json.loads(run_module(*argv).splitlines()[-1])] for _ in range(runs)
    ]
    rows, notes = (
        [],
        [
            "| case | ratio per run | spread of the ratio | spread of our figure |",
            "|---|---|---:|---:|",
        ],
    )
    for index, first in enumerate(results[0]):
        same = [run[index] for run in results]
        ratios = [row.ratio or 0.0 for row in same]
        ours = [row.ours for row in same]
        middle = sorted(same, key=lambda row: row.ratio or 0.0)[len(same) // 2]
        rows.append(dataclasses.replace(middle, note=f"the median run of {runs}: {middle.note}"))
        ratio_spread = (max(ratios) - min(ratios)) / statistics.median(ratios) / 2
        ours_spread = (max(ours) - min(ours)) / statistics.median(ours) / 2
        notes.append(
            f"| {first.name} | {', '.join(f'{r:.3f}' for r in ratios)} "
            f"| ±{ratio_spread:.1%} | ±{ours_spread:.1%} |"
        )
    return rows, notes


def _results_md(
    rows: list[Row],
    info: dict[str, str],
    seconds: float,
    concurrency_notes: list[str],
    profile: list[str],
    failed: list[str],
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `python -m benchmarks` in {seconds / 60:.1f} minutes on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Measured on a **shared "
        f"2-core machine** (other work ran at the same time: load average "
        f"{info['load average']} at the end), so absolute figures move between runs; "
        "ratios are against a baseline measured in the same run, rounds interleaved.",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores",
        f"- Python {info['python']}",
        f"- Packages: {info['packages']}",
        "",
        "## Results",
        "",
        *[f"**Section failed** (no rows): {failure}" for failure in failed],
        "",
        "ratio = ours / peer for times, CPU and memory; peer / ours for rates; above 1 "
        "means we are slower. A target applies to a ratio (`x`) or to our figure "
        "(with a unit). `client CPU ratio` is the same comparison on the client "
        "process's CPU time (`time.process_time`), which the server and the other "
        "processes on the machine do not blur; where it is given, the verdict is on it, "
        "since on this busy machine the wall-clock ratio moves much more between runs.",
        "",
        *table_lines(rows),
        "",
        "Row notes:",
        "",
        *[f"- {row.section}: {row.name}: {row.note}" for row in rows if row.note],
        "",
        "## Method",
        "",
        "- Every server runs in its own process (`benchmarks/_servers.py`, uvicorn with "
        "the package's socket settings), never in the measuring process. Ours and the "
        "baseline hit the same server in the same run.",
        "- Sequential rows (`core`, `portkey-ai SDK`, `langchain`, `llama-index`): "
        "rounds of N calls per candidate, candidates interleaved (order reversed every "
        "other round), warm-up calls first; the figure is the mean of the lowest third "
        "of the rounds' per-call times (`low_mean` in `_harness.py`). Floor models "
        "(`benchmarks/_floors.py`) are bare subclasses of the frameworks' base classes "
        "making the same single httpx call and building a content-only message.",
        "- Connections are counted server-side (accepted TCP connections); each side "
        "runs in a fresh interpreter so no pool is warm from earlier rows.",
        "- Imports: fresh interpreters import the baseline, then time the subject "
        "alone; ours and the peer alternate; bytecode caches warm; median.",
        "- Memory: tracemalloc peak in the client process above its start, while a "
        "Starlette server streams 1000-character OpenAI chat chunks; the consumer "
        "keeps only a running length; one untraced warm-up stream first.",
        "- Server throughput: a load generator in a third process (httpx async, 16 "
        "workers, bounded count, loopback) against the package's app and a bare "
        "Starlette route answering the same bytes; alternating rounds, median. It shares "
        "the 2 cores with the server, so server CPU per request (utime + stime from "
        "`/proc`) is given beside the rate.",
        "- Template parsing: the package's Mustache parser (cache bypassed) against one "
        "regex pass finding the same text's tags, per MB, rounds interleaved in one "
        "process; the tests check only that parsing is linear (by counting its work).",
        "",
        "### 200 concurrent async calls",
        "",
        bench_concurrency.__doc__.split("measured):", 1)[1].split("Run alone")[0].strip()
        if bench_concurrency.__doc__
        else "",
        "",
        "Each run is a fresh interpreter with its own server; the table above shows "
        "the run whose ratio is the median (both sides of a ratio come from one run, "
        "interleaved, so a ratio is not split across runs). Spread observed between "
        "runs (± half the range, relative to the median):",
        "",
        *concurrency_notes,
        "",
    ]
    if profile:
        lines += ["## Profile of the local server", "", *profile, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections; print the table; write RESULTS.md (full runs)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smoke run: few rounds, some rows")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--out", help="write the results here (default: RESULTS.md, full runs)")
    parser.add_argument("--concurrency-runs", type=int, help="fresh runs (default 3; quick 1)")
    args = parser.parse_args(argv)
    settings = Settings(quick=args.quick)
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    if unknown := set(chosen) - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if settings.quick and not args.only:
        chosen = [s for s in chosen if s != "server"]
    start = time.perf_counter()
    rows: list[Row] = []
    notes: list[str] = []
    profile: list[str] = []
    failed: list[str] = []
    simple: dict[str, Callable[[Settings], list[Row]]] = {
        "core": bench_core.run,
        "frameworks": bench_frameworks.run,
        "import": bench_import.run,
        "memory": bench_memory.run,
        "server": bench_server.run,
        "templates": bench_templates.run,
    }
    for section in SECTIONS:
        if section not in chosen:
            continue
        print(f"running {section} ({fmt(time.perf_counter() - start)} s)", file=sys.stderr)
        try:
            if section == "concurrency":
                runs = args.concurrency_runs or settings.pick(3, 1)
                found, notes = _concurrency(settings, runs)
                rows += found
            else:
                rows += simple[section](settings)
            if section == "server" and not settings.quick:
                profile = bench_server.profile_lines(settings)
        except Exception as exc:  # one broken section must not hide the others' rows
            traceback.print_exc()
            failed.append(f"{section}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    seconds = time.perf_counter() - start
    print("\n".join(table_lines(rows)))
    print(f"\n{len(rows)} rows in {fmt(seconds)} s")
    for failure in failed:
        print(f"FAILED {failure}")
    out = args.out or (None if settings.quick or args.only else str(RESULTS))
    if out is not None:
        text = _results_md(rows, machine(), seconds, notes, profile, failed)
        Path(out).write_text(text)
        print(f"wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
