"""Context windows of known models and the max tokens of a call, for ``metadata``.

LlamaIndex sizes its prompts from ``context_window`` and ``num_output``: a window too
small splits retrieved context into extra calls, one too large overflows the model.
The window comes from the model that will run (``model=``, else the saved model of the
prompt), looked up here by name; ``context_window=`` on the model overrides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import LLMMetadata, MessageRole
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW

from .._base_client import prompt_cache

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate
    from .base import PortkeyLLMBase

__all__ = [
    "DEFAULT_NUM_OUTPUT",
    "context_window_of",
    "llm_metadata",
    "max_tokens",
    "seen_prompt",
]

DEFAULT_NUM_OUTPUT = 256
"""Tokens kept free for the answer when no max tokens is set (LlamaIndex's default)."""

# Longest matching prefix wins, so dated snapshots ("gpt-4o-mini-2024-07-18") and
# variants inherit their family's window.
_WINDOWS: dict[str, int] = {
    "portkey-local": 128_000,  # the local server's offline model has no real limit
    "gpt-5": 400_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.5": 128_000,
    "gpt-4o": 128_000,
    "chatgpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4-1106": 128_000,
    "gpt-4-0125": 128_000,
    "gpt-4-vision": 128_000,
    "gpt-4-32k": 32_768,
    "gpt-4": 8_192,
    "gpt-3.5-turbo-instruct": 4_096,
    "gpt-3.5-turbo-16k": 16_385,
    "gpt-3.5-turbo": 16_385,
    "o1-mini": 128_000,
    "o1-preview": 128_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-3": 200_000,
    "claude-sonnet-4": 200_000,
    "claude-opus-4": 200_000,
    "claude-haiku-4": 200_000,
    "claude-2": 100_000,
    "gemini-1.5-pro": 2_097_152,
    "gemini-1.5-flash": 1_048_576,
    "gemini-2": 1_048_576,
    "gemini-2.5": 1_048_576,
    "llama-3.1": 128_000,
    "llama-3.2": 128_000,
    "llama-3.3": 128_000,
    "meta-llama-3.1": 128_000,
    "mistral-large": 128_000,
    "mistral-small": 32_000,
    "command-r": 128_000,
    "deepseek-chat": 64_000,
    "deepseek-reasoner": 64_000,
}
_BY_LENGTH = sorted(_WINDOWS, key=len, reverse=True)


def _bare_name(model: str) -> str:
    """``@openai-prod/gpt-4o`` -> ``gpt-4o``; ``ft:gpt-4o-mini:org::id`` -> ``gpt-4o-mini``."""
    name = model.strip().lower()
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    return name.rsplit("/", 1)[-1]


@lru_cache(maxsize=256)  # metadata asks on every call, for a model or two
def context_window_of(model: str | None) -> int | None:
    """The context window of a known model, in tokens; ``None`` when unknown.

    >>> context_window_of("gpt-4o-mini-2024-07-18"), context_window_of("@prod/gpt-4")
    (128000, 8192)
    """
    if not model:
        return None
    name = _bare_name(model)
    for prefix in _BY_LENGTH:
        if name.startswith(prefix):
            return _WINDOWS[prefix]
    return None


def max_tokens(params: Mapping[str, Any]) -> int | None:
    """The max tokens set in ``params`` (either name), if any."""
    for name in ("max_tokens", "max_completion_tokens"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def seen_prompt(llm: PortkeyLLMBase) -> PromptTemplate | None:
    """The saved template ``metadata`` reads: that of ``prompt_id`` once a call of
    ``llm`` read it, unless ``model=`` and ``max_tokens=`` say all it would."""
    return _seen_prompt(llm) if llm.model is None or llm.max_tokens is None else None


def llm_metadata(llm: PortkeyLLMBase, saved: PromptTemplate | None) -> LLMMetadata:
    """LlamaIndex's ``metadata`` of ``llm``: the window and token limit of the model
    that will run (``model=``, else the ``saved`` model of ``prompt_id`` once a call has
    read it), chat or completion model, tool support."""
    model = llm.model or (saved.model if saved is not None else None)
    limit = llm.max_tokens or max_tokens(llm.model_kwargs)
    if limit is None and saved is not None:
        limit = max_tokens(saved.parameters)
    chat = llm.chat_model
    return LLMMetadata(
        context_window=llm.context_window or context_window_of(model) or DEFAULT_CONTEXT_WINDOW,
        num_output=limit or DEFAULT_NUM_OUTPUT,
        is_chat_model=chat,
        is_function_calling_model=chat and bool(getattr(llm, "is_function_calling_model", 0)),
        model_name=llm.model or llm.full_prompt_id or "unknown",
        system_role=MessageRole.SYSTEM,
    )


def _seen_prompt(llm: PortkeyLLMBase) -> PromptTemplate | None:
    """The saved version of ``prompt_id`` a call of ``llm`` already read (calls read it
    to check variables), from the process's prompt cache; never fetched: ``metadata``
    does no I/O."""
    full = llm.full_prompt_id
    clients = llm.__pydantic_private__["_clients"]  # type: ignore[index]  # see _ensure_clients
    if full is None or clients is None:
        return None  # no call yet: nothing was read
    # Both clients share the base URL the cache is keyed by; the async one, so that
    # async code paths never touch the sync client.
    return prompt_cache().peek(clients[1], full)
