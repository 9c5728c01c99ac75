from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations.server import LocalPortkeyServer

CHAT_TEMPLATE = [
    {"role": "system", "content": "Answer about {{topic}}."},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture(scope="session")
def server_prompts() -> Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]:
    """The core tests' prompts: a chat prompt with an unpublished labelled v2, a text one."""
    return {
        "pp-core": [
            {"template": CHAT_TEMPLATE, "model": "portkey-local"},
            {
                "template": [{"role": "user", "content": "v2 {{question}}"}],
                "model": "portkey-local",
                "publish": False,
                "labels": ("staging",),
            },
        ],
        "pp-core-text": {"template": "Complete: {{question}}", "model": "portkey-local"},
    }


@pytest.fixture
def client(server: LocalPortkeyServer) -> Iterator[PortkeyClient]:
    with PortkeyClient(base_url=server.base_url, api_key="pk-test-secret") as c:
        yield c


@pytest.fixture
async def aclient(server: LocalPortkeyServer) -> AsyncIterator[AsyncPortkeyClient]:
    async with AsyncPortkeyClient(base_url=server.base_url, api_key="pk-test-secret") as c:
        yield c
