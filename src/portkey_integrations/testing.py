"""Pytest fixtures for testing code that talks to Portkey, against the local server.

Enable them in a ``conftest.py``::

    pytest_plugins = ["portkey_integrations.testing"]

Fixtures:

- ``portkey_server``: a session-wide :class:`~portkey_integrations.server.LocalPortkeyServer`
  holding the bundled prompts.
- ``portkey_local``: the same server for one test, reset first (faults and
  request log cleared; registered prompts kept).
- ``portkey_base_url``: its base URL, ``http://127.0.0.1:<port>/v1``.
- ``portkey_env``: sets ``PORTKEY_BASE_URL`` to that URL and ``PORTKEY_API_KEY``
  to a dummy key for one test, so clients built from the environment use it.

Needs the ``server`` extra. Imports no LangChain or LlamaIndex.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server.runner import LocalPortkeyServer

__all__ = ["LOCAL_API_KEY", "portkey_base_url", "portkey_env", "portkey_local", "portkey_server"]

LOCAL_API_KEY = "pk-local-test"
"""The dummy key ``portkey_env`` sets; the local server accepts any key unless started with one."""


@pytest.fixture(scope="session")
def portkey_server() -> Iterator[LocalPortkeyServer]:
    """A local Portkey-compatible server shared by the whole test session."""
    with LocalPortkeyServer() as server:
        yield server


@pytest.fixture
def portkey_local(portkey_server: LocalPortkeyServer) -> LocalPortkeyServer:
    """The session's server, with faults and the request log cleared for this test."""
    portkey_server.reset()
    return portkey_server


@pytest.fixture
def portkey_base_url(portkey_local: LocalPortkeyServer) -> str:
    """The base URL of the (reset) local server."""
    return portkey_local.base_url


@pytest.fixture
def portkey_env(
    portkey_local: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> LocalPortkeyServer:
    """Point ``PORTKEY_BASE_URL`` / ``PORTKEY_API_KEY`` at the local server for one test."""
    monkeypatch.setenv("PORTKEY_BASE_URL", portkey_local.base_url)
    monkeypatch.setenv("PORTKEY_API_KEY", LOCAL_API_KEY)
    return portkey_local
