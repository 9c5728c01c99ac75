"""Throughput of the local Portkey-compatible server, and where its time goes.

The package's app (uvicorn, its own process) against a bare Starlette route (uvicorn,
its own process, same config) that answers with the very bytes the package's server
sent, so the difference is the package's own work. The load comes from a third process
(:mod:`._load`: httpx async, a bounded count, loopback only); rounds alternate between
the two servers and the median rate is kept. Then the package's server runs under
cProfile for one load of each kind, and its time is split by where it is spent.
Run alone: ``python -m benchmarks.bench_server``.
"""

from __future__ import annotations

import json
import pstats
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import httpx

from ._harness import TOPIC, Row, Server, Settings, run_module, serve

CALL = json.dumps({"variables": {"input": TOPIC}})
STREAM = json.dumps({"variables": {"input": TOPIC}, "stream": True})
CONCURRENCY = "16"


def _url(server: Server) -> str:
    return f"{server.base_url}/prompts/pp-bench/completions"


def _rate(server: Server, body: str, count: int) -> float:
    return float(run_module("-m", "benchmarks._load", _url(server), body, str(count), CONCURRENCY))


def _capture(server: Server, folder: str) -> tuple[str, str]:
    """Files holding the package server's answers to the two benchmark requests."""
    headers = {"content-type": "application/json", "x-portkey-api-key": "pk-bench"}
    paths = []
    for name, body in (("call.json", CALL), ("stream.sse", STREAM)):
        response = httpx.post(_url(server), content=body, headers=headers)
        response.raise_for_status()
        path = Path(folder, name)
        path.write_bytes(response.content)
        paths.append(str(path))
    return paths[0], paths[1]


def throughput_rows(settings: Settings) -> list[Row]:
    """Requests per second, and server CPU per request (from /proc, so the load
    generator sharing the cores does not blur it): the package's server against the
    bare route."""
    count, rounds = settings.pick(1000, 150), settings.pick(3, 1)
    rates: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as folder, serve() as ours:
        body_file, stream_file = _capture(ours, folder)
        with serve("bare", "--body", body_file, "--stream", stream_file) as bare:
            for index in range(rounds):
                for kind, body in (("completions", CALL), ("stream", STREAM)):
                    pair = [("ours", ours), ("bare", bare)]
                    for side, server in pair if index % 2 == 0 else reversed(pair):
                        before = server.cpu_seconds()
                        rates[f"{side} {kind}"].append(_rate(server, body, count))
                        # The warm-up requests (one per worker) are counted too.
                        spent = server.cpu_seconds() - before
                        cpus[f"{side} {kind}"].append(spent / (count + int(CONCURRENCY)))
    rows = []
    for kind in ("completions", "stream"):
        ours_key, bare_key = f"ours {kind}", f"bare {kind}"
        name = f"prompt {kind}, {CONCURRENCY} concurrent"
        rows.append(
            Row(
                "server",
                name,
                statistics.median(rates[ours_key]),
                statistics.median(rates[bare_key]),
                "bare Starlette route",
                "req/s",
                higher_is_better=True,
                note="load generator in a third process; it shares the 2 cores",
            )
        )
        rows.append(
            Row(
                "server",
                f"{name}: server CPU per request",
                statistics.median(cpus[ours_key]) * 1e6,
                statistics.median(cpus[bare_key]) * 1e6,
                "bare Starlette route",
                "us CPU",
                note="utime + stime of the server process, /proc",
            )
        )
    return rows


AREAS = (
    ("mustache", "package: Mustache rendering"),
    ("portkey_integrations/server/model", "package: offline model (the emulated LLM)"),
    ("portkey_integrations", "package: other server code"),
    ("starlette", "Starlette"),
    ("uvicorn", "uvicorn"),
    ("h11", "h11 (HTTP/1.1 parsing)"),
    ("asyncio", "asyncio event loop"),
    ("json", "json"),
    ("uuid", "uuid"),
    ("pydantic", "pydantic"),
)


def _area(filename: str) -> str:
    for marker, label in AREAS:
        if marker in filename:
            return label
    if filename.startswith("~") or "{" in filename:
        return "builtins (sockets, selectors, ...)"
    return "other"


def profile_lines(settings: Settings) -> list[str]:
    """The package server's CPU split by area, and its costliest own functions."""
    count = settings.pick(1000, 100)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder, "server.prof"))
        with serve("portkey", "--profile", path) as server:
            _rate(server, CALL, count)
            _rate(server, STREAM, count)
        stats = pstats.Stats(path)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    areas: dict[str, float] = defaultdict(float)
    own: list[tuple[float, str]] = []
    for (filename, line, function), (_, _, tottime, _, _) in raw.items():
        if "epoll" in function:
            continue  # idle time waiting for the load generator
        areas[_area(filename)] += tottime
        if "portkey_integrations" in filename:
            short = filename.split("portkey_integrations/", 1)[1]
            own.append((tottime, f"`{short}:{line} {function}`"))
    total = sum(areas.values())
    lines = [
        f"Server CPU for {count} prompt completions and {count} prompt streams "
        f"(cProfile, idle waits left out), {total:.2f} s in all:",
        "",
        "| where | share |",
        "|---|---:|",
    ]
    for label, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        lines.append(f"| {label} | {seconds / total:.0%} |")
    lines += ["", "The package's own functions by self time:", ""]
    for seconds, name in sorted(own, reverse=True)[:12]:
        lines.append(f"- {name}: {seconds / total:.1%}")
    return lines


def run(settings: Settings) -> list[Row]:
    """The throughput rows."""
    return throughput_rows(settings)


if __name__ == "__main__":
    from ._harness import table_lines

    print("\n".join(table_lines(run(Settings()))))
    print("\n".join(profile_lines(Settings())))
