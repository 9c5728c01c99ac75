"""A bounded load generator: ``python -m benchmarks._load URL BODY_JSON COUNT CONCURRENCY``.

Sends COUNT POSTs of BODY_JSON to URL (loopback only) from CONCURRENCY async workers on
one pooled httpx client, reads every body to the end, and prints requests per second.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx


async def load(url: str, body: bytes, count: int, concurrency: int) -> float:
    """Requests per second over ``count`` requests (after one warm-up per worker)."""
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit("the load generator only talks to loopback addresses")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json", "x-portkey-api-key": "pk-bench"}
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:
        remaining = [count]

        async def one() -> None:
            async with client.stream("POST", url, content=body) as response:
                response.raise_for_status()
                async for _ in response.aiter_raw():
                    pass

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await one()

        await asyncio.gather(*(one() for _ in range(concurrency)))
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


def main(argv: list[str]) -> int:
    """Print the rate for the given arguments."""
    url, body, count, concurrency = argv
    print(asyncio.run(load(url, body.encode(), int(count), int(concurrency))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
