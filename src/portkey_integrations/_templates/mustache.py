"""Mustache rendering as Portkey's fork ``@portkey-ai/mustache`` 2.1.5 does it.

A port of the fork's writer (its parser is :mod:`.tokens`), quirks included:
malformed tags stay as literal text, ``{{! c}}`` and ``{{&x}}`` leave their closing ``}}``
behind, arrays render as their items' JSON joined by ``,``, objects as their
JSON, and ``{{var}}`` strings get backslashes doubled and ``"`` escaped.
Values follow JavaScript's rules (truthiness, number formatting, key order).
``tests/server/mustache_vectors.json`` pins the behaviour against the npm package.
A :class:`RenderBudget` stops a runaway render (the server's guard).
"""

from __future__ import annotations

import re
import time
from typing import Any

from .jsvalues import has_property, js_get, js_stringify, js_to_string, primitive_has_own, truthy
from .tokens import MustacheError, Token, parse

__all__ = [
    "MustacheError",
    "RenderBudget",
    "RenderLimitError",
    "Token",
    "parse",
    "render",
    "template_details",
]


class RenderLimitError(MustacheError):
    """A render stopped by its :class:`RenderBudget` (a runaway template)."""


class RenderBudget:
    """Limits on one render: ``seconds`` of work and ``max_chars`` of output.

    Checked inside the renderer's loops, so a template looping 150³ times stops
    mid-way with :class:`RenderLimitError` instead of running to the end.
    """

    __slots__ = ("_deadline", "chars", "max_chars", "seconds", "steps")

    def __init__(self, seconds: float, max_chars: int) -> None:
        self.seconds = seconds
        self.max_chars = max_chars
        self.chars = 0
        self.steps = 0
        self._deadline = time.monotonic() + seconds

    def charge(self, chars: int) -> None:
        """Count one step writing ``chars`` characters; raise when over budget."""
        self.chars += chars
        self.steps += 1
        if self.chars > self.max_chars:
            raise RenderLimitError(f"the rendered template exceeds {self.max_chars} characters")
        if not self.steps & 1023 and time.monotonic() > self._deadline:
            raise RenderLimitError(f"rendering the template took over {self.seconds:g} s")


def _escape(text: str) -> str:
    # Same steps as the fork, placeholders and all (their literal text is affected too).
    text = (
        text.replace("\n", "__MUSTACHE_NL__")
        .replace("\t", "__MUSTACHE_TAB__")
        .replace('"', "__MUSTACHE_QUOTE__")
    )
    text = text.replace("\\", "\\\\")
    return (
        text.replace("__MUSTACHE_NL__", "\n")
        .replace("__MUSTACHE_TAB__", "\t")
        .replace("__MUSTACHE_QUOTE__", '\\"')
    )


class _Context:
    __slots__ = ("cache", "parent", "view")

    def __init__(self, view: Any, parent: _Context | None = None) -> None:
        self.view = view
        self.parent = parent
        self.cache: dict[str, Any] = {".": view}

    def lookup(self, name: str) -> Any:
        if name in self.cache:
            return self.cache[name]
        context: _Context | None = self
        value: Any = None
        hit = False
        while context is not None:
            if name.find(".") > 0:
                current = context.view
                names = name.split(".")
                last = len(names) - 1
                for index, part in enumerate(names):
                    if current is None:
                        break
                    if index == last:
                        hit = has_property(current, part) or primitive_has_own(current, part)
                    current = js_get(current, part)
            else:
                if context.view is None:
                    # mustache.js reads view[name] unguarded: a null item throws.
                    raise MustacheError(
                        f"TypeError: Cannot read properties of null (reading '{name}')"
                    )
                current = js_get(context.view, name)
                hit = has_property(context.view, name)
            if hit:
                value = current
                break
            context = context.parent
        self.cache[name] = value
        return value


