"""What every benchmark shares: servers in their own processes, interleaved timing
rounds, result rows and the machine description.

Ratios are always against a baseline measured in the same run against the same server,
with baseline and subject rounds interleaved, so a busy machine slows both alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent

CHAT_PROMPT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Tell me about {{input}} in plain style"},
]
PROMPTS: dict[str, dict[str, Any]] = {
    "pp-bench": {"template": CHAT_PROMPT, "model": "portkey-local"},
    "pp-bench-text": {"kind": "text", "template": "Say {{{input}}}", "model": "portkey-local"},
}
TOPIC = "the tallest mountain on the moon and why it is so tall"


@dataclasses.dataclass(frozen=True)
class Settings:
    """How much work each benchmark does (``quick``: a smoke run)."""

    quick: bool = False

    def pick(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` in a smoke run."""
        return quick if self.quick else full


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the results table: our figure, the peer's and their ratio.

    ``ratio`` is ours / peer for costs and peer / ours for rates (``higher_is_better``),
    so above 1 always means we are slower. ``target`` applies to the ratio, or to our
    own figure when ``target_on_ours``.
    """

    section: str
    name: str
    ours: float
    peer: float | None
    peer_name: str
    unit: str
    target: float | None = None
    target_on_ours: bool = False
    higher_is_better: bool = False
    cpu_ratio: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer is None or self.peer == 0 or self.ours == 0:
            return None
        return self.peer / self.ours if self.higher_is_better else self.ours / self.peer

    @property
    def verdict(self) -> str:
        """Against the target: on the client CPU ratio when there is one (the server's
        time and the machine's other load are not the client's overhead)."""
        value = self.ours if self.target_on_ours else (self.cpu_ratio or self.ratio)
        if self.target is None or value is None:
            return ""
        return "ok" if value <= self.target else "MISSED"


def fmt(value: float | None) -> str:
    """A number at a readable precision."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


TABLE_HEADER = (
    "| row | ours | peer | peer is | ratio | client CPU ratio | target | verdict |",
    "|---|---:|---:|---|---:|---:|---:|---|",
)


def table_lines(rows: Sequence[Row]) -> list[str]:
    """The rows as a Markdown table."""
    lines = list(TABLE_HEADER)
    for row in rows:
        target = ""
        if row.target is not None:
            target = f"<= {fmt(row.target)}" + (f" {row.unit}" if row.target_on_ours else "x")
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        cpu = f"{row.cpu_ratio:.2f}x" if row.cpu_ratio is not None else ""
        peer = f"{fmt(row.peer)} {row.unit}" if row.peer is not None else "-"
        lines.append(
            f"| {row.section}: {row.name} | {fmt(row.ours)} {row.unit} | {peer} "
            f"| {row.peer_name} | {ratio} | {cpu} | {target} | {row.verdict} |"
        )
    return lines


def low_mean(values: Sequence[float]) -> float:
    """The mean of the lowest third of ``values`` (at least one).

    On a shared machine other work only ever adds to a round's time (cache misses,
    CPU share), never takes from it, so the fastest rounds are the truest; a mean of
    several of them is steadier than the minimum alone or the median.
    """
    ordered = sorted(values)
    low = ordered[: max(1, len(ordered) // 3)]
    return sum(low) / len(low)


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds per call (:func:`low_mean` of the rounds): wall clock, and CPU time of
    this (the client) process."""

    wall: float
    cpu: float


def compare(
    candidates: dict[str, Callable[[], object]],
    *,
    calls: int = 200,
    rounds: int = 7,
    warmup: int = 30,
) -> dict[str, Timing]:
    """Time each candidate in interleaved rounds of ``calls`` calls, per call."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    walls: dict[str, list[float]] = {name: [] for name in candidates}
    cpus: dict[str, list[float]] = {name: [] for name in candidates}
    for index in range(rounds):
        # Alternate the order so neither side always runs right after the other.
        names = list(candidates) if index % 2 == 0 else list(reversed(candidates))
        for name in names:
            fn = candidates[name]
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                fn()
            cpus[name].append((time.process_time() - cpu) / calls)
            walls[name].append((time.perf_counter() - wall) / calls)
    return {name: Timing(low_mean(walls[name]), low_mean(cpus[name])) for name in candidates}


def timed_row(
    section: str,
    name: str,
    times: dict[str, Timing],
    ours: str,
    peer: str,
    *,
    target: float | None = None,
    note: str = "",
) -> Row:
    """A row of microseconds per call from :func:`compare` results."""
    mine, theirs = times[ours], times[peer]
    return Row(
        section,
        name,
        mine.wall * 1e6,
        theirs.wall * 1e6,
        peer,
        "us",
        target=target,
        cpu_ratio=mine.cpu / theirs.cpu if theirs.cpu else None,
        note=note,
    )


@dataclasses.dataclass
class Server:
    """A benchmark server running in its own process."""

    base_url: str
    process: subprocess.Popen[str] | None = None

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/v1")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_connections(self) -> None:
        """Start counting accepted connections from zero."""
        httpx.post(f"{self.origin}/_bench/reset").raise_for_status()

    def connections(self) -> int:
        """Connections accepted since the reset, leaving out this query's own."""
        accepted: int = httpx.get(f"{self.origin}/_bench/connections").json()["accepted"]
        return accepted - 1


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


@contextlib.contextmanager
def serve(kind: str = "portkey", *args: str) -> Iterator[Server]:
    """Run ``benchmarks._servers KIND`` in its own process (it must not share this
    process's GIL or CPU clock); the portkey kind serves :data:`PROMPTS`."""
    with tempfile.TemporaryDirectory() as folder:
        extra = list(args)
        if kind == "portkey":
            for prompt_id, data in PROMPTS.items():
                Path(folder, f"{prompt_id}.json").write_text(json.dumps({"id": prompt_id, **data}))
            extra += ["--prompts", folder]
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._servers", kind, *extra],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=_env(),
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("listening on "):
                raise RuntimeError(f"benchmark server {kind!r} did not start")
            yield Server(line.rsplit(" ", 1)[-1].strip(), process)
        finally:
            process.terminate()
            process.wait(10)


def run_python(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter (repo on the path); its stdout."""
    return run_module("-c", code, *args)


def run_module(*argv: str) -> str:
    """Run ``python ARGV...`` (``-m module`` or ``-c code``) from the repo; its stdout."""
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, cwd=REPO, env=_env()
    )
    if done.returncode != 0:
        raise RuntimeError(f"python {argv[0]} {argv[1][:60]} failed:\n{done.stderr[-4000:]}")
    return done.stdout


PACKAGES = (
    "portkey-integrations",
    "httpx",
    "langchain-core",
    "langchain-openai",
    "llama-index-core",
    "llama-index-llms-openai",
    "portkey-ai",
    "starlette",
    "uvicorn",
)


def has_module(name: str) -> bool:
    """Whether ``name`` is importable (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def machine() -> dict[str, str]:
    """CPU model, core count, Python and package versions, load average."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "packages": ", ".join(versions),
        "load average": load,
    }
