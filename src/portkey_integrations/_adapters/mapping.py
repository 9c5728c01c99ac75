"""The mapping rule of prompt mode: what the framework hands the model reaches it.

An adapter maps its framework's input onto a saved prompt's variables. Each part of
that input (the user's text, its images, the system message, the earlier turns, an
agent's tool calls and tool results, messages a framework adds to a dict input) is a
:class:`Piece` carried by a variable. :func:`enforce_mapping` compares the pieces with
the variables the saved template reads, before anything is sent: a piece no variable
of the template reads would never reach the model, so the call raises
:class:`~portkey_integrations.PromptMappingError` naming the piece, the prompt and the
slot to add, or, with ``check_variables="warn"``, warns and goes on.

When the template cannot be read (a key without ``prompts.read``, a gateway without the
prompt API), the user's text is sent as always (``input_variable`` is the adapter's
documented contract), but every other piece fails the same way each time, with the fix
"let the key read prompts" or ``check_variables="warn"``: a piece is never sent to a
template that may drop it without a word. A template whose partials could not all be
read is trusted to read the rest there.

Pure functions and one memoized analysis per template: no I/O here.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._errors import PromptMappingError
from .._templates.checks import PromptVariablesWarning, _stacklevel, per_template, template_info
from .convert import INPUT_PARTS_VARIABLE, content_parts, last_user_index, message_text

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate

__all__ = [
    "MappingMode",
    "Piece",
    "TemplateSlots",
    "conversation_pieces",
    "enforce_mapping",
    "lost_pieces",
    "message_list_pieces",
    "template_slots",
    "text_pieces",
]

MappingMode = Literal["error", "warn", "off"]
"""``"error"``: a lost piece raises; ``"warn"``: it warns; ``"off"``: no check."""


@dataclasses.dataclass(frozen=True)
class Piece:
    """Content the framework handed the model, and the variables that can carry it."""

    what: str
    """What it is, for the error: ``"the tool calls and tool results"``."""
    variables: tuple[str, ...]
    """It reaches the model when the template reads any of these (empty: the model's
    settings send it nowhere)."""
    slot: str
    """What to add to a chat template to keep it."""
    setting: str | None = None
    """The model field naming the variable (``"scratchpad_variable"``), if any."""
    needs_template: bool = True
    """False for the user's text: sent as documented even when the template is unknown."""

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """:attr:`variables` as a set (the variables check leaves these to the rule)."""
        return frozenset(self.variables)


@dataclasses.dataclass(frozen=True)
class TemplateSlots:
    """The variables a saved template reads, computed once per template."""

    names: frozenset[str]
    reads_all: bool = False
    """``{{.}}`` renders every variable: nothing is lost."""
    open: bool = False
    """Partials that could not be read may read any name: trusted to."""

    def reads(self, piece: Piece) -> bool:
        """Whether the template reads a variable that carries ``piece``."""
        if not piece.variables:
            return False
        return self.reads_all or self.open or not self.names.isdisjoint(piece.variables)


def _splice(name: str, *, after: bool) -> str:
    # The form of the bundled pp-assistant template: each message dict spliced raw,
    # the comma on the side that leaves no stray comma when the list is empty.
    form = "{{#NAME}},{{{.}}}{{/NAME}}" if after else "{{#NAME}}{{{.}}},{{/NAME}}"
    return form.replace("NAME", name)


def _parts_slot(input_variable: str) -> str:
    # The bundled pp-assistant-vision's: the parts when there are any, else the text.
    form = '"content": {{#NAME.0}}[{{{NAME}}}]{{/NAME.0}}{{^NAME}}"{{TEXT}}"{{/NAME}}'
    text = form.replace("NAME", INPUT_PARTS_VARIABLE).replace("TEXT", input_variable)
    return text + " as the user message's content"


def _tag(name: str) -> str:
    return "{{" + name + "}}"


def conversation_pieces(
    messages: Sequence[Mapping[str, Any]],
    *,
    input_variable: str,
    history_variable: str | None,
    scratchpad_variable: str | None,
) -> list[Piece]:
    """The pieces of an OpenAI-format conversation, as
    :func:`~.convert.conversation_variables` maps it (same split, same variables)."""
    pieces: list[Piece] = []
    last = last_user_index(messages)
    if last >= 0:
        content = messages[last].get("content")
        parts = content_parts(content)
        if message_text(content):
            pieces.append(_user_text(input_variable, bool(parts)))
        if parts:
            others = [str(p.get("type")) for p in parts if p.get("type", "text") != "text"]
            plural = "s" if len(others) > 1 else ""
            what = f"the {', '.join(sorted(set(others)))} part{plural} of the user message"
            pieces.append(Piece(what, (INPUT_PARTS_VARIABLE,), _parts_slot(input_variable)))
        before, after = messages[:last], messages[last + 1 :]
    else:
        before, after = messages, []
    history = (history_variable,) if history_variable else ()
    slot = _splice(history_variable or "chat_history", after=False) + " before the user message"
    system = sum(1 for m in before if m.get("role") in ("system", "developer"))
    if system:
        what = "the system message" if system == 1 else f"the {system} system messages"
        pieces.append(Piece(what, history, slot, "history_variable"))
    if len(before) > system:
        n = len(before) - system
        what = f"the {n} earlier message{'s' if n > 1 else ''}"
        pieces.append(Piece(what, history, slot, "history_variable"))
    if after:
        tools = any(m.get("role") == "tool" or m.get("tool_calls") for m in after)
        what = "the tool calls and tool results" if tools else "the messages after the user's"
        pad = (scratchpad_variable,) if scratchpad_variable else ()
        slot = _splice(scratchpad_variable or "agent_scratchpad", after=True)
        pieces.append(Piece(what, pad, slot + " after the user message", "scratchpad_variable"))
    return pieces


