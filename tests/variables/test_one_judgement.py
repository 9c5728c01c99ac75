"""One meaning of ``check_variables`` in both adapters, and one word per variable.

The default (``None``) refuses content the framework hands the model when the template
has no slot for it, and only warns about the caller's own extra variables; ``"warn"``
warns about both. A variable the mapping rule judged is not warned about a second time
by the core's variables check ("never reads").
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from llama_index.core.base.llms.types import ChatMessage

from portkey_integrations import PromptMappingError
from portkey_integrations._templates.checks import PromptVariablesWarning
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.server import LocalPortkeyServer

# pp-joke reads adjective and topic; "mood" is the caller's own extra variable.
OWN = {"adjective": "dry", "topic": "owls", "mood": "calm"}


async def _converse(model: Any, use_async: bool) -> Any:
    if isinstance(model, LCChat):
        messages: Any = [SystemMessage("Be brief."), HumanMessage("hi")]
        return await model.ainvoke(messages) if use_async else model.invoke(messages)
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="hi"),
    ]
    return await model.achat(messages) if use_async else model.chat(messages)


async def _own_variables_only(model: Any, use_async: bool) -> Any:
    # A dict input in LangChain, template_variables= in LlamaIndex: no framework content.
    if isinstance(model, LCChat):
        return await model.ainvoke(OWN) if use_async else model.invoke(OWN)
    if use_async:
        return await model.acomplete("", template_variables=OWN)
    return model.complete("", template_variables=OWN)


async def _caught(coro: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await coro
    return [str(w.message) for w in caught if w.category is PromptVariablesWarning]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("cls", [LCChat, LIChat], ids=["langchain", "llama_index"])
async def test_warn_says_each_thing_once(
    cls: type, use_async: bool, server: LocalPortkeyServer
) -> None:
    model = cls(
        prompt_id="pp-joke", base_url=server.base_url, variables=OWN, check_variables="warn"
    )
    messages = await _caught(_converse(model, use_async))
    lost = [m for m in messages if "has no slot for" in m]
    assert len(lost) == 1
    assert "the system message" in lost[0] and "the user message's text" in lost[0]
    unread = [m for m in messages if "never reads the variable(s)" in m]
    assert len(unread) == 1 and "'mood'" in unread[0]
    assert "'input'" not in unread[0] and "'chat_history'" not in unread[0]
    assert len(messages) == 2
    # Warned, and sent all the same.
    sent = server.requests[-1].variables
    assert isinstance(sent, dict)
    assert sent["input"] == "hi" and sent["mood"] == "calm"
    assert sent["chat_history"] == [{"role": "system", "content": "Be brief."}]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("cls", [LCChat, LIChat], ids=["langchain", "llama_index"])
async def test_the_default_refuses_lost_content_and_warns_about_own_variables(
    cls: type, use_async: bool, server: LocalPortkeyServer
) -> None:
    model = cls(prompt_id="pp-joke", base_url=server.base_url, variables=OWN)
    assert model.check_variables is None
    with pytest.raises(PromptMappingError, match="the system message") as caught:
        await _converse(model, use_async)
    assert caught.value.prompt_id == "pp-joke"
    assert server.requests == []
    messages = await _caught(_own_variables_only(model, use_async))
    assert len(messages) == 1 and "never reads the variable(s) 'mood'" in messages[0]
    assert server.requests[-1].variables == OWN
