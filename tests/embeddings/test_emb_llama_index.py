"""PortkeyEmbedding inside LlamaIndex: its fields, and retrieval-augmented answers offline."""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding

from portkey_integrations import PortkeyConfigError
from portkey_integrations._adapters.settings import PortkeyClientSettings
from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.llama_index.embedding import PortkeyEmbedding
from portkey_integrations.server import LocalPortkeyServer

from .conftest import embedding_requests

DOCUMENTS = {
    "cache": "Zephyr's in-memory cache keeps entries for ten minutes unless ZEPHYR_TTL is set.",
    "billing": "Invoices are emailed on the first working day of every month.",
    "team": "The platform team meets on Thursdays to plan the next sprint.",
    "release": "Version 2.0 shipped on 3 March with a rewritten scheduler.",
}


def test_it_is_a_llama_index_embedding_and_portkey_settings() -> None:
    model = PortkeyEmbedding(model="emb-a")
    assert isinstance(model, BaseEmbedding) and isinstance(model, PortkeyClientSettings)
    assert model.model_name == model.model == "emb-a"
    assert PortkeyEmbedding(model_name="emb-b").model == "emb-b"
    assert PortkeyEmbedding().model_name == "text-embedding-3-small"
    assert PortkeyEmbedding.class_name() == "PortkeyEmbedding"
    assert model.to_dict()["class_name"] == "PortkeyEmbedding"


def test_model_and_model_name_must_agree() -> None:
    assert PortkeyEmbedding(model="same", model_name="same").model_name == "same"
    with pytest.raises(PortkeyConfigError, match="disagree"):
        PortkeyEmbedding(model="one", model_name="other")


def test_the_model_name_is_sent(server: LocalPortkeyServer) -> None:
    model = PortkeyEmbedding(model="emb-sent", base_url=server.base_url, embed_batch_size=3)
    model.get_text_embedding_batch(["a", "b", "c", "d"])
    assert [(b["model"], len(b["input"])) for b in embedding_requests(server)] == [
        ("emb-sent", 3),
        ("emb-sent", 1),
    ]


def test_from_dict_rebuilds_the_settings_without_secrets() -> None:
    model = PortkeyEmbedding(model="emb-c", api_key="pk-hidden", dimensions=16, provider="openai")
    data = model.to_dict()
    assert "api_key" not in data
    rebuilt = PortkeyEmbedding.from_dict(data)
    assert (rebuilt.model_name, rebuilt.dimensions, rebuilt.provider) == ("emb-c", 16, "openai")
    assert rebuilt.api_key is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long does the cache keep entries?", "cache"),
        ("When are invoices emailed?", "billing"),
        ("Which day does the platform team meet?", "team"),
    ],
)
def test_a_vector_index_retrieves_the_document_sharing_words_with_the_question(
    server: LocalPortkeyServer, question: str, expected: str
) -> None:
    embed_model = PortkeyEmbedding(base_url=server.base_url)
    documents = [Document(text=text, id_=name) for name, text in DOCUMENTS.items()]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
    llm = PortkeyChatModel(prompt_id="pp-rag-qa", base_url=server.base_url)
    response = index.as_query_engine(llm=llm, similarity_top_k=1).query(question)

    (top,) = response.source_nodes
    assert top.node.ref_doc_id == expected
    assert top.node.get_content() == DOCUMENTS[expected]
    prompt_call = server.requests[-1]
    assert prompt_call.prompt_id == "pp-rag-qa"
    context = prompt_call.body["variables"]["context_str"]
    assert DOCUMENTS[expected] in context
    assert all(text not in context for name, text in DOCUMENTS.items() if name != expected)
    assert prompt_call.body["variables"]["query_str"] == question
    # The offline model echoes the rendered user turn: the answer is built on that context.
    assert DOCUMENTS[expected] in str(response)
    # The documents went in one batch, the question in another.
    assert [len(b["input"]) for b in embedding_requests(server)] == [len(DOCUMENTS), 1]


async def test_the_async_query_path_retrieves_alike(server: LocalPortkeyServer) -> None:
    embed_model = PortkeyEmbedding(base_url=server.base_url, embed_batch_size=2)
    documents = [Document(text=text, id_=name) for name, text in DOCUMENTS.items()]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, use_async=True)
    llm = PortkeyChatModel(prompt_id="pp-rag-qa", base_url=server.base_url)
    response = await index.as_query_engine(llm=llm, similarity_top_k=1).aquery(
        "When are invoices emailed?"
    )
    assert response.source_nodes[0].node.ref_doc_id == "billing"
    assert len(embedding_requests(server)) == 3  # two batches of two documents, one question
