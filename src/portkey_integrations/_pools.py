"""Connection pools shared by the clients of a process: one bounded pool per origin.

The clients hand prepared requests straight to an httpx transport, and the base URL,
headers and timeouts travel with each request, so every client of an origin can share
its transport: models built per call (``configurable_fields``), copied or dropped never
open pools of their own, and their calls reuse each other's connections. A sync client
looks its origin's pool up on its first call and keeps it (:class:`PoolSlot`) until the
pool is closed.

Each origin (scheme, host, port) has its own pool of at most ``PORTKEY_MAX_CONNECTIONS``
connections (default 100), so streams held open against one server never make a call
to another wait for a connection. A call that finds its origin's pool full waits at most
the pool timeout (shorter than the read timeout) and then fails with
:class:`~portkey_integrations.APITimeoutError` saying so (:func:`pool_exhausted`).

Async transports are bound to the loop they run in, so async pools are kept per loop
and origin. Each loop's pools are closed when that loop shuts down: a parked async
generator is finalized by ``shutdown_asyncgens``, which ``asyncio.run``,
``asyncio.Runner`` and pytest-asyncio all call, and its ``finally`` closes them. A loop
closed without that step is dropped the next time a pool is looked up, so neither loops
nor sockets accumulate. Past :data:`MAX_ORIGINS` origins, the oldest idle pool is closed.

Every pool shares one TLS context (httpx's defaults, ``SSL_CERT_FILE`` and
``SSL_CERT_DIR`` honoured), built with the first pool: building one loads the CA bundle,
tens of milliseconds that a pool per origin and per event loop would pay again each time.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import ssl
import threading
from collections.abc import AsyncGenerator
from typing import Any, TypeVar

import httpx

from ._errors import APITimeoutError
from ._transport import NoCookieJar, proxies_configured

__all__ = [
    "MAX_ORIGINS",
    "AsyncSender",
    "PoolSlot",
    "SyncSender",
    "async_sender",
    "max_connections",
    "pool_exhausted",
    "sync_sender",
    "sync_slot",
]

SyncSender = httpx.HTTPTransport | httpx.Client
"""A transport, or with proxies in the environment a client that applies them."""
AsyncSender = httpx.AsyncHTTPTransport | httpx.AsyncClient
Origin = tuple[bytes, bytes, int | None]
"""Scheme, host and port of a request's URL: what a pool is keyed by."""

DEFAULT_MAX_CONNECTIONS = 100
MAX_CONNECTIONS_ENV = "PORTKEY_MAX_CONNECTIONS"
MAX_ORIGINS = 32
"""Pools kept open at once; past it the oldest idle one is closed (a test suite or a
tool that talks to many short-lived servers would otherwise keep their sockets)."""

_S = TypeVar("_S", SyncSender, AsyncSender)

_lock = threading.Lock()
_sync: dict[Origin, SyncSender] = {}
# Keyed by id(loop) with the loop kept beside its pools: the pools' connections refer to
# the loop anyway, so a weak mapping could never let go of it. The third item is the
# generator that closes the pools; the loop itself tracks async generators only weakly.
_async: dict[
    int,
    tuple[asyncio.AbstractEventLoop, dict[Origin, AsyncSender], AsyncGenerator[None, None]],
] = {}


def max_connections() -> int:
    """The connections one origin's pool may open (``PORTKEY_MAX_CONNECTIONS``)."""
    raw = os.environ.get(MAX_CONNECTIONS_ENV, "")
    try:
        value = int(raw) if raw.strip() else DEFAULT_MAX_CONNECTIONS
    except ValueError:
        value = DEFAULT_MAX_CONNECTIONS
    return max(value, 1)


_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:  # two threads may both build one: either will do
        _tls = httpx.create_ssl_context()
    return _tls


def _limits() -> httpx.Limits:
    limit = max_connections()
    return httpx.Limits(max_connections=limit, max_keepalive_connections=min(limit, 20))


def origin_of(url: httpx.URL) -> Origin:
    """The pool key of a request's URL."""
    return (url.raw_scheme, url.raw_host, url.port)


class PoolSlot:
    """Where a client keeps its origin's shared sync sender: a client's origin never
    changes, so it looks the pool up once (:func:`sync_slot`) and then reads ``sender``.
    When the pool is closed (evicted past :data:`MAX_ORIGINS`, or at exit), ``sender``
    becomes ``None`` and the client looks the pool up again. Copies and pickles of a
    client share the slot, or get an empty one."""

    __slots__ = ("sender",)

    def __init__(self, sender: SyncSender | None) -> None:
        self.sender = sender

    def __copy__(self) -> PoolSlot:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PoolSlot:
        return self

    def __reduce__(self) -> tuple[type[PoolSlot], tuple[None]]:
        return PoolSlot, (None,)  # a transport does not pickle: the copy looks it up again


_slots: dict[Origin, PoolSlot] = {}


def sync_slot(origin: Origin) -> PoolSlot:
    """The slot of the process's sync transport for ``origin``, created on first use."""
    slot = _slots.get(origin)
    if slot is not None:
        return slot
    with _lock:
        slot = _slots.get(origin)
        if slot is None:
            limits = _limits()
            tls = _tls_context()
            sender = _sync[origin] = (
                httpx.Client(cookies=NoCookieJar(), limits=limits, verify=tls)
                if proxies_configured()
                else httpx.HTTPTransport(limits=limits, verify=tls)
            )
            slot = _slots[origin] = PoolSlot(sender)
            evicted = _evict(_sync, keep=origin)
            for gone in [key for key in _slots if key not in _sync]:
                _slots.pop(gone).sender = None
        else:
            evicted = []
    for old in evicted:
        old.close()
    return slot


