"""Bounded pools per origin, a clear error when one is full, and streams retried when
the connection drops before their first chunk."""

from __future__ import annotations

import asyncio
import copy
import pickle
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from portkey_integrations import (
    APITimeoutError,
    AsyncPortkeyClient,
    PortkeyClient,
    StreamError,
    TruncatedStreamError,
)
from portkey_integrations._pools import open_sync_pools
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.server import Fault, LocalPortkeyServer
from portkey_integrations.types import CompletionChunk

VARIABLES = {"adjective": "dry", "topic": "owls"}


def text_of(chunks: list[CompletionChunk]) -> str:
    return "".join(c.choices[0].content or "" for c in chunks if c.choices)


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPortkeyServer]:
    """A fresh server (a new origin, so a new pool) whose pool holds two connections."""
    monkeypatch.setenv("PORTKEY_MAX_CONNECTIONS", "2")
    with LocalPortkeyServer() as full:
        yield full


# --- pools --------------------------------------------------------------------------------


def test_open_streams_on_one_origin_never_starve_another(
    small_pool: LocalPortkeyServer, server: LocalPortkeyServer
) -> None:
    busy = PortkeyClient(base_url=small_pool.base_url, max_retries=0)
    streams = [busy.stream(prompt_id="pp-joke", variables=VARIABLES) for _ in range(2)]
    for stream in streams:
        assert next(iter(stream)).choices  # started, and holding its connection
    other = PortkeyClient(base_url=server.base_url)
    reply = other.complete(prompt_id="pp-joke", variables=VARIABLES)
    assert "owls" in reply.content
    assert server.requests[-1].variables == VARIABLES  # it reached its own server
    for stream in streams:
        stream.close()
    assert open_sync_pools() >= 2


def test_a_full_pool_fails_fast_and_says_how_to_raise_it(small_pool: LocalPortkeyServer) -> None:
    # The pool wait is the read timeout here (0.5 s); by default it is 30 s, never longer.
    client = PortkeyClient(base_url=small_pool.base_url, timeout=0.5)
    streams = [client.stream(prompt_id="pp-joke", variables=VARIABLES) for _ in range(2)]
    for stream in streams:
        next(iter(stream))
    with pytest.raises(APITimeoutError) as info:
        client.complete(prompt_id="pp-joke", variables=VARIABLES)
    message = str(info.value)
    assert "connection pool exhausted" in message
    assert "max_connections=2" in message and "PORTKEY_MAX_CONNECTIONS" in message
    assert len(small_pool.requests) == 2  # the third call never went out, nor was retried
    for stream in streams:
        stream.close()
    assert "owls" in client.complete(prompt_id="pp-joke", variables=VARIABLES).content


def test_async_pools_are_per_origin_too(
    small_pool: LocalPortkeyServer, server: LocalPortkeyServer
) -> None:
    async def run() -> None:
        busy = AsyncPortkeyClient(base_url=small_pool.base_url, timeout=0.5, max_retries=0)
        streams = [await busy.stream(prompt_id="pp-joke", variables=VARIABLES) for _ in range(2)]
        for stream in streams:
            await stream.__anext__()
        other = AsyncPortkeyClient(base_url=server.base_url)
        assert "owls" in (await other.complete(prompt_id="pp-joke", variables=VARIABLES)).content
        with pytest.raises(APITimeoutError, match="max_connections=2"):
            await busy.complete(prompt_id="pp-joke", variables=VARIABLES)
        for stream in streams:
            await stream.aclose()

    asyncio.run(run())
    assert len(small_pool.requests) == 2


def test_the_pool_wait_is_shorter_than_the_read_timeout() -> None:
    assert PortkeyClient(api_key="k").timeout.pool == 30.0
    assert PortkeyClient(api_key="k", timeout=5).timeout.pool == 5
    assert PortkeyClient(api_key="k", timeout=None).timeout.pool is None


# --- a reset before the first chunk -------------------------------------------------------


def _expected(server: LocalPortkeyServer) -> str:
    chunks = list(
        PortkeyClient(base_url=server.base_url).stream(prompt_id="pp-joke", variables=VARIABLES)
    )
    server.clear_requests()
    return text_of(chunks)


