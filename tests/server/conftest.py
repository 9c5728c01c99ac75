"""Fixtures of the local server's tests: one server and one HTTP client for the session."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

# Loading CA certificates dominates creating a client; do it once.
SSL_CONTEXT = ssl.create_default_context()
# Portkey refuses gateway calls that name no provider, config or virtual key.
ROUTING = {"x-portkey-provider": "openai"}


def pytest_configure(config: pytest.Config) -> None:
    # The package's own fixtures (portkey_server, portkey_local), tested here by
    # using them; a no-op when the top-level conftest already enabled them.
    config.pluginmanager.import_plugin("portkey_integrations.testing")


@pytest.fixture(scope="session")
def _session_client(portkey_server: LocalPortkeyServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=portkey_server.base_url, timeout=5.0, verify=SSL_CONTEXT, headers=ROUTING
    ) as http:
        yield http


@pytest.fixture
def client(server: LocalPortkeyServer, _session_client: httpx.Client) -> httpx.Client:
    """A plain HTTP client on the server's base URL."""
    return _session_client


@pytest.fixture
async def aclient(server: LocalPortkeyServer) -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client on the server's base URL."""
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT, headers=ROUTING
    ) as http:
        yield http
