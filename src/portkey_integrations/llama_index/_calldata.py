"""Small facts about one call: its max tokens, its media."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
)

__all__ = ["has_media", "max_tokens"]


def max_tokens(params: Mapping[str, Any]) -> int | None:
    """The max tokens set in ``params`` (either name), if any."""
    for name in ("max_tokens", "max_completion_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def has_media(messages: Sequence[ChatMessage]) -> bool:
    """Whether the last user message has image, audio or document blocks."""
    for message in reversed(messages):
        if message.role == MessageRole.USER:
            return any(
                isinstance(b, (ImageBlock, AudioBlock, DocumentBlock)) for b in message.blocks
            )
    return False
