"""Fixtures for the soak tests: the soak prompt on the shared local server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

SOAK_PROMPT = "pp-soak"


@pytest.fixture(scope="session")
def server_prompts() -> Mapping[str, Mapping[str, Any]]:
    """The soak prompt."""
    return {
        SOAK_PROMPT: {
            "template": [{"role": "user", "content": "Tell me about {{topic}}"}],
            "model": "portkey-local",
        }
    }
