"""Prompt mode loses nothing LangChain hands the model.

Every piece of the input (the user's text, its images and other parts, the system
message, earlier turns, an agent's tool calls and tool results, message lists a
framework adds to a dict input) either reaches the model, which the tests read in the
server's request log and in Portkey's render of the request, or the call fails before
sending with ``PromptMappingError`` naming the piece, the prompt and the fix.
``test_lc_conservation_modes.py`` covers ``check_variables`` and an unreadable template.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import importlib.metadata
import uuid
import warnings
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from lc_mapping_support import (
    AGENT,
    BARE,
    IMAGE,
    INVOICE,
    NO_PAD,
    TOOL_TURN,
    image_message,
    model,
    prompt_requests,
)

import portkey_integrations as pk
from portkey_integrations._request import encode_variables
from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM, errors
from portkey_integrations.server import LocalPortkeyServer

_LANGCHAIN = tuple(int(p) for p in importlib.metadata.version("langchain").split(".")[:3])


@pytest.fixture
def server(fresh_templates: LocalPortkeyServer) -> LocalPortkeyServer:
    return fresh_templates


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"sunny in {city}"


# --- agents -----------------------------------------------------------------------------


def react_agent(llm: PortkeyChatModel, tools: list[Any] | None = None) -> Any:
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in favour of create_agent, still used
        return create_react_agent(llm, tools=tools or [get_weather])


def agent(llm: PortkeyChatModel, tools: list[Any] | None = None) -> Any:
    return create_agent(llm, tools=tools or [get_weather])


AGENTS = {"create_agent": agent, "create_react_agent": react_agent}
QUESTION = {"messages": [HumanMessage("use get_weather for Oslo")]}


@pytest.mark.parametrize("build", AGENTS.values(), ids=AGENTS.keys())
def test_an_agent_without_a_scratchpad_slot_stops_at_the_second_call(
    build: Any, server: LocalPortkeyServer
) -> None:
    with pytest.raises(pk.PromptMappingError, match="tool calls and tool results") as caught:
        build(model(server, NO_PAD)).invoke(QUESTION, {"recursion_limit": 50})
    error = caught.value
    assert isinstance(error, errors.PromptMappingError)  # a ModelInvalidRequestError too
    assert not isinstance(error, ValueError)
    assert error.prompt_id == NO_PAD and error.piece == "the tool calls and tool results"
    assert "{{#agent_scratchpad}}" in error.fix and 'check_variables="warn"' in error.fix
    # One model call went out (it asked for the tool); the second never left.
    [first] = prompt_requests(server, NO_PAD)
    assert first.variables["input"] == "use get_weather for Oslo"


@pytest.mark.parametrize("build", AGENTS.values(), ids=AGENTS.keys())
async def test_an_agent_without_a_scratchpad_slot_stops_async(
    build: Any, server: LocalPortkeyServer
) -> None:
    with pytest.raises(pk.PromptMappingError, match=NO_PAD):
        await build(model(server, NO_PAD)).ainvoke(QUESTION, {"recursion_limit": 50})
    with pytest.raises(pk.PromptMappingError, match="tool calls and tool results"):
        async for _ in build(model(server, NO_PAD)).astream(QUESTION, stream_mode="messages"):
            pass
    with pytest.raises(pk.PromptMappingError, match="tool calls and tool results"):
        list(build(model(server, NO_PAD)).stream(QUESTION))
    assert len(prompt_requests(server, NO_PAD)) == 3  # one first call per run, no second


@pytest.mark.parametrize("build", AGENTS.values(), ids=AGENTS.keys())
async def test_with_the_slot_the_tool_results_reach_the_model(
    build: Any, server: LocalPortkeyServer
) -> None:
    llm = model(server, AGENT)
    state = build(llm).invoke(QUESTION)
    final = state["messages"][-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    # The offline model echoes every tool result it was shown.
    assert "sunny in use get_weather for Oslo" in final.text
    last = prompt_requests(server, AGENT)[-1].variables
    assert [m["role"] for m in last["agent_scratchpad"]] == ["assistant", "tool"]
    astate = await build(llm).ainvoke(QUESTION)
    assert astate["messages"][-1].text == final.text
    rendered = await llm.arender(state["messages"][:-1])
    assert rendered.messages is not None
    assert rendered.messages[-1]["role"] == "tool"
    assert rendered.messages[-1]["content"] == "sunny in use get_weather for Oslo"


@pytest.mark.skipif(
    _LANGCHAIN < (1, 3, 16),
    reason="before langchain 1.3.16 ModelRetryMiddleware turns every error into an answer, "
    "a non-retryable one included (docs/prompt-mode.md)",
)
def test_agent_middleware_does_not_retry_or_swallow_it(server: LocalPortkeyServer) -> None:
    from langchain.agents.middleware import ModelRetryMiddleware

    # on_failure="continue" would turn a retryable error into an answer; this one is
    # classified as an invalid request, so it is raised at once.
    retrying = create_agent(
        model(server, NO_PAD), tools=[get_weather], middleware=[ModelRetryMiddleware()]
    )
    with pytest.raises(pk.PromptMappingError):
        retrying.invoke(QUESTION)
    assert len(prompt_requests(server, NO_PAD)) == 1


@pytest.mark.parametrize("build", AGENTS.values(), ids=AGENTS.keys())
def test_a_tool_node_does_not_eat_it(build: Any, server: LocalPortkeyServer) -> None:
    inner = model(server, BARE)

    @tool
    def ask_expert(question: str) -> str:
        """Ask an expert."""
        return str(
            inner.invoke([SystemMessage("You are an expert."), HumanMessage(question)]).content
        )

    graph = build(model(server, AGENT), [ask_expert])
    with pytest.raises(pk.PromptMappingError, match="the system message"):
        graph.invoke({"messages": [HumanMessage("ask_expert about owls")]})
    assert prompt_requests(server, BARE) == []


# --- images and other parts ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["invoke", "stream", "render"])
def test_an_image_without_a_parts_slot_raises(mode: str, server: LocalPortkeyServer) -> None:
    llm = model(server, BARE)
    run = {"invoke": llm.invoke, "stream": lambda m: list(llm.stream(m)), "render": llm.render}[
        mode
    ]
    with pytest.raises(pk.PromptMappingError, match="image_url part") as caught:
        run([image_message()])
    assert caught.value.piece == "the image_url part of the user message"
    assert "{{{input_parts}}}" in caught.value.fix
    assert server.requests == []


async def test_an_image_without_a_parts_slot_raises_async(server: LocalPortkeyServer) -> None:
    llm = model(server, BARE)
    with pytest.raises(pk.PromptMappingError, match="image_url part"):
        await llm.ainvoke([image_message()])
    with pytest.raises(pk.PromptMappingError, match="image_url part"):
        [c async for c in llm.astream([image_message()])]
    with pytest.raises(pk.PromptMappingError, match="image_url part"):
        await llm.arender([image_message()])
    assert server.requests == []


def test_any_other_part_is_named(server: LocalPortkeyServer) -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    with pytest.raises(pk.PromptMappingError, match="image_url, input_audio parts"):
        model(server, BARE).invoke([image_message(IMAGE, audio)])


async def test_with_the_slot_the_image_reaches_the_render(server: LocalPortkeyServer) -> None:
    llm = model(server, "pp-assistant-vision")
    for rendered in (llm.render([image_message()]), await llm.arender([image_message()])):
        assert rendered.messages is not None
        assert rendered.messages[-1] == {
            "role": "user",
            "content": [{"type": "text", "text": "What is this?"}, IMAGE],
        }
    await llm.ainvoke([image_message()])
    assert server.requests[-1].variables["input_parts"][1] == IMAGE


# --- system messages and history ----------------------------------------------------------

LOST = [
    ([SystemMessage("Answer in French."), HumanMessage("hi")], "the system message"),
    ([HumanMessage("a"), AIMessage("b"), HumanMessage("c")], "the 2 earlier messages"),
    (TOOL_TURN, "the tool calls and tool results"),
]


@pytest.mark.parametrize(("messages", "piece"), LOST, ids=["system", "history", "scratchpad"])
async def test_a_piece_without_a_slot_raises(
    messages: list[BaseMessage], piece: str, server: LocalPortkeyServer
) -> None:
    llm = model(server, BARE)
    with pytest.raises(pk.PromptMappingError) as caught:
        llm.invoke(messages)
    assert caught.value.piece == piece and BARE in str(caught.value)
    with pytest.raises(pk.PromptMappingError, match=piece):
        await llm.ainvoke(messages)
    assert server.requests == []


async def test_with_the_slot_system_and_history_arrive(server: LocalPortkeyServer) -> None:
    llm = model(server, NO_PAD)
    messages = [
        SystemMessage("Answer in French."),
        HumanMessage("a"),
        AIMessage("b"),
        HumanMessage("c"),
    ]
    rendered = llm.render(messages).messages
    assert rendered == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    await llm.ainvoke(messages)
    assert server.requests[-1].variables["chat_history"] == rendered[1:4]


def test_history_variable_none_drops_nothing_silently(server: LocalPortkeyServer) -> None:
    llm = model(server, NO_PAD, history_variable=None)
    with pytest.raises(pk.PromptMappingError, match="set history_variable"):
        llm.invoke([SystemMessage("Answer in French."), HumanMessage("hi")])


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("cls", [PortkeyChatModel, PortkeyPromptLLM])
@pytest.mark.filterwarnings(  # LangChain's deprecation of these classes (1.6.4)
    "ignore:.*(RunnableWithMessageHistory|InMemoryChatMessageHistory).*:DeprecationWarning"
)
def test_message_history_raises_through_runnable_with_message_history(
    cls: type, asynchronous: bool, server: LocalPortkeyServer
) -> None:
    import asyncio

    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.runnables.history import RunnableWithMessageHistory

    history = InMemoryChatMessageHistory()
    chain = RunnableWithMessageHistory(
        cls(prompt_id=BARE, base_url=server.base_url, api_key="pk-test"),
        lambda _: history,
        input_messages_key="input",
        history_messages_key="chat_history",
    )
    config: Any = {"configurable": {"session_id": "s"}}

    def turn(text: str) -> Any:
        if asynchronous:
            return asyncio.run(chain.ainvoke({"input": text}, config))
        return chain.invoke({"input": text}, config)

    assert "Echo: my name is Ann" in str(turn("my name is Ann"))  # no history yet
    with pytest.raises(pk.PromptMappingError, match="the 2 messages in 'chat_history'") as caught:
        turn("what is my name?")
    assert "{{#chat_history}}" in caught.value.fix
    assert len(prompt_requests(server, BARE)) == 1


def test_a_langchain_prompt_template_needs_the_input_slot(server: LocalPortkeyServer) -> None:
    # The LangChain template renders its variables into a message: that text must land
    # in a variable pp-joke reads, and it reads none of them.
    chain = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")]) | model(
        server, "pp-joke"
    )
    with pytest.raises(pk.PromptMappingError, match="the user message's text") as caught:
        chain.invoke({"topic": "owls"})
    assert '"{{input}}"' in caught.value.fix
    # The variables themselves, as a dict, are the prompt's own: they go through.
    model(server, "pp-joke").invoke({"topic": "owls", "adjective": "dry"})
    assert server.requests[-1].variables == {"topic": "owls", "adjective": "dry"}


def test_the_llm_follows_the_rule(server: LocalPortkeyServer) -> None:
    llm = PortkeyPromptLLM(prompt_id="pp-joke", base_url=server.base_url, api_key="pk-test")
    with pytest.raises(pk.PromptMappingError, match="the prompt text"):
        llm.invoke("tell me one")
    assert (
        llm.invoke({"topic": "owls", "adjective": "dry"}) == "Echo: Tell me a dry joke about owls."
    )


# --- plain-text values --------------------------------------------------------------------


class Currency(enum.Enum):
    EUR = "EUR"

    def __str__(self) -> str:  # what an f-string shows, as a StrEnum would
        return str(self.value)


def _plain_text_encoding() -> bool:
    return encode_variables({"d": datetime.date(2024, 1, 2)}) == {"d": "2024-01-02"}


@pytest.mark.xfail(not _plain_text_encoding(), reason="needs the core encoding change", strict=True)
async def test_dates_decimals_uuids_and_enums_arrive_as_plain_text(
    server: LocalPortkeyServer,
) -> None:
    ref = uuid.UUID("12345678-1234-5678-1234-567812345678")
    variables = {
        "total": decimal.Decimal("9.99"),
        "currency": Currency.EUR,
        "due": datetime.date(2024, 1, 2),
        "ref": ref,
    }
    llm = model(server, INVOICE)
    expected = f"Total: 9.99 EUR due 2024-01-02 ({ref})"
    assert llm.invoke(variables).content == f"Echo: {expected}"
    assert (await llm.ainvoke(variables)).content == f"Echo: {expected}"
    rendered = llm.render(variables).messages
    assert rendered == [{"role": "user", "content": expected}]
