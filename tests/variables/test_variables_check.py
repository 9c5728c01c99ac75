"""Models know their template's variables: missing and unused ones are caught, and
objects go as objects where the template reads them as objects."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from langchain_core.prompts import ChatPromptTemplate

from portkey_integrations import MissingVariableError, PortkeyConfigError, PromptMappingError
from portkey_integrations._templates.checks import PromptVariablesWarning
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

MODELS = [LCChat, LCLLM, LIChat, LILLM]


def call(model: Any, text: str) -> Any:
    if isinstance(model, (LCChat, LCLLM)):
        return model.invoke(text)
    return model.complete(text)


def call_without_slot(model: Any, text: str) -> Any:
    """A call whose input pp-joke has no slot for, as a variable of the caller's own:
    a dict input in LangChain, ``template_variables=`` in LlamaIndex (a text would be
    framework content, refused by the mapping rule before the variables check)."""
    if isinstance(model, (LCChat, LCLLM)):
        return model.invoke({"input": text})
    return model.complete("", template_variables={"input": text})


def caught_messages(fn: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in caught if w.category is PromptVariablesWarning]


def test_a_chat_prompt_template_missing_the_prompts_variables_warns(
    server: LocalPortkeyServer,
) -> None:
    # The first-day mistake: a LangChain template in front of a Portkey prompt. The
    # rendered text has no slot in pp-joke: an error by default, a warning when told.
    template = ChatPromptTemplate.from_messages([("human", "{question}")])
    with pytest.raises(PromptMappingError, match="the user message's text"):
        (template | LCChat(prompt_id="pp-joke", base_url=server.base_url)).invoke(
            {"question": "owls?"}
        )
    chain = template | LCChat(prompt_id="pp-joke", base_url=server.base_url, check_variables="warn")
    _, messages = caught_messages(lambda: chain.invoke({"question": "owls?"}))
    assert any("'adjective', 'topic'" in m and "not send" in m for m in messages)
    # The mapping rule warns about the text once; the variables check does not repeat it.
    assert sum("no slot for the user message's text" in m for m in messages) == 1
    assert not any("never reads the variable(s)" in m for m in messages)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_error_mode_raises_before_any_completion_request(
    cls: type, server: LocalPortkeyServer
) -> None:
    model = cls(prompt_id="pp-joke", base_url=server.base_url, check_variables="error")
    with pytest.raises(MissingVariableError, match="'adjective', 'topic'") as info:
        call_without_slot(model, "owls")
    assert "pp-joke" in str(info.value)
    assert server.requests == []  # nothing was sent to the completion route
    assert [r.method for r in server.admin_requests] == ["GET"]  # one template fetch


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_the_template_is_fetched_once_then_checks_cost_no_request(
    cls: type, server: LocalPortkeyServer
) -> None:
    model = cls(prompt_id="pp-text-complete", base_url=server.base_url)
    for _ in range(5):
        _, messages = caught_messages(lambda: call(model, "once upon a time"))
        assert not any("reads the variable" in m for m in messages)
    assert len(server.requests) == 5
    assert len(server.admin_requests) == 1


def test_off_fetches_nothing_and_says_nothing(server: LocalPortkeyServer) -> None:
    model = LCChat(prompt_id="pp-joke", base_url=server.base_url, check_variables="off")
    _, messages = caught_messages(lambda: model.invoke("owls"))
    assert messages == [] and server.admin_requests == []


def test_an_unused_variable_warns(server: LocalPortkeyServer) -> None:
    model = LCChat(prompt_id="pp-joke", base_url=server.base_url)
    reply, messages = caught_messages(
        lambda: model.invoke({"topic": "owls", "adjective": "dry", "tone": "x"})
    )
    assert "owls" in reply.content
    assert any("never reads the variable(s) 'tone'" in m for m in messages)


def test_objects_go_as_objects_where_the_template_reads_them_so(
    server: LocalPortkeyServer,
) -> None:
    model = LCChat(prompt_id="pp-objects", base_url=server.base_url)
    reply = model.invoke({"user": {"name": "Ann"}, "docs": [{"title": "A"}, {"title": "B"}]})
    sent = server.requests[-1].variables
    assert sent["user"] == {"name": "Ann"} and sent["docs"] == [{"title": "A"}, {"title": "B"}]
    assert "Hi Ann. Docs: A;B;" in reply.content


def test_without_a_known_template_objects_still_go_as_objects(
    server: LocalPortkeyServer,
) -> None:
    model = LCChat(prompt_id="pp-objects", base_url=server.base_url, check_variables="off")
    reply = model.invoke({"user": {"name": "Ann"}, "docs": [{"title": "A"}]})
    assert server.requests[-1].variables["user"] == {"name": "Ann"}
    assert "Hi Ann. Docs: A;" in reply.content


def test_a_template_that_cannot_be_fetched_skips_the_check(server: LocalPortkeyServer) -> None:
    server.state.set_api_keys({"pk-run-only": ["completions.write"]})
    try:
        model = LCChat(
            prompt_id="pp-joke",
            base_url=server.base_url,
            api_key="pk-run-only",
            check_variables="error",
        )
        reply = model.invoke("owls")  # 403 on the admin route: no check, no failure
        assert reply.content
        assert len(server.requests) == 1
    finally:
        server.state.set_api_keys({})


async def test_async_calls_check_too(server: LocalPortkeyServer) -> None:
    model = LIChat(prompt_id="pp-joke", base_url=server.base_url, check_variables="error")
    with pytest.raises(MissingVariableError):
        await model.acomplete("", template_variables={"input": "owls"})
    llm = LCLLM(prompt_id="pp-joke", base_url=server.base_url, check_variables="error")
    with pytest.raises(MissingVariableError):
        await llm.ainvoke({"input": "owls"})
    assert server.requests == []


def test_concurrent_first_calls_share_one_fetch(server: LocalPortkeyServer) -> None:
    model = LCChat(prompt_id="pp-joke", base_url=server.base_url)

    async def many() -> None:
        await asyncio.gather(*(model.ainvoke({"topic": "t", "adjective": "a"}) for _ in range(8)))

    asyncio.run(many())
    assert len(server.requests) == 8
    assert len(server.admin_requests) == 1


def test_a_bad_mode_is_refused_by_name() -> None:
    with pytest.raises(Exception, match="check_variables"):
        LCChat(prompt_id="pp-joke", check_variables="loud")
    from portkey_integrations import PortkeyClient

    with pytest.raises(PortkeyConfigError, match="check_variables"):
        PortkeyClient(base_url="local").complete(
            prompt_id="pp-joke", variables={}, check_variables="loud"
        )


async def test_render_checks_too(server: LocalPortkeyServer) -> None:
    from portkey_integrations import AsyncPortkeyClient, PortkeyClient

    client = PortkeyClient(base_url=server.base_url)
    with pytest.raises(MissingVariableError):
        client.render("pp-joke", variables={}, check_variables="error")
    with pytest.raises(MissingVariableError):
        await AsyncPortkeyClient(base_url=server.base_url).render(
            "pp-joke", variables={}, check_variables="error"
        )
    assert server.requests == []  # refused before the render route was called
    model = LCChat(prompt_id="pp-objects", base_url=server.base_url)
    rendered = model.render({"user": {"name": "Ann"}, "docs": [{"title": "A"}]}).messages
    assert rendered is not None and "Hi Ann. Docs: A;" in str(rendered[-1]["content"])
