"""End to end: LCEL chains with dict inputs, streaming chains and a create_agent agent."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.tracers.context import collect_runs

from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

JOKE = {"topic": "otters", "adjective": "dry"}
ANSWER = "Echo: Tell me a dry joke about otters."


def joke_chain(server: LocalPortkeyServer) -> Any:
    llm = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, api_key="pk-test")
    return llm | StrOutputParser()


def test_dict_input_chain_is_traced_like_any_input(server: LocalPortkeyServer) -> None:
    with collect_runs() as runs:
        assert joke_chain(server).invoke(JOKE) == ANSWER
    [chain_run] = runs.traced_runs
    assert chain_run.inputs == JOKE
    assert chain_run.outputs == {"output": ANSWER}
    model_run = next(r for r in chain_run.child_runs if r.run_type == "llm")
    # The chat model's run shows the variables as the (JSON) human message it got...
    assert model_run.inputs == {"prompts": ['Human: {"topic": "otters", "adjective": "dry"}']}
    # ...and its invocation parameters and output like any other call.
    assert model_run.extra is not None
    assert model_run.extra["metadata"]["ls_provider"] == "portkey"
    assert model_run.extra["metadata"]["ls_model_name"] == "pp-joke"
    assert model_run.outputs is not None
    assert model_run.outputs["generations"][0][0]["text"] == ANSWER


async def test_dict_input_chain_async_batch_and_stream(server: LocalPortkeyServer) -> None:
    chain = joke_chain(server)
    assert await chain.ainvoke(JOKE) == ANSWER
    assert chain.batch([JOKE, JOKE]) == [ANSWER, ANSWER]
    assert await chain.abatch([JOKE]) == [ANSWER]
    tokens = list(chain.stream(JOKE))
    assert len(tokens) > 2 and "".join(tokens) == ANSWER
    atokens = [t async for t in chain.astream(JOKE)]
    assert atokens == tokens
    events = [e async for e in chain.astream_events(JOKE, version="v2")]
    model_tokens = [e["data"]["chunk"].text for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(model_tokens) == ANSWER
    parser_tokens = [e["data"]["chunk"] for e in events if e["event"] == "on_parser_stream"]
    assert len([t for t in parser_tokens if t]) > 2
    # Each request carried the dict as the prompt's variables.
    assert all(r.body["variables"] == JOKE for r in server.requests)


def test_streaming_chain_passes_tokens_through(server: LocalPortkeyServer) -> None:
    shout = RunnableLambda(lambda s: s.upper())  # not streaming-aware: collects first
    upper = joke_chain(server) | shout
    assert upper.invoke(JOKE) == ANSWER.upper()

    def words(chunks: Any) -> Any:
        for chunk in chunks:
            yield f"[{chunk}]"

    bracketed = list((joke_chain(server) | words).stream(JOKE))
    assert len(bracketed) > 2
    assert "".join(s[1:-1] for s in bracketed) == ANSWER


def test_create_agent_with_two_tools(server: LocalPortkeyServer) -> None:
    calls: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        calls.append("get_weather")
        return "weather: sunny"

    @tool
    def get_time(city: str) -> str:
        """Get the local time in a city."""
        calls.append("get_time")
        return "time: 10:00"

    llm = PortkeyChatModel(prompt_id="pp-lc-agent", base_url=server.base_url, api_key="pk-test")
    agent = create_agent(llm, tools=[get_weather, get_time])
    question = "Use get_weather and get_time for Paris"
    state = agent.invoke({"messages": [HumanMessage(question)]})
    messages = state["messages"]

    assert calls == ["get_weather", "get_time"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "weather: sunny" in final.text and "time: 10:00" in final.text
    assert all(isinstance(m, ToolMessage) for m in messages[2::2][:2])

    # Every turn ran the Portkey prompt; the agent loop arrived as the scratchpad.
    prompt_calls = [r for r in server.requests if r.prompt_id == "pp-lc-agent"]
    assert len(prompt_calls) == 3
    last = prompt_calls[-1].body["variables"]
    assert last["input"] == question
    assert [m["role"] for m in last["agent_scratchpad"]] == [
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert prompt_calls[-1].body["tools"][0]["function"]["name"] == "get_weather"


async def test_create_agent_streams_async(server: LocalPortkeyServer) -> None:
    @tool
    def lookup(term: str) -> str:
        """Look a term up."""
        return "found it"

    @tool
    def summarize(text: str) -> str:
        """Summarize a text."""
        return "short"

    llm = PortkeyChatModel(prompt_id="pp-lc-agent", base_url=server.base_url, api_key="pk-test")
    agent = create_agent(llm, tools=[lookup, summarize], system_prompt="Be terse.")
    tokens: list[str] = []
    async for chunk, _meta in agent.astream(
        {"messages": [HumanMessage("please lookup then summarize")]}, stream_mode="messages"
    ):
        if isinstance(chunk, AIMessage) and chunk.text:
            tokens.append(chunk.text)
    assert len(tokens) > 2
    assert "found it" in "".join(tokens) and "short" in "".join(tokens)
    # The system prompt went into the history variable.
    first = next(r for r in server.requests if r.prompt_id == "pp-lc-agent").body
    assert first["variables"]["chat_history"] == [{"role": "system", "content": "Be terse."}]


def test_langgraph_graph_node(server: LocalPortkeyServer) -> None:
    from langgraph.graph import END, START, MessagesState, StateGraph

    llm = PortkeyChatModel(prompt_id="pp-assistant", base_url=server.base_url, api_key="pk-test")

    def respond(state: MessagesState) -> dict[str, Any]:
        return {"messages": [llm.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("respond", respond)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", END)
    graph = builder.compile()
    first = graph.invoke({"messages": [HumanMessage("hello graph")]})
    second = graph.invoke({"messages": [*first["messages"], HumanMessage("and again")]})
    assert second["messages"][-1].content == "Echo: and again"
    sent = server.requests[-1].body["variables"]
    assert sent["input"] == "and again"
    assert [m["content"] for m in sent["chat_history"]] == ["hello graph", "Echo: hello graph"]
