"""``portkey-prompts`` against the local server, directly or through :class:`Proxy`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import httpx
import pytest
from cli_support import GREET_CHAT, Proxy, handler

from portkey_integrations import PortkeyClient
from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portkey_integrations._transport._INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr("portkey_integrations._cli.remote._PAUSE", 0.0)


@pytest.fixture
def remote() -> Iterator[LocalPortkeyServer]:
    """pp-greet: v1 chat (published, names pl-tone), v2 text, v3 text (label canary)."""
    with LocalPortkeyServer() as server:
        server.store.load_data(
            {"id": "pl-tone", "partial": True, "versions": [{"template": "Be {{tone}}."}]}
        )
        server.register("pp-greet", GREET_CHAT, parameters={"temperature": 0.5})
        server.register("pp-greet", "Hello {{name}}", model="gpt-x", publish=False)
        PortkeyClient(base_url=server.base_url).labels.create(name="canary")
        server.register("pp-greet", "Hey {{name}}", publish=False, labels=("canary",))
        yield server


@pytest.fixture
def proxy(remote: LocalPortkeyServer) -> Iterator[Proxy]:
    """A proxy in front of :func:`remote`."""
    origin = remote.base_url.rsplit("/v1", 1)[0]
    state = Proxy(upstream=origin)
    with httpx.Client(base_url=origin) as client:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state, client))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        try:
            yield state
        finally:
            server.shutdown()
            server.server_close()
