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
from llama_index.core.prompts import BasePromptTemplate, SelectorPromptTemplate
from pydantic import BaseModel

__all__ = ["template_variables"]

_LIST_SEPARATOR = "\n"


def template_variables(
    prompt: BasePromptTemplate, llm: BaseLLM | None, prompt_args: Mapping[str, Any]
) -> dict[str, Any]:
    """The variables ``prompt`` would be formatted with, ready to send to Portkey.

    The template's own bound values (``prompt.kwargs``, from ``partial_format``) are
    overridden by ``prompt_args``; function mappings are evaluated and variable
    mappings applied, as ``format`` does. A selector template first selects the
    template meant for ``llm``. Lists are joined one item per line; mappings and plain
    pydantic models go as JSON; other objects (messages, nodes) as their ``str()``.

    >>> from llama_index.core import PromptTemplate
    >>> qa = PromptTemplate("{context_str}\\n{query_str}").partial_format(query_str="Why?")
    >>> template_variables(qa, None, {"context_str": ["a", "b"]})
    {'query_str': 'Why?', 'context_str': 'a\\nb'}
    """
    if isinstance(prompt, SelectorPromptTemplate):
        prompt = prompt.select(llm=llm)
    values: dict[str, Any] = {**prompt.kwargs, **prompt_args}
    # Function mappings first, then name mappings: the order ``format`` uses.
    for name, fn in (prompt.function_mappings or {}).items():
        values[name] = fn(**{**prompt.kwargs, **prompt_args})
    mappings = prompt.template_var_mappings or {}
    if mappings:
        values = {mappings.get(k, k): v for k, v in values.items()}
    return {name: _readable(value) for name, value in values.items()}


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
