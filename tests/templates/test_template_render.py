"""Every kind of template renders as Portkey's ``/render`` does: in the core, in LangChain
and in LlamaIndex, pulled online and from a folder written by ``portkey-prompts pull``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import convert_to_messages
from langchain_core.prompts import ChatPromptTemplate as LCChat
from langchain_core.prompts import PromptTemplate as LCText
from llama_index.core.prompts import ChatPromptTemplate as LIChat
from llama_index.core.prompts import PromptTemplate as LIText

from portkey_integrations import (
    PortkeyClient,
    PortkeyConfigError,
    PortkeyTemplate,
    load_template,
    template_from_folder,
)
from portkey_integrations.langchain import pull_prompt as lc_pull
from portkey_integrations.langchain._messages import messages_to_dicts
from portkey_integrations.llama_index import pull_prompt as li_pull
from portkey_integrations.llama_index import to_openai_messages
from portkey_integrations.server import LocalPortkeyServer

from .conftest import CASES, Case, reference

SOURCES = ["api", "folder"]


def _core(case: Case, source: str, server: LocalPortkeyServer, folder: Path) -> PortkeyTemplate:
    if source == "folder":
        return template_from_folder(folder, case.id)
    return load_template(PortkeyClient(base_url=server.base_url), case.id)


def _pull_options(source: str, server: LocalPortkeyServer, folder: Path) -> dict[str, Any]:
    return {"folder": folder} if source == "folder" else {"base_url": server.base_url}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_core_template_renders_as_portkey(
    case: Case, source: str, server: LocalPortkeyServer, client: PortkeyClient, pulled: Path
) -> None:
    template = _core(case, source, server, pulled)
    assert template.source == source and template.version == 1
    assert template.render(case.variables) == reference(client, case)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_langchain_template_renders_as_portkey(
    case: Case, source: str, server: LocalPortkeyServer, client: PortkeyClient, pulled: Path
) -> None:
    prompt = lc_pull(case.id, **_pull_options(source, server, pulled))
    expected = reference(client, case)
    value = prompt.invoke(case.variables)
    if isinstance(expected, str):
        assert isinstance(prompt, LCText)
        assert value.to_string() == expected
    else:
        assert isinstance(prompt, LCChat)
        assert value.to_messages() == convert_to_messages(expected)
        # As the chat model sends them: the rendered messages, parts and tool calls included.
        assert messages_to_dicts(value.to_messages()) == expected
    assert prompt.metadata is not None
    assert prompt.metadata["portkey_prompt_id"] == case.id
    assert prompt.metadata["portkey_prompt_version"] == 1
    assert prompt.metadata["portkey_prompt_source"] == source


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_langchain_async_format_renders_as_portkey(
    case: Case, source: str, server: LocalPortkeyServer, client: PortkeyClient, pulled: Path
) -> None:
    prompt = lc_pull(case.id, **_pull_options(source, server, pulled))
    expected = reference(client, case)
    value = await prompt.ainvoke(case.variables)
    if isinstance(expected, str):
        assert value.to_string() == expected
    else:
        assert value.to_messages() == convert_to_messages(expected)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_llama_index_template_renders_as_portkey(
    case: Case, source: str, server: LocalPortkeyServer, client: PortkeyClient, pulled: Path
) -> None:
    prompt = li_pull(case.id, **_pull_options(source, server, pulled))
    expected = reference(client, case)
    if isinstance(expected, str):
        assert isinstance(prompt, LIText)
        assert prompt.format(**case.variables) == expected
    else:
        assert isinstance(prompt, LIChat)
        # As the models send them: the rendered messages, parts and tool calls included.
        assert to_openai_messages(prompt.format_messages(**case.variables)) == expected
    assert prompt.metadata["portkey_prompt_version"] == 1
    assert prompt.metadata["portkey_prompt_source"] == source


def test_variables_come_from_the_template_analysis(pulled: Path) -> None:
    lc = lc_pull("pp-tpl-partial", folder=pulled)
    # Read outside every section, partials included: LangChain requires them.
    assert sorted(lc.input_variables) == ["question", "tone", "who"]
    text = lc_pull("pp-tpl-partial-text", folder=pulled)
    assert sorted(text.input_variables) == ["question", "tone"]
    assert sorted(text.input_schema.model_json_schema()["required"]) == ["question", "tone"]
    sections = lc_pull("pp-tpl-sections", folder=pulled)
    # Names inside a section are lookups that may fall back to the root: optional too.
    assert sections.input_variables == []
    assert sorted(sections.optional_variables) == ["empty", "items", "name", "qty", "tags"]
    li = li_pull("pp-tpl-dotted", folder=pulled)
    assert li.template_vars == ["user"]


def test_quotes_are_not_html_escaped_and_partials_resolve(pulled: Path) -> None:
    # What LangChain's own mustache format gets wrong (the reason this module exists).
    messages = lc_pull("pp-tpl-partial", folder=pulled).format_messages(
        tone='dry "very"', who="Bo", question="Hm?"
    )
    assert messages[0].content == 'Be dry \\"very\\", "always". And sign as Bo'
    assert "&quot;" not in messages[0].content


def test_partial_format_keeps_the_portkey_render(pulled: Path) -> None:
    lc = lc_pull("pp-tpl-chat", folder=pulled).partial(name="Ann")
    assert lc.invoke({"question": "Q"}).to_messages()[0].content == "You are Ann."
    li = li_pull("pp-tpl-chat", folder=pulled).partial_format(name="Ann")
    assert li.format_messages(question="Q")[0].content == "You are Ann."


def test_a_missing_prompt_in_the_folder_says_so(pulled: Path) -> None:
    with pytest.raises(PortkeyConfigError, match="pp-nope"):
        lc_pull("pp-nope", folder=pulled)
    with pytest.raises(PortkeyConfigError, match="version '7'"):
        li_pull("pp-tpl-chat@7", folder=pulled)


def test_langchain_messages_as_a_variable_splice_as_portkey_receives_them(
    client: PortkeyClient, pulled: Path
) -> None:
    # A history of LangChain messages goes as the OpenAI dicts the chat model sends.
    from langchain_core.messages import AIMessage, HumanMessage

    case = next(c for c in CASES if c.id == "pp-tpl-history")
    history = [HumanMessage('Say "hi"'), AIMessage("hi")]
    prompt = lc_pull(case.id, folder=pulled)
    messages = prompt.invoke({"history": history, "input": "and now?"}).to_messages()
    assert messages == convert_to_messages(reference(client, case))


def test_a_langchain_chat_template_composes_with_other_messages(
    client: PortkeyClient, pulled: Path
) -> None:
    from langchain_core.prompts import MessagesPlaceholder

    case = next(c for c in CASES if c.id == "pp-tpl-chat")
    combined = lc_pull(case.id, folder=pulled) + MessagesPlaceholder("history") + [("human", "{q}")]
    assert sorted(combined.input_variables) == ["history", "name", "q", "question"]
    messages = combined.invoke({**case.variables, "history": [("ai", "hi")], "q": "More?"})
    expected = convert_to_messages(reference(client, case))
    assert messages.to_messages() == [
        *expected,
        *convert_to_messages([("ai", "hi"), ("human", "More?")]),
    ]


async def test_async_load_renders_as_portkey(
    server: LocalPortkeyServer, client: PortkeyClient
) -> None:
    from portkey_integrations import AsyncPortkeyClient, aload_template

    case = next(c for c in CASES if c.id == "pp-tpl-partial")
    template = await aload_template(AsyncPortkeyClient(base_url=server.base_url), case.id)
    assert template.partials == {
        "pl-tpl-tone": 'Be {{tone}}, "always".',
        "pl-tpl-sign@1": "sign as {{who}}",
    }
    assert template.render(case.variables) == reference(client, case)


def test_llama_index_function_and_variable_mappings_apply_before_the_render(pulled: Path) -> None:
    li = li_pull("pp-tpl-chat", folder=pulled)
    li.function_mappings = {"name": lambda **values: values["who"].upper()}
    li.template_var_mappings = {"q": "question"}
    messages = li.format_messages(who="ann", q="Why?")
    assert [m.content for m in messages] == ["You are ANN.", "Why?"]
