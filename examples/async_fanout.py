"""An async fan-out: 50 prompt calls at once with ``abatch``, and the total time.

``abatch`` runs every input concurrently on the event loop (``max_concurrency`` caps
how many are in flight); the calls share one connection pool, so the total is close to
the slowest call rather than the sum of all of them. The script times one call alone,
then the 50, and prints both.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``). With a key,
set ``PORTKEY_PROMPT_ID`` to a prompt with the variables ``adjective`` and ``topic``
(50 calls are billed by the provider) and, if your rate limit is low,
``FANOUT_CONCURRENCY``.

    python examples/async_fanout.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from langchain_core.output_parsers import StrOutputParser

from portkey_integrations.langchain import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

CALLS = 50
TOPICS = [f"topic number {i}" for i in range(CALLS)]


async def main() -> int:
    model = PortkeyChatModel(prompt_id=os.environ.get("PORTKEY_PROMPT_ID", "pp-joke"))
    chain = model | StrOutputParser()
    inputs = [{"adjective": "short", "topic": topic} for topic in TOPICS]

    # The first call opens the connection and fetches the prompt's template once (to
    # check the variables); time a second one.
    await chain.ainvoke(inputs[0])
    started = time.perf_counter()
    await chain.ainvoke(inputs[1])
    one = time.perf_counter() - started

    started = time.perf_counter()
    limit = int(os.environ.get("FANOUT_CONCURRENCY", CALLS))
    answers = await chain.abatch(inputs, config={"max_concurrency": limit})
    total = time.perf_counter() - started

    for answer in (answers[0], answers[-1]):
        print(f"  {answer}")
    print(
        f"{len(answers)} answers in {total:.2f} s, at most {limit} at a time "
        f"(one call alone: {one:.2f} s; one after another would take about "
        f"{one * CALLS:.1f} s)"
    )

    empty = [i for i, answer in enumerate(answers) if not answer.strip()]
    if len(answers) != CALLS or empty:
        print(f"missing or empty answers: {empty}", file=sys.stderr)
        return 1
    if os.environ.get("PORTKEY_BASE_URL") == "local":
        # Offline answers echo their input: each must be the answer to its own topic.
        swapped = [
            t for t, answer in zip(TOPICS, answers, strict=True) if not answer.endswith(f"{t}.")
        ]
        if swapped:
            print(f"answers out of order: {swapped[:3]}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
