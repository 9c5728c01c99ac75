"""Small facts about one call: its max tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["max_tokens"]


def max_tokens(params: Mapping[str, Any]) -> int | None:
    """The max tokens set in ``params`` (either name), if any."""
    for name in ("max_tokens", "max_completion_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
