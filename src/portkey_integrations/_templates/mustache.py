"""Mustache rendering as Portkey's fork ``@portkey-ai/mustache`` 2.1.5 does it.

This is a port of the fork's parser and writer, quirks included: malformed tags
stay as literal text, ``{{! c}}`` and ``{{&x}}`` leave their closing ``}}``
behind, arrays render as their items' JSON joined by ``,``, objects as their
JSON, and ``{{var}}`` strings get backslashes doubled and ``"`` escaped.
Values follow JavaScript's rules (truthiness, number formatting, key order).
``tests/server/mustache_vectors.json`` pins the behaviour against the npm package.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .._errors import PortkeyError
from .jsvalues import has_property, js_get, js_stringify, js_to_string, primitive_has_own, truthy

__all__ = ["MustacheError", "Token", "parse", "render", "template_details"]

# JavaScript's \s differs from Python's (\x1c-\x1f, \x85 and \ufeff), and the
# parser's whitespace handling is observable in the output.
_JS_WS = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS = f"[{_JS_WS}]"
_WHITE_RE = re.compile(f"{_WS}*")
_NON_SPACE_RE = re.compile(f"[^{_JS_WS}]")
_SPACE_SPLIT_RE = re.compile(f"{_WS}+")
_EQUALS_RE = re.compile(f"{_WS}*=")
_CURLY_RE = re.compile(f"{_WS}*\\}}")
_TAG_RE = re.compile(r"#|\^|/|>>|>|\{|&|=|!")
_DEFAULT_TAGS = ("{{", "}}")
_SECTION_TYPES = ("#", "^", "/", ">", ">>")
_PARTIAL_TYPES = (">", ">>")
_MAX_PARTIAL_NAME = 50

Token = list[Any]


class MustacheError(PortkeyError):
    """A template the renderer rejects; ``str()`` is JavaScript's ``${error}`` text."""


def _compile_tags(spec: str | tuple[str, str]) -> tuple[re.Pattern[str], ...]:
    if isinstance(spec, str):
        parts = _SPACE_SPLIT_RE.split(spec)[:2]
        if len(parts) != 2:
            raise MustacheError("Error: Invalid tags: " + ",".join(parts))
        tags = (parts[0], parts[1])
    else:
        tags = spec
    return (
        re.compile(re.escape(tags[0]) + f"{_WS}*"),
        re.compile(f"{_WS}*" + re.escape(tags[1])),
        re.compile(f"{_WS}*" + re.escape("}" + tags[1])),
    )


