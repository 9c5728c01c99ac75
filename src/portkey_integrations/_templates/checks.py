"""Checking a prompt call's variables against the saved template, before sending.

The model classes pass ``check_variables`` (``"warn"``, ``"error"`` or ``"off"``); the
client fetches the template once through the prompt cache and this module compares it
with the variables about to be sent. It also decides how each variable travels: a
variable the template reads as a section, a loop, a dotted name or a splice goes as a
JSON value; one read as ``{{x}}`` inside a string is stringified.
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._errors import MissingVariableError, PortkeyConfigError
from .analysis import TemplateInfo, analyze_template, merge

if TYPE_CHECKING:
    from .cache import PromptTemplate

__all__ = ["CheckMode", "PromptVariablesWarning", "check_mode", "checked_raw_variables"]

logger = logging.getLogger("portkey_integrations")

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


@functools.lru_cache(maxsize=512)
def _analyzed(
    text: str, chat: bool, partials: tuple[tuple[str, str], ...], unresolved: tuple[str, ...]
) -> TemplateInfo:
    info = analyze_template(text, chat=chat)
    if partials or unresolved:
        parts: dict[str, TemplateInfo | None] = {
            name: analyze_template(body, chat=False) for name, body in partials
        }
        parts.update(dict.fromkeys(unresolved))
        info = merge(info, parts)
    return info


def template_info(template: PromptTemplate) -> TemplateInfo | None:
    """The analysis of a saved template (memoized on its text and partials)."""
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


def checked_raw_variables(
    prompt_id: str,
    template: PromptTemplate,
    variables: Mapping[str, Any],
    raw: Collection[str],
    mode: CheckMode,
) -> frozenset[str]:
    """Check ``variables`` against ``template`` and return the names to send as JSON.

    A missing variable read outside any section warns or, with ``mode="error"``, raises
    :class:`MissingVariableError` naming it; a sent variable the template never reads
    warns. Dicts and lists the template reads as sections, loops, dotted names or
    splices join ``raw``.
    """
    info = template_info(template)
    if info is None or info.error is not None:
        return frozenset(raw)
    missing = [name for name in info.required if name not in variables]
    if missing and mode != "off":
        names = ", ".join(repr(n) for n in missing)
        message = (
            f"prompt {prompt_id!r} reads the variable(s) {names}, which this call does "
            f"not send; they would render as empty text (sent: {sorted(variables)})"
        )
        if mode == "error":
            # Nothing was sent, so there is no HTTP status to report.
            raise MissingVariableError(message, status_code=None, code="missing_variable")
        warnings.warn(message, PromptVariablesWarning, stacklevel=_stacklevel())
    if mode != "off" and not info.whole_view and not info.dynamic_partials:
        known = set(info.names)
        # An empty conversation slot (no history yet) changes nothing: not worth a word.
        unused = [n for n, v in variables.items() if n not in known and v != []]
        if unused and not info.missing_partials:
            warnings.warn(
                f"prompt {prompt_id!r} never reads the variable(s) "
                f"{', '.join(repr(n) for n in unused)}; its template uses "
                f"{sorted(known) or 'no variables'}",
                PromptVariablesWarning,
                stacklevel=_stacklevel(),
            )
    wanted = set(info.json_valued)
    extra = {
        name
        for name, value in variables.items()
        if name in wanted and isinstance(value, (dict, list, tuple))
    }
    return frozenset(raw) | extra if extra else frozenset(raw)


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