def _render_tokens(
    tokens: list[Token],
    ctx: _Context,
    partials: dict[str, str] | None,
    budget: RenderBudget | None = None,
) -> str:
    out: list[str] = []
    for token in tokens:
        kind = token[0]
        if budget is not None:
            budget.charge(len(token[1]) if kind == "text" else 0)
        if kind == "text":
            out.append(token[1])
        elif kind == "name" or kind == "&":
            value = ctx.lookup(token[1])
            if isinstance(value, list):
                out.append(",".join(js_stringify(item) for item in value))
            elif isinstance(value, dict):
                out.append(js_stringify(value))
            elif value is not None:
                if kind == "&" or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                    out.append(js_to_string(value))
                else:
                    out.append(_escape(js_to_string(value)))
            if budget is not None and out:
                budget.charge(len(out[-1]))
        elif kind == "#":
            value = ctx.lookup(token[1])
            if not truthy(value):
                continue
            children = token[4]
            if isinstance(value, list):
                for item in value:
                    out.append(_render_tokens(children, _Context(item, ctx), partials, budget))
            elif isinstance(value, (dict, str, int, float)) and not isinstance(value, bool):
                out.append(_render_tokens(children, _Context(value, ctx), partials, budget))
            else:
                out.append(_render_tokens(children, ctx, partials, budget))
        elif kind == "^":
            value = ctx.lookup(token[1])
            if not truthy(value) or value == []:
                out.append(_render_tokens(token[4], ctx, partials, budget))
        elif kind == ">":
            out.append(_render_partial(token, ctx, partials, budget))
        elif kind == ">>":
            name = ctx.lookup(token[1])
            if isinstance(name, str):
                if partials is None:
                    raise MustacheError(
                        f"TypeError: Cannot read properties of undefined (reading '{name}')"
                    )
                partial = partials.get(name)
                if partial:
                    out.append(_render_tokens(parse(partial), ctx, partials, budget))
    return "".join(out)


def _render_partial(
    token: Token, ctx: _Context, partials: dict[str, str] | None, budget: RenderBudget | None
) -> str:
    if partials is None:
        return ""
    value = partials.get(token[1])
    if value is None:
        return ""
    indentation, tag_index, line_has_non_space = token[4], token[5], token[6]
    if tag_index == 0 and indentation:
        pad = re.sub(r"[^ \t]", "", indentation)
        lines = value.split("\n")
        value = "\n".join(
            pad + line if line and (i > 0 or not line_has_non_space) else line
            for i, line in enumerate(lines)
        )
    return _render_tokens(parse(value), ctx, partials, budget)


def render(
    template: str,
    view: Any,
    partials: dict[str, str] | None = None,
    *,
    budget: RenderBudget | None = None,
) -> str:
    """Render ``template`` with ``view`` and named ``partials`` exactly as the fork does.

    With a ``budget``, a render past its time or output size raises
    :class:`RenderLimitError`.
    """
    try:
        return _render_tokens(parse(template), _Context(view), partials, budget)
    except RecursionError:
        raise MustacheError("RangeError: Maximum call stack size exceeded") from None


def template_details(template: str) -> dict[str, list[str]]:
    """The fork's ``getTemplateDetails``: variables, partials, variablePartials, sections."""
    # Ordered sets (dicts) and an explicit stack: linear in the template, at any depth.
    variables: dict[str, None] = {}
    partials: dict[str, None] = {}
    variable_partials: dict[str, None] = {}
    sections: dict[str, None] = {}
    section_vars: dict[str, dict[str, None]] = {}

    def var(name: str) -> str:
        return name.split(".")[0] if "." in name else name

    stack: list[tuple[list[Token], int, str | None]] = [(parse(template), 0, None)]
    while stack:
        tokens, index, current = stack.pop()
        if index >= len(tokens):
            continue
        stack.append((tokens, index + 1, current))
        token = tokens[index]
        kind, value = token[0], token[1]
        if kind in ("&", "name"):
            variables.setdefault(var(value))
            if current:
                section_vars.setdefault(current, {}).setdefault(var(value))
        elif kind == ">":
            partials.setdefault(value)
        elif kind == ">>":
            variable_partials.setdefault(value)
        elif kind in ("#", "^"):
            sections.setdefault(value)
            if len(token) > 4:
                stack.append((token[4], 0, value))

    kept = {v: None for v in variables if v not in sections}
    for names in section_vars.values():
        for name in names:
            kept.setdefault(name)
    return {
        "variables": list(kept),
        "partials": list(partials),
        "variablePartials": list(variable_partials),
        "sections": list(sections),
    }
