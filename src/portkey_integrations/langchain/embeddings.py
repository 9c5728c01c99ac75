"""Portkey's ``/embeddings`` as a LangChain ``Embeddings`` model."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field

from .._adapters.settings import PortkeyClientSettings
from .._client import DEFAULT_TIMEOUT
from ..resources.embeddings import DEFAULT_EMBEDDING_MODEL, MAX_INPUTS, EmbeddingFields

__all__ = ["PortkeyEmbeddings"]


class PortkeyEmbeddings(EmbeddingFields, PortkeyClientSettings, Embeddings):
    """Portkey's ``/embeddings`` as a LangChain ``Embeddings`` model, like
    ``langchain_openai.OpenAIEmbeddings`` but routed by Portkey.

    Setup:
        ```bash
        pip install "portkey-integrations[langchain]"
        export PORTKEY_API_KEY="pk-..."
        ```

    Key init args:
        - ``model`` (``"text-embedding-3-small"``): the provider's embedding model.
        - ``chunk_size`` (``1000``): most texts per request.
        - ``max_concurrency`` (``4``): most requests in flight in the async methods.
        - ``dimensions``, ``encoding_format`` (``"base64"`` is decoded), ``user``.
        - every client option: ``api_key``, ``base_url``, ``provider``, ``config``,
          ``timeout`` (alias ``request_timeout``), ``max_retries``, ...

    Instantiate:
        ```python
        from portkey_integrations.langchain import PortkeyEmbeddings

        embeddings = PortkeyEmbeddings(model="text-embedding-3-small", provider="openai")
        ```

    Embed:
        ```python
        vectors = embeddings.embed_documents(["first text", "second text"])
        vector = embeddings.embed_query("a question")
        ```

    Async:
        ```python
        vectors = await embeddings.aembed_documents(["first text", "second text"])
        ```

    Texts go in batches of ``chunk_size`` (in order when sync, up to
    ``max_concurrency`` at once when async). Routing, retries, timeouts and typed
    errors are the core client's.
    """

    model_config = ConfigDict(
        populate_by_name=True, protected_namespaces=(), arbitrary_types_allowed=True
    )

    model: str = DEFAULT_EMBEDDING_MODEL
    """The embedding model (the provider's name for it)."""
    chunk_size: int = Field(default=1000, ge=1, le=MAX_INPUTS)
    """Most texts per request, as ``OpenAIEmbeddings``' ``chunk_size``."""
    max_concurrency: int = Field(default=4, ge=1)
    """Most batches in flight at once in the async methods."""
    timeout: float | None = Field(default=DEFAULT_TIMEOUT, alias="request_timeout")
    """Read timeout in seconds; ``request_timeout`` is OpenAIEmbeddings' name for it."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents; one vector per text, in order."""
        return self._embed(texts, self.model, self.chunk_size)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query text."""
        return self._embed([text], self.model, self.chunk_size)[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents`."""
        return await self._aembed(texts, self.model, self.chunk_size, self.max_concurrency)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        vectors = await self._aembed([text], self.model, self.chunk_size, self.max_concurrency)
        return vectors[0]
