"""The LlamaIndex text-completion model: Portkey text prompts and ``/completions``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import (
    messages_to_prompt as generic_messages_to_prompt,
)
from llama_index.core.base.llms.types import ChatMessage, LLMMetadata, MessageRole

from .base import PortkeyLLMBase

__all__ = ["PortkeyPromptLLM"]


class PortkeyPromptLLM(PortkeyLLMBase):
    """A LlamaIndex completion model backed by Portkey.

    With ``prompt_id`` every call runs that Portkey prompt (a text or a chat template):
    ``complete(text)`` sends ``text`` as ``input_variable``, and a query engine's
    ``predict`` sends its template's variables, so a prompt written with
    ``{{context_str}}`` and ``{{query_str}}`` answers the engine directly. Without it,
    calls go to Portkey's ``/completions`` with ``model``.

    Example::

        from llama_index.core import VectorStoreIndex
        from portkey_integrations.llama_index import PortkeyPromptLLM

        llm = PortkeyPromptLLM(prompt_id="pp-rag-qa", prompt_version="production")
        engine = VectorStoreIndex.from_documents(docs).as_query_engine(llm=llm)
        print(engine.query("What does the report conclude?"))
    """

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyPromptLLM"

    @property
    def metadata(self) -> LLMMetadata:
        """Completion-model metadata: not a chat model, no tool calling."""
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens or -1,
            is_chat_model=False,
            is_function_calling_model=False,
            model_name=self.model or self.full_prompt_id or "unknown",
            system_role=MessageRole.SYSTEM,
        )

    def _direct_messages(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        to_prompt = self.messages_to_prompt or generic_messages_to_prompt
        return {"prompt": to_prompt(messages)}

    def _direct_prompt(self, prompt: str, formatted: bool) -> dict[str, Any]:
        if not formatted and self.completion_to_prompt is not None:
            prompt = self.completion_to_prompt(prompt)
        return {"prompt": prompt}
