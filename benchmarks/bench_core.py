"""The core client against raw httpx and the official ``portkey-ai`` SDK, on the prompt
route of the local server (in its own process); and the connections 500 sequential
streams use. Run alone: ``python -m benchmarks.bench_core``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable, Iterator

import httpx

from portkey_integrations import AsyncPortkeyClient, PortkeyClient

from ._harness import (
    TOPIC,
    Row,
    Server,
    Settings,
    compare,
    has_module,
    run_python,
    serve,
    timed_row,
)

SECTION = "core"
VARIABLES = {"input": TOPIC}
HEADERS = {"content-type": "application/json", "x-portkey-api-key": "pk-bench"}
Streamer = Callable[[], Iterator[str]]


def _raw(base_url: str) -> tuple[Callable[[], object], Streamer]:
    """Raw httpx: one call, and a stream yielding content deltas."""
    raw = httpx.Client()
    url = f"{base_url}/prompts/pp-bench/completions"
    call_body = json.dumps({"variables": VARIABLES}).encode()
    stream_body = json.dumps({"variables": VARIABLES, "stream": True}).encode()

    def call() -> object:
        response = raw.post(url, content=call_body, headers=HEADERS)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]

    def stream() -> Iterator[str]:
        with raw.stream("POST", url, content=stream_body, headers=HEADERS) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    chunk = json.loads(line[6:])
                    if chunk["choices"]:
                        yield chunk["choices"][0]["delta"].get("content") or ""

    return call, stream


def _ours(base_url: str) -> tuple[Callable[[], object], Streamer]:
    client = PortkeyClient(base_url=base_url, api_key="pk-bench")

    def call() -> object:
        return client.complete(prompt_id="pp-bench", variables=VARIABLES).content

    def stream() -> Iterator[str]:
        with client.stream(prompt_id="pp-bench", variables=VARIABLES) as chunks:
            for chunk in chunks:
                if chunk.choices:
                    yield chunk.choices[0].content or ""

    return call, stream


class _FirstChunk:
    """Times a stream to its first content chunk; the rest is drained untimed."""

    def __init__(self, stream: Streamer) -> None:
        self.stream = stream
        self.seconds: list[float] = []

    def __call__(self) -> object:
        start = time.perf_counter()
        chunks = self.stream()
        for text in chunks:
            if text:
                break
        self.seconds.append(time.perf_counter() - start)
        return list(chunks)


def core_rows(server: Server, settings: Settings) -> list[Row]:
    """Call, stream and time to first chunk: PortkeyClient against raw httpx."""
    raw_call, raw_stream = _raw(server.base_url)
    our_call, our_stream = _ours(server.base_url)
    assert raw_call() == our_call()
    assert "".join(raw_stream()) == "".join(our_stream())
    calls, rounds = settings.pick(200, 20), settings.pick(9, 3)
    times = compare({"raw httpx": raw_call, "ours": our_call}, calls=calls, rounds=rounds)
    rows = [timed_row(SECTION, "PortkeyClient.complete", times, "ours", "raw httpx", target=1.10)]
    times = compare(
        {"raw httpx": lambda: list(raw_stream()), "ours": lambda: list(our_stream())},
        calls=calls // 2,
        rounds=rounds,
    )
    rows.append(timed_row(SECTION, "PortkeyClient.stream", times, "ours", "raw httpx", target=1.10))
    raw_first, our_first = _FirstChunk(raw_stream), _FirstChunk(our_stream)
    compare({"raw httpx": raw_first, "ours": our_first}, calls=calls // 2, rounds=rounds)
    ours_us = statistics.median(our_first.seconds) * 1e6
    raw_us = statistics.median(raw_first.seconds) * 1e6
    rows.append(Row(SECTION, "time to first chunk", ours_us, raw_us, "raw httpx", "us", 1.10))
    return rows


def sdk_rows(server: Server, settings: Settings) -> list[Row]:
    """PortkeyClient / AsyncPortkeyClient against ``portkey_ai`` on prompt completions."""
    from portkey_ai import AsyncPortkey, Portkey

    url, section = server.base_url, "portkey-ai SDK"
    sdk = Portkey(api_key="pk-bench", base_url=url)
    asdk = AsyncPortkey(api_key="pk-bench", base_url=url)
    ours = PortkeyClient(base_url=url, api_key="pk-bench")
    aours = AsyncPortkeyClient(base_url=url, api_key="pk-bench")
    create, acreate = sdk.prompts.completions.create, asdk.prompts.completions.create
    loop = asyncio.new_event_loop()

    async def sdk_async() -> object:
        return (await acreate(prompt_id="pp-bench", variables=VARIABLES)).choices

    async def our_async() -> object:
        return (await aours.complete(prompt_id="pp-bench", variables=VARIABLES)).content

    def sdk_stream() -> object:
        return [c for c in create(prompt_id="pp-bench", variables=VARIABLES, stream=True)]

    def our_stream() -> object:
        with ours.stream(prompt_id="pp-bench", variables=VARIABLES) as chunks:
            return [c for c in chunks]

    calls, rounds = settings.pick(150, 15), settings.pick(7, 3)
    cases: list[tuple[str, dict[str, Callable[[], object]], int]] = [
        (
            "prompts.completions.create (sync)",
            {
                "portkey_ai": lambda: create(prompt_id="pp-bench", variables=VARIABLES),
                "ours": lambda: ours.complete(prompt_id="pp-bench", variables=VARIABLES),
            },
            calls,
        ),
        (
            "prompts.completions.create (async)",
            {
                "portkey_ai": lambda: loop.run_until_complete(sdk_async()),
                "ours": lambda: loop.run_until_complete(our_async()),
            },
            calls,
        ),
        (
            "prompts.completions.create (stream)",
            {"portkey_ai": sdk_stream, "ours": our_stream},
            calls // 2,
        ),
    ]
    rows = []
    try:
        for name, candidates, n in cases[: 1 if settings.quick else 3]:
            times = compare(candidates, calls=n, rounds=rounds, warmup=10)
            rows.append(timed_row(section, name, times, "ours", "portkey_ai", target=1.0))
    finally:
        loop.run_until_complete(asdk.close())
        loop.run_until_complete(aours.aclose())
        loop.close()
    return rows


def drain(side: str, base_url: str, count: int) -> None:
    """Run ``count`` sequential streams from one side (called in a fresh interpreter)."""
    stream = (_raw if side == "raw httpx" else _ours)(base_url)[1]
    for _ in range(count):
        for _ in stream():
            pass


def connection_rows(server: Server, settings: Settings) -> list[Row]:
    """TCP connections the server accepts for N sequential streams; each side runs in
    a fresh interpreter, so no pool is warm from earlier rows."""
    count = settings.pick(500, 50)
    used = {}
    for side in ("raw httpx", "ours"):
        server.reset_connections()
        run_python(
            "import sys; from benchmarks.bench_core import drain; "
            "drain(sys.argv[1], sys.argv[2], int(sys.argv[3]))",
            side,
            server.base_url,
            str(count),
        )
        used[side] = server.connections()
    return [
        Row(
            "connections",
            f"{count} sequential PortkeyClient.stream",
            used["ours"],
            used["raw httpx"],
            "raw httpx",
            "conns",
            target=5,
            target_on_ours=True,
            note="counted server-side: TCP connections accepted",
        )
    ]


def run(settings: Settings) -> list[Row]:
    """Every core row, against one server."""
    with serve() as server:
        rows = core_rows(server, settings)
        if has_module("portkey_ai"):
            rows += sdk_rows(server, settings)
        rows += connection_rows(server, settings)
    return rows


if __name__ == "__main__":
    from ._harness import table_lines

    print("\n".join(table_lines(run(Settings()))))
