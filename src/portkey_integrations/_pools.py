"""Connection pools shared by every client of the process.

The clients hand prepared requests straight to an httpx transport, and the base URL,
headers and timeouts travel with each request, so one transport serves every client:
models built per call (``configurable_fields``), copied or dropped never open pools of
their own, and a process holds one pool per event loop instead of one per model.

Async transports are bound to the loop they run in. Each loop's transport is closed when
that loop shuts down: a parked async generator is finalized by ``shutdown_asyncgens``,
which ``asyncio.run``, ``asyncio.Runner`` and pytest-asyncio all call, and its
``finally`` closes the pool. A loop closed without that step is dropped the next time a
pool is looked up, so neither loops nor sockets accumulate.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import AsyncGenerator

import httpx

from ._transport import NoCookieJar, proxies_configured

__all__ = ["AsyncSender", "SyncSender", "async_sender", "sync_sender"]

SyncSender = httpx.HTTPTransport | httpx.Client
"""A transport, or with proxies in the environment a client that applies them."""
AsyncSender = httpx.AsyncHTTPTransport | httpx.AsyncClient

_lock = threading.Lock()
_sync: SyncSender | None = None
# Keyed by id(loop) with the loop kept beside its pool: the pool's connections refer to
# the loop anyway, so a weak mapping could never let go of it. The third item is the
# generator that closes the pool; the loop itself tracks async generators only weakly.
_async: dict[
    int,
    tuple[asyncio.AbstractEventLoop, AsyncSender, AsyncGenerator[None, None]],
] = {}


def sync_sender() -> SyncSender:
    """The process's sync transport, created on first use."""
    global _sync
    transport = _sync
    if transport is None:
        with _lock:
            if _sync is None:
                _sync = (
                    httpx.Client(cookies=NoCookieJar())
                    if proxies_configured()
                    else httpx.HTTPTransport()
                )
            transport = _sync
    return transport


@atexit.register
def _close_sync() -> None:
    # Idle keep-alive sockets would otherwise be reported unclosed at interpreter exit.
    if _sync is not None:
        _sync.close()


def async_sender() -> AsyncSender:
    """The running loop's async transport, created on first use in that loop."""
    loop = asyncio.get_running_loop()
    entry = _async.get(id(loop))
    if entry is not None and entry[0] is loop:
        return entry[1]
    transport: AsyncSender = (
        httpx.AsyncClient(cookies=NoCookieJar())
        if proxies_configured()
        else httpx.AsyncHTTPTransport()
    )
    closer = _close_at_shutdown(loop, transport)
    with _lock:
        for key, (other, _, _) in list(_async.items()):
            if other.is_closed():
                del _async[key]
        _async[id(loop)] = (loop, transport, closer)
    # Started, the generator is one the loop finalizes when it shuts down. The loop
    # holds tasks weakly: keep this one until it has run.
    task = loop.create_task(_start(closer))
    _starting.add(task)
    task.add_done_callback(_starting.discard)
    return transport


_starting: set[asyncio.Task[None]] = set()


async def _start(closer: AsyncGenerator[None, None]) -> None:
    await closer.__anext__()


async def _close_at_shutdown(
    loop: asyncio.AbstractEventLoop, transport: AsyncSender
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with _lock:
            entry = _async.get(id(loop))
            if entry is not None and entry[1] is transport:
                del _async[id(loop)]
        await transport.aclose()


def open_async_pools() -> int:
    """How many event loops hold a pool (for tests)."""
    return len(_async)
