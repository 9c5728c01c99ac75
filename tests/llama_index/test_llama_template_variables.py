"""LlamaIndex prompt templates to Portkey variables: pure functions."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.llms import MockLLM
from llama_index.core.prompts import (
    ChatPromptTemplate,
    PromptTemplate,
    SelectorPromptTemplate,
)
from llama_index.core.prompts.default_prompt_selectors import DEFAULT_TEXT_QA_PROMPT_SEL
from pydantic import BaseModel

from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM, template_variables


def test_arguments_and_partial_format_values() -> None:
    qa = PromptTemplate("{context_str}\n{query_str}").partial_format(query_str="Why?")
    assert template_variables(qa, None, {"context_str": "ctx"}) == {
        "query_str": "Why?",
        "context_str": "ctx",
    }


def test_call_arguments_override_bound_values() -> None:
    qa = PromptTemplate("{query_str}").partial_format(query_str="old")
    assert template_variables(qa, None, {"query_str": "new"}) == {"query_str": "new"}


def test_lists_are_joined_one_item_per_line_and_objects_stay() -> None:
    class Point(BaseModel):
        x: int

    prompt = PromptTemplate("{items} {obj} {n} {flag} {m} {p}")
    out = template_variables(
        prompt,
        None,
        {
            "items": ["a", {"k": "v"}, Point(x=1), 3],
            "obj": {"k": 1},
            "n": 2,
            "flag": True,
            "m": None,
            "p": Point(x=2),
        },
    )
    assert out["items"] == 'a\n{"k": "v"}\n{"x":1}\n3'
    assert out["obj"] == {"k": 1}
    assert (out["n"], out["flag"], out["m"]) == (2, True, None)
    assert out["p"] == Point(x=2)


def test_other_objects_become_text() -> None:
    message = ChatMessage(role="user", content="hi")
    assert template_variables(PromptTemplate("{m}"), None, {"m": message}) == {"m": "user: hi"}


def test_function_and_variable_mappings_apply_as_format_does() -> None:
    def shout(**kwargs: Any) -> str:
        return str(kwargs["topic"]).upper()

    prompt = PromptTemplate(
        "{loud} {subject}",
        function_mappings={"loud": shout},
        template_var_mappings={"topic": "subject"},
    )
    out = template_variables(prompt, None, {"topic": "cats"})
    assert out == {"loud": "CATS", "subject": "cats"}
    assert prompt.format(topic="cats") == "CATS cats"


def test_chat_template_variables() -> None:
    chat = ChatPromptTemplate.from_messages(
        [("system", "Context: {context_str}"), ("user", "{query_str}")]
    ).partial_format(context_str="c")
    assert template_variables(chat, None, {"query_str": "q"}) == {
        "context_str": "c",
        "query_str": "q",
    }


def test_selector_uses_the_template_for_this_llm() -> None:
    text = PromptTemplate("text {query_str} {extra}").partial_format(extra="text")
    chat = ChatPromptTemplate.from_messages([("user", "{query_str} {extra}")]).partial_format(
        extra="chat"
    )
    selector = SelectorPromptTemplate(
        default_template=text, conditionals=[(lambda llm: llm.metadata.is_chat_model, chat)]
    )
    assert template_variables(selector, PortkeyChatModel(prompt_id="p"), {})["extra"] == "chat"
    assert template_variables(selector, PortkeyPromptLLM(prompt_id="p"), {})["extra"] == "text"
    assert template_variables(selector, MockLLM(), {})["extra"] == "text"
    partial = selector.partial_format(query_str="bound")
    assert template_variables(partial, PortkeyChatModel(prompt_id="p"), {})["query_str"] == "bound"


def test_only_the_templates_own_variables_are_sent() -> None:
    # accumulate passes its own options along; they are no variables of the template.
    def helper() -> None: ...

    prompt = PromptTemplate("{context_str} {query_str}")
    out = template_variables(
        prompt, None, {"context_str": "c", "query_str": "q", "template": helper}
    )
    assert out == {"context_str": "c", "query_str": "q"}


def test_default_query_engine_template_variables() -> None:
    # What a query engine's synthesizer passes: the question bound by partial_format,
    # the retrieved context as a call argument.
    template = DEFAULT_TEXT_QA_PROMPT_SEL.partial_format(query_str="What is X?")
    out = template_variables(template, PortkeyChatModel(prompt_id="p"), {"context_str": "X is Y."})
    assert out == {"query_str": "What is X?", "context_str": "X is Y."}
