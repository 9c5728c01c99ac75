"""The prompt template cache: one fetch per key, TTLs, misses, single-flight."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations._templates.cache import PromptCache
from portkey_integrations.server import LocalPortkeyServer

CHAT = '[{"role": "system", "content": "{{>pl-tone}}"}, {"role": "user", "content": "{{q}}"}]'


@pytest.fixture(scope="module")
def server(server_factory: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    """A server of this module's own: a key with no scope, and the prompts cached here."""
    running = server_factory(api_keys={"pk-none": set()})
    running.register("pp-cache", CHAT, parameters={"temperature": 0.3}, model="gpt-x")
    running.register("pp-cache", "Text {{q}}", publish=False, labels=("staging",))
    running.store.load_data(
        {"id": "pl-tone", "partial": True, "versions": [{"template": "Be {{tone}}."}]}
    )
    return running


@pytest.fixture
def local(server: LocalPortkeyServer) -> LocalPortkeyServer:
    server.reset()
    return server


def _fetches(server: LocalPortkeyServer, prompt_id: str) -> int:
    return sum(
        1
        for r in server.admin_requests
        if r.method == "GET" and r.path == f"/v1/prompts/{prompt_id}"
    )


def test_template_holds_what_the_check_needs(local: LocalPortkeyServer) -> None:
    cache = PromptCache()
    client = PortkeyClient(base_url=local.base_url)
    got = cache.get(client, "pp-cache")
    assert got is not None
    assert (got.template, got.kind, got.model, got.version) == (CHAT, "chat", "gpt-x", 1)
    assert got.parameters == {"temperature": 0.3}
    assert got.partials == {"pl-tone": "Be {{tone}}."} and got.unresolved_partials == ()
    staged = cache.get(client, "pp-cache@staging")
    assert staged is not None
    assert (staged.template, staged.kind, staged.version) == ("Text {{q}}", "text", 2)
    assert cache.get(client, "pp-cache@2") == dataclasses.replace(staged, prompt_id="pp-cache@2")


def test_second_call_is_served_from_the_cache(local: LocalPortkeyServer) -> None:
    cache = PromptCache()
    client = PortkeyClient(base_url=local.base_url)
    first = cache.get(client, "pp-cache")
    assert cache.get(client, "pp-cache") is first
    assert _fetches(local, "pp-cache") == 1


class _NoLock:
    """A lock a fresh hit must not take."""

    def __enter__(self) -> None:
        raise AssertionError("a fresh hit took the cache's lock")

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_fresh_hit_takes_no_lock_and_an_expired_entry_does(local: LocalPortkeyServer) -> None:
    now = [0.0]
    cache = PromptCache(ttl=10, clock=lambda: now[0])
    client, aclient = (
        PortkeyClient(base_url=local.base_url),
        AsyncPortkeyClient(base_url=local.base_url),
    )
    first = cache.get(client, "pp-cache")
    lock, cache._lock = cache._lock, _NoLock()  # type: ignore[assignment]
    assert cache.get(client, "pp-cache") is first
    assert asyncio.run(cache.aget(aclient, "pp-cache")) is first
    now[0] = 10.0  # the TTL is over: the read goes through the lock to fetch again
    with pytest.raises(AssertionError, match="took the cache's lock"):
        cache.get(client, "pp-cache")
    cache._lock = lock
    assert cache.get(client, "pp-cache") == first and _fetches(local, "pp-cache") == 2


def test_ttl_expiry_fetches_again(local: LocalPortkeyServer) -> None:
    cache = PromptCache(ttl=0)
    client = PortkeyClient(base_url=local.base_url)
    cache.get(client, "pp-cache")
    cache.get(client, "pp-cache")
    assert _fetches(local, "pp-cache") == 2


class _HeldTransport(httpx.HTTPTransport):
    """Holds the fetch until every other caller is waiting on it (so the test cannot
    pass by callers arriving one after another)."""

    def __init__(self, cache: PromptCache, waiters: int) -> None:
        super().__init__()
        self.cache, self.waiters = cache, waiters

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _all_waiting(self.cache, self.waiters):
            time.sleep(0.001)
        return super().handle_request(request)