def _parse(template: str) -> list[Token]:
    if not template:
        return []
    s = template
    end = len(s)
    pos = 0
    tokens: list[Token | None] = []
    sections: list[Token] = []
    spaces: list[int] = []
    has_tag = False
    non_space = False
    line_has_non_space = False
    indentation = ""
    tag_index = 0
    opening, closing, closing_curly = _compile_tags(_DEFAULT_TAGS)

    def strip_space() -> None:
        nonlocal spaces, has_tag, non_space
        if has_tag and not non_space:
            while spaces:
                i = spaces.pop()
                if i < len(tokens):
                    tokens[i] = None
        else:
            spaces = []
        has_tag = False
        non_space = False

    # Each tag looks ahead for the next opening and closing; remembering the
    # last hit keeps a template full of unclosed tags linear, not quadratic.
    ahead: dict[re.Pattern[str], tuple[int, int]] = {}

    def next_start(pattern: re.Pattern[str]) -> int:
        searched_from, found = ahead.get(pattern, (end + 1, -1))
        if not searched_from <= pos or -1 < found < pos:
            m = pattern.search(s, pos)
            found = -1 if m is None else m.start()
            ahead[pattern] = (pos, found)
        return found

    def tail_index(pattern: re.Pattern[str]) -> int:
        found = next_start(pattern)
        return -1 if found == -1 else found - pos

    def scan(pattern: re.Pattern[str]) -> str:
        nonlocal pos
        m = pattern.match(s, pos)
        if m is None:
            return ""
        pos = m.end()
        return m.group()

    def scan_until(pattern: re.Pattern[str]) -> str:
        nonlocal pos
        found = next_start(pattern)
        stop = end if found == -1 else found
        value = s[pos:stop]
        pos = stop
        return value

    def push_literal(text: str) -> None:
        # The fork re-emits an aborted tag's opening as text, one token per
        # character, and rewinds to just after it (measured from the last kept token).
        nonlocal pos
        last = 0
        for tok in reversed(tokens):
            if tok is not None:
                last = tok[3]
                break
        for i, ch in enumerate(text):
            tokens.append(["text", ch, last + i, last + i + 1])
        pos = last + len(text)

    while pos < end:
        start = pos
        for ch in scan_until(opening):
            if _NON_SPACE_RE.match(ch) is None:
                spaces.append(len(tokens))
                indentation += ch
            else:
                non_space = True
                line_has_non_space = True
                indentation += " "
            tokens.append(["text", ch, start, start + 1])
            start += 1
            if ch == "\n":
                strip_space()
                indentation = ""
                tag_index = 0
                line_has_non_space = False

        if not scan(opening):
            break
        has_tag = True
        kind = scan(_TAG_RE) or "name"
        scan(_WHITE_RE)

        if kind == "=":
            if tail_index(closing) == -1:
                push_literal(_DEFAULT_TAGS[0] + "=")
                continue
            value = scan_until(_EQUALS_RE)
            scan(_EQUALS_RE)
            scan(closing)
        elif kind == "{":
            if tail_index(closing) == -1:
                push_literal(_DEFAULT_TAGS[0] + "{")
                continue
            value = scan_until(closing_curly)
            scan(_CURLY_RE)
            scan(closing)
            kind = "&"
        elif kind in _PARTIAL_TYPES:
            o, c = tail_index(opening), tail_index(closing)
            if (c > -1 and o > -1 and o < c) or c > _MAX_PARTIAL_NAME:
                continue
            value = scan_until(closing)
        else:
            value = scan_until(closing)

        if kind in _SECTION_TYPES:
            o, c = tail_index(opening), tail_index(closing)
            broken = c == -1 or (o > -1 and o < c)
            if broken or (kind in _PARTIAL_TYPES and c > _MAX_PARTIAL_NAME):
                push_literal(_DEFAULT_TAGS[0] + kind)
                continue
            if not scan(closing):
                continue

        if kind == "name":
            o, c = tail_index(opening), tail_index(closing)
            if -1 < o < c:
                push_literal(_DEFAULT_TAGS[0])
                continue
            if c == -1:
                push_literal(_DEFAULT_TAGS[0])
                continue
            scan(closing)

        token: Token
        if kind in _PARTIAL_TYPES:
            token = [kind, value, start, pos, indentation, tag_index, line_has_non_space]
        else:
            token = [kind, value, start, pos]
        tag_index += 1
        tokens.append(token)

        if kind in ("#", "^") and tail_index(closing) == 0:
            sections.append(token)
        elif kind == "/":
            if sections:
                sections.pop()
        elif kind in ("name", "&"):
            non_space = True
        elif kind == "=":
            opening, closing, closing_curly = _compile_tags(value)

    kept: list[Token | None] = [t for t in tokens if t is not None]
    # The fork strips the last line's spaces using indices taken before that
    # filter, so it may drop other tokens: reproduced on purpose.
    tokens = kept
    strip_space()
    return _nest(_squash(tokens))


def _squash(tokens: list[Token | None]) -> list[Token]:
    out: list[Token] = []
    run: list[Token] = []  # consecutive text tokens, joined once

    def flush() -> None:
        if run:
            out.append(["text", "".join(t[1] for t in run), run[0][2], run[-1][3]])
            run.clear()

    for token in tokens:
        if token is None:
            continue
        if token[0] == "text":
            run.append(token)
        else:
            flush()
            out.append(token)
    flush()
    return out


