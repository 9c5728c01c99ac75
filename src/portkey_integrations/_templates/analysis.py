"""Which variables a prompt template uses, and how, read from the renderer's own tokens.

:func:`analyze_template` reports every root variable with its uses (plain value,
section, inverted section, dotted path, name of a dynamic partial), whether each
use sits inside another section, and, for a chat template (the JSON text of a
messages array), whether a value lands inside a JSON string literal or is spliced
into the JSON itself. Malformed tags are literal text to the renderer, so they
are ignored here; analysis never raises.

Partials are I/O, so following them is split in two pure steps: :func:`partial_refs`
lists what to fetch, :func:`merge` folds the fetched templates in. :func:`follow_partials`
runs both with a synchronous resolver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Literal

from .mustache import MustacheError, Token, parse

__all__ = [
    "PartialResolver",
    "TemplateInfo",
    "UseKind",
    "VariableUse",
    "Where",
    "analyze_template",
    "follow_partials",
    "merge",
    "partial_refs",
    "split_partial_ref",
]

UseKind = Literal["value", "section", "inverted", "partial_name"]
Where = Literal["string", "json", "text"]
PartialResolver = Callable[[str, str | None], str | None]

# Inside a JSON string: everything up to the next unescaped quote.
_STRING_BODY = re.compile(r'(?:[^"\\]|\\.)*', re.DOTALL)


@dataclass(frozen=True)
class VariableUse:
    """One use of a root variable.

    ``kind`` is ``value`` (``{{x}}``, ``{{{x}}}``, ``{{&x}}``), ``section``
    (``{{#x}}``), ``inverted`` (``{{^x}}``) or ``partial_name`` (``{{>>x}}``: the
    value names the partial). ``path`` is the dotted rest (``{{user.name}}`` →
    ``("name",)``). ``sections`` are the enclosing section names as written,
    outermost first; a use inside a section is a context lookup that only falls
    back to the root variable. ``where`` is ``string`` (inside a JSON string
    literal of a chat template), ``json`` (outside one: a splice) or ``text`` (a
    text template or a partial). ``raw`` marks ``{{{x}}}`` and ``{{&x}}``.
    ``item`` marks ``{{.}}`` inside this variable's section: the current item (when
    the value is ``true`` rather than a list or object, the enclosing context).
    ``partial`` is the partial reference the use came from, None for the template.
    """

    kind: UseKind
    path: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    where: Where = "text"
    raw: bool = False
    item: bool = False
    partial: str | None = None

    @property
    def top_level(self) -> bool:
        """True outside every section."""
        return not self.sections


@dataclass(frozen=True)
class TemplateInfo:
    """What a template uses. Build it with :func:`analyze_template`.

    ``variables`` maps each root name to its uses, in order of first appearance.
    ``partials`` are the static references (``{{>id}}``, ``{{>id@5}}``) and
    ``dynamic_partials`` the variables naming a partial (``{{>>var}}``), both
    including those found in merged partials. ``merged_partials`` and
    ``missing_partials`` record what :func:`merge` folded in or was told is unknown.
    ``whole_view`` is True when ``{{.}}`` outside any section renders every
    variable (an ``item`` use in sections whose values are all ``true`` does too).
    ``error`` is the renderer's error for a template it rejects outright (an
    invalid set-delimiter tag); such a template reports no variables.
    """

    chat: bool
    variables: Mapping[str, tuple[VariableUse, ...]] = field(hash=False)
    partials: tuple[str, ...] = ()
    dynamic_partials: tuple[str, ...] = ()
    merged_partials: tuple[str, ...] = ()
    missing_partials: tuple[str, ...] = ()
    whole_view: bool = False
    error: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", MappingProxyType(dict(self.variables)))

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every root variable name the template (and merged partials) can read."""
        return tuple(self.variables)

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Names read as a value outside every section, or naming a partial.

        A missing one renders as ``""`` (or, for ``{{>>x}}``, makes Portkey reject
        the request), so a caller should be told. Names used only as sections or
        inside sections are optional by construction.
        """
        return tuple(
            name
            for name, uses in self.variables.items()
            if any((u.kind == "value" and u.top_level) or u.kind == "partial_name" for u in uses)
        )

    @cached_property
    def json_valued(self) -> tuple[str, ...]:
        """Names to send as JSON values: sections, dotted names, and splices outside strings."""
        return tuple(name for name, uses in self.variables.items() if any(map(_wants_json, uses)))

    @cached_property
    def string_valued(self) -> tuple[str, ...]:
        """Names only rendered as text: in JSON strings, text templates, or naming a partial."""
        json_valued = set(self.json_valued)
        return tuple(name for name in self.variables if name not in json_valued)


def _wants_json(use: VariableUse) -> bool:
    if use.kind in ("section", "inverted") or use.path:
        return True
    return use.kind == "value" and use.where == "json"


def _split(name: str) -> tuple[str, tuple[str, ...]]:
    # The renderer splits on dots only when the name does not start with one.
    if name.find(".") > 0:
        root, *rest = name.split(".")
        return root, tuple(rest)
    return name, ()


def _string_state(text: str, in_string: bool) -> bool:
    """Whether a JSON lexer is inside a string after ``text``."""
    pos, end = 0, len(text)
    while pos < end:
        if in_string:
            pos = _STRING_BODY.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= end or text[pos] != '"':
                # A trailing backslash escapes what the next tag renders.
                return True
            in_string = False
            pos += 1
        else:
            pos = text.find('"', pos)
            if pos < 0:
                return False
            in_string = True
            pos += 1
    return in_string


class _Collector:
    def __init__(self, chat: bool) -> None:
        self.chat = chat
        self.in_string = False
        self.variables: dict[str, list[VariableUse]] = {}
        self.partials: dict[str, None] = {}
        self.dynamic: dict[str, None] = {}
        self.whole_view = False

    def where(self) -> Where:
        if not self.chat:
            return "text"
        return "string" if self.in_string else "json"

    def add(self, name: str, kind: UseKind, sections: tuple[str, ...], raw: bool = False) -> None:
        if name == ".":
            if kind == "value":
                self.add_item(sections, raw)
            return
        root, path = _split(name)
        use = VariableUse(kind, path, sections, self.where(), raw)
        self.variables.setdefault(root, []).append(use)

    def add_item(self, sections: tuple[str, ...], raw: bool) -> None:
        # ``{{.}}`` is the innermost real section's item (``{{#.}}`` keeps the context).
        owner = next((s for s in reversed(sections) if s != "."), None)
        if owner is None:
            self.whole_view = True
            return
        root, path = _split(owner)
        use = VariableUse("value", path, sections, self.where(), raw, item=True)
        self.variables.setdefault(root, []).append(use)

    def walk(self, tree: list[Token]) -> None:
        # Iterative, so deeply nested sections cannot exhaust the stack.
        stack: list[tuple[Iterator[Token], tuple[str, ...]]] = [(iter(tree), ())]
        while stack:
            tokens, sections = stack[-1]
            token = next(tokens, None)
            if token is None:
                stack.pop()
                continue
            kind, value = token[0], token[1]
            if kind == "text":
                if self.chat:
                    self.in_string = _string_state(value, self.in_string)
            elif kind in ("name", "&"):
                self.add(value, "value", sections, raw=kind == "&")
            elif kind in ("#", "^"):
                self.add(value, "section" if kind == "#" else "inverted", sections)
                stack.append((iter(token[4]), (*sections, value)))
            elif kind == ">":
                self.partials.setdefault(value, None)
            elif kind == ">>":
                self.dynamic.setdefault(value, None)
                self.add(value, "partial_name", sections)

    def info(self) -> TemplateInfo:
        return TemplateInfo(
            chat=self.chat,
            variables={name: tuple(uses) for name, uses in self.variables.items()},
            partials=tuple(self.partials),
            dynamic_partials=tuple(self.dynamic),
            whole_view=self.whole_view,
        )


@lru_cache(maxsize=256)
def analyze_template(template: str, *, chat: bool) -> TemplateInfo:
    """Analyse ``template``: a chat template (JSON text of messages) or a text template.

    Never raises: malformed tags are ignored as the renderer keeps them as text,
    and a template the renderer rejects gives an info with ``error`` set.
    """
    try:
        tree = parse(template)
    except MustacheError as exc:
        return TemplateInfo(chat=chat, variables={}, error=str(exc))
    collector = _Collector(chat)
    collector.walk(tree)
    return collector.info()


def split_partial_ref(ref: str) -> tuple[str, str | None]:
    """``"id@5"`` → ``("id", "5")``; ``"id"`` → ``("id", None)``. The version may be a label."""
    partial_id, at, version = ref.partition("@")
    return partial_id, (version if at else None)


def partial_refs(
    info: TemplateInfo, variables: Mapping[str, object] | None = None
) -> tuple[str, ...]:
    """The partial references still to fetch: neither merged nor known to be missing.

    With ``variables``, the string values of ``dynamic_partials`` count too.
    """
    refs: Iterable[object] = info.partials
    if variables is not None:
        refs = [*info.partials, *(variables.get(name) for name in info.dynamic_partials)]
    done = {*info.merged_partials, *info.missing_partials}
    out: dict[str, None] = {}
    for ref in refs:
        if isinstance(ref, str) and ref not in done:
            out.setdefault(ref, None)
    return tuple(out)


def merge(info: TemplateInfo, partials: Mapping[str, TemplateInfo | None]) -> TemplateInfo:
    """``info`` with each fetched partial's variables added (None marks an unknown partial).

    Analyse a partial's text with ``chat=False``: Portkey renders a partial with
    the request's variables on its own, then escapes the result into a JSON
    string, so a partial's names are root lookups wherever ``{{>id}}`` sits; their
    ``sections`` are those inside the partial. Their uses get ``partial=ref``
    (uses from nested partials keep their own). A reference merged before is skipped.
    """
    variables = {name: list(uses) for name, uses in info.variables.items()}
    refs = dict.fromkeys(info.partials)
    dynamic = dict.fromkeys(info.dynamic_partials)
    merged = dict.fromkeys(info.merged_partials)
    missing = dict.fromkeys(info.missing_partials)
    whole_view, error = info.whole_view, info.error
    for ref, part in partials.items():
        if ref in merged or ref in missing:
            continue
        if part is None:
            missing[ref] = None
            continue
        merged[ref] = None
        for name, uses in part.variables.items():
            bucket = variables.setdefault(name, [])
            bucket.extend(u if u.partial is not None else replace(u, partial=ref) for u in uses)
        refs.update(dict.fromkeys(part.partials))
        dynamic.update(dict.fromkeys(part.dynamic_partials))
        merged.update(dict.fromkeys(r for r in part.merged_partials if r not in missing))
        missing.update(dict.fromkeys(r for r in part.missing_partials if r not in merged))
        whole_view = whole_view or part.whole_view
        error = error or part.error
    return TemplateInfo(
        chat=info.chat,
        variables={name: tuple(uses) for name, uses in variables.items()},
        partials=tuple(refs),
        dynamic_partials=tuple(dynamic),
        merged_partials=tuple(merged),
        missing_partials=tuple(missing),
        whole_view=whole_view,
        error=error,
    )


def follow_partials(
    info: TemplateInfo,
    resolve: PartialResolver,
    variables: Mapping[str, object] | None = None,
) -> TemplateInfo:
    """Merge every partial reachable from ``info``, fetching texts with ``resolve``.

    ``resolve(partial_id, version_or_None)`` returns the partial's template text,
    or None when it is unknown. Each reference is fetched once, so cycles end.
    With ``variables``, dynamic partials named by string values are followed too.
    """
    while refs := partial_refs(info, variables):
        found: dict[str, TemplateInfo | None] = {}
        for ref in refs:
            text = resolve(*split_partial_ref(ref))
            found[ref] = None if text is None else analyze_template(text, chat=False)
        info = merge(info, found)
    return info
