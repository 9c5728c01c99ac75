from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations.server import LocalPortkeyServer

CHAT_TEMPLATE = [
    {"role": "system", "content": "Answer about {{topic}}."},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portkey_integrations._retry._INITIAL_RETRY_DELAY", 0.001)


@pytest.fixture
def server(portkey_local: LocalPortkeyServer) -> LocalPortkeyServer:
    store = portkey_local.store
    if "pp-core" not in {p for p in store.ids()}:
        store.register("pp-core", template=CHAT_TEMPLATE, model="portkey-local")
        store.register(
            "pp-core",
            template=[{"role": "user", "content": "v2 {{question}}"}],
            model="portkey-local",
            publish=False,
            labels=("staging",),
        )
        store.register("pp-core-text", template="Complete: {{question}}", model="portkey-local")
    return portkey_local


@pytest.fixture
def client(server: LocalPortkeyServer) -> Iterator[PortkeyClient]:
    with PortkeyClient(base_url=server.base_url, api_key="pk-test-secret") as c:
        yield c


@pytest.fixture
async def aclient(server: LocalPortkeyServer) -> AsyncIterator[AsyncPortkeyClient]:
    async with AsyncPortkeyClient(base_url=server.base_url, api_key="pk-test-secret") as c:
        yield c
