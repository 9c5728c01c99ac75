"""PortkeyEmbeddings inside LangChain: its fields and a vector store round trip."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore

from portkey_integrations._adapters.settings import PortkeyClientSettings
from portkey_integrations.langchain.embeddings import PortkeyEmbeddings
from portkey_integrations.server import LocalPortkeyServer

from .conftest import embedding_requests


def test_it_is_a_langchain_embeddings_and_portkey_settings() -> None:
    model = PortkeyEmbeddings()
    assert isinstance(model, Embeddings) and isinstance(model, PortkeyClientSettings)
    assert (model.model, model.chunk_size, model.encoding_format) == (
        "text-embedding-3-small",
        1000,
        "float",
    )


def test_request_timeout_is_the_timeout_as_in_openai_embeddings() -> None:
    assert PortkeyEmbeddings(request_timeout=7).timeout == 7
    assert PortkeyEmbeddings(timeout=8).timeout == 8
    assert PortkeyEmbeddings(request_timeout=7).client.timeout.read == 7


def test_a_vector_store_finds_the_text_sharing_words(server: LocalPortkeyServer) -> None:
    embeddings = PortkeyEmbeddings(base_url=server.base_url, chunk_size=2)
    store = InMemoryVectorStore.from_texts(
        [
            "The cache keeps entries for ten minutes.",
            "Invoices are emailed monthly.",
            "The team meets on Thursdays.",
        ],
        embeddings,
    )
    (found,) = store.similarity_search("how long are cache entries kept", k=1)
    assert found.page_content == "The cache keeps entries for ten minutes."
    assert [len(b["input"]) for b in embedding_requests(server)] == [2, 1, 1]


async def test_async_vector_store_search(server: LocalPortkeyServer) -> None:
    embeddings = PortkeyEmbeddings(base_url=server.base_url, max_concurrency=2, chunk_size=1)
    store = await InMemoryVectorStore.afrom_texts(["red apples", "blue ocean"], embeddings)
    (found,) = await store.asimilarity_search("apples that are red", k=1)
    assert found.page_content == "red apples"
    assert len(embedding_requests(server)) == 3
