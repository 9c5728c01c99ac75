"""Small facts about one call: the prompt it runs, its max tokens, its media."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
)

from .._request import parse_prompt_ref

if TYPE_CHECKING:
    from .._call import Call

__all__ = ["has_media", "max_tokens", "prompt_ref_of"]


def prompt_ref_of(call: Call) -> tuple[str, str | None] | None:
    """``(prompt id, version or label)`` of the prompt a call runs, if any."""
    return None if call.prompt_id is None else parse_prompt_ref(call.prompt_id)


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
