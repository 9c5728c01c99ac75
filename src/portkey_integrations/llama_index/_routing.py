"""Which Portkey prompt serves a LlamaIndex template, and with which variables.

LlamaIndex engines run many built-in templates (text QA, refine, summary, condense,
context chat, ...) while a model has one ``prompt_id``. The rule, in order:

1. A template whose type is a key of ``prompt_ids`` runs that prompt with the
   template's own variables.
2. The answer templates (``text_qa``, ``context``, and ``custom`` ones a user wrote)
   run ``prompt_id``.
3. Any other template (``refine``, ``summary``, ``tree_summarize``, ``condense``, ...)
   is rendered locally with LlamaIndex's own template and sent to Portkey's
   ``/chat/completions`` with the model, parameters and virtual key saved on
   ``prompt_id`` (or ``model=``): its variables would not fit ``prompt_id``.

A template's type is its ``metadata["prompt_type"]`` (a ``PromptType`` value), refined
for templates LlamaIndex leaves as ``custom``: a chat engine's context template is
``context`` (its refine twin ``context_refine``, falling back to ``refine``), a
condense template (``chat_history`` and ``question``) is ``condense``, and the summary
template of ``tree_summarize`` (which has a query) is ``tree_summarize``, falling back
to ``summary``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from llama_index.core.prompts import BasePromptTemplate, ChatPromptTemplate, PromptType
from llama_index.core.prompts.utils import get_template_vars

from .._errors import PortkeyConfigError
from ._messages import to_openai_messages
from ._templates import literal_messages, selected, template_variables

if TYPE_CHECKING:
    from .base import PortkeyLLMBase

__all__ = [
    "ANSWER_TYPES",
    "PROMPT_TYPE_KEYS",
    "TEMPLATE_ROUTE",
    "TemplateRoute",
    "check_prompt_ids",
    "plan_template",
    "recognise_formatted",
]

TEMPLATE_ROUTE = "portkey_template_route"
"""Call keyword carrying a :class:`TemplateRoute` from ``predict`` to ``chat`` /
``complete`` (never sent)."""

ANSWER_TYPES = frozenset({"text_qa", "context", "custom"})
"""Template types ``prompt_id`` serves when ``prompt_ids`` does not map them."""

PROMPT_TYPE_KEYS = frozenset(
    {t.value for t in PromptType} | {"condense", "context", "context_refine", "tree_summarize"}
)
"""The keys ``prompt_ids`` accepts."""


@dataclass(frozen=True)
class TemplateRoute:
    """Where one template goes: ``prompt_id`` with ``variables``, or (``prompt_id``
    ``None``) rendered locally and sent to the OpenAI-compatible route."""

    template_type: str
    prompt_id: str | None
    variables: dict[str, Any] = field(default_factory=dict)
    structured: dict[str, Any] = field(default_factory=dict)
    """Extra body keys (``response_format``) of a structured call on a prompt route."""


def check_prompt_ids(prompt_ids: Mapping[str, str]) -> None:
    """Raise :class:`PortkeyConfigError` for a key that is no template type."""
    for key, value in prompt_ids.items():
        if key not in PROMPT_TYPE_KEYS:
            raise PortkeyConfigError(
                f"prompt_ids key {key!r} is not a LlamaIndex template type; use one of "
                f"{sorted(PROMPT_TYPE_KEYS)}"
            )
        if not isinstance(value, str) or not value.strip():
            raise PortkeyConfigError(f"prompt_ids[{key!r}] must be a prompt id, not {value!r}")


def _type_value(prompt: BasePromptTemplate) -> str:
    kind = prompt.metadata.get("prompt_type")
    if isinstance(kind, Enum):
        return str(kind.value)
    return str(kind) if kind else PromptType.CUSTOM.value


def template_types(
    prompt: BasePromptTemplate, chosen: BasePromptTemplate | None = None
) -> tuple[str, ...]:
    """The ``prompt_ids`` keys that may serve ``prompt``, the most specific first.

    ``chosen`` is the template a selector picked: LlamaIndex types the selector and
    leaves its chat variants ``custom``, so the outer type wins.
    """
    names = set(prompt.template_vars)
    kind = _type_value(prompt)
    if kind == PromptType.CUSTOM.value and chosen is not None:
        kind = _type_value(chosen)
    prompt = chosen or prompt
    if kind == PromptType.SUMMARY.value and "query_str" in names:
        return ("tree_summarize", kind)
    if kind != PromptType.CUSTOM.value:
        return (kind,)
    if {"chat_history", "question"} <= names:
        return ("condense",)
    if {"existing_answer", "context_msg"} <= names:
        if isinstance(prompt, ChatPromptTemplate):
            return ("context_refine", PromptType.REFINE.value)
        return (PromptType.REFINE.value,)
    if isinstance(prompt, ChatPromptTemplate) and {"context_str", "query_str"} <= names:
        return ("context",)
    return (kind,)


def _prompt_for(llm: PortkeyLLMBase, types: tuple[str, ...]) -> tuple[bool, str | None]:
    """``(True, id)`` for a prompt route, ``(True, None)`` for a local render,
    ``(False, None)`` when LlamaIndex's own flow applies (no prompt at all)."""
    for kind in types:
        if kind in llm.prompt_ids:
            return True, llm.prompt_ids[kind]
    if llm.full_prompt_id is None:
        return False, None
    if types[0] in ANSWER_TYPES:
        return True, llm.full_prompt_id
    return True, None


def plan_template(
    llm: PortkeyLLMBase, prompt: BasePromptTemplate, prompt_args: dict[str, Any]
) -> TemplateRoute | None:
    """The route of one ``predict`` / ``structured_predict`` template (``None``: format
    locally and call the model's own route, as LlamaIndex does)."""
    chosen = selected(prompt, llm)
    types = template_types(prompt, chosen)
    routed, prompt_id = _prompt_for(llm, types)
    if not routed:
        return None
    if prompt_id is None:
        return TemplateRoute(types[0], None)
    variables = template_variables(chosen, llm, prompt_args)
    if not chosen.template_vars:
        # A template of fixed messages (as_structured_llm wraps the chat's messages in
        # one): they are the conversation, mapped as chat() maps messages.
        messages = to_openai_messages(chosen.format_messages(llm=llm))
        variables = llm.messages_to_variables(messages)
    else:
        history = literal_messages(chosen)
        if history and llm.history_variable is not None:
            variables[llm.history_variable] = to_openai_messages(history)
    return TemplateRoute(types[0], prompt_id, variables)


@lru_cache(maxsize=1)
def _known_formatted() -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Engines that format a template themselves and call complete() with the text.
    from llama_index.core.chat_engine.condense_plus_context import (
        DEFAULT_CONDENSE_PROMPT_TEMPLATE,
    )

    return (("condense", _pattern(DEFAULT_CONDENSE_PROMPT_TEMPLATE)),)


def _pattern(template: str) -> re.Pattern[str]:
    names = get_template_vars(template)
    pieces = re.split(r"\{(" + "|".join(map(re.escape, names)) + r")\}", template)
    regex = "".join(
        f"(?P<{piece}>.*?)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
    )
    return re.compile(regex, re.DOTALL)


def recognise_formatted(llm: PortkeyLLMBase, text: str) -> TemplateRoute | None:
    """The route of a ``complete(text)`` whose text is a known built-in template,
    formatted (the condense step of ``condense_plus_context``); ``None`` otherwise."""
    for kind, pattern in _known_formatted():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        routed, prompt_id = _prompt_for(llm, (kind,))
        if not routed:
            return None
        return TemplateRoute(kind, prompt_id, match.groupdict() if prompt_id else {})
    return None
