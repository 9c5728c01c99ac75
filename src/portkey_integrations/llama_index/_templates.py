"""LlamaIndex prompt templates to Portkey prompt variables.

When a query engine or a response synthesizer calls ``llm.predict(template, **args)``
on a model with a ``prompt_id``, the variables the template would have been formatted
with (``context_str``, ``query_str``, ``existing_answer``, ...) go to Portkey as prompt
variables instead, so a Portkey prompt written with ``{{context_str}}`` and
``{{query_str}}`` serves the engine directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.prompts import (
    BasePromptTemplate,
    ChatPromptTemplate,
    SelectorPromptTemplate,
)
from llama_index.core.prompts.utils import get_template_vars
from pydantic import BaseModel

__all__ = ["literal_messages", "selected", "template_variables"]

_LIST_SEPARATOR = "\n"


def template_variables(
    prompt: BasePromptTemplate, llm: BaseLLM | None, prompt_args: Mapping[str, Any]
) -> dict[str, Any]:
    """The variables ``prompt`` would be formatted with, ready to send to Portkey.

    Only the template's own variables are kept: the other keywords LlamaIndex passes
    along (``template=``, callbacks, options) are never variables. The template's own
    bound values (``prompt.kwargs``, from ``partial_format``) are
    overridden by ``prompt_args``; function mappings are evaluated and variable
    mappings applied, as ``format`` does. A selector template first selects the
    template meant for ``llm``. Lists are joined one item per line; mappings and plain
    pydantic models go as JSON; other objects (messages, nodes) as their ``str()``.

    >>> from llama_index.core import PromptTemplate
    >>> qa = PromptTemplate("{context_str}\\n{query_str}").partial_format(query_str="Why?")
    >>> template_variables(qa, None, {"context_str": ["a", "b"]})
    {'query_str': 'Why?', 'context_str': 'a\\nb'}
    """
    prompt = selected(prompt, llm)
    values: dict[str, Any] = {**prompt.kwargs, **prompt_args}
    # Function mappings first, then name mappings: the order ``format`` uses.
    for name, fn in (prompt.function_mappings or {}).items():
        values[name] = fn(**{**prompt.kwargs, **prompt_args})
    mappings = prompt.template_var_mappings or {}
    if mappings:
        values = {mappings.get(k, k): v for k, v in values.items()}
    own = set(prompt.template_vars)
    return {name: _readable(value) for name, value in values.items() if name in own}


def selected(prompt: BasePromptTemplate, llm: BaseLLM | None) -> BasePromptTemplate:
    """The template meant for ``llm`` (a selector template's choice)."""
    if isinstance(prompt, SelectorPromptTemplate):
        return prompt.select(llm=llm)
    return prompt


def literal_messages(prompt: BasePromptTemplate) -> list[ChatMessage]:
    """The fixed user, assistant and tool messages of a chat template: the conversation
    a chat engine places between its context and the question (system messages are
    instructions, not conversation)."""
    if not isinstance(prompt, ChatPromptTemplate):
        return []
    return [
        message
        for message in prompt.message_templates
        if message.role != MessageRole.SYSTEM and not get_template_vars(message.content or "")
    ]


def _readable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return _LIST_SEPARATOR.join(_item_text(item) for item in value)
    if isinstance(value, Mapping) or _plain_model(value):
        # The core sends these as JSON text.
        return value
    return str(value)


def _plain_model(value: Any) -> bool:
    """A pydantic model without a text form of its own (ChatMessage and nodes have one)."""
    return isinstance(value, BaseModel) and type(value).__str__ is BaseModel.__str__


def _item_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if _plain_model(item):
        return str(item.model_dump_json())
    if isinstance(item, Mapping):
        return json.dumps(item, ensure_ascii=False, default=str)
    return str(item)
