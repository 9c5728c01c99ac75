"""Portkey's ``/embeddings`` as a LlamaIndex embedding model."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from pydantic import ConfigDict, Field

from .._adapters.settings import PortkeyClientSettings
from .._errors import PortkeyConfigError
from .._options import SECRET_OPTIONS
from ..resources.embeddings import DEFAULT_EMBEDDING_MODEL, MAX_INPUTS, EmbeddingFields

__all__ = ["PortkeyEmbedding"]


class PortkeyEmbedding(EmbeddingFields, PortkeyClientSettings, BaseEmbedding):
    """Embeddings through Portkey's gateway (``POST /embeddings``), as llama-index's
    ``OpenAIEmbedding`` but routed by Portkey::

        from portkey_integrations.llama_index import PortkeyEmbedding

        embed_model = PortkeyEmbedding(model="text-embedding-3-small", provider="openai")
        index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)

    ``model=`` sets LlamaIndex's ``model_name`` (both names are accepted); LlamaIndex
    batches texts by ``embed_batch_size`` and runs async batches over ``num_workers``.
    """

    model_config = ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)

    model_name: str = Field(
        default=DEFAULT_EMBEDDING_MODEL, description="The embedding model (`model=` also sets it)."
    )
    embed_batch_size: int = Field(
        default=100, gt=0, le=MAX_INPUTS, description="Most texts per request."
    )

    def __init__(self, *, model: str | None = None, **data: Any) -> None:
        if model is not None:
            given = data.get("model_name")
            if given is not None and given != model:
                raise PortkeyConfigError(
                    f"model={model!r} and model_name={given!r} disagree: pass one of them"
                )
            data["model_name"] = model
        super().__init__(**data)

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyEmbedding"

    @property
    def model(self) -> str:
        """The embedding model, ``model_name`` under the name the other classes use."""
        return self.model_name

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([query], self.model_name, self.embed_batch_size)[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([query], self.model_name, self.embed_batch_size, 1))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([text], self.model_name, self.embed_batch_size)[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([text], self.model_name, self.embed_batch_size, 1))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(texts, self.model_name, self.embed_batch_size)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        # LlamaIndex already spreads batches over num_workers; one batch is one request.
        return await self._aembed(texts, self.model_name, self.embed_batch_size, 1)

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """The model's settings without its secrets (API keys are never serialized)."""
        data = super().to_dict(**kwargs)
        for name in SECRET_OPTIONS:
            data.pop(name, None)
        return data
