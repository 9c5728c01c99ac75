"""What a LlamaIndex template adds around its variables, recognised: tables of cases."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.output_parsers import PydanticOutputParser
from llama_index.core.prompts import BasePromptTemplate, ChatPromptTemplate, PromptTemplate
from llama_index.core.query_engine.citation_query_engine import (
    CITATION_QA_TEMPLATE,
    CITATION_REFINE_TEMPLATE,
)
from llama_index.core.selectors.prompts import (
    DEFAULT_MULTI_PYD_SELECT_PROMPT_TMPL,
    DEFAULT_SINGLE_PYD_SELECT_PROMPT_TMPL,
)
from pydantic import BaseModel

from portkey_integrations.llama_index._routing import (
    _format_instructions,
    _system_prompt,
    template_types,
)

SYSTEM = "Answer like a pirate."
EXTRACT = "Extract the person from: {text}"


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int


def _context_template(system_prompt: str) -> ChatPromptTemplate:
    from llama_index.core.chat_engine.context import DEFAULT_CONTEXT_TEMPLATE
    from llama_index.core.chat_engine.utils import get_prefix_messages_with_context

    messages = get_prefix_messages_with_context(
        PromptTemplate(DEFAULT_CONTEXT_TEMPLATE), system_prompt, [], [], MessageRole.SYSTEM
    )
    return ChatPromptTemplate(messages)


@pytest.mark.parametrize(
    ("template", "types"),
    [
        (CITATION_QA_TEMPLATE, ("citation_qa",)),
        (CITATION_REFINE_TEMPLATE, ("citation_refine",)),
        (PromptTemplate(DEFAULT_SINGLE_PYD_SELECT_PROMPT_TMPL), ("single_select",)),
        (PromptTemplate(DEFAULT_MULTI_PYD_SELECT_PROMPT_TMPL), ("multi_select",)),
        (PromptTemplate("{context_str} {query_str}"), ("custom",)),  # a user's own
        (_context_template(SYSTEM), ("context",)),
    ],
)
def test_built_in_templates_are_recognised_by_their_text(
    template: BasePromptTemplate, types: tuple[str, ...]
) -> None:
    assert template_types(template) == types


@pytest.mark.parametrize(
    ("template", "system_prompt"),
    [
        (_context_template(SYSTEM), SYSTEM),
        (_context_template(""), ""),
        (ChatPromptTemplate([ChatMessage(role="system", content="Mine: {context_str}")]), ""),
        (PromptTemplate("{context_str}"), ""),
    ],
)
def test_a_chat_engines_system_prompt_is_found_after_its_context_template(
    template: BasePromptTemplate, system_prompt: str
) -> None:
    assert _system_prompt(template) == system_prompt


@pytest.mark.parametrize(
    ("parser", "expected"),
    [
        (None, ""),
        (PydanticOutputParser(Person), '"age"'),
    ],
)
def test_format_instructions_are_what_the_parser_appends(
    parser: PydanticOutputParser[Any] | None, expected: str
) -> None:
    instructions = _format_instructions(PromptTemplate(EXTRACT, output_parser=parser))
    assert expected in instructions and "Extract" not in instructions
    assert bool(instructions) is bool(expected)
