"""Fixtures for the embedding tests: the reset local server and fast retries."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from portkey_integrations.server import LocalPortkeyServer

SECRET = "pk-emb-secret-0123456789"
PROVIDER_SECRET = "sk-emb-provider-9876543210"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries back off for real otherwise; the tests only care that they happen.
    monkeypatch.setattr("portkey_integrations._retry._INITIAL_RETRY_DELAY", 0.001)


@pytest.fixture
def server(portkey_local: LocalPortkeyServer) -> Iterator[LocalPortkeyServer]:
    """The reset local server, here without Portkey's routing rule: these tests are about
    embeddings; ``test_emb_routing.py`` holds the rule itself."""
    portkey_local.state.require_routing = False
    try:
        yield portkey_local
    finally:
        portkey_local.state.require_routing = True


def embedding_requests(server: LocalPortkeyServer) -> list[dict[str, Any]]:
    """The bodies of the ``/v1/embeddings`` requests the server received, in order."""
    return [r.body for r in server.requests if r.path == "/v1/embeddings"]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(math.fsum(x * x for x in a) * math.fsum(y * y for y in b))
