"""LlamaIndex dispatches become Portkey traces: the headers the local server received."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.dispatcher import instrument_tags
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.tools import FunctionTool

from portkey_integrations import RequestOptions
from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.llama_index import _tracing as li_tracing
from portkey_integrations.llama_index._tracing import PortkeyRequestEvent
from portkey_integrations.server import LocalPortkeyServer

from .conftest import AGENT_PROMPT, SECRET, trace_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True, scope="module")
def _offline_embeddings() -> None:
    Settings.embed_model = MockEmbedding(embed_dim=8)


def _llm(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyChatModel:
    if "prompt_id" not in kwargs:
        kwargs.setdefault("model", "portkey-local")
        kwargs.setdefault("provider", "openai")
    return PortkeyChatModel(base_url=server.base_url, api_key=SECRET, max_retries=0, **kwargs)


def _engine(llm: PortkeyChatModel) -> Any:
    docs = [Document(text=f"Note {i}: cache entries are kept for {i} days. " * 4) for i in range(3)]
    splitter = SentenceSplitter(chunk_size=64, chunk_overlap=0)
    index = VectorStoreIndex.from_documents(docs, transformations=[splitter])
    return index.as_query_engine(llm=llm, response_mode="refine", similarity_top_k=3)


def test_refine_query_is_one_trace_and_two_queries_two(server: LocalPortkeyServer) -> None:
    engine = _engine(_llm(server))
    engine.query("How long are cache entries kept?")
    first_count = len(server.requests)
    engine.query("Again?")
    sent = trace_headers(server)
    first, second = sent[:first_count], sent[first_count:]
    assert len(first) >= 2 and len(second) >= 2  # refine: one call per node
    assert len({h["x-portkey-trace-id"] for h in first}) == 1
    assert len({h["x-portkey-trace-id"] for h in second}) == 1
    assert first[0]["x-portkey-trace-id"] != second[0]["x-portkey-trace-id"]
    assert first[0]["x-portkey-trace-id"].startswith("RetrieverQueryEngine.query-")
    assert len({h["x-portkey-span-id"] for h in sent}) == len(sent)
    assert all(h["x-portkey-span-name"] == "PortkeyChatModel.chat" for h in sent)
    assert all(h["x-portkey-parent-span-id"].startswith("PortkeyChatModel.") for h in sent)


def test_a_call_on_its_own_is_its_own_trace(server: LocalPortkeyServer) -> None:
    _llm(server).chat([ChatMessage(role="user", content="hi")])
    [sent] = trace_headers(server)
    assert sent["x-portkey-trace-id"] == sent["x-portkey-span-id"]
    assert "x-portkey-parent-span-id" not in sent


def test_user_trace_id_wins(server: LocalPortkeyServer) -> None:
    _llm(server, trace_id="mine").complete("a")
    _llm(server).complete("b", options=RequestOptions(trace_id="call"))
    model, call = trace_headers(server)
    assert model["x-portkey-trace-id"] == "mine" and call["x-portkey-trace-id"] == "call"
    assert "x-portkey-span-id" in model and "x-portkey-span-id" in call


def test_instrument_tags_join_the_metadata(server: LocalPortkeyServer) -> None:
    llm = _llm(server, portkey_metadata={"team": "model"})
    with instrument_tags({"team": "tags", "session": "s-1", "turn": 2, "bad": {"x": 1}}):
        llm.complete("tagged")
    sent = json.loads(trace_headers(server)[0]["x-portkey-metadata"])
    assert sent == {"team": "model", "session": "s-1", "turn": "2"}


async def test_function_agent_run_is_one_trace(server: LocalPortkeyServer) -> None:
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    tools = [FunctionTool.from_defaults(add), FunctionTool.from_defaults(multiply)]
    agent = FunctionAgent(tools=tools, llm=_llm(server), allow_parallel_tool_calls=False)
    await agent.run(user_msg="Please add and then multiply 1 and 1.")
    first_count = len(server.requests)
    await agent.run(user_msg="Please add 2 and 3.")
    sent = trace_headers(server)
    assert first_count >= 2
    assert len({h["x-portkey-trace-id"] for h in sent[:first_count]}) == 1
    assert sent[0]["x-portkey-trace-id"] != sent[-1]["x-portkey-trace-id"]
    assert len({h["x-portkey-span-id"] for h in sent}) == len(sent)


class _Events(BaseEventHandler):
    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "TestEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


def test_instrumentation_events_carry_the_prompt(server: LocalPortkeyServer) -> None:
    handler = _Events(events=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    try:
        llm = _llm(
            server,
            prompt_id=AGENT_PROMPT + "@1",
            variables={"tone": "dry"},
            check_variables="off",  # unread variables on purpose: tracing must show them
        )
        llm.chat([ChatMessage(role="user", content="hello")], variables={"extra": "x"})
    finally:
        dispatcher.event_handlers.remove(handler)
    [event] = [e for e in handler.events if isinstance(e, PortkeyRequestEvent)]
    assert event.prompt_id == AGENT_PROMPT and event.prompt_version == "1"
    assert event.variables == server.requests[-1].body["variables"]
    assert event.variables is not None and event.variables["extra"] == "x"
    assert not any(SECRET in repr(e) for e in handler.events)


def test_no_request_event_is_built_when_no_handler_listens(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, Any]] = []

    def event(**fields: Any) -> PortkeyRequestEvent:
        built.append(fields)
        return PortkeyRequestEvent(**fields)

    monkeypatch.setattr(li_tracing, "PortkeyRequestEvent", event)
    llm = _llm(server, prompt_id=AGENT_PROMPT + "@1", check_variables="off")
    assert not li_tracing._heard()  # LlamaIndex's null handler only
    llm.chat([ChatMessage(role="user", content="hello")])
    assert built == [] and server.requests[-1].path.endswith("/completions")
    handler = _Events(events=[])
    get_dispatcher().add_event_handler(handler)
    try:
        llm.chat([ChatMessage(role="user", content="hello")])
    finally:
        get_dispatcher().event_handlers.remove(handler)
    assert [b["prompt_id"] for b in built] == [AGENT_PROMPT]