def _nest(tokens: list[Token]) -> list[Token]:
    nested: list[Token] = []
    collector = nested
    open_sections: list[Token] = []
    for token in tokens:
        kind = token[0]
        if kind in ("#", "^"):
            collector.append(token)
            open_sections.append(token)
            children: list[Token] = []
            token.append(children)
            collector = children
        elif kind == "/":
            if open_sections:
                section = open_sections.pop()
                section.append(token[2])
                collector = open_sections[-1][4] if open_sections else nested
        else:
            collector.append(token)
    return nested


@lru_cache(maxsize=512)
def _parse_cached(template: str) -> list[Token]:
    return _parse(template)


def parse(template: str) -> list[Token]:
    """The fork's nested token tree for ``template`` (cached: do not mutate it).

    A token is ``[kind, value, start, end, ...]``; ``kind`` is ``text``, ``name``
    (``{{x}}``), ``&`` (``{{{x}}}``, ``{{&x}}``), ``#``, ``^`` (children at index 4),
    ``>``, ``>>``, ``!`` or ``=``. Malformed tags are ``text``. Raises
    :class:`MustacheError` for an invalid set-delimiter tag.
    """
    return _parse_cached(template)


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


def _render_tokens(tokens: list[Token], ctx: _Context, partials: dict[str, str] | None) -> str:
    out: list[str] = []
    for token in tokens:
        kind = token[0]
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
        elif kind == "#":
            value = ctx.lookup(token[1])
            if not truthy(value):
                continue
            children = token[4]
            if isinstance(value, list):
                for item in value:
                    out.append(_render_tokens(children, _Context(item, ctx), partials))
            elif isinstance(value, (dict, str, int, float)) and not isinstance(value, bool):
                out.append(_render_tokens(children, _Context(value, ctx), partials))
            else:
                out.append(_render_tokens(children, ctx, partials))
        elif kind == "^":
            value = ctx.lookup(token[1])
            if not truthy(value) or value == []:
                out.append(_render_tokens(token[4], ctx, partials))
        elif kind == ">":
            out.append(_render_partial(token, ctx, partials))
        elif kind == ">>":
            name = ctx.lookup(token[1])
            if isinstance(name, str):
                if partials is None:
                    raise MustacheError(
                        f"TypeError: Cannot read properties of undefined (reading '{name}')"
                    )
                partial = partials.get(name)
                if partial:
                    out.append(_render_tokens(_parse_cached(partial), ctx, partials))
    return "".join(out)


def _render_partial(token: Token, ctx: _Context, partials: dict[str, str] | None) -> str:
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
    return _render_tokens(_parse_cached(value), ctx, partials)


def render(template: str, view: Any, partials: dict[str, str] | None = None) -> str:
    """Render ``template`` with ``view`` and named ``partials`` exactly as the fork does."""
    try:
        return _render_tokens(_parse_cached(template), _Context(view), partials)
    except RecursionError:
        raise MustacheError("RangeError: Maximum call stack size exceeded") from None


def template_details(template: str) -> dict[str, list[str]]:
    """The fork's ``getTemplateDetails``: variables, partials, variablePartials, sections."""
    details: dict[str, list[str]] = {
        "variables": [],
        "partials": [],
        "variablePartials": [],
        "sections": [],
    }
    section_vars: dict[str, list[str]] = {}

    def add(items: list[str], item: str) -> None:
        if item not in items:
            items.append(item)

    def add_var(items: list[str], name: str) -> None:
        add(items, name.split(".")[0] if "." in name else name)

    def walk(tokens: list[Token], current: str | None) -> None:
        for token in tokens:
            kind, value = token[0], token[1]
            if kind in ("&", "name"):
                add_var(details["variables"], value)
                if current:
                    add_var(section_vars.setdefault(current, []), value)
            elif kind == ">":
                add(details["partials"], value)
            elif kind == ">>":
                add(details["variablePartials"], value)
            elif kind in ("#", "^"):
                add(details["sections"], value)
                if len(token) > 4:
                    walk(token[4], value)

    walk(_parse_cached(template), None)
    details["variables"] = [v for v in details["variables"] if v not in details["sections"]]
    for names in section_vars.values():
        for name in names:
            add(details["variables"], name)
    return details