class _AsyncHeldTransport(httpx.AsyncHTTPTransport):
    def __init__(self, cache: PromptCache, waiters: int) -> None:
        super().__init__()
        self.cache, self.waiters = cache, waiters

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + 10
        # The waiters are threads as well as tasks: poll rather than await an event.
        while time.monotonic() < deadline and not _all_waiting(self.cache, self.waiters):  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        return await super().handle_async_request(request)


def _all_waiting(cache: PromptCache, waiters: int) -> bool:
    return any(flight.waiters >= waiters for flight in list(cache._flights.values()))


def test_threads_share_one_fetch(local: LocalPortkeyServer) -> None:
    cache = PromptCache(ttl=0)  # no caching: only sharing the flight can give one fetch
    held = httpx.Client(transport=_HeldTransport(cache, 7))
    client = PortkeyClient(base_url=local.base_url, http_client=held)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(client, "pp-cache")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r is results[0] for r in results) and results[0] is not None
    assert _fetches(local, "pp-cache") == 1


async def test_tasks_share_one_fetch(local: LocalPortkeyServer) -> None:
    cache = PromptCache(ttl=0)
    held = httpx.AsyncClient(transport=_AsyncHeldTransport(cache, 7))
    client = AsyncPortkeyClient(base_url=local.base_url, http_client=held)
    results = await asyncio.gather(*(cache.aget(client, "pp-cache@staging") for _ in range(8)))
    assert results[0] is not None and all(r is results[0] for r in results)
    assert _fetches(local, "pp-cache") == 1
    assert sum(1 for r in local.admin_requests if r.path == "/v1/prompts/pp-cache/versions") == 1


async def test_threads_and_tasks_together_share_one_fetch(local: LocalPortkeyServer) -> None:
    cache = PromptCache(ttl=0)
    held = httpx.Client(transport=_HeldTransport(cache, 7))
    sync_client = PortkeyClient(base_url=local.base_url, http_client=held)
    aheld = httpx.AsyncClient(transport=_AsyncHeldTransport(cache, 7))
    async_client = AsyncPortkeyClient(base_url=local.base_url, http_client=aheld)
    threaded = asyncio.gather(
        *(asyncio.to_thread(cache.get, sync_client, "pp-cache") for _ in range(4))
    )
    tasks = asyncio.gather(*(cache.aget(async_client, "pp-cache") for _ in range(4)))
    results = [*await threaded, *await tasks]
    assert all(r == results[0] for r in results) and results[0] is not None
    assert _fetches(local, "pp-cache") == 1


def test_unknown_prompt_is_a_cached_miss(local: LocalPortkeyServer) -> None:
    cache = PromptCache()
    client = PortkeyClient(base_url=local.base_url)
    assert cache.get(client, "pp-missing") is None
    assert cache.get(client, "pp-missing") is None
    assert _fetches(local, "pp-missing") == 1


def test_missing_scope_is_none_without_retries(local: LocalPortkeyServer) -> None:
    cache = PromptCache()
    client = PortkeyClient(base_url=local.base_url, api_key="pk-none", max_retries=5)
    assert cache.get(client, "pp-cache") is None
    assert _fetches(local, "pp-cache") == 1


def test_miss_ttl_retries_after_expiry(local: LocalPortkeyServer) -> None:
    cache = PromptCache(miss_ttl=0)
    client = PortkeyClient(base_url=local.base_url)
    cache.get(client, "pp-missing")
    cache.get(client, "pp-missing")
    assert _fetches(local, "pp-missing") == 2


def test_unreachable_server_is_none(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = PortkeyClient(base_url=f"http://127.0.0.1:{port}/v1", api_key="pk-secret-1234")
    with caplog.at_level("DEBUG", logger="portkey_integrations"):
        assert PromptCache().get(client, "pp-cache") is None
    assert "pp-cache" in caplog.text and "pk-secret-1234" not in caplog.text


def test_no_target_and_bad_reference_are_none() -> None:
    assert PromptCache().get(PortkeyClient(), "pp-cache") is None
    assert PromptCache().get(PortkeyClient(base_url="http://127.0.0.1:9/v1"), "pp-x@") is None
