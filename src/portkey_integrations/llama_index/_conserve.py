"""Nothing LlamaIndex hands the model is dropped on a prompt route.

A template routed to a Portkey prompt sends its own variables, plus what the template
would have added around them: a chat engine's ``system_prompt`` (LlamaIndex writes it
into the context template's system message) and an output parser's format
instructions (``format`` appends them). Once the saved template is known, each of
those must have a slot in it, or the call fails before sending with
:class:`~portkey_integrations.PromptMappingError`. The one adaptation: a prompt that
reads the model's ``input_variable`` and not ``query_str`` gets the question there (the
default chat engine on a chat prompt). ``check_variables="warn"`` or ``"off"``, set
explicitly, accepts a loss: it is warned about and the call goes on.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._adapters.convert import INPUT_PARTS_VARIABLE as INPUT_PARTS
from .._errors import PromptMappingError
from .._templates.checks import template_info

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate
    from ._routing import TemplateRoute
    from .base import PortkeyLLMBase

__all__ = ["accepts_loss", "check_conversation", "fit_variables", "lost"]

QUESTION = "query_str"
FORMAT_INSTRUCTIONS = "format_instructions"


def accepts_loss(llm: PortkeyLLMBase) -> bool:
    """Whether the user chose, explicitly, to be warned instead of stopped."""
    return "check_variables" in llm.model_fields_set and llm.check_variables != "error"


def lost(llm: PortkeyLLMBase, error: PromptMappingError) -> None:
    """Raise ``error``, or warn with it when the user accepted losses."""
    if not accepts_loss(llm):
        raise error
    warnings.warn(str(error), UserWarning, stacklevel=4)


def _readable_names(saved: PromptTemplate | None) -> frozenset[str] | None:
    """The names the saved template reads; ``None`` when that cannot be told."""
    info = template_info(saved) if saved is not None else None
    if info is None or info.error or info.whole_view:
        return None
    if info.dynamic_partials or info.missing_partials:
        return None
    return frozenset(info.names)


def fit_variables(
    llm: PortkeyLLMBase, route: TemplateRoute, saved: PromptTemplate | None
) -> dict[str, Any]:
    """``route``'s variables for its saved prompt (see the module)."""
    variables = dict(route.variables)
    reads = _readable_names(saved)
    if reads is None or route.prompt_id is None:
        return variables
    inp = llm.input_variable
    own = set(variables) - set(route.pieces) - {llm.history_variable}
    if route.conversation is not None and inp in reads and not own & reads:
        # A conversation prompt (the default chat engine on a chat prompt): the
        # template's messages go as chat() would send them, context and all.
        variables = route.conversation()
        route = replace(route, variables=variables, pieces={})
    elif QUESTION in variables and QUESTION not in reads and inp in reads and inp not in variables:
        variables[inp] = variables.pop(QUESTION)
    history = llm.history_variable
    # A structured call's schema reaches the model as response_format: its format
    # instructions are a courtesy for a text prompt to place, not a piece to keep.
    optional = {FORMAT_INSTRUCTIONS} if route.structured.get("response_format") else set()
    pieces = {**{n: f"template variable {n!r}" for n in variables}, **route.pieces}
    for name, piece in pieces.items():
        if name in reads or name in optional or variables.get(name) in (None, "", []):
            continue  # read, optional, or nothing to lose
        if name == "system_prompt" and history is not None and history in reads:
            # The engine's system prompt leads the conversation the prompt splices.
            text = variables.pop(name)
            variables[history] = [{"role": "system", "content": text}, *variables.get(history, [])]
            continue
        fix = (
            f"add a {{{{{name}}}}} slot to prompt {route.prompt_id!r}, map LlamaIndex's "
            f"{route.template_type!r} template to a prompt that has one "
            f"(prompt_ids={{{route.template_type!r}: 'pp-...'}}), or pass "
            "check_variables='warn' to accept the loss"
        )
        lost(
            llm,
            PromptMappingError(
                f"{piece} of LlamaIndex's {route.template_type!r} template has no slot in "
                f"prompt {route.prompt_id!r} and would not reach the model. Fix: {fix}",
                prompt_id=route.prompt_id,
                piece=piece,
                fix=fix,
            ),
        )
        variables.pop(name)
    return variables


def check_conversation(
    llm: PortkeyLLMBase,
    saved: PromptTemplate | None,
    variables: dict[str, Any],
    *,
    given: bool,
) -> None:
    """A conversation mapped onto ``prompt_id`` (``chat`` / ``complete`` with no template
    route): each non-empty part of it needs a slot in the saved template. The last user
    message is exempt when the caller gives the prompt's variables (``given``): then
    it is a trigger (``llm.complete("go", variables={...})``), not content; and, in
    ``check_variables="error"`` mode, when the template needs variables the call
    lacks: the variables check refuses the call for those, before sending."""
    reads = _readable_names(saved)
    if reads is None or saved is None:
        return
    info = template_info(saved)
    if llm.check_variables == "error" and info is not None:
        given = given or not set(info.required) <= set(variables)
    parts = {
        None if given else llm.input_variable: "the last user message",
        llm.history_variable: "the messages before the last user message",
        llm.scratchpad_variable: "the tool calls and tool results after the last user message",
        INPUT_PARTS: "the last user message's non-text parts",
    }
    for name, piece in parts.items():
        if name is None or name in reads or variables.get(name) in (None, "", []):
            continue
        fix = (
            f"add a {{{{{name}}}}} slot to prompt {llm.full_prompt_id!r}, or pass "
            "check_variables='warn' to accept the loss"
        )
        lost(
            llm,
            PromptMappingError(
                f"{piece} ({name!r}) has no slot in prompt {llm.full_prompt_id!r} and would "
                f"not reach the model. Fix: {fix}",
                prompt_id=llm.full_prompt_id,
                piece=piece,
                fix=fix,
            ),
        )
