"""Checking a prompt call's variables against the saved template, before sending.

The model classes pass ``check_variables`` (``"warn"``, ``"error"`` or ``"off"``); the
client fetches the template once through the prompt cache and this module compares it
with the variables about to be sent. It never changes what is sent: how each value
travels is decided without the template (:func:`~.._request.encode_value`), so a key
that cannot read templates sends the same body. The check only warns, or refuses a call
before sending that Portkey would refuse or render without a variable it reads.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import warnings
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .._errors import MissingVariableError, PortkeyConfigError, TemplateRenderError
from .jsvalues import js_stringify

if TYPE_CHECKING:
    from .analysis import TemplateInfo
    from .cache import PromptTemplate

__all__ = [
    "CheckMode",
    "PromptVariablesWarning",
    "check_call_variables",
    "check_mode",
    "per_template",
    "template_info",
]

logger = logging.getLogger("portkey_integrations")
_T = TypeVar("_T")

CheckMode = Literal["warn", "error", "off"]
_MODES = ("warn", "error", "off")


class PromptVariablesWarning(UserWarning):
    """A prompt call sends variables the template does not use, or misses some it does."""


def check_mode(value: Any) -> CheckMode:
    """Validate a ``check_variables`` value."""
    if value not in _MODES:
        raise PortkeyConfigError(
            f"check_variables must be one of 'warn', 'error' or 'off', got {value!r}"
        )
    return value  # type: ignore[no-any-return]


def per_template(compute: Callable[[PromptTemplate], _T]) -> Callable[[PromptTemplate], _T]:
    """``compute`` (a function of a saved template), run once per template object.

    The prompt cache hands out the same object until it refreshes the prompt, so a
    dict lookup on the object's id replaces hashing its text and partials on every
    call; the object is kept beside the value, so a reused id never matches.
    """
    memo: dict[int, tuple[PromptTemplate, _T]] = {}

    @functools.wraps(compute)
    def lookup(template: PromptTemplate) -> _T:
        hit = memo.get(id(template))
        if hit is not None and hit[0] is template:
            return hit[1]
        value = compute(template)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[id(template)] = (template, value)
        return value

    return lookup


_MEMO_SIZE = 256


@functools.lru_cache(maxsize=512)
def _analyzed(
    text: str, chat: bool, partials: tuple[tuple[str, str], ...], unresolved: tuple[str, ...]
) -> TemplateInfo:
    # Imported at the first analysis (once per template), not with the package.
    from .analysis import analyze_template, merge

    info = analyze_template(text, chat=chat)
    if partials or unresolved:
        parts: dict[str, TemplateInfo | None] = {
            name: analyze_template(body, chat=False) for name, body in partials
        }
        parts.update(dict.fromkeys(unresolved))
        info = merge(info, parts)
    return info


@per_template
def template_info(template: PromptTemplate) -> TemplateInfo | None:
    """The analysis of a saved template (memoized on the object, and on its text and
    partials across objects)."""
    try:
        return _analyzed(
            template.template,
            template.kind == "chat",
            tuple(sorted(template.partials.items())),
            tuple(template.unresolved_partials),
        )
    except (TypeError, ValueError) as exc:  # an odd template: no check, never a failure
        logger.debug("cannot analyse the template of %s: %s", template.prompt_id, exc)
        return None


@dataclasses.dataclass(frozen=True)
class _Reads:
    """What the variables check needs of one template, computed once per template."""

    info: TemplateInfo
    required: tuple[str, ...]
    string_slots: tuple[str, ...]
    known: frozenset[str] | None
    """The names it reads; ``None`` when it may read any (``{{.}}``, dynamic partials)."""


@per_template
def _reads(template: PromptTemplate) -> _Reads | None:
    info = template_info(template)
    if info is None or info.error is not None:
        return None
    open_ended = info.whole_view or bool(info.dynamic_partials)
    known = None if open_ended else frozenset(info.names)
    return _Reads(info, info.required, _string_slots(info), known)


def check_call_variables(
    prompt_id: str,
    template: PromptTemplate,
    variables: Mapping[str, Any],
    mode: CheckMode,
    *,
    mapped: AbstractSet[str] = frozenset(),
) -> None:
    """Check the encoded ``variables`` of a call against ``template`` before sending.

    A missing variable read outside any section warns or, with ``mode="error"``, raises
    :class:`MissingVariableError` naming it; a sent variable the template never reads
    warns, unless it is one of ``mapped``: the adapter's mapping rule already judged
    those (raised or warned for the content they carry). A list or object the chat
    template reads as ``{{x}}`` inside a JSON string would make Portkey's render
    invalid JSON (it pastes the value's JSON there unescaped): it warns, or with
    ``mode="error"`` raises :class:`TemplateRenderError` naming the variable, the class
    Portkey's 500 raises after sending. Only
    ``"error"`` refuses a call: a cached template may be older than the one that runs.
    """
    if mode == "off":
        return
    reads = _reads(template)
    if reads is None:
        return
    if reads.string_slots:
        _json_in_strings(prompt_id, reads.string_slots, variables, mode)
    missing = [name for name in reads.required if name not in variables]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        message = (
            f"prompt {prompt_id!r} reads the variable(s) {names}, which this call does "
            f"not send; they would render as empty text (sent: {sorted(variables)})"
        )
        if mode == "error":
            # Nothing was sent, so there is no HTTP status to report.
            raise MissingVariableError(message, status_code=None, code="missing_variable")
        warnings.warn(message, PromptVariablesWarning, stacklevel=_stacklevel())
    known = reads.known
    if known is not None and not known.issuperset(variables):
        # An empty conversation slot (no history yet) changes nothing: not worth a word.
        unused = [n for n, v in variables.items() if n not in known and n not in mapped and v != []]
        if unused and not reads.info.missing_partials:
            warnings.warn(
                f"prompt {prompt_id!r} never reads the variable(s) "
                f"{', '.join(repr(n) for n in unused)}; its template uses "
                f"{sorted(known) or 'no variables'}",
                PromptVariablesWarning,
                stacklevel=_stacklevel(),
            )


def _string_slots(info: TemplateInfo) -> tuple[str, ...]:
    """Names the chat template reads as a plain ``{{x}}`` inside a JSON string.

    Only top-level reads in the template itself: inside a section the name may resolve
    to the section's item, and Portkey escapes a partial's whole render.
    """
    return tuple(
        name
        for name, uses in info.variables.items()
        if any(
            use.kind == "value"
            and use.where == "string"
            and use.top_level
            and not use.path
            and not use.item
            and use.partial is None
            for use in uses
        )
    )


def _json_in_strings(
    prompt_id: str, slots: tuple[str, ...], variables: Mapping[str, Any], mode: CheckMode
) -> None:
    for name in slots:
        value = variables.get(name)
        if not isinstance(value, (dict, list)) or '"' not in _pasted(value):
            continue
        message = (
            f"prompt {prompt_id!r} reads the variable {name!r} inside a JSON string of its "
            f"chat template, and this call sends it as a "
            f"{'list' if isinstance(value, list) else 'object'}: Portkey pastes its JSON "
            "there unescaped and the rendered messages are no longer valid JSON. Send "
            f"json.dumps(value) to have it as text, or read it with a section "
            f"({{{{#{name}}}}}...{{{{/{name}}}}}) or dotted names"
        )
        if mode == "error":
            raise TemplateRenderError(
                message,
                status_code=None,
                code="json_value_in_string",
                param=name,
                prompt_id=prompt_id,
            )
        warnings.warn(message, PromptVariablesWarning, stacklevel=_stacklevel())


def _pasted(value: dict[str, Any] | list[Any]) -> str:
    """What Portkey's Mustache writes for ``{{x}}`` of a list or object."""
    if isinstance(value, list):
        return ",".join(js_stringify(item) for item in value)
    return js_stringify(value)


_LIBRARY_PREFIXES = (
    "portkey_integrations",
    "langchain",
    "langgraph",
    "llama_index",
    "workflows",
    "asyncio",
    "concurrent",
    "threading",
    "contextlib",
    "functools",
)


def _stacklevel() -> int:
    # Point the warning at the caller's own code, past this package and the framework's
    # runnables, so that the default filter shows it once per calling line.
    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_LIBRARY_PREFIXES):
            return level
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return 2
