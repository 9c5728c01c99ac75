"""Every response mode and chat mode on prompt ids: what reached the model, per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.chat_engine.types import ChatMode
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.response_synthesizers.no_text import NoText

from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer, ReceivedRequest

DOCS = [
    "The Zephyr release shipped on 3 March with a rewritten cache.",
    "Zephyr's cache keeps entries for ten minutes by default.",
    "The previous release, Yarrow, had no cache at all.",
]
QUESTION = "How long does Zephyr keep cache entries?"
MAPPED = {"refine": "pp-refine", "summary": "pp-summary", "condense": "pp-condense"}
# A QA prompt whose saved model has a virtual key: templates no prompt serves run on it.
SAVED_QA = {
    "id": "pp-li-qa-saved",
    "kind": "chat",
    "model": "gpt-4o-mini",
    "virtual_key": "vk-openai-local",
    "parameters": {"temperature": 0.2},
    "template": [{"role": "user", "content": "{{context_str}}\nQ: {{query_str}}"}],
}


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    embed = MockEmbedding(embed_dim=8)
    # One node per document: refine and accumulate then see three chunks.
    return VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)


@pytest.fixture
def saved_server(server: LocalPortkeyServer) -> LocalPortkeyServer:
    if SAVED_QA["id"] not in set(server.store.ids()):
        server.store.load_data(SAVED_QA)
    return server


def _vars(request: ReceivedRequest) -> dict[str, Any]:
    variables = request.variables
    assert isinstance(variables, dict)
    return variables


def _query(index: VectorStoreIndex, llm: Any, mode: str) -> str:
    engine = index.as_query_engine(llm=llm, response_mode=mode, similarity_top_k=3)
    return str(engine.query(QUESTION))


@pytest.mark.parametrize("kind", ["chat", "text"])
def test_compact_and_simple_summarize_make_one_call_with_every_document(
    kind: str,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
    prompt_llm: Callable[..., PortkeyPromptLLM],
) -> None:
    llm = (chat_model if kind == "chat" else prompt_llm)(prompt_id="pp-rag-qa", prompt_ids=MAPPED)
    for mode in ("compact", "simple_summarize"):
        server.reset()
        _query(index, llm, mode)
        (request,) = server.requests
        assert request.prompt_id == "pp-rag-qa"
        assert set(_vars(request)) == {"context_str", "query_str"}
        assert all(doc in _vars(request)["context_str"] for doc in DOCS)


def test_refine_sends_the_refine_steps_to_the_refine_prompt(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    answer = _query(index, chat_model(prompt_id="pp-rag-qa", prompt_ids=MAPPED), "refine")
    first, *steps = server.requests
    assert first.prompt_id == "pp-rag-qa" and len(steps) == 2
    seen = [_vars(first)["context_str"]]
    for step in steps:
        assert step.prompt_id == "pp-refine"
        variables = _vars(step)
        assert set(variables) == {"query_str", "existing_answer", "context_msg"}
        assert variables["existing_answer"].startswith("Echo:")
        seen.append(variables["context_msg"])
    assert sorted(seen) == sorted(DOCS)  # no document lost on the way
    assert "refine the original answer" in answer  # the last step rendered pp-refine


def test_unmapped_refine_renders_locally_on_the_prompts_saved_model(
    index: VectorStoreIndex,
    saved_server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    _query(index, chat_model(prompt_id=SAVED_QA["id"]), "refine")
    first, *steps = saved_server.requests
    assert first.prompt_id == SAVED_QA["id"] and len(steps) == 2
    for step in steps:
        assert step.path == "/v1/chat/completions"
        # The saved model, parameters and virtual key of the model's own prompt.
        assert step.body["model"] == "gpt-4o-mini" and step.body["temperature"] == 0.2
        assert step.headers["x-portkey-virtual-key"] == "vk-openai-local"
        text = step.body["messages"][-1]["content"]
        assert "Echo:" in text and QUESTION in text  # LlamaIndex's refine template


def test_tree_summarize_goes_to_the_summary_prompt(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    _query(index, chat_model(prompt_id="pp-rag-qa", prompt_ids=MAPPED), "tree_summarize")
    (request,) = server.requests
    assert request.prompt_id == "pp-summary"
    assert _vars(request)["query_str"] == QUESTION
    assert all(doc in _vars(request)["context_str"] for doc in DOCS)


@pytest.mark.parametrize(("mode", "calls"), [("accumulate", 3), ("compact_accumulate", 1)])
def test_accumulate_modes_send_only_the_templates_variables(
    mode: str,
    calls: int,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    answer = _query(index, chat_model(prompt_id="pp-rag-qa"), mode)
    assert len(server.requests) == calls
    contexts = []
    for request in server.requests:
        assert set(_vars(request)) == {"context_str", "query_str"}  # no 'template='
        contexts.append(_vars(request)["context_str"])
    assert all(any(doc in c for c in contexts) for doc in DOCS)
    assert answer.count("Echo:") == calls


def test_no_text_calls_no_model(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    llm = chat_model(prompt_id="pp-rag-qa")
    # LlamaIndex's factory builds NoText without the llm (it would reach for OpenAI).
    synthesizer = NoText(llm=llm)
    engine = index.as_query_engine(llm=llm, response_synthesizer=synthesizer)
    response = engine.query(QUESTION)
    assert server.requests == [] and len(response.source_nodes) == 2


# -- chat modes ----------------------------------------------------------------------

CHAT_IDS = {"context": "pp-context-chat", "condense": "pp-condense"}
FIRST, SECOND = "What shipped on 3 March?", "And how long are its entries kept?"


def _two_turns(engine: Any) -> None:
    engine.chat(FIRST)
    engine.chat(SECOND)


def _history_roles(variables: dict[str, Any]) -> list[str]:
    return [m["role"] for m in variables["chat_history"]]


def test_simple_mode_carries_the_history(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    engine = index.as_chat_engine(
        chat_mode=ChatMode.SIMPLE, llm=chat_model(prompt_id="pp-assistant")
    )
    _two_turns(engine)
    variables = _vars(server.requests[-1])
    assert variables["input"] == SECOND
    assert _history_roles(variables) == ["user", "assistant"]
    assert variables["chat_history"][0]["content"] == FIRST


def test_context_mode_sends_context_and_history_to_the_context_prompt(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    llm = chat_model(prompt_id="pp-assistant", prompt_ids=CHAT_IDS)
    _two_turns(index.as_chat_engine(chat_mode=ChatMode.CONTEXT, llm=llm, similarity_top_k=3))
    request = server.requests[-1]
    assert request.prompt_id == "pp-context-chat"
    variables = _vars(request)
    assert variables["query_str"] == SECOND
    assert all(doc in variables["context_str"] for doc in DOCS)
    assert _history_roles(variables) == ["user", "assistant"]
    assert variables["chat_history"][0]["content"] == FIRST
    rendered = llm.client.render(
        "pp-context-chat", variables=variables, raw_variables=["chat_history"]
    )
    assert rendered.messages[1]["content"] == FIRST  # the history, spliced in


@pytest.mark.parametrize("mode", [ChatMode.CONDENSE_PLUS_CONTEXT, ChatMode.BEST])
def test_condense_plus_context_condenses_on_the_condense_prompt(
    mode: ChatMode,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id="pp-assistant", prompt_ids=CHAT_IDS)
    _two_turns(index.as_chat_engine(chat_mode=mode, llm=llm, similarity_top_k=3))
    condense, answer = server.requests[-2:]
    assert condense.prompt_id == "pp-condense"
    assert _vars(condense)["question"] == SECOND and FIRST in _vars(condense)["chat_history"]
    assert answer.prompt_id == "pp-context-chat"
    assert _vars(answer)["query_str"] == SECOND
    assert _history_roles(_vars(answer)) == ["user", "assistant"]


def test_condense_question_mode_condenses_then_queries(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    llm = chat_model(prompt_id="pp-rag-qa", prompt_ids=CHAT_IDS)
    _two_turns(index.as_chat_engine(chat_mode=ChatMode.CONDENSE_QUESTION, llm=llm))
    condense, answer = server.requests[-2:]
    assert condense.prompt_id == "pp-condense"
    assert _vars(condense)["question"] == SECOND and FIRST in _vars(condense)["chat_history"]
    assert answer.prompt_id == "pp-rag-qa"
    # The standalone question the condense prompt produced is what the engine asked.
    assert "standalone question" in _vars(answer)["query_str"]


def test_unmapped_condense_renders_locally_with_routing(
    index: VectorStoreIndex,
    saved_server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    # The answer step's history has no slot in the QA prompt: accepted knowingly here.
    llm = chat_model(prompt_id=SAVED_QA["id"], check_variables="warn")
    with pytest.warns(UserWarning, match="'chat_history'.*no slot"):
        _two_turns(index.as_chat_engine(chat_mode=ChatMode.CONDENSE_PLUS_CONTEXT, llm=llm))
    condense = next(r for r in saved_server.requests if r.prompt_id is None)
    assert condense.path == "/v1/chat/completions"
    assert condense.headers["x-portkey-virtual-key"] == "vk-openai-local"
    text = condense.body["messages"][-1]["content"]
    assert FIRST in text and SECOND in text and "standalone question" in text