def test_a_stream_reset_before_its_first_chunk_is_retried(server: LocalPortkeyServer) -> None:
    expected = _expected(server)
    server.add_fault(Fault(kind="abort", after_chunks=0))
    client = PortkeyClient(base_url=server.base_url)
    chunks = list(client.stream(prompt_id="pp-joke", variables=VARIABLES))
    assert text_of(chunks) == expected  # the whole answer, once
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


def test_an_async_stream_reset_before_its_first_chunk_is_retried(
    server: LocalPortkeyServer,
) -> None:
    expected = _expected(server)
    server.add_fault(Fault(kind="abort", after_chunks=0))

    async def run() -> list[CompletionChunk]:
        client = AsyncPortkeyClient(base_url=server.base_url)
        return [c async for c in await client.stream(prompt_id="pp-joke", variables=VARIABLES)]

    assert text_of(asyncio.run(run())) == expected
    assert len(server.requests) == 2


def test_framework_streams_are_retried_before_their_first_chunk(
    server: LocalPortkeyServer,
) -> None:
    expected = _expected(server)
    server.add_fault(Fault(kind="abort", after_chunks=0))
    lc = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url)
    assert "".join(str(c.content) for c in lc.stream(VARIABLES)) == expected
    server.add_fault(Fault(kind="abort", after_chunks=0))
    # The text goes to {{input}}, which pp-joke never reads: this test is about retries.
    li = LIChat(prompt_id="pp-joke", base_url=server.base_url, check_variables="off")
    deltas = [r.delta or "" for r in li.stream_complete("owls", variables=VARIABLES)]
    assert "".join(deltas) == expected
    assert len(server.requests) == 4


def test_reset_on_every_attempt_is_a_typed_connection_error(server: LocalPortkeyServer) -> None:
    from portkey_integrations import APIConnectionError

    server.add_fault(Fault(kind="abort", after_chunks=0, times=3))
    client = PortkeyClient(base_url=server.base_url, max_retries=2)
    with pytest.raises(APIConnectionError, match="RemoteProtocolError"):
        client.stream(prompt_id="pp-joke", variables=VARIABLES)
    assert len(server.requests) == 3


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_reset_after_a_chunk_is_typed_and_never_repeated(
    server: LocalPortkeyServer, asynchronous: bool
) -> None:
    server.add_fault(Fault(kind="abort", after_chunks=2))
    delivered: list[CompletionChunk] = []

    async def run() -> None:
        client = AsyncPortkeyClient(base_url=server.base_url)
        async for chunk in await client.stream(prompt_id="pp-joke", variables=VARIABLES):
            delivered.append(chunk)

    with pytest.raises(TruncatedStreamError) as info:
        if asynchronous:
            asyncio.run(run())
        else:
            client = PortkeyClient(base_url=server.base_url)
            for chunk in client.stream(prompt_id="pp-joke", variables=VARIABLES):
                delivered.append(chunk)
    assert len(delivered) == 2
    assert info.value.chunks == delivered  # what arrived, each once
    assert len(server.requests) == 1  # never retried once a chunk was out


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("kind", ["disconnect", "error_event"])
def test_a_stream_sharing_its_text_hands_back_the_same_chunks(
    server: LocalPortkeyServer, asynchronous: bool, kind: Any
) -> None:
    # A consumer that accumulates the answer shares it: the stream keeps only lengths
    # and builds the chunks again from that text on an error.
    server.add_fault(Fault(kind=kind, after_chunks=3))
    delivered: list[CompletionChunk] = []
    pieces: list[str] = []

    def answer() -> str:
        return "".join(pieces)

    def take(chunk: CompletionChunk) -> None:
        delivered.append(chunk)
        pieces.append(chunk.choices[0].content if chunk.choices else "")

    async def run() -> None:
        client = AsyncPortkeyClient(base_url=server.base_url)
        stream = await client.stream(prompt_id="pp-joke", variables=VARIABLES)
        stream.share_text(answer)
        async with stream:
            async for chunk in stream:
                take(chunk)

    with pytest.raises(StreamError) as info:
        if asynchronous:
            asyncio.run(run())
        else:
            client = PortkeyClient(base_url=server.base_url)
            with client.stream(prompt_id="pp-joke", variables=VARIABLES) as stream:
                stream.share_text(answer)
                for chunk in stream:
                    take(chunk)
    assert len(delivered) == 3 and answer()
    assert info.value.chunks == delivered
    dumped = [c.model_dump(exclude_unset=True) for c in info.value.chunks]
    assert dumped == [c.model_dump(exclude_unset=True) for c in delivered]


