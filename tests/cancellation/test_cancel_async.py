"""Cancelled async calls release their connections.

A task cancelled mid-stream or mid-request, or a call timed out by ``asyncio.wait_for``,
must close its connection: the next call works and the number of our open connections to
the server does not grow, however often it happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from portkey_integrations import AsyncPortkeyClient
from portkey_integrations import langchain as lc
from portkey_integrations import llama_index as li
from portkey_integrations.server import Fault, LocalPortkeyServer

ROUNDS = 5
MESSAGES = [{"role": "user", "content": "one two three four five"}]
ANSWER = "Echo: one two three four five"


def slow_stream(server: LocalPortkeyServer) -> None:
    # Each event waits; the task is cancelled while the stream is parked between two
    # (a stream of seven events takes 0.35 s).
    server.add_fault(Fault(kind="slow", delay=0.05))


async def arrived(server: LocalPortkeyServer, count: int) -> None:
    """Wait until the server has received ``count`` requests (the call is in flight)."""
    # The log is written by the server's thread, which offers nothing to await.
    while len(server.requests) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.005)


def core(server: LocalPortkeyServer) -> AsyncPortkeyClient:
    return AsyncPortkeyClient(
        base_url=server.base_url, api_key="pk-cancel", provider="openai", max_retries=0
    )


async def first_chunk_then_wait(chunks: AsyncIterator[Any], got: asyncio.Event) -> None:
    async for _ in chunks:
        got.set()


async def core_chunks(client: AsyncPortkeyClient) -> AsyncIterator[Any]:
    async for chunk in await client.stream(messages=MESSAGES, model="portkey-local"):
        yield chunk


STREAMS: dict[str, Callable[[LocalPortkeyServer, AsyncPortkeyClient], AsyncIterator[Any]]] = {
    "core": lambda _, client: core_chunks(client),
    "langchain": lambda server, _: lc.PortkeyChatModel(
        model="portkey-local", base_url=server.base_url, api_key="pk-cancel", provider="openai"
    ).astream("one two three four five"),
}


@pytest.mark.parametrize("kind", sorted(STREAMS))
async def test_a_cancelled_astream_releases_its_connection(
    server: LocalPortkeyServer, open_sockets: Callable[[], int], kind: str
) -> None:
    async with core(server) as client:
        assert (await client.complete(messages=MESSAGES, model="portkey-local")).content == ANSWER
        baseline = open_sockets()
        for _ in range(ROUNDS):
            slow_stream(server)
            got = asyncio.Event()
            task = asyncio.create_task(first_chunk_then_wait(STREAMS[kind](server, client), got))
            await got.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            reply = await client.complete(messages=MESSAGES, model="portkey-local")
            assert reply.content == ANSWER
        assert open_sockets() <= baseline + 1


async def test_a_cancelled_ainvoke_releases_its_connection(
    server: LocalPortkeyServer, open_sockets: Callable[[], int]
) -> None:
    model = li.PortkeyChatModel(
        model="portkey-local", base_url=server.base_url, api_key="pk-c", provider="openai"
    )
    chat = lc.PortkeyChatModel(
        model="portkey-local", base_url=server.base_url, api_key="pk-c", provider="openai"
    )
    assert (await chat.ainvoke("one two three four five")).content == ANSWER
    baseline = open_sockets()
    for round_ in range(ROUNDS):
        server.add_fault(Fault(kind="slow", delay=2))
        call = chat.ainvoke("x") if round_ % 2 else model.acomplete("x")
        task = asyncio.ensure_future(call)
        await arrived(server, 2 + 2 * round_)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await chat.ainvoke("one two three four five")).content == ANSWER
    assert open_sockets() <= baseline + 1


async def test_wait_for_times_out_a_call_cleanly(
    server: LocalPortkeyServer, open_sockets: Callable[[], int]
) -> None:
    async with core(server) as client:
        assert (await client.complete(messages=MESSAGES, model="portkey-local")).content == ANSWER
        baseline = open_sockets()
        for _ in range(ROUNDS):
            server.add_fault(Fault(kind="slow", delay=2))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(
                    client.complete(messages=MESSAGES, model="portkey-local"), timeout=0.1
                )
            assert (await client.complete(messages=MESSAGES, model="portkey-local")).content
        assert open_sockets() <= baseline + 1


async def test_wait_for_around_a_whole_stream(
    server: LocalPortkeyServer, open_sockets: Callable[[], int]
) -> None:
    model = lc.PortkeyChatModel(
        model="portkey-local", base_url=server.base_url, api_key="pk-c", provider="openai"
    )

    async def consume() -> list[Any]:
        return [chunk async for chunk in model.astream("one two three four five")]

    assert "".join(str(c.content) for c in await consume()) == ANSWER
    baseline = open_sockets()
    for _ in range(ROUNDS):
        slow_stream(server)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(consume(), timeout=0.1)
        assert "".join(str(c.content) for c in await consume()) == ANSWER
    assert open_sockets() <= baseline + 1
