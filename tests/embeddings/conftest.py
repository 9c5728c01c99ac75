"""Fixtures for the embedding tests: a shared server without Portkey's routing rule."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from portkey_integrations.server import LocalPortkeyServer

SECRET = "pk-emb-secret-0123456789"
PROVIDER_SECRET = "sk-emb-provider-9876543210"


@pytest.fixture(scope="session")
def server_options() -> Mapping[str, Any]:
    """``server`` here answers without Portkey's routing rule: these tests are about
    embeddings; ``test_emb_routing.py`` holds the rule itself (on ``portkey_local``)."""
    return {"require_routing": False}


def embedding_requests(server: LocalPortkeyServer) -> list[dict[str, Any]]:
    """The bodies of the ``/v1/embeddings`` requests the server received, in order."""
    return [r.body for r in server.requests if r.path == "/v1/embeddings"]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(math.fsum(x * x for x in a) * math.fsum(y * y for y in b))
