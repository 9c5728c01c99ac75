"""Fixtures for the soak tests: the local server with the soak prompt registered."""

from __future__ import annotations

import pytest

from portkey_integrations.server import LocalPortkeyServer

SOAK_PROMPT = "pp-soak"


@pytest.fixture
def server(portkey_local: LocalPortkeyServer) -> LocalPortkeyServer:
    """The reset local server, with the soak prompt registered once."""
    if SOAK_PROMPT not in set(portkey_local.store.ids()):
        portkey_local.store.register(
            SOAK_PROMPT,
            template=[{"role": "user", "content": "Tell me about {{topic}}"}],
            model="portkey-local",
        )
    return portkey_local


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries happen for real; only their backoff is shortened.
    monkeypatch.setattr("portkey_integrations._retry._INITIAL_RETRY_DELAY", 0.001)
