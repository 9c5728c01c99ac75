"""LangChain models over Portkey prompts.

- :class:`PortkeyChatModel`: a ``BaseChatModel`` (prompt route or ``/chat/completions``)
- :class:`PortkeyPromptLLM`: a ``BaseLLM`` (prompt route or ``/completions``)
- :class:`PortkeyEmbeddings`: an ``Embeddings`` over ``/embeddings``

Both drop into LCEL chains, LangGraph graphs and ``create_agent`` agents; a dict input
is the prompt's variables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chat_models import PortkeyChatModel

if TYPE_CHECKING:
    from .._adapters.polling import BatchPolling
    from .embeddings import PortkeyEmbeddings
    from .llms import PortkeyPromptLLM
    from .templates import pull_prompt

__all__ = [
    "BatchPolling",
    "PortkeyChatModel",
    "PortkeyEmbeddings",
    "PortkeyPromptLLM",
    "pull_prompt",
]


def __getattr__(name: str) -> Any:
    # Lazy: langchain-core's BaseLLM module pulls in yaml and tenacity, which chat-only
    # users should not pay for at import time.
    if name == "BatchPolling":  # with the first Batch API use
        from .._adapters.polling import BatchPolling

        return BatchPolling
    if name == "PortkeyPromptLLM":
        from .llms import PortkeyPromptLLM

        return PortkeyPromptLLM
    if name == "PortkeyEmbeddings":
        from .embeddings import PortkeyEmbeddings

        return PortkeyEmbeddings
    if name == "pull_prompt":
        # langchain-core's prompt templates bring jinja2 (~90 ms): only for those who pull.
        from .templates import pull_prompt

        return pull_prompt
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
