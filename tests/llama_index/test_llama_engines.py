"""Query and chat engines over a VectorStoreIndex (MockEmbedding, no network)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.chat_engine.types import ChatMode
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import ChatMessage

from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

DOCS = [
    "The Zephyr release shipped on 3 March with a rewritten cache.",
    "Zephyr's cache keeps entries for ten minutes by default.",
    "The previous release, Yarrow, had no cache at all.",
]
QUESTION = "How long does Zephyr keep cache entries?"


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    embed = MockEmbedding(embed_dim=8)
    return VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)


def _context_of(variables: dict[str, Any]) -> str:
    context = variables["context_str"]
    assert isinstance(context, str)
    return context


@pytest.mark.parametrize("kind", ["text", "chat"])
def test_query_engine_sends_context_and_query_to_the_prompt(
    kind: str,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
    prompt_llm: Callable[..., PortkeyPromptLLM],
) -> None:
    llm = (prompt_llm if kind == "text" else chat_model)(prompt_id="pp-rag-qa")
    response = index.as_query_engine(llm=llm, similarity_top_k=3).query(QUESTION)
    request = server.requests[-1]
    assert request.prompt_id == "pp-rag-qa"
    variables = request.body["variables"]
    assert set(variables) == {"context_str", "query_str"}
    assert variables["query_str"] == QUESTION
    for text in DOCS:
        assert text in _context_of(variables)
    # The server rendered pp-rag-qa with them; the offline model echoes the user turn.
    assert QUESTION in str(response) and "ten minutes" in str(response)
    assert {n.node.get_content() for n in response.source_nodes} == set(DOCS)


async def test_async_streaming_query_engine(
    index: VectorStoreIndex, server: LocalPortkeyServer, prompt_llm: Callable[..., PortkeyPromptLLM]
) -> None:
    engine = index.as_query_engine(llm=prompt_llm(prompt_id="pp-rag-qa"), streaming=True)
    response = await engine.aquery(QUESTION)
    tokens = [t async for t in response.async_response_gen()]
    assert len(tokens) > 5
    assert QUESTION in "".join(tokens)
    body = server.requests[-1].body
    assert body["stream"] is True and body["variables"]["query_str"] == QUESTION


def test_streaming_query_engine_sync(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    engine = index.as_query_engine(llm=chat_model(prompt_id="pp-rag-qa"), streaming=True)
    text = "".join(engine.query(QUESTION).response_gen)
    assert QUESTION in text
    assert server.requests[-1].body["variables"]["query_str"] == QUESTION


def test_query_engine_without_prompt_id_renders_locally(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    response = index.as_query_engine(
        llm=chat_model(model="portkey-local"), similarity_top_k=3
    ).query(QUESTION)
    body = server.requests[-1].body
    assert server.requests[-1].path == "/v1/chat/completions"
    assert "variables" not in body
    user = body["messages"][-1]["content"]
    assert QUESTION in user and DOCS[1] in user  # LlamaIndex's own QA template
    assert QUESTION in str(response)


def test_chat_engine_keeps_the_conversation(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    engine = index.as_chat_engine(llm=chat_model(model="portkey-local"), similarity_top_k=3)
    first = engine.chat("What shipped on 3 March?")
    assert "What shipped on 3 March?" in str(first)
    second = engine.chat("And its cache?")
    messages = server.requests[-1].body["messages"]
    assert messages[0]["role"] == "system" and DOCS[1] in messages[0]["content"]
    assert [m["role"] for m in messages[-3:]] == ["user", "assistant", "user"]
    assert messages[-3]["content"] == "What shipped on 3 March?"
    assert "Zephyr" in str(second) or "cache" in str(second)
    assert len(engine.chat_history) == 4


async def test_chat_engine_with_a_prompt_id_streams(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    engine = index.as_chat_engine(
        chat_mode=ChatMode.SIMPLE, llm=chat_model(prompt_id="pp-assistant")
    )
    engine.chat("My name is Ada.")
    streaming = await engine.astream_chat("What is my name?")
    text = "".join([t async for t in streaming.async_response_gen()])
    assert "What is my name?" in text
    variables = server.requests[-1].body["variables"]
    assert variables["input"] == "What is my name?"
    assert [m["role"] for m in variables["chat_history"]] == ["user", "assistant"]
    assert variables["chat_history"][0]["content"] == "My name is Ada."


def test_chat_engine_context_mode(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    engine = index.as_chat_engine(
        chat_mode=ChatMode.CONTEXT, llm=chat_model(model="portkey-local"), similarity_top_k=3
    )
    response = engine.stream_chat("Tell me about Yarrow")
    text = "".join(response.response_gen)
    assert "Tell me about Yarrow" in text
    messages = server.requests[-1].body["messages"]
    assert DOCS[2] in messages[0]["content"]
    assert ChatMessage(role="user", content="Tell me about Yarrow") in engine.chat_history
