"""``portkey-prompts`` against the local server, directly or through :class:`Proxy`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer

import httpx
import pytest
from cli_support import GREET_CHAT, Proxy, handler

from portkey_integrations import PortkeyClient
from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # The retry backoff is the root conftest's (fast_retries); the CLI's own pause too.
    monkeypatch.setattr("portkey_integrations._cli.remote._PAUSE", 0.0)


@pytest.fixture
def remote(make_server: Callable[[], LocalPortkeyServer]) -> LocalPortkeyServer:
    """pp-greet: v1 chat (published, names pl-tone), v2 text, v3 text (label canary).

    A server of its own per test (the CLI writes to it), stopped in the background."""
    server = make_server()
    server.store.load_data(
        {"id": "pl-tone", "partial": True, "versions": [{"template": "Be {{tone}}."}]}
    )
    server.register("pp-greet", GREET_CHAT, parameters={"temperature": 0.5})
    server.register("pp-greet", "Hello {{name}}", model="gpt-x", publish=False)
    PortkeyClient(base_url=server.base_url).labels.create(name="canary")
    server.register("pp-greet", "Hey {{name}}", publish=False, labels=("canary",))
    return server


@pytest.fixture
def proxy(remote: LocalPortkeyServer) -> Iterator[Proxy]:
    """A proxy in front of :func:`remote`."""
    origin = remote.base_url.rsplit("/v1", 1)[0]
    state = Proxy(upstream=origin)
    with httpx.Client(base_url=origin) as client:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state, client))
        # A short poll: shutdown() waits for the loop's next poll (0.5 s by default).
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        try:
            yield state
        finally:
            server.shutdown()
            server.server_close()
