"""RunnableWithMessageHistory over the bare PortkeyChatModel with a dict input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.runnables.history import RunnableWithMessageHistory

from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

# LangChain 1.6.4 deprecates these classes for LangGraph's persistence; users still run
# them, so the suite does, without LangChain's own notice drowning the package's.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(RunnableWithMessageHistory|InMemoryChatMessageHistory).*:DeprecationWarning"
)


def with_history(server: LocalPortkeyServer) -> tuple[Any, dict[str, InMemoryChatMessageHistory]]:
    store: dict[str, InMemoryChatMessageHistory] = {}
    model = PortkeyChatModel(prompt_id="pp-assistant", base_url=server.base_url)
    chain = RunnableWithMessageHistory(
        model,
        lambda session_id: store.setdefault(session_id, InMemoryChatMessageHistory()),
        input_messages_key="input",
        history_messages_key="chat_history",
    )
    return chain, store


CONFIG: Any = {"configurable": {"session_id": "s1"}}


@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke", "astream"])
def test_history_is_stored_and_sent_on_the_next_turn(mode: str, server: LocalPortkeyServer) -> None:
    chain, store = with_history(server)

    def turn(text: str) -> str:
        if mode == "invoke":
            return str(chain.invoke({"input": text}, CONFIG).content)
        if mode == "stream":
            return "".join(str(c.content) for c in chain.stream({"input": text}, CONFIG))
        if mode == "ainvoke":
            return str(asyncio.run(chain.ainvoke({"input": text}, CONFIG)).content)

        async def collect() -> str:
            return "".join([str(c.content) async for c in chain.astream({"input": text}, CONFIG)])

        return asyncio.run(collect())

    first = turn("my name is Ann")
    assert "my name is Ann" in first
    assert [m.type for m in store["s1"].messages] in (
        ["human", "ai"],
        ["human", "AIMessageChunk"],  # a streamed turn is stored as its merged chunk
    )
    turn("what is my name?")
    sent = server.requests[-1].variables
    assert sent["input"] == "what is my name?"
    assert sent["chat_history"] == [
        {"role": "user", "content": "my name is Ann"},
        {"role": "assistant", "content": first},
    ]
    assert len(store["s1"].messages) == 4


def test_the_llm_keeps_history_too(server: LocalPortkeyServer) -> None:
    from portkey_integrations.langchain import PortkeyPromptLLM

    store: dict[str, InMemoryChatMessageHistory] = {}
    llm = PortkeyPromptLLM(prompt_id="pp-assistant", base_url=server.base_url)
    chain = RunnableWithMessageHistory(
        llm,
        lambda session_id: store.setdefault(session_id, InMemoryChatMessageHistory()),
        input_messages_key="input",
        history_messages_key="chat_history",
    )
    first = chain.invoke({"input": "my name is Ann"}, CONFIG)
    assert "my name is Ann" in first
    chain.invoke({"input": "what is my name?"}, CONFIG)
    assert server.requests[-1].variables["chat_history"] == [
        {"role": "user", "content": "my name is Ann"},
        {"role": "assistant", "content": first},
    ]