def sync_sender(origin: Origin) -> SyncSender:
    """The process's sync transport for ``origin``, created on first use."""
    while True:  # another thread may close the pool between the lookup and the read
        sender = sync_slot(origin).sender
        if sender is not None:
            return sender


@atexit.register
def _close_sync() -> None:
    # Idle keep-alive sockets would otherwise be reported unclosed at interpreter exit.
    with _lock:
        senders = list(_sync.values())
        _sync.clear()
        for slot in _slots.values():
            slot.sender = None
        _slots.clear()
    for sender in senders:
        sender.close()


def async_sender(origin: Origin) -> AsyncSender:
    """The running loop's async transport for ``origin``, created on first use there."""
    loop = asyncio.get_running_loop()
    entry = _async.get(id(loop))
    if entry is not None and entry[0] is loop:
        sender = entry[1].get(origin)
        if sender is not None:
            return sender
        return _add_async(loop, entry[1], origin)
    pools: dict[Origin, AsyncSender] = {}
    closer = _close_at_shutdown(loop, pools)
    with _lock:
        for key, (other, _, _) in list(_async.items()):
            if other.is_closed():
                del _async[key]
        _async[id(loop)] = (loop, pools, closer)
    # Started, the generator is one the loop finalizes when it shuts down. The loop
    # holds tasks weakly: keep this one until it has run.
    _keep(loop.create_task(_start(closer)))
    return _add_async(loop, pools, origin)


def _add_async(
    loop: asyncio.AbstractEventLoop, pools: dict[Origin, AsyncSender], origin: Origin
) -> AsyncSender:
    # One loop runs one thing at a time: no lock needed between the lookup and the add.
    limits = _limits()
    tls = _tls_context()
    sender: AsyncSender = (
        httpx.AsyncClient(cookies=NoCookieJar(), limits=limits, verify=tls)
        if proxies_configured()
        else httpx.AsyncHTTPTransport(limits=limits, verify=tls)
    )
    pools[origin] = sender
    for old in _evict(pools, keep=origin):
        _keep(loop.create_task(old.aclose()))
    return sender


_starting: set[asyncio.Task[Any]] = set()


def _keep(task: asyncio.Task[Any]) -> None:
    _starting.add(task)
    task.add_done_callback(_starting.discard)


async def _start(closer: AsyncGenerator[None, None]) -> None:
    await closer.__anext__()


async def _close_at_shutdown(
    loop: asyncio.AbstractEventLoop, pools: dict[Origin, AsyncSender]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with _lock:
            entry = _async.get(id(loop))
            if entry is not None and entry[1] is pools:
                del _async[id(loop)]
        senders = list(pools.values())
        pools.clear()
        for sender in senders:
            await sender.aclose()


def _evict(pools: dict[Origin, _S], keep: Origin | None = None) -> list[_S]:
    """Take the oldest idle pools out of ``pools`` until at most :data:`MAX_ORIGINS`
    remain, never ``keep`` (the one just opened); the caller closes them. A busy pool
    is never closed under its streams."""
    evicted: list[_S] = []
    for origin, sender in list(pools.items()):
        if len(pools) <= MAX_ORIGINS:
            break
        if origin != keep and _idle(sender):
            del pools[origin]
            evicted.append(sender)
    return evicted


def _idle(sender: SyncSender | AsyncSender) -> bool:
    # httpx keeps the httpcore pool private; its connections (public in httpcore) say
    # whether any request is using them. Unknown internals count as busy.
    transport: Any = getattr(sender, "_transport", sender)
    pool = getattr(transport, "_pool", None)
    connections = getattr(pool, "connections", None)
    if connections is None:
        return False
    return all(connection.is_idle() or connection.is_closed() for connection in connections)


def pool_exhausted(exc: httpx.PoolTimeout, request: httpx.Request, own: bool) -> APITimeoutError:
    """The error for a call that waited the whole pool timeout for a free connection.

    ``own`` is whether the pool is ours (else the caller's ``http_client``'s).
    """
    url = str(request.url.copy_with(userinfo=b"", query=None))
    waited = request.extensions.get("timeout", {}).get("pool")
    within = f" within {waited:g} s" if isinstance(waited, (int, float)) else ""
    origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')}"
    if own:
        limit = max_connections()
        how = (
            f"the pool of {origin} holds at most max_connections={limit}, all in use. Streams "
            "hold their connection until read to the end or closed: close the ones you no "
            f"longer read, or raise the limit with the {MAX_CONNECTIONS_ENV} environment "
            "variable (or pass http_client= an httpx client with httpx.Limits("
            "max_connections=...))"
        )
    else:
        how = (
            f"every connection of the given http_client to {origin} is in use: close "
            "streams you no longer read, or raise its httpx.Limits(max_connections=...)"
        )
    message = f"no free connection for {url}{within}: connection pool exhausted; {how}"
    return APITimeoutError(message, url=url)


def open_async_pools() -> int:
    """How many event loops hold pools (for tests)."""
    return len(_async)


def open_sync_pools() -> int:
    """How many origins have a sync pool (for tests)."""
    return len(_sync)
