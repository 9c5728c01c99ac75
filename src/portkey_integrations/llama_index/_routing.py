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
for templates LlamaIndex leaves as ``custom``: built-ins are recognised by their text
(``CitationQueryEngine``'s templates are ``citation_qa`` / ``citation_refine``, the
pydantic selectors' ``single_select`` / ``multi_select``), a chat engine's context template is
``context`` (its refine twin ``context_refine``, falling back to ``refine``), a
condense template (``chat_history`` and ``question``) is ``condense``, and the summary
template of ``tree_summarize`` (which has a query) is ``tree_summarize``, falling back
to ``summary``.

A template routed to a prompt sends the variables it would have been formatted with
(:func:`template_variables`), so a Portkey prompt written with ``{{context_str}}`` and
``{{query_str}}`` serves a query engine directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.prompts import (
    BasePromptTemplate,
    ChatPromptTemplate,
    PromptType,
    SelectorPromptTemplate,
)
from llama_index.core.prompts.utils import get_template_vars
from pydantic import BaseModel

from .._errors import PortkeyConfigError
from ._messages import to_openai_messages

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
    "template_variables",
]

TEMPLATE_ROUTE = "portkey_template_route"
"""Call keyword carrying a :class:`TemplateRoute` from ``predict`` to ``chat`` /
``complete`` (never sent)."""

ANSWER_TYPES = frozenset({"text_qa", "context", "custom"})
"""Template types ``prompt_id`` serves when ``prompt_ids`` does not map them."""

PROMPT_TYPE_KEYS = frozenset(
    {t.value for t in PromptType}
    | {"condense", "context", "context_refine", "tree_summarize", "citation_qa", "citation_refine"}
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
    pieces: dict[str, str] = field(default_factory=dict)
    """Variables carrying what the template adds around its own variables (a system
    prompt, format instructions), by name, with what they are: each needs a slot."""
    conversation: Callable[[], dict[str, Any]] | None = field(default=None, compare=False)
    """The chat template's formatted messages mapped as ``chat()`` maps messages: what
    goes to a conversation prompt (``input``, ``chat_history``) that reads none of the
    template's variables. Computed only for such a prompt."""


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
    if kind == PromptType.CUSTOM.value:
        kind = _builtin_texts().get(_text_of(prompt), kind)
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
    pieces: dict[str, str] = {}
    system = _system_prompt(chosen)
    if system:
        variables[SYSTEM_PROMPT], pieces[SYSTEM_PROMPT] = system, "the chat engine's system_prompt"
    instructions = _format_instructions(chosen)
    if instructions:
        variables[FORMAT_INSTRUCTIONS] = instructions
        pieces[FORMAT_INSTRUCTIONS] = "the output parser's format instructions"
    if not chosen.template_vars:
        # A template of fixed messages (as_structured_llm wraps the chat's messages in
        # one): they are the conversation, mapped as chat() maps messages.
        messages = to_openai_messages(chosen.format_messages(llm=llm))
        variables = llm.messages_to_variables(messages)
    else:
        history = literal_messages(chosen)
        if history and llm.history_variable is not None:
            variables[llm.history_variable] = to_openai_messages(history)
    conversation = None
    if prompt_id == llm.full_prompt_id and isinstance(chosen, ChatPromptTemplate):
        template = chosen

        def conversation() -> dict[str, Any]:
            formatted = template.format_messages(llm=llm, **prompt_args)
            return llm.messages_to_variables(to_openai_messages(formatted))

    return TemplateRoute(types[0], prompt_id, variables, pieces=pieces, conversation=conversation)


SYSTEM_PROMPT = "system_prompt"
"""The variable a chat engine's ``system_prompt`` goes to (else it leads the history)."""
FORMAT_INSTRUCTIONS = "format_instructions"
"""The variable an output parser's format instructions go to."""


def _text_of(prompt: BasePromptTemplate) -> str | None:
    text = getattr(prompt, "template", None)
    if not isinstance(text, str):
        text = getattr(prompt, "template_str", None)  # RichPromptTemplate
    return text if isinstance(text, str) else None


@lru_cache(maxsize=1)
def _builtin_texts() -> dict[str | None, str]:
    """LlamaIndex's ``custom``-typed built-in templates, by their text."""
    from llama_index.core.query_engine import citation_query_engine as citation
    from llama_index.core.selectors import prompts as selectors

    return {
        _text_of(citation.CITATION_QA_TEMPLATE): "citation_qa",
        _text_of(citation.CITATION_CHAT_CONTENT_QA_TEMPLATE): "citation_qa",
        _text_of(citation.CITATION_REFINE_TEMPLATE): "citation_refine",
        _text_of(citation.CITATION_CHAT_CONTENT_REFINE_TEMPLATE): "citation_refine",
        selectors.DEFAULT_SINGLE_PYD_SELECT_PROMPT_TMPL: PromptType.SINGLE_SELECT.value,
        selectors.DEFAULT_MULTI_PYD_SELECT_PROMPT_TMPL: PromptType.MULTI_SELECT.value,
    }


@lru_cache(maxsize=1)
def _context_templates() -> tuple[str, ...]:
    """The chat engines' default context templates, which LlamaIndex writes the
    ``system_prompt`` after, in one system message."""
    from llama_index.core.chat_engine import condense_plus_context, context

    return (
        context.DEFAULT_CONTEXT_TEMPLATE,
        context.DEFAULT_REFINE_TEMPLATE,
        condense_plus_context.DEFAULT_CONTEXT_PROMPT_TEMPLATE,
        condense_plus_context.DEFAULT_CONTEXT_REFINE_PROMPT_TEMPLATE,
    )


def _system_prompt(prompt: BasePromptTemplate) -> str:
    """The ``system_prompt`` a chat engine wrote after its context template."""
    if not isinstance(prompt, ChatPromptTemplate) or not prompt.message_templates:
        return ""
    first = prompt.message_templates[0]
    text = first.content if first.role == MessageRole.SYSTEM else None
    if not text:
        return ""
    for template in _context_templates():
        if text.startswith(template):
            return text[len(template) :].strip()
    return ""


def _format_instructions(prompt: BasePromptTemplate) -> str:
    """What the template's output parser appends to the formatted text."""
    parser = prompt.output_parser
    if parser is None:
        return ""
    marker = "\x00"
    formatted = parser.format(marker)
    return formatted.replace(marker, "", 1).strip()


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


# -- a template's variables, as Portkey receives them --------------------------------

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
