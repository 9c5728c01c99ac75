"""Checks a version must pass before the CLI sends it or points a label at it: the
Mustache parses (sections closed in order), a chat template is JSON messages, and every
partial it names exists in the folder or in Portkey.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .._templates.analysis import analyze_template, split_partial_ref
from .._templates.mustache import MustacheError, render

__all__ = ["template_problem", "template_text"]

_SECTION = re.compile(r"\{\{\s*([#^/])\s*([^{}]*?)\s*\}\}")


def template_text(template: Any) -> str:
    """A prompt file's template as the text Portkey stores (a list as JSON)."""
    return template if isinstance(template, str) else json.dumps(template, ensure_ascii=False)


def _is_chat(spec: dict[str, Any]) -> bool:
    template = spec.get("template")
    if spec.get("kind") in ("chat", "text"):
        return bool(spec["kind"] == "chat")
    return isinstance(template, list) or (
        isinstance(template, str) and template.lstrip().startswith("[")
    )


def _sections(text: str) -> str | None:
    if "{{=" in text:
        return None  # custom delimiters: the parser below has checked them
    open_: list[str] = []
    for match in _SECTION.finditer(text):
        kind, name = match.groups()
        if kind != "/":
            open_.append(name)
        elif not open_:
            return f"'{{{{/{name}}}}}' closes no section"
        elif open_[-1] != name:
            return f"section {open_[-1]!r} is closed by '{{{{/{name}}}}}'"
        else:
            open_.pop()
    return f"section {open_[-1]!r} is never closed" if open_ else None


def _messages(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "a chat template must be a non-empty JSON list of messages"
    for position, message in enumerate(value, start=1):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return f"message #{position} must be an object with a 'role'"
    return None


def _chat(text: str, partials: tuple[str, ...]) -> str | None:
    try:
        return _messages(json.loads(text, strict=False))
    except ValueError:
        pass
    # Sections may sit outside the JSON strings (a loop of messages): Portkey renders
    # first, then parses, so the text rendered with nothing must be JSON messages.
    try:
        rendered = render(text, {}, {split_partial_ref(p)[0]: "" for p in partials})
        return _messages(json.loads(rendered, strict=False))
    except (ValueError, MustacheError) as exc:
        return f"a chat template must be JSON messages: {exc}"


def template_problem(spec: dict[str, Any], known: Callable[[str], bool]) -> str | None:
    """Why a version would not render (``None``: it would). ``known(partial_id)`` says
    whether a partial exists locally or remotely."""
    text = template_text(spec.get("template"))
    info = analyze_template(text, chat=False)
    if info.error is not None:
        return f"the Mustache does not parse: {info.error}"
    problem = _sections(text)
    if problem is not None:
        return f"the Mustache does not parse: {problem}"
    missing = sorted({split_partial_ref(p)[0] for p in info.partials} - {""})
    missing = [name for name in missing if not known(name)]
    if missing:
        return f"unknown partial(s): {', '.join(missing)}"
    if _is_chat(spec):
        return _chat(text, info.partials)
    return None
