"""Native async, one model across threads and event loops, concurrent batches.

Concurrency is proven with barriers, not timings: a call that waits on a barrier only
gets through when enough calls are in flight at the same time.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

from portkey_integrations import PortkeyClient
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

TOPIC = "pp-lc-topic"


def model(server: LocalPortkeyServer) -> PortkeyChatModel:
    return PortkeyChatModel(prompt_id=TOPIC, base_url=server.base_url, api_key="pk-test")


class InFlight(BaseCallbackHandler):
    """Counts calls in flight; each start waits until ``parties`` calls have started."""

    raise_error = True

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        self.barrier.wait()

    def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.current -= 1


def test_batch_runs_concurrently_within_max_concurrency(server: LocalPortkeyServer) -> None:
    handler = InFlight(parties=2)
    inputs = [{"topic": str(i)} for i in range(4)]
    results = model(server).batch(inputs, config={"max_concurrency": 2, "callbacks": [handler]})
    assert [r.text for r in results] == [f"Echo: Talk about {i}." for i in range(4)]
    assert handler.peak == 2


class AsyncInFlight(AsyncCallbackHandler):
    raise_error = True

    def __init__(self, parties: int) -> None:
        self.barrier = asyncio.Barrier(parties)
        self.current = 0
        self.peak = 0

    async def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        self.current += 1
        self.peak = max(self.peak, self.current)
        await asyncio.wait_for(self.barrier.wait(), timeout=10)

    async def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        self.current -= 1


async def test_abatch_runs_concurrently_within_max_concurrency(
    server: LocalPortkeyServer,
) -> None:
    handler = AsyncInFlight(parties=3)
    inputs = [{"topic": str(i)} for i in range(6)]
    results = await model(server).abatch(
        inputs, config={"max_concurrency": 3, "callbacks": [handler]}
    )
    assert [r.text for r in results] == [f"Echo: Talk about {i}." for i in range(6)]
    assert handler.peak == 3


async def test_async_is_native_not_threaded(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_sync(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async path used the sync client")

    monkeypatch.setattr(PortkeyClient, "complete", no_sync)
    monkeypatch.setattr(PortkeyClient, "stream", no_sync)
    llm = model(server)
    assert (await llm.ainvoke({"topic": "a"})).text == "Echo: Talk about a."
    chunks = [c.text async for c in llm.astream({"topic": "b"})]
    assert "".join(chunks) == "Echo: Talk about b."


def test_one_model_many_threads(server: LocalPortkeyServer) -> None:
    llm = model(server)
    with ThreadPoolExecutor(max_workers=8) as pool:
        texts = list(pool.map(lambda i: llm.invoke({"topic": str(i)}).text, range(16)))
    assert texts == [f"Echo: Talk about {i}." for i in range(16)]


def test_one_model_many_event_loops(server: LocalPortkeyServer) -> None:
    llm = model(server)

    async def once(topic: str) -> str:
        return (await llm.ainvoke({"topic": topic})).text

    # Each asyncio.run has its own loop; the model must not reuse a dead loop's pool.
    assert asyncio.run(once("one")) == "Echo: Talk about one."
    assert asyncio.run(once("two")) == "Echo: Talk about two."

    def in_thread() -> str:
        return asyncio.run(once("three"))

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(in_thread).result() == "Echo: Talk about three."