# The user's text is a piece of nearly every call: built once per variable name.
@functools.lru_cache(maxsize=64)
def _user_text(input_variable: str, with_parts: bool) -> Piece:
    carriers = (input_variable, INPUT_PARTS_VARIABLE) if with_parts else (input_variable,)
    slot = f'"{_tag(input_variable)}" in the user message'
    return Piece("the user message's text", carriers, slot, "input_variable", False)


@functools.lru_cache(maxsize=64)
def _prompt_text(input_variable: str) -> Piece:
    slot = _tag(input_variable)
    return Piece("the prompt text", (input_variable,), slot, "input_variable", False)


def text_pieces(text: str, input_variable: str) -> list[Piece]:
    """The piece of a prompt string (an LLM's input), if it says anything."""
    return [_prompt_text(input_variable)] if text else []


def message_list_pieces(variables: Mapping[str, Any], names: Iterable[str]) -> list[Piece]:
    """The pieces of a dict input whose ``names`` hold messages the framework put there
    (``RunnableWithMessageHistory``'s history)."""
    pieces = []
    for name in names:
        value = variables.get(name)
        if isinstance(value, list) and value:
            n = len(value)
            what = f"the {n} message{'s' if n > 1 else ''} in {name!r}"
            pieces.append(Piece(what, (name,), _splice(name, after=False)))
    return pieces


@per_template
def _slots(template: PromptTemplate) -> TemplateSlots | None:
    info = template_info(template)
    if info is None or info.error is not None:
        return None
    return TemplateSlots(
        names=frozenset(info.names),
        reads_all=info.whole_view,
        open=bool(info.dynamic_partials or info.missing_partials),
    )


def template_slots(template: PromptTemplate | None) -> TemplateSlots | None:
    """What ``template`` reads (memoized per template), ``None`` when it is unknown."""
    return None if template is None else _slots(template)


def lost_pieces(pieces: Sequence[Piece], slots: TemplateSlots | None) -> list[Piece]:
    """The pieces that would not reach the model (``slots=None``: the template is
    unknown, so every piece that needs it counts as lost)."""
    if slots is None:
        return [p for p in pieces if p.needs_template]
    return [p for p in pieces if not slots.reads(p)]


def enforce_mapping(
    prompt_id: str,
    template: PromptTemplate | None,
    pieces: Sequence[Piece],
    mode: MappingMode,
) -> None:
    """Raise :class:`PromptMappingError` (``"error"``) or warn (``"warn"``) when a piece
    would not reach the model of ``prompt_id``; ``template`` is its saved template
    (``None``: it could not be read)."""
    if mode == "off" or not pieces:
        return
    lost = lost_pieces(pieces, template_slots(template))
    if not lost:
        return
    error = _mapping_error(prompt_id, template is not None, lost)
    if mode == "error":
        raise error
    warnings.warn(error.message, PromptVariablesWarning, stacklevel=_stacklevel())


def _mapping_error(prompt_id: str, known: bool, lost: Sequence[Piece]) -> PromptMappingError:
    piece = ", ".join(p.what for p in lost)
    accept = 'or pass check_variables="warn" to send the call knowing the model misses it'
    if not known:
        fix = (
            "let the API key read prompts (prompts.read) so the template can be checked, " + accept
        )
        message = (
            f"prompt {prompt_id!r}: the saved template could not be read, so whether it has "
            f"a slot for {piece} cannot be checked. Fix: {fix}"
        )
        return PromptMappingError(message, prompt_id=prompt_id, piece=piece, fix=fix)
    fixes = []
    for p in lost:
        if p.variables:
            fixes.append(f"add {p.slot} to the template for {p.what}")
        else:
            fixes.append(f"set {p.setting} (it is None) and add {p.slot} for {p.what}")
    fix = "; ".join(dict.fromkeys(fixes)) + "; " + accept
    carriers = sorted({v for p in lost for v in p.variables})
    via = f" (sent as {', '.join(repr(v) for v in carriers)})" if carriers else ""
    message = (
        f"prompt {prompt_id!r} has no slot for {piece}{via}: the template never reads it, "
        f"so the model would not see it. Fix: {fix}"
    )
    return PromptMappingError(message, prompt_id=prompt_id, piece=piece, fix=fix)
