"""LangChain runs become Portkey traces: the headers the local server received."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

from .conftest import AGENT_PROMPT, SECRET, trace_headers


def _model(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyChatModel:
    kwargs.setdefault("prompt_id", "pp-assistant")
    return PortkeyChatModel(base_url=server.base_url, api_key=SECRET, **kwargs)


class Collect(BaseCallbackHandler):
    """Every payload a callback receives, to check what tracing sees."""

    def __init__(self) -> None:
        self.starts: list[dict[str, Any]] = []
        self.payloads: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.starts.append(kwargs)
        self.payloads.append(repr((serialized, messages, kwargs)))

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self.starts.append(kwargs)
        self.payloads.append(repr((serialized, prompts, kwargs)))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.payloads.append(repr((response, kwargs)))

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.payloads.append(repr((serialized, inputs, kwargs)))


def test_model_on_its_own_is_its_own_trace(server: LocalPortkeyServer) -> None:
    _model(server).invoke("hi")
    [sent] = trace_headers(server)
    assert sent["x-portkey-trace-id"] == sent["x-portkey-span-id"]
    assert "x-portkey-parent-span-id" not in sent
    assert sent["x-portkey-span-name"] == "PortkeyChatModel"


def test_chain_trace_is_the_root_run(server: LocalPortkeyServer) -> None:
    collector = RunCollectorCallbackHandler()
    chain = RunnableLambda(lambda x: x) | _model(server) | StrOutputParser()
    chain.invoke("hello", config={"callbacks": [collector], "run_name": "my-chain"})
    [sent] = trace_headers(server)
    root = collector.traced_runs[0]
    model_run = next(r for r in root.child_runs if r.name == "PortkeyChatModel")
    assert sent["x-portkey-trace-id"] == str(root.id) == str(root.trace_id)
    assert sent["x-portkey-span-id"] == str(model_run.id)
    assert sent["x-portkey-parent-span-id"] == str(root.id)


def test_chain_without_any_tracer_still_uses_the_root(server: LocalPortkeyServer) -> None:
    inner = RunnableLambda(lambda x: x) | _model(server)
    outer = RunnableLambda(lambda x: x) | RunnableLambda(inner.invoke) | StrOutputParser()
    outer.invoke("nested")
    outer.invoke("again")
    first, second = trace_headers(server)
    # Nested two levels deep: the parent is the inner sequence, the trace the outer one.
    assert first["x-portkey-parent-span-id"] != first["x-portkey-trace-id"]
    assert first["x-portkey-trace-id"] != second["x-portkey-trace-id"]


def test_agent_calls_share_one_trace(server: LocalPortkeyServer) -> None:
    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        return "sunny"

    @tool
    def get_time(city: str) -> str:
        """Get the local time in a city."""
        return "10:00"

    agent = create_agent(_model(server, prompt_id=AGENT_PROMPT), tools=[get_weather, get_time])
    agent.invoke({"messages": [HumanMessage("Use get_weather and get_time for Paris")]})
    agent.invoke({"messages": [HumanMessage("Use get_weather for Rome")]})
    sent = trace_headers(server)
    assert len(sent) == 5
    first, second = sent[:3], sent[3:]
    assert len({h["x-portkey-trace-id"] for h in first}) == 1
    assert len({h["x-portkey-trace-id"] for h in second}) == 1
    assert first[0]["x-portkey-trace-id"] != second[0]["x-portkey-trace-id"]
    assert len({h["x-portkey-span-id"] for h in sent}) == 5
    assert all(h["x-portkey-parent-span-id"] != h["x-portkey-trace-id"] for h in sent)


def test_langgraph_graph_is_one_trace(server: LocalPortkeyServer) -> None:
    from langgraph.graph import END, START, MessagesState, StateGraph

    llm = _model(server)

    def draft(state: MessagesState) -> dict[str, Any]:
        return {"messages": [llm.invoke(state["messages"])]}

    def review(state: MessagesState) -> dict[str, Any]:
        return {"messages": [llm.invoke([*state["messages"], HumanMessage("review")])]}

    builder = StateGraph(MessagesState)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", END)
    graph = builder.compile()
    graph.invoke({"messages": [HumanMessage("hello graph")]}, config={"metadata": {"team": "x"}})
    a, b = trace_headers(server)
    assert a["x-portkey-trace-id"] == b["x-portkey-trace-id"]
    assert a["x-portkey-parent-span-id"] != b["x-portkey-parent-span-id"]  # two nodes
    # LangGraph's bookkeeping (langgraph_step, checkpoint_ns, ...) stays out.
    assert json.loads(a["x-portkey-metadata"]) == {"team": "x"}


async def test_concurrent_runs_get_separate_traces(server: LocalPortkeyServer) -> None:
    chain = RunnableLambda(lambda x: x) | _model(server) | StrOutputParser()
    await asyncio.gather(chain.ainvoke("one"), chain.ainvoke("two"))
    await chain.abatch(["three", "four"])
    traces = [h["x-portkey-trace-id"] for h in trace_headers(server)]
    assert len(traces) == 4 and len(set(traces)) == 4


def test_user_trace_id_wins_and_spans_stay(server: LocalPortkeyServer) -> None:
    chain = RunnableLambda(lambda x: x) | _model(server).bind(trace_id="bound-trace")
    chain.invoke("a")
    _model(server).invoke("b", trace_id="call-trace")
    _model(server, trace_id="model-trace").invoke("c")
    bound, call, model = trace_headers(server)
    assert bound["x-portkey-trace-id"] == "bound-trace"
    assert call["x-portkey-trace-id"] == "call-trace"
    assert model["x-portkey-trace-id"] == "model-trace"
    assert all("x-portkey-span-id" in h for h in (bound, call, model))
    assert "trace_id" not in server.requests[0].body  # not sent as a hyperparameter


def test_run_metadata_joins_portkey_metadata(server: LocalPortkeyServer) -> None:
    long = "x" * 129
    model = _model(server, portkey_metadata={"team": "model", "_user": "u-1"})
    metadata = {"team": "run", "tier": 3, "beta": True, "ls_model": "m", "obj": [1], "long": long}
    model.invoke("hi", config={"metadata": metadata})
    sent = json.loads(trace_headers(server)[0]["x-portkey-metadata"])
    assert sent == {"team": "model", "_user": "u-1", "tier": "3", "beta": "true"}


def test_streams_are_traced(server: LocalPortkeyServer) -> None:
    chain = RunnableLambda(lambda x: x) | _model(server) | StrOutputParser()
    assert "".join(chain.stream("streamed"))
    [sent] = trace_headers(server)
    assert sent["x-portkey-trace-id"] == sent["x-portkey-parent-span-id"]


def test_invocation_params_carry_the_prompt_and_variables(server: LocalPortkeyServer) -> None:
    collect = Collect()

    def mapper(messages: Any) -> dict[str, Any]:
        return {"input": messages[-1]["content"].upper()}

    model = _model(
        server,
        prompt_id="pp-joke",
        prompt_version=2,
        variables={"topic": "owls"},
        variables_mapper=mapper,
        check_variables="off",  # {{input}} is never read: what tracing sees is the point
    )
    chain = model.bind(variables={"adjective": "dry"})
    chain.invoke("say", config={"callbacks": [collect]}, variables={"topic": "cats"})
    params = collect.starts[0]["invocation_params"]
    sent = server.requests[-1].body["variables"]
    assert params["prompt_id"] == "pp-joke" and params["prompt_version"] == "2"
    assert params["variables"] == sent == {"topic": "cats", "adjective": "dry", "input": "SAY"}
    meta = collect.starts[0]["metadata"]
    assert meta["ls_prompt_id"] == "pp-joke" and meta["ls_prompt_variables"] == sent
    assert not any(SECRET in p for p in collect.payloads)


def test_llm_invocation_params_and_headers(server: LocalPortkeyServer) -> None:
    collect = Collect()
    llm = PortkeyPromptLLM(prompt_id="pp-text-complete", base_url=server.base_url, api_key=SECRET)
    chain = RunnableLambda(lambda x: x) | llm
    chain.invoke("Once", config={"callbacks": [collect]})
    params = collect.starts[0]["invocation_params"]
    assert params["prompt_id"] == "pp-text-complete"
    assert params["variables"] == server.requests[-1].body["variables"]
    [sent] = trace_headers(server)
    assert sent["x-portkey-trace-id"] == sent["x-portkey-parent-span-id"]
    assert sent["x-portkey-span-name"] == "PortkeyPromptLLM"
    assert not any(SECRET in p for p in collect.payloads)


def test_trace_id_is_in_response_metadata(server: LocalPortkeyServer) -> None:
    reply = _model(server).invoke("hi")
    trace = reply.response_metadata["portkey_trace_id"]
    assert UUID(trace) and trace == trace_headers(server)[0]["x-portkey-trace-id"]


async def test_an_llm_batch_never_reuses_an_earlier_chat_run(server: LocalPortkeyServer) -> None:
    from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM

    chat = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url)
    await chat.ainvoke({"topic": "owls", "adjective": "dry"})
    chat_span = server.requests[-1].headers["x-portkey-span-id"]
    llm = PortkeyPromptLLM(prompt_id="pp-text-complete", base_url=server.base_url)
    await llm.agenerate(["a", "b"])
    llm.generate(["c", "d"])
    spans = [r.headers.get("x-portkey-span-id") for r in server.requests[-4:]]
    assert chat_span not in spans
