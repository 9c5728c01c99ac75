"""Template freshness: TTL expiry, one background refresh under stale-while-revalidate,
and a refresh when a response shows the version changed. Time is an injected clock."""

from __future__ import annotations

import threading

import httpx
import pytest

from portkey_integrations import (
    APIConnectionError,
    AsyncPortkeyClient,
    PortkeyClient,
    load_template,
)
from portkey_integrations._templates.cache import PromptCache
from portkey_integrations._templates.sources import PulledTemplate
from portkey_integrations.langchain.templates import template_for as lc_template_for
from portkey_integrations.llama_index.templates import template_for as li_template_for
from portkey_integrations.server import LocalPortkeyServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Gate(httpx.HTTPTransport):
    """Lets requests through while open; holds them while closed."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.open.set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert self.open.wait(10), "the gate was never opened"
        return super().handle_request(request)


class AsyncGate(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.open.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        assert await asyncio.to_thread(self.open.wait, 10), "the gate was never opened"
        return await super().handle_async_request(request)


def _fetches(server: LocalPortkeyServer, prompt_id: str) -> int:
    return sum(
        1
        for r in server.admin_requests
        if r.method == "GET" and r.path == f"/v1/prompts/{prompt_id}"
    )


@pytest.fixture
def fresh_id(server: LocalPortkeyServer, request: pytest.FixtureRequest) -> str:
    """A prompt of its own for each test, at version 1."""
    prompt_id = f"pp-tpl-fresh-{request.node.name.replace('_', '-')[:40]}"
    server.register(prompt_id, [{"role": "user", "content": "v1 {{x}}"}])
    return prompt_id


def _publish_v2(server: LocalPortkeyServer, prompt_id: str) -> None:
    server.register(prompt_id, [{"role": "user", "content": "v2 {{x}}"}])


def test_ttl_expiry_fetches_again(server: LocalPortkeyServer, fresh_id: str) -> None:
    clock = Clock()
    cache = PromptCache(ttl=60, clock=clock)
    client = PortkeyClient(base_url=server.base_url)
    assert load_template(client, fresh_id, cache=cache).version == 1
    _publish_v2(server, fresh_id)
    clock.now += 59
    assert load_template(client, fresh_id, cache=cache).version == 1  # still fresh
    assert _fetches(server, fresh_id) == 1
    clock.now += 2
    assert load_template(client, fresh_id, cache=cache).version == 2  # expired: refetched
    assert _fetches(server, fresh_id) == 2


def test_stale_copy_is_served_while_one_background_refresh_runs(
    server: LocalPortkeyServer, fresh_id: str
) -> None:
    clock, gate = Clock(), Gate()
    cache = PromptCache(ttl=60, stale_ttl=600, clock=clock)
    client = PortkeyClient(base_url=server.base_url, http_client=httpx.Client(transport=gate))
    pulled = PulledTemplate(load_template(client, fresh_id, cache=cache), client, cache=cache)
    prompt = lc_template_for(pulled)
    _publish_v2(server, fresh_id)
    clock.now += 61
    gate.open.clear()  # the refresh cannot finish yet
    seen = [prompt.invoke({"x": "a"}).to_messages()[0].content for _ in range(5)]
    assert seen == ["v1 a"] * 5  # the stale copy, at once, every time
    assert len(cache._flights) == 1  # one refresh in the background
    gate.open.set()
    cache.join(10)
    assert _fetches(server, fresh_id) == 2  # the first fetch and one refresh
    assert prompt.invoke({"x": "a"}).to_messages()[0].content == "v2 a"
    assert prompt.metadata is not None and prompt.metadata["portkey_prompt_version"] == 2


async def test_async_stale_copy_is_served_while_one_background_refresh_runs(
    server: LocalPortkeyServer, fresh_id: str
) -> None:
    clock, gate = Clock(), AsyncGate()
    cache = PromptCache(ttl=60, stale_ttl=600, clock=clock)
    sync_client = PortkeyClient(base_url=server.base_url)
    async_client = AsyncPortkeyClient(
        base_url=server.base_url, http_client=httpx.AsyncClient(transport=gate)
    )
    first = load_template(sync_client, fresh_id, cache=cache)
    prompt = lc_template_for(PulledTemplate(first, sync_client, async_client, cache))
    _publish_v2(server, fresh_id)
    clock.now += 61
    gate.open.clear()
    seen = [(await prompt.ainvoke({"x": "b"})).to_messages()[0].content for _ in range(5)]
    assert seen == ["v1 b"] * 5
    assert len(cache._tasks) == 1
    gate.open.set()
    await cache.ajoin()
    assert _fetches(server, fresh_id) == 2
    assert (await prompt.ainvoke({"x": "b"})).to_messages()[0].content == "v2 b"


class Switch(httpx.HTTPTransport):
    """Refuses connections while ``down`` is set, as an unreachable prompt API does."""

    down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return super().handle_request(request)


def test_a_failed_refresh_keeps_the_last_good_copy(
    server: LocalPortkeyServer, fresh_id: str
) -> None:
    clock, switch = Clock(), Switch()
    cache = PromptCache(ttl=60, stale_ttl=600, clock=clock)
    client = PortkeyClient(base_url=server.base_url, http_client=httpx.Client(transport=switch))
    good = cache.load(client, fresh_id)
    switch.down = True
    clock.now += 61
    assert cache.load(client, fresh_id) is good  # stale, while the refresh fails
    cache.join(10)
    assert cache.load(client, fresh_id) is good  # the failure did not replace it
    clock.now += 600 + 61  # past the stale window: the error is the answer
    with pytest.raises(APIConnectionError):
        cache.load(client, fresh_id)


def test_label_move_refreshes_when_a_response_shows_the_new_version(
    server: LocalPortkeyServer, fresh_id: str
) -> None:
    server.register(fresh_id, [{"role": "user", "content": "v2 {{x}}"}], publish=False)
    client = PortkeyClient(base_url=server.base_url)
    client.prompts.set_label(fresh_id, 1, "production")
    ref = f"{fresh_id}@production"
    cache = PromptCache(ttl=3600, clock=Clock())  # never expires in this test
    prompt = li_template_for(
        PulledTemplate(load_template(client, ref, cache=cache), client, cache=cache)
    )
    assert prompt.format_messages(x="c")[0].content == "v1 c"

    client.prompts.set_label(fresh_id, 2, "production")
    assert prompt.format_messages(x="c")[0].content == "v1 c"  # the TTL holds it
    shown = client.prompts.resolve(ref)  # a response naming the version now behind the label
    assert cache.observe_version(client.base_url, ref, shown.prompt_version) is True
    assert prompt.format_messages(x="c")[0].content == "v2 c"
    assert prompt.metadata["portkey_prompt_version"] == 2
    # The same version again changes nothing.
    assert cache.observe_version(client.base_url, ref, 2) is False


def test_version_change_under_swr_is_refreshed_in_the_background(
    server: LocalPortkeyServer, fresh_id: str
) -> None:
    clock = Clock()
    cache = PromptCache(ttl=3600, stale_ttl=600, clock=clock)
    client = PortkeyClient(base_url=server.base_url)
    load_template(client, fresh_id, cache=cache)
    _publish_v2(server, fresh_id)
    assert cache.observe_version(client.base_url, fresh_id, 2)
    assert load_template(client, fresh_id, cache=cache).version == 1  # stale, served
    cache.join(10)
    assert load_template(client, fresh_id, cache=cache).version == 2


def test_peek_never_fetches_and_sees_a_stale_copy(
    server: LocalPortkeyServer, fresh_id: str
) -> None:
    clock = Clock()
    cache = PromptCache(ttl=60, clock=clock)
    client = PortkeyClient(base_url=server.base_url)
    assert cache.peek(client, fresh_id) is None
    assert _fetches(server, fresh_id) == 0
    first = cache.load(client, fresh_id)
    clock.now += 3600
    assert cache.peek(client, fresh_id) is first
    assert _fetches(server, fresh_id) == 1
