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
- ``portkey_fast_retries``: the client's retry backoff shortened to a millisecond for
  one test (see :func:`fast_retries`).

Helpers:

- :func:`fast_retries`: a context manager that shortens the retry backoff of every
  client in the process while it is open; retries still happen, only the wait between
  them shrinks. Use it to test code that retries (``max_retries``) without sleeping.

Needs the ``server`` extra. Imports no LangChain or LlamaIndex.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from ._transport import set_initial_retry_delay
from .server.runner import LocalPortkeyServer

__all__ = [
    "FAST_RETRY_DELAY",
    "LOCAL_API_KEY",
    "fast_retries",
    "portkey_base_url",
    "portkey_env",
    "portkey_fast_retries",
    "portkey_local",
    "portkey_server",
]

LOCAL_API_KEY = "pk-local-test"
"""The dummy key ``portkey_env`` sets; the local server accepts any key unless started with one."""

FAST_RETRY_DELAY = 0.001
"""Seconds :func:`fast_retries` waits before a first retry by default (0.5 otherwise)."""


@contextlib.contextmanager
def fast_retries(initial_delay: float = FAST_RETRY_DELAY) -> Iterator[None]:
    """Shorten the clients' retry backoff while the ``with`` block runs.

    The first retry waits about ``initial_delay`` seconds instead of half a second, each
    later one twice the previous (jittered, capped as usual); a ``Retry-After`` header the
    server sends still wins. The setting is process-wide (every client, every thread) and
    the previous value comes back on exit::

        with fast_retries():
            client.complete(...)  # retries 503s without sleeping
    """
    previous = set_initial_retry_delay(initial_delay)
    try:
        yield
    finally:
        set_initial_retry_delay(previous)


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


@pytest.fixture
def portkey_fast_retries() -> Iterator[None]:
    """The clients' retry backoff shortened (:func:`fast_retries`) for one test."""
    with fast_retries():
        yield
