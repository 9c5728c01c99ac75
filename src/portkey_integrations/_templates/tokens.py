"""The parser of Portkey's Mustache fork (``@portkey-ai/mustache`` 2.1.5): template
text to the nested token tree the renderer (:mod:`.mustache`) walks.

A port of the fork's parser, quirks included (malformed tags stay text, the last
line's spaces are stripped with stale indices). Linear in the template: text is
taken a line piece at a time, and each tag's look-ahead is remembered.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import Any

from .._errors import PortkeyError

__all__ = ["MustacheError", "Token", "parse"]

# JavaScript's \s differs from Python's (\x1c-\x1f, \x85 and \ufeff), and the
# parser's whitespace handling is observable in the output.
_JS_WS = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS = f"[{_JS_WS}]"
_WHITE_RE = re.compile(f"{_WS}*")
_NON_SPACE_RE = re.compile(f"[^{_JS_WS}]")
_SPACE_SPLIT_RE = re.compile(f"{_WS}+")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_EQUALS_RE = re.compile(f"{_WS}*=")
_CURLY_RE = re.compile(f"{_WS}*\\}}")
_LINE_PIECE_RE = re.compile(r"[^\n]*\n|[^\n]+")
# Possessive: backing off the spaces must not turn "{{ >x}}" into a name tag.
_FAST_TAG_RE = re.compile(f"\\{{\\{{{_WS}*+([#^/]?)(?![>{{&=!#^/]){_WS}*+")
_TAG_RE = re.compile(r"#|\^|/|>>|>|\{|&|=|!")
_DEFAULT_TAGS = ("{{", "}}")
_SECTION_TYPES = ("#", "^", "/", ">", ">>")
_PARTIAL_TYPES = (">", ">>")
_MAX_PARTIAL_NAME = 50

Token = list[Any]


class MustacheError(PortkeyError):
    """A template the renderer rejects; ``str()`` is JavaScript's ``${error}`` text."""


def _indentation(line: str) -> str:
    """A partial's indentation as mustache.js builds it: a space per non-space UTF-16
    code unit, so a character outside the BMP (an emoji) counts twice."""
    if not line.isascii():
        line = _ASTRAL_RE.sub("  ", line)
    return _NON_SPACE_RE.sub(" ", line)


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
    line_text: list[str] = []  # the current line's text so far (its indentation)
    tag_index = 0
    count = 0  # how many tokens the fork would have made so far (one per character)
    space_chars: list[tuple[int, int]] = []  # (fork index, length) of this line's spaces
    opening, closing, closing_curly = _compile_tags(_DEFAULT_TAGS)
    default_opening = opening

    def strip_space() -> None:
        nonlocal spaces, space_chars, has_tag, non_space
        if has_tag and not non_space:
            while spaces:
                i = spaces.pop()
                if i < len(tokens):
                    tokens[i] = None
        else:
            spaces = []
        space_chars = []
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
        nonlocal pos, count
        last = 0
        for tok in reversed(tokens):
            if tok is not None:
                last = tok[3]
                break
        for i, ch in enumerate(text):
            tokens.append(["text", ch, last + i, last + i + 1])
        count += len(text)
        pos = last + len(text)

    while pos < end:
        start = pos
        # The fork walks text one character at a time; a line's run of text is one
        # token here (whitespace-only runs apart, as only those are ever stripped),
        # which keeps a large template linear and fast.
        for match in _LINE_PIECE_RE.finditer(scan_until(opening)):
            piece = match.group()
            if _NON_SPACE_RE.search(piece) is None:
                spaces.append(len(tokens))
                space_chars.append((count, len(piece)))
            else:
                non_space = True
                line_has_non_space = True
            line_text.append(piece)
            tokens.append(["text", piece, start, start + len(piece)])
            start += len(piece)
            count += len(piece)
            if piece[-1] == "\n":
                strip_space()
                line_text = []
                tag_index = 0
                line_has_non_space = False

        if opening is default_opening and pos < end:
            # Fast path for the common tags ({{x}}, {{#x}}, {{^x}}, {{/x}}) with the
            # default delimiters: the same steps as below, without a call per step.
            fast = _FAST_TAG_RE.match(s, pos)
            if fast is not None:
                # The remembered look-ahead: no "}}" lies inside "{{ #", so the first
                # closing from ``pos`` is the first from the tag's name on.
                at = next_start(closing)
                shut = None if at == -1 else closing.match(s, max(at, fast.end()))
                if shut is not None:
                    start, kind = pos, fast.group(1) or "name"
                    token: Token = [kind, s[fast.end() : shut.start()], start, shut.end()]
                    pos = shut.end()
                    has_tag = True
                    tag_index += 1
                    count += 1
                    tokens.append(token)
                    if kind == "name":
                        non_space = True
                    elif kind == "/":
                        if sections:
                            sections.pop()
                    elif tail_index(closing) == 0:
                        sections.append(token)
                    continue

        if not scan(opening):
            break
        has_tag = True
        kind = scan(_TAG_RE) or "name"
        scan(_WHITE_RE)

        if kind in ("=", "{"):
            # {{=a b=}} and {{{x}}}: the value runs to "=" or "}", then the closing.
            if tail_index(closing) == -1:
                push_literal(_DEFAULT_TAGS[0] + kind)
                continue
            value = scan_until(_EQUALS_RE if kind == "=" else closing_curly)
            scan(_EQUALS_RE if kind == "=" else _CURLY_RE)
            scan(closing)
            kind = "=" if kind == "=" else "&"
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

        if kind in _PARTIAL_TYPES:
            # Only a line's first tag is indented by the renderer; building the
            # indentation for later ones too would make a long line quadratic.
            indentation = _indentation("".join(line_text)) if tag_index == 0 else ""
            token = [kind, value, start, pos, indentation, tag_index, line_has_non_space]
        else:
            token = [kind, value, start, pos]
        tag_index += 1
        count += 1
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

    kept: list[Token] = [t for t in tokens if t is not None]
    # The fork strips the last line's spaces using indices taken before that
    # filter, so it may drop other tokens: reproduced on purpose, counting one
    # token per character as the fork does.
    if has_tag and not non_space and space_chars:
        targets = sorted({i for first, n in space_chars for i in range(first, first + n)})
        kept = _drop_chars(kept, targets)
    return _nest(_squash(list(kept)))


def _drop_chars(tokens: list[Token], targets: list[int]) -> list[Token]:
    """``tokens`` without the fork's tokens at ``targets`` (a text token counts one
    per character, a tag one)."""
    sizes = [len(t[1]) if t[0] == "text" else 1 for t in tokens]
    starts = [0, *accumulate(sizes)]
    drop: dict[int, set[int]] = {}
    for target in targets:
        index = bisect_right(starts, target) - 1
        if index < len(tokens):
            drop.setdefault(index, set()).add(target - starts[index])
    out: list[Token] = []
    for index, token in enumerate(tokens):
        gone = drop.get(index)
        if gone is None:
            out.append(token)
        elif token[0] == "text":
            text = "".join(ch for i, ch in enumerate(token[1]) if i not in gone)
            if text:
                out.append(["text", text, token[2], token[2] + len(text)])
    return out


def _squash(tokens: list[Token | None]) -> list[Token]:
    out: list[Token] = []
    run: list[Token] = []  # consecutive text tokens, joined once

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            out.append(["text", "".join([t[1] for t in run]), run[0][2], run[-1][3]])
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
