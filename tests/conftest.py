"""Fixtures every test directory shares. Every test talks to the project's local
Portkey-compatible server on 127.0.0.1, over real HTTP.

- ``server``: the session's local server, reset for each test (faults, request log and
  feedback cleared), with the prompts of ``server_prompts`` registered. A directory
  declares its prompts by overriding ``server_prompts`` in its conftest, and the kind of
  shared server it needs by overriding ``server_options``.
- ``make_server(**options)``: a new :class:`LocalPortkeyServer` of its own for one test
  (scoped keys, a prompts folder, an upstream...), stopped after the test;
  ``server_factory`` is the same for module- and session-scoped fixtures.
- Autouse: no developer's ``PORTKEY_*`` variable leaks in; the clients' retry backoff
  is shortened (retries still happen: ``portkey_integrations.testing.fast_retries``).

Markers (``pyproject.toml``): ``slow`` marks the tests ``pytest -m "not slow"`` leaves out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from portkey_integrations.server import LocalPortkeyServer

pytest_plugins = ["portkey_integrations.testing"]

PromptSpec = Mapping[str, Any]
"""Keywords of ``PromptStore.register``: ``template`` plus ``model``, ``parameters``, ..."""
ServerPrompts = Mapping[str, PromptSpec | Sequence[PromptSpec]]
"""Prompt id -> its spec, or a list of specs for several versions (oldest first)."""


@pytest.fixture(autouse=True)
def _no_portkey_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key or base URL must never leak into the suite.
    for name in (
        "PORTKEY_API_KEY",
        "PORTKEY_BASE_URL",
        "PORTKEY_VIRTUAL_KEY",
        "PORTKEY_CONFIG",
        "PORTKEY_PROVIDER",
        "PORTKEY_CUSTOM_HOST",
        "PORTKEY_PROVIDER_API_KEY",
        "PORTKEY_MAX_CONNECTIONS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _fast_retries(portkey_fast_retries: None) -> None:
    # Retries happen for real; only their backoff shrinks. Tests of the backoff itself
    # call retry_delay() directly.
    return None


class ServerFactory:
    """Starts local servers on free loopback ports and stops them all at :meth:`close`."""

    def __init__(self) -> None:
        self._servers: list[LocalPortkeyServer] = []

    def __call__(self, **options: Any) -> LocalPortkeyServer:
        """A started server; ``options`` are ``LocalPortkeyServer``'s keywords."""
        server = LocalPortkeyServer(**options).start()
        self._servers.append(server)
        return server

    def close(self, *, wait: bool = True) -> None:
        """Stop every server started here (without ``wait``, in the background)."""
        servers, self._servers = self._servers, []
        for server in servers:
            if wait:
                server.stop()
            else:
                _stop_in_background(server)


_stopping: list[threading.Thread] = []


def _stop_in_background(server: LocalPortkeyServer) -> None:
    # Stopping waits for uvicorn's next tick (up to ~0.2 s); no test needs to wait for it.
    thread = threading.Thread(target=server.stop, name="stop-portkey-local", daemon=True)
    thread.start()
    _stopping.append(thread)


@pytest.fixture(scope="session")
def server_factory() -> Iterator[ServerFactory]:
    """``server_factory(**options)``: a new local server that lives until the session ends."""
    factory = ServerFactory()
    yield factory
    factory.close()
    for thread in _stopping:
        thread.join(timeout=5)


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    """``make_server(**options)``: a new local server for this test, stopped after it."""
    factory = ServerFactory()
    yield factory
    factory.close(wait=False)


@pytest.fixture(scope="session")
def server_options() -> Mapping[str, Any]:
    """``LocalPortkeyServer`` keywords of this directory's shared ``server``.

    Empty: the session's default server (``portkey_server``). A conftest overrides this
    to share another kind, e.g. ``{"require_routing": False}``; one server is started per
    distinct set of options and shared by every directory asking for it.
    """
    return {}


@pytest.fixture(scope="session")
def server_prompts() -> ServerPrompts:
    """The prompts this directory's tests expect on ``server``; a conftest overrides this.

    Each is registered the first time a test asks for ``server`` (again only if a test
    deleted it): registered prompts outlive the per-test reset.
    """
    return {}


@pytest.fixture(scope="session")
def _shared_servers(
    portkey_server: LocalPortkeyServer, server_factory: ServerFactory
) -> Callable[[Mapping[str, Any]], LocalPortkeyServer]:
    shared: dict[str, LocalPortkeyServer] = {}

    def get(options: Mapping[str, Any]) -> LocalPortkeyServer:
        if not options:
            return portkey_server
        key = repr(sorted(options.items()))
        if key not in shared:
            shared[key] = server_factory(**options)
        return shared[key]

    return get


def register_prompts(server: LocalPortkeyServer, prompts: ServerPrompts) -> None:
    """Register each of ``prompts`` that ``server`` does not hold yet."""
    for prompt_id, spec in prompts.items():
        if prompt_id in server.store:
            continue
        versions = [spec] if isinstance(spec, Mapping) else list(spec)
        for version in versions:
            options = dict(version)
            server.store.register(prompt_id, options.pop("template"), **options)


@pytest.fixture
def server(
    _shared_servers: Callable[[Mapping[str, Any]], LocalPortkeyServer],
    server_options: Mapping[str, Any],
    server_prompts: ServerPrompts,
) -> LocalPortkeyServer:
    """The shared local server, reset for this test, with this directory's prompts."""
    shared = _shared_servers(server_options)
    shared.reset()
    register_prompts(shared, server_prompts)
    return shared