def test_sharing_text_once_chunks_were_read_is_refused(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url)
    with client.stream(prompt_id="pp-joke", variables=VARIABLES) as stream:
        next(stream)
        with pytest.raises(RuntimeError, match="before the stream is read"):
            stream.share_text(str)


def test_a_clean_end_before_any_chunk_is_still_a_truncated_stream(
    server: LocalPortkeyServer,
) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=0))
    with pytest.raises(TruncatedStreamError) as info:
        list(
            PortkeyClient(base_url=server.base_url).stream(prompt_id="pp-joke", variables=VARIABLES)
        )
    assert info.value.chunks == []
    assert len(server.requests) == 1


def test_past_the_origin_bound_only_idle_pools_are_closed() -> None:
    from portkey_integrations._pools import MAX_ORIGINS, Origin, _evict

    class Busy(httpx.HTTPTransport):
        """A pool with a request on one of its connections."""

        @property
        def _pool(self) -> Any:  # type: ignore[override]
            class Connection:
                def is_idle(self) -> bool:
                    return False

                def is_closed(self) -> bool:
                    return False

            return type("Pool", (), {"connections": [Connection()]})()

        @_pool.setter
        def _pool(self, value: Any) -> None:
            pass

    # One TLS context for all: loading the CA bundle per transport costs ~50 ms each.
    tls = ssl.create_default_context()
    pools: dict[Origin, httpx.HTTPTransport] = {(b"http", b"busy", 1): Busy(verify=tls)}
    for port in range(MAX_ORIGINS + 1):
        pools[(b"http", b"idle", port)] = httpx.HTTPTransport(verify=tls)
    evicted = _evict(pools)
    assert len(pools) == MAX_ORIGINS
    assert (b"http", b"busy", 1) in pools  # the oldest, but busy: kept
    assert (b"http", b"idle", 0) not in pools and (b"http", b"idle", 1) not in pools
    assert len(evicted) == 2
    for sender in evicted:
        sender.close()
    # Past the bound with every older pool busy, the pool just opened stays open.
    full: dict[Origin, httpx.HTTPTransport] = {
        (b"http", b"busy", port): Busy(verify=tls) for port in range(MAX_ORIGINS)
    }
    full[(b"http", b"new", 1)] = httpx.HTTPTransport(verify=tls)
    assert _evict(full, keep=(b"http", b"new", 1)) == []


def test_a_client_looks_its_pool_up_once_and_again_once_it_closed(
    server: LocalPortkeyServer,
) -> None:
    from portkey_integrations import _pools

    client = PortkeyClient(base_url=server.base_url)
    client.complete(prompt_id="pp-joke", variables=VARIABLES)
    slot = client._pool
    origin = _pools.origin_of(httpx.URL(server.base_url))
    assert slot is not None and slot.sender is _pools.sync_sender(origin)
    other = PortkeyClient(base_url=server.base_url)
    other.complete(prompt_id="pp-joke", variables=VARIABLES)
    assert other._pool is slot  # one shared pool per origin
    # Copies share the slot; a pickled client gets an empty one and looks it up again.
    assert copy.deepcopy(client)._pool is slot
    # openai renames httpx.Timeout to openai.Timeout on import (portkey-ai's copy too),
    # so the timeout is pickled by value, whatever is installed.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx.Timeout, "__module__", "openai_not_installed")
        revived = pickle.loads(pickle.dumps(client))
    assert revived.timeout == client.timeout and type(revived.timeout) is httpx.Timeout
    assert revived._pool is not None and revived._pool.sender is None
    assert "owls" in revived.complete(prompt_id="pp-joke", variables=VARIABLES).content
    assert revived._pool.sender is slot.sender
    _pools._close_sync()  # as at exit, or an idle pool evicted past MAX_ORIGINS
    assert slot.sender is None
    assert "owls" in client.complete(prompt_id="pp-joke", variables=VARIABLES).content
    assert client._pool is not slot and client._pool.sender is _pools.sync_sender(origin)
    assert server.requests[-1].variables == VARIABLES
