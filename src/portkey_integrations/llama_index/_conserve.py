"""Nothing LlamaIndex hands the model is dropped on a prompt route.

A template routed to a Portkey prompt sends its own variables, plus what the template
would have added around them: a chat engine's ``system_prompt`` (LlamaIndex writes it
into the context template's system message) and an output parser's format
instructions (``format`` appends them). Once the saved template is known, each of
those must have a slot in it, or the call fails before sending with
:class:`~portkey_integrations.PromptMappingError`. The one adaptation: a prompt that
reads the model's ``input_variable`` and not ``query_str`` gets the question there (the
default chat engine on a chat prompt). When the saved template cannot be read, those
added pieces fail the same way on every call (the template's own variables are sent, as
a LangChain dict input's keys are). A conversation (``chat`` / ``complete`` on
``prompt_id``) follows the rule both adapters share (:mod:`.._adapters.mapping`).

The mode is the model's ``mapping_check``: by default (``check_variables=None``) and
with ``"error"`` a lost piece raises; ``"warn"`` accepts the loss knowingly with a
``PromptVariablesWarning``; ``"off"`` checks nothing.

Templates no prompt serves (:func:`local_call`): a refine, summary or condense step on a
model whose ``prompt_id`` does not fit it is rendered locally and run through
``/chat/completions`` (``/completions`` when the saved prompt is a text prompt) with
the saved prompt's model and parameters, or ``model=``. The call carries routing, as
Portkey requires on those routes: the model's own ``provider`` / ``config`` /
``virtual_key``, else the virtual key saved on the prompt, else a model string naming
an integration (``@openai-prod/gpt-4o``); without any, or without a model, it fails
before sending with :class:`~portkey_integrations.PromptMappingError`.

Loaded by the first call that needs it (the checks and template analysis are not part
of the import).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.generic_utils import messages_to_prompt
from llama_index.core.base.llms.types import ChatMessage

from .._adapters.mapping import Piece, conversation_pieces, enforce_mapping
from .._call import Call
from .._errors import PromptMappingError
from .._options import RequestOptions
from .._templates.checks import PromptVariablesWarning, _stacklevel, template_info
from ._messages import to_openai_messages

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate
    from ._routing import TemplateRoute
    from .base import PortkeyLLMBase

__all__ = ["check_conversation", "fit_variables", "has_routing", "local_call", "lost"]

QUESTION = "query_str"
FORMAT_INSTRUCTIONS = "format_instructions"


def lost(llm: PortkeyLLMBase, error: PromptMappingError) -> None:
    """Raise ``error`` (``mapping_check`` ``"error"``, the default), warn with it
    (``"warn"``), or let it pass (``"off"``)."""
    mode = llm.mapping_check
    if mode == "error":
        raise error
    if mode == "warn":
        warnings.warn(error.message, PromptVariablesWarning, stacklevel=_stacklevel())


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
    if saved is None and route.prompt_id is not None:
        # The template could not be read: what the template adds around its own
        # variables fails the same way each time, as a LangChain piece does.
        unknown = [
            Piece(what, (name,), "{{" + name + "}}")
            for name, what in route.pieces.items()
            if variables.get(name) not in (None, "", [])
        ]
        enforce_mapping(route.prompt_id, None, unknown, llm.mapping_check)
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
        if name in optional and name not in reads:
            variables.pop(name, None)  # a courtesy the prompt has no place for
            continue
        if name in reads or variables.get(name) in (None, "", []):
            continue  # read, or nothing to lose
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
    messages: Sequence[Mapping[str, Any]],
    *,
    trigger: bool,
) -> frozenset[str]:
    """A conversation mapped onto ``prompt_id`` (``chat`` / ``complete`` with no template
    route): the mapping rule the LangChain models apply
    (:func:`~.._adapters.mapping.enforce_mapping`), on the same pieces. ``saved`` is the
    saved template (``None``: it could not be read, so every piece but the text fails
    the same way each time). Returns the variables the rule judged.

    LlamaIndex has no dict input: a caller who passes the prompt's variables per call
    (``llm.complete("go", variables={...})``, ``trigger``) makes the last user message's
    text a trigger of their own, not framework content (engines never pass
    ``variables=``); the variables check then warns if the template never reads it.
    ``template_variables=`` sends the prompt's variables with no conversation at all,
    as a dict input does in LangChain. A ``variables_mapper``'s variables are the
    caller's own: the core's variables check looks at them.
    """
    mode = llm.mapping_check
    prompt_id = llm.full_prompt_id
    if mode == "off" or llm.variables_mapper is not None or prompt_id is None:
        return frozenset()
    pieces = conversation_pieces(
        messages,
        input_variable=llm.input_variable,
        history_variable=llm.history_variable,
        scratchpad_variable=llm.scratchpad_variable,
    )
    if trigger:
        pieces = [p for p in pieces if p.setting != "input_variable"]
    enforce_mapping(prompt_id, saved, pieces, mode)
    return frozenset(v for p in pieces for v in p.variables)


# -- templates no prompt serves -------------------------------------------------------

# Saved prompt fields that are not request parameters.
_NOT_PARAMS = frozenset({"model", "stream", "messages", "prompt"})


def has_routing(llm: PortkeyLLMBase, model: str | None) -> bool:
    """Whether a gateway call from ``llm`` says where to go without help."""
    return bool(
        llm.provider
        or llm.config
        or llm.virtual_key is not None
        or (model is not None and model.startswith("@") and "/" in model)
    )


def _how_to_map(route: TemplateRoute) -> str:
    return f"prompt_ids={{{route.template_type!r}: 'pp-...'}}"


def _lost(llm: PortkeyLLMBase, route: TemplateRoute, why: str, fix: str) -> PromptMappingError:
    # Not a ValueError: LlamaIndex's Refine and programs catch those and answer from
    # what they had, so this template's content would vanish from the answer silently.
    return PromptMappingError(
        f"LlamaIndex's {route.template_type!r} template cannot reach the model: {why}. Fix: {fix}",
        prompt_id=llm.full_prompt_id,
        piece=f"{route.template_type} template",
        fix=fix,
    )


def local_call(
    llm: PortkeyLLMBase,
    route: TemplateRoute,
    *,
    messages: Sequence[ChatMessage] | None,
    prompt: str,
    params: Mapping[str, Any],
    saved: PromptTemplate | None,
    options: RequestOptions | None,
) -> Call:
    """The call of a locally rendered template (see the module); ``options`` are the
    call's own, over the prompt's virtual key when that is its routing."""
    model = llm.model or (saved.model if saved is not None else None)
    if model is None:
        where = (
            f"the model saved on prompt {llm.full_prompt_id!r} could not be read"
            if llm.full_prompt_id
            else "the model has no prompt_id"
        )
        raise _lost(
            llm,
            route,
            f"it has no Portkey prompt and {where}",
            f"map it to a prompt ({_how_to_map(route)}) or pass model=... to render it "
            "locally on that model",
        )
    body: dict[str, Any] = {}
    if saved is not None:
        body.update({k: v for k, v in saved.parameters.items() if k not in _NOT_PARAMS})
    if not has_routing(llm, model):
        if saved is None or not saved.virtual_key:
            raise _lost(
                llm,
                route,
                f"it has no Portkey prompt, so it runs rendered on the gateway route with "
                f"model {model!r}, which needs routing",
                "set provider=, config= or virtual_key= on the model, save a virtual key on "
                f"prompt {llm.full_prompt_id!r}, or map it ({_how_to_map(route)})",
            )
        key = RequestOptions.make(virtual_key=saved.virtual_key)
        options = key if options is None else key.merged(options)
    body["model"] = model
    body.update(llm.merge_params(params))
    if saved is not None and saved.kind == "text":
        text = messages_to_prompt(messages) if messages is not None else prompt
        return Call(prompt=text, params=body, options=options)
    openai = (
        to_openai_messages(messages)
        if messages is not None
        else [{"role": "user", "content": prompt}]
    )
    return Call(messages=openai, params=body, options=options)
