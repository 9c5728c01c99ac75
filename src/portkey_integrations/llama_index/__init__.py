"""Portkey prompts as LlamaIndex LLMs.

:class:`PortkeyChatModel` (a function-calling chat model) and :class:`PortkeyPromptLLM`
(a completion model) run a Portkey prompt when given a ``prompt_id`` and Portkey's
OpenAI-compatible routes otherwise. Both drop into query engines, chat engines,
``FunctionAgent`` / ``AgentWorkflow`` and structured prediction::

    from portkey_integrations.llama_index import PortkeyChatModel

    llm = PortkeyChatModel(prompt_id="pp-rag-qa")
    answer = index.as_query_engine(llm=llm).query("What changed in v2?")

Needs the ``llama-index`` extra (``pip install portkey-integrations[llama-index]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "portkey_integrations.llama_index needs llama-index-core: "
        "pip install 'portkey-integrations[llama-index]'"
    ) from exc

from ._messages import to_openai_message, to_openai_messages
from ._routing import template_variables
from .base import TEMPLATE_VARIABLES, PortkeyLLMBase
from .chat_models import PortkeyChatModel
from .llms import PortkeyPromptLLM

if TYPE_CHECKING:
    from ._batch import (
        BatchPolling,
        abatch_chat,
        abatch_chat_retrieve,
        abatch_chat_submit,
        batch_cancel,
        batch_chat,
        batch_chat_retrieve,
        batch_chat_submit,
        batch_status,
    )
    from .embedding import PortkeyEmbedding
    from .templates import pull_prompt

__all__ = [
    "TEMPLATE_VARIABLES",
    "BatchPolling",
    "PortkeyChatModel",
    "PortkeyEmbedding",
    "PortkeyLLMBase",
    "PortkeyPromptLLM",
    "abatch_chat",
    "abatch_chat_retrieve",
    "abatch_chat_submit",
    "batch_cancel",
    "batch_chat",
    "batch_chat_retrieve",
    "batch_chat_submit",
    "batch_status",
    "pull_prompt",
    "template_variables",
    "to_openai_message",
    "to_openai_messages",
]


_BATCH = frozenset(
    {
        "BatchPolling",
        "abatch_chat",
        "abatch_chat_retrieve",
        "abatch_chat_submit",
        "batch_cancel",
        "batch_chat",
        "batch_chat_retrieve",
        "batch_chat_submit",
        "batch_status",
    }
)


def __getattr__(name: str) -> Any:
    # Lazy: the prompt API and template machinery load only for those who pull, the
    # Batch API helpers only for those who batch, the embedding model (a pydantic class
    # to build) only for those who embed.
    if name == "pull_prompt":
        from .templates import pull_prompt

        return pull_prompt
    if name in _BATCH:
        from . import _batch

        return getattr(_batch, name)
    if name == "PortkeyEmbedding":
        from .embedding import PortkeyEmbedding

        return PortkeyEmbedding
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
