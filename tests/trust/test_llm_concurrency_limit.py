"""PortkeyPromptLLM's multi-prompt generate and agenerate honour one concurrency limit."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from portkey_integrations.langchain import PortkeyPromptLLM
from portkey_integrations.server import Fault, LocalPortkeyServer


class Counting:
    """Tracks how many requests are in flight at once."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


class AsyncCountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, counter: Counting) -> None:
        super().__init__()
        self.counter = counter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counter.enter()
        try:
            response = await super().handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.counter.leave()


class CountingTransport(httpx.HTTPTransport):
    def __init__(self, counter: Counting) -> None:
        super().__init__()
        self.counter = counter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.counter.enter()
        try:
            response = super().handle_request(request)
            response.read()
            return response
        finally:
            self.counter.leave()


def slow_answers(server: LocalPortkeyServer, count: int) -> None:
    # Every answer waits a little so that requests overlap.
    server.add_fault(Fault(kind="slow", delay=0.05, times=count))


def test_sync_and_async_batches_each_honour_the_limit(server: LocalPortkeyServer) -> None:
    prompts = [f"p{i}" for i in range(40)]
    sync_counter, async_counter = Counting(), Counting()

    slow_answers(server, 40)
    http = httpx.Client(transport=CountingTransport(sync_counter))
    llm = PortkeyPromptLLM(prompt_id="pp-text-complete", base_url=server.base_url)
    llm.client._http = http  # the same model, seen through a counting client
    sync_out = llm.batch(prompts)

    async def run() -> list[Any]:
        ahttp = httpx.AsyncClient(transport=AsyncCountingTransport(async_counter))
        llm.async_client._http = ahttp
        try:
            return await llm.abatch(prompts)
        finally:
            await ahttp.aclose()

    slow_answers(server, 40)
    async_out = asyncio.run(run())
    assert sync_out == async_out and len(sync_out) == 40
    assert 1 < sync_counter.peak <= 16
    assert 1 < async_counter.peak <= 16
