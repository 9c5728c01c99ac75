"""Fixtures for the variables tests: a prompt reading objects, and a cold prompt cache."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from portkey_integrations._templates.cache import prompt_cache


@pytest.fixture(scope="session")
def server_prompts() -> Mapping[str, Mapping[str, Any]]:
    """A prompt reading a dotted name and looping over a list of objects."""
    return {
        "pp-objects": {
            "template": [
                {"role": "user", "content": "Hi {{user.name}}. Docs: {{#docs}}{{title}};{{/docs}}"}
            ]
        }
    }


@pytest.fixture(autouse=True)
def _cold_prompt_cache() -> None:
    prompt_cache.clear()  # every test sees its own first fetch
