"""Connections: shared pools that die with their loop, copies that follow their fields,
and a user's own httpx client kept whole."""

from __future__ import annotations

import asyncio
import gc
import os
import warnings
from typing import Any

import httpx
import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations._pools import open_async_pools
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.server import LocalPortkeyServer

# pp-joke reads {{adjective}} and {{topic}}; the calls here send the topic.
DRY = {"adjective": "dry"}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow  # 60 event loops (the soak test runs 200 with memory and warnings)
def test_repeated_asyncio_run_does_not_grow(server: LocalPortkeyServer) -> None:
    model = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, variables=DRY)

    async def once() -> str:
        return str((await model.ainvoke({"topic": "owls"})).content)

    for _ in range(5):  # warm up: first pools, imports, caches
        asyncio.run(once())
    gc.collect()
    fds = open_fds()
    for _ in range(60):  # a socket or a pool kept per loop would pass the slack of 5
        assert "owls" in asyncio.run(once())
    gc.collect()
    assert open_async_pools() == 0  # each loop's pool closed as its loop shut down
    assert open_fds() <= fds + 5


def test_short_lived_models_leave_no_unclosed_sockets(server: LocalPortkeyServer) -> None:
    gc.collect()  # what earlier tests left (LlamaIndex's chat store) is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for i in range(20):
            model = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, variables=DRY)
            assert f"t{i}" in str(model.invoke({"topic": f"t{i}"}).content)
            del model
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_configured_calls_share_one_pool(server: LocalPortkeyServer) -> None:
    from langchain_core.runnables import ConfigurableField

    model = PortkeyChatModel(
        prompt_id="pp-joke", base_url=server.base_url, variables=DRY
    ).configurable_fields(temperature=ConfigurableField(id="temperature"))
    gc.collect()  # what earlier tests left is not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for i in range(30):
            config: Any = {"configurable": {"temperature": i / 30}}
            model.invoke({"topic": "owls"}, config=config)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    temperatures = [r.body["temperature"] for r in server.requests]
    assert temperatures == [i / 30 for i in range(30)]


@pytest.mark.parametrize("cls", [PortkeyChatModel, LIChat])
def test_model_copy_follows_base_url_and_metadata(cls: type, server: LocalPortkeyServer) -> None:
    with LocalPortkeyServer() as other:
        model = cls(prompt_id="pp-joke", base_url=server.base_url)
        model.client.complete(prompt_id="pp-joke", variables={})  # clients now built
        copy = model.model_copy(
            update={"base_url": other.base_url, "portkey_metadata": {"team": "b"}}
        )
        copy.client.complete(prompt_id="pp-joke", variables={})
        assert len(other.requests) == 1
        assert other.requests[0].headers["x-portkey-metadata"] == '{"team":"b"}'
        assert model.client.base_url == server.base_url  # the original is untouched


def test_assigning_a_field_rebuilds_the_connection(server: LocalPortkeyServer) -> None:
    model = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, variables=DRY)
    model.invoke({"topic": "a"})
    model.trace_id = "tr-new"
    model.invoke({"topic": "b"})
    assert server.requests[-1].headers["x-portkey-trace-id"] == "tr-new"


def test_close_and_aclose_on_models_and_clients(server: LocalPortkeyServer) -> None:
    model = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, variables=DRY)
    model.invoke({"topic": "a"})
    model.close()
    assert "b" in str(model.invoke({"topic": "b"}).content)  # usable again afterwards

    async def run() -> None:
        await model.ainvoke({"topic": "c"})
        await model.aclose()

    asyncio.run(run())
    with PortkeyClient(base_url=server.base_url) as client:
        assert client.complete(prompt_id="pp-joke", variables={**DRY, "topic": "d"}).choices


def test_a_users_http_client_keeps_hooks_auth_and_mounts(server: LocalPortkeyServer) -> None:
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    class Stamp(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["x-stamped"] = "yes"
            yield request

    mounted = httpx.HTTPTransport()
    http = httpx.Client(
        event_hooks={"request": [hook]},
        auth=Stamp(),
        mounts={f"http://127.0.0.1:{server.port}": mounted},
    )
    client = PortkeyClient(base_url=server.base_url, http_client=http)
    client.complete(prompt_id="pp-joke", variables={"topic": "owls"})
    for _ in client.stream(prompt_id="pp-joke", variables={"topic": "owls"}):
        pass
    assert len(seen) == 2 and seen[0].endswith("/prompts/pp-joke/completions")
    assert [r.headers.get("x-stamped") for r in server.requests] == ["yes", "yes"]
    http.close()


async def test_a_users_async_http_client_keeps_hooks(server: LocalPortkeyServer) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.method)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
        client = AsyncPortkeyClient(base_url=server.base_url, http_client=http)
        await client.complete(prompt_id="pp-joke", variables={"topic": "owls"})
    assert seen == ["POST"]
