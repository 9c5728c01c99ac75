"""``check_variables`` and the mapping rule: ``"warn"`` accepts a loss knowingly,
``"off"`` checks nothing, a template that cannot be read fails the same way every time,
and the error reaches the caller through LangChain's wrappers."""

from __future__ import annotations

import warnings

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from lc_mapping_support import AGENT, BARE, NO_PAD, TOOL_TURN, image_message, model, prompt_requests

import portkey_integrations as pk
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture
def server(fresh_templates: LocalPortkeyServer) -> LocalPortkeyServer:
    return fresh_templates


# --- accepting the loss, or no check ------------------------------------------------------

ALL_LOST = [
    ([image_message()], "image_url part"),
    ([SystemMessage("x"), HumanMessage("hi")], "the system message"),
    ([HumanMessage("a"), AIMessage("b"), HumanMessage("c")], "the 2 earlier messages"),
    (TOOL_TURN, "the tool calls and tool results"),
]


@pytest.mark.parametrize(("messages", "piece"), ALL_LOST, ids=["image", "system", "history", "pad"])
async def test_warn_accepts_the_loss_knowingly(
    messages: list[BaseMessage], piece: str, server: LocalPortkeyServer
) -> None:
    llm = model(server, BARE, check_variables="warn")
    with pytest.warns(UserWarning, match=piece):
        llm.invoke(messages)
    with pytest.warns(UserWarning, match=piece):
        await llm.ainvoke(messages)
    assert len(prompt_requests(server, BARE)) == 2


@pytest.mark.parametrize(("messages", "piece"), ALL_LOST, ids=["image", "system", "history", "pad"])
def test_off_checks_nothing(
    messages: list[BaseMessage], piece: str, server: LocalPortkeyServer
) -> None:
    llm = model(server, BARE, check_variables="off")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        llm.invoke(messages)
    assert server.admin_requests == []  # not even the template was read
    assert len(prompt_requests(server, BARE)) == 1


def test_error_also_raises_for_missing_variables(server: LocalPortkeyServer) -> None:
    llm = model(server, "pp-joke", check_variables="error")
    with pytest.raises(pk.PromptMappingError):
        llm.invoke([SystemMessage("x"), HumanMessage("hi")])
    with pytest.raises(pk.MissingVariableError):
        llm.invoke({"topic": "owls"})


# --- a template that cannot be read -------------------------------------------------------


def test_an_unreadable_template_fails_the_same_way_every_time(server: LocalPortkeyServer) -> None:
    server.set_api_keys({"pk-run": set()})  # may run prompts, not read them
    llm = PortkeyChatModel(prompt_id=NO_PAD, base_url=server.base_url, api_key="pk-run")
    for _ in range(2):
        with pytest.raises(pk.PromptMappingError, match="could not be read") as caught:
            llm.invoke([SystemMessage("Answer in French."), HumanMessage("hi")])
        assert "prompts.read" in caught.value.fix
    # The user's text alone goes into input_variable, as documented.
    assert llm.invoke("hi").content == "Echo: hi"
    assert len(prompt_requests(server, NO_PAD)) == 1


async def test_an_unreadable_template_warns_when_told(server: LocalPortkeyServer) -> None:
    server.set_api_keys({"pk-run": set()})
    llm = PortkeyChatModel(
        prompt_id=NO_PAD, base_url=server.base_url, api_key="pk-run", check_variables="warn"
    )
    with pytest.warns(UserWarning, match="cannot be checked"):
        await llm.ainvoke([SystemMessage("Answer in French."), HumanMessage("hi")])
    assert server.requests[-1].variables["chat_history"] == [
        {"role": "system", "content": "Answer in French."}
    ]


# --- errors reach the caller ---------------------------------------------------------------


def test_fallbacks_on_api_errors_do_not_catch_it(server: LocalPortkeyServer) -> None:
    from langchain_core.exceptions import ModelAPIError

    backup = model(server, AGENT)
    chain = model(server, BARE).with_fallbacks([backup], exceptions_to_handle=(ModelAPIError,))
    with pytest.raises(pk.PromptMappingError):
        chain.invoke([SystemMessage("x"), HumanMessage("hi")])
    assert server.requests == []


def test_with_retry_fails_the_same_way_without_sending(server: LocalPortkeyServer) -> None:
    chain = model(server, BARE).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)
    with pytest.raises(pk.PromptMappingError):
        chain.invoke([SystemMessage("x"), HumanMessage("hi")])
    assert server.requests == []
