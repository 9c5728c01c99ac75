"""Template analysis: which variables a prompt template reads, how, and through which partials."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portkey_integrations import PortkeyError
from portkey_integrations._templates.analysis import (
    TemplateInfo,
    VariableUse,
    analyze_template,
    follow_partials,
    merge,
    partial_refs,
    split_partial_ref,
)
from portkey_integrations._templates.mustache import MustacheError, render

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "server" / "mustache_vectors.json").read_text("utf-8")
)
PIECES = [
    "{{", "}}", "{{{", "}}}", "{{#a}}", "{{/a}}", "{{^a}}", "{{#l}}", "{{/l}}", "{{.}}",
    "{{{.}}}", "{{x}}", "{{ x }}", "{{&x}}", "{{!c}}", "{{! c }}", "{{>p}}", "{{>>v}}",
    "{{=<% %>=}}", "<%x%>", "<%y%>", "{{o.k}}", "{{n}}", " ", "\n", "  \n", "w", '"', "\\",
    "[", ",", "{{#", "{{/", "{{>", "{{x", "{{user name}}", "{{^z}}", "{{/z}}", "{{#o.k}}",
    "{{/o.k}}", "{{=", "}",
]  # fmt: skip
MARK = "Zq9"


def uses(template: str, name: str, *, chat: bool = False) -> tuple[VariableUse, ...]:
    return analyze_template(template, chat=chat).variables[name]


# --- kinds of use -------------------------------------------------------------


def test_plain_values_escaped_and_raw() -> None:
    info = analyze_template("{{a}} {{{b}}} {{&c}} {{ d }} {{user name}}", chat=False)
    assert info.names == ("a", "b", "c", "d", "user name")
    assert [info.variables[n][0].raw for n in info.names] == [False, True, True, False, False]
    assert all(u.kind == "value" and u.top_level for n in info.names for u in info.variables[n])
    assert info.required == info.names
    assert info.string_valued == info.names
    assert info.json_valued == ()


def test_sections_inverted_sections_and_context_lookups() -> None:
    info = analyze_template("{{#docs}}{{title}}{{/docs}}{{^empty}}none{{/empty}}", chat=False)
    assert uses("{{#docs}}{{title}}{{/docs}}", "docs")[0].kind == "section"
    assert info.variables["empty"][0].kind == "inverted"
    title = info.variables["title"][0]
    assert title.sections == ("docs",) and not title.top_level
    # Names inside a section are lookups that may come from the item: not required.
    assert info.required == ()
    assert set(info.json_valued) == {"docs", "empty"}
    assert info.string_valued == ("title",)


def test_dotted_names_split_into_root_and_path() -> None:
    info = analyze_template(
        "{{user.name}} {{#user.tags}}{{.}}{{/user.tags}} {{.hidden}}", chat=False
    )
    assert [u.path for u in info.variables["user"]] == [("name",), ("tags",), ("tags",)]
    assert [u.kind for u in info.variables["user"]] == ["value", "section", "value"]
    assert info.variables["user"][2].item
    # A leading dot is no path: the renderer looks the whole name up.
    assert info.variables[".hidden"][0].path == ()
    assert info.required == ("user", ".hidden")
    assert info.json_valued == ("user",)


def test_implicit_iterator_belongs_to_the_innermost_section() -> None:
    info = analyze_template("{{#a}}{{#b}}{{.}}{{/b}}{{#.}}{{{.}}}{{/.}}{{/a}}", chat=False)
    assert [u.item for u in info.variables["b"]] == [False, True]
    assert [(u.item, u.raw) for u in info.variables["a"]] == [(False, False), (True, True)]
    assert "." not in info.names
    assert not info.whole_view
    assert analyze_template("{{.}}", chat=False).whole_view


def test_chat_template_tells_strings_from_splices() -> None:
    template = (
        '[{"role":"system","content":"Hi {{name}}, say \\"{{quote}}\\" \\\\"}, {{{history}}},'
        ' {{#turns}}{{{.}}},{{/turns}} {"role":"user","content":"{{question}}"}, {{extra}}]'
    )
    info = analyze_template(template, chat=True)
    where = {name: [u.where for u in info.variables[name]] for name in info.names}
    assert where == {
        "name": ["string"],
        "quote": ["string"],
        "history": ["json"],
        "turns": ["json", "json"],
        "question": ["string"],
        "extra": ["json"],
    }
    assert info.string_valued == ("name", "quote", "question")
    assert info.json_valued == ("history", "turns", "extra")
    assert info.required == ("name", "quote", "history", "question", "extra")


def test_text_templates_have_no_json_positions() -> None:
    info = analyze_template('say "{{x}}" then [{{{y}}}]', chat=False)
    assert [u.where for n in info.names for u in info.variables[n]] == ["text", "text"]
    assert info.string_valued == ("x", "y")


def test_partials_and_dynamic_partials() -> None:
    info = analyze_template(
        "{{>intro}} {{>pp-tone@5}} {{>intro}} {{#s}}{{>>which}}{{/s}}", chat=False
    )
    assert info.partials == ("intro", "pp-tone@5")
    assert info.dynamic_partials == ("which",)
    assert info.variables["which"][0].kind == "partial_name"
    # Portkey rejects a request missing a dynamic partial's variable, even in a section.
    assert info.required == ("which",)
    assert split_partial_ref("pp-tone@5") == ("pp-tone", "5")
    assert split_partial_ref("pp-tone@latest") == ("pp-tone", "latest")
    assert split_partial_ref("intro") == ("intro", None)


def test_comments_and_set_delimiters_follow_the_renderer() -> None:
    info = analyze_template(
        "{{! {{a}} }}{{!b}} {{=<% %>=}}<% c %> {{d}} <%={{ }}=%>{{e}}", chat=False
    )
    assert info.names == ("c", "e")
    assert render("{{=<% %>=}}<% c %> {{d}}", {"c": 1, "d": 2}) == "1 {{d}}"


def test_malformed_templates_are_ignored_like_literal_text() -> None:
    for template in [
        "Hi {{name",
        "{{/a}}{{x}}",
        "{{#",
        "{{>",
        "}}{{",
        "{{=",
        "{{x {{y",
    ]:
        info = analyze_template(template, chat=True)
        assert info.error is None
        assert set(info.names) <= {"x"}
    # A tag runs to the first closing delimiter, opening ones included, as in the fork.
    assert analyze_template("{{x {{y}}", chat=False).names == ("x {{y",)
    assert render("{{x {{y}}", {"x {{y": "Q", "y": "R"}) == "Q"
    # The fork reads an unbalanced triple mustache to the end: the name keeps the braces.
    assert analyze_template("{{{x}}", chat=False).names == ("x}}",)
    assert render("{{{x}}", {"x}}": "Q"}) == "Q"
    # An unclosed section still guards what follows it, as when rendering.
    assert analyze_template("{{#a}}{{b}}", chat=False).variables["b"][0].sections == ("a",)


def test_a_template_the_renderer_rejects_reports_its_error() -> None:
    info = analyze_template("{{x}} {{=<%=}}", chat=False)
    assert info.error == "Error: Invalid tags: <%"
    assert info.names == ()
    with pytest.raises(MustacheError, match="Invalid tags"):
        render("{{x}} {{=<%=}}", {})
    assert issubclass(MustacheError, PortkeyError)


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    template = "{{#s}}" * 5000 + "{{x}}" + "{{/s}}" * 5000
    info = analyze_template(template, chat=False)
    assert len(info.variables["x"][0].sections) == 5000


def test_info_is_immutable_and_hashable() -> None:
    info = analyze_template("{{a}}", chat=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.chat = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        info.variables["b"] = ()  # type: ignore[index]
    assert hash(info) == hash(analyze_template("{{a}}", chat=False))
    assert info == TemplateInfo(chat=False, variables={"a": (VariableUse("value"),)})


# --- partials -------------------------------------------------------------------

PARTIALS = {
    ("tone", None): "Be {{adjective}}. {{#examples}}{{.}}{{/examples}}{{>sig@2}}",
    ("sig", "2"): "-- {{author.name}} {{>tone}}",  # points back at tone: a cycle
    ("dyn", None): "dynamic {{d}}",
}


def resolve(partial_id: str, version: str | None) -> str | None:
    return PARTIALS.get((partial_id, version))


def test_follow_partials_merges_nested_partials_and_stops_at_cycles() -> None:
    info = analyze_template('[{"role":"user","content":"{{>tone}} {{>gone@3}} {{q}}"}]', chat=True)
    followed = follow_partials(info, resolve)
    assert followed.merged_partials == ("tone", "sig@2")
    assert followed.missing_partials == ("gone@3",)
    assert followed.partials == ("tone", "gone@3", "sig@2")
    assert followed.names == ("q", "adjective", "examples", "author")
    assert followed.variables["adjective"][0].partial == "tone"
    assert followed.variables["author"][0].partial == "sig@2"
    assert followed.variables["adjective"][0].where == "text"
    assert followed.required == ("q", "adjective", "author")
    assert partial_refs(followed) == ()


def test_dynamic_partials_are_followed_with_the_variables() -> None:
    info = analyze_template("{{>>kind}} {{>>other}}", chat=False)
    assert partial_refs(info) == ()
    assert partial_refs(info, {"kind": "dyn", "other": 3}) == ("dyn",)
    followed = follow_partials(info, resolve, {"kind": "dyn"})
    assert followed.names == ("kind", "other", "d")


def test_partial_refs_and_merge_let_a_caller_fetch_asynchronously() -> None:
    fetched: list[str] = []

    async def fetch(ref: str) -> str | None:
        fetched.append(ref)
        await asyncio.sleep(0)
        return resolve(*split_partial_ref(ref))

    async def follow(info: TemplateInfo) -> TemplateInfo:
        while refs := partial_refs(info):
            texts = await asyncio.gather(*(fetch(ref) for ref in refs))
            found = {
                ref: None if text is None else analyze_template(text, chat=False)
                for ref, text in zip(refs, texts, strict=True)
            }
            info = merge(info, found)
        return info

    start = analyze_template("{{>tone}}{{>tone}}", chat=False)
    result = asyncio.run(follow(start))
    assert fetched == ["tone", "sig@2"]
    assert result == follow_partials(start, resolve)


def test_merge_skips_references_merged_before() -> None:
    info = analyze_template("{{>p}}", chat=False)
    once = merge(info, {"p": analyze_template("{{a}}", chat=False)})
    twice = merge(once, {"p": analyze_template("{{b}}", chat=False), "r": None})
    assert twice.names == ("a",)
    assert twice.missing_partials == ("r",)
    assert analyze_template("{{>p}}", chat=False).names == ()


# --- cross-checks against the renderer ---------------------------------------


def value_for(info: TemplateInfo, name: str) -> Any:
    # A value reaching the first top-level value use, dotted path included.
    use = next(u for u in info.variables[name] if u.kind == "value" and u.top_level)
    value: Any = MARK
    for part in reversed(use.path):
        value = {part: value}
    return value


def check_against_renderer(template: str, view: dict[str, Any], partials: dict[str, str]) -> None:
    info = analyze_template(template, chat=False)
    if info.error is not None:
        return
    value_required = [
        n
        for n in info.required
        if any(u.kind == "value" and u.top_level for u in info.variables[n])
    ]
    empty = render(template, {}, partials)
    for name in value_required:
        assert render(template, {name: value_for(info, name)}, partials) != empty, name
    if value_required:
        full = {n: value_for(info, n) for n in value_required}
        assert render(template, full, partials) != empty
    # Names the analysis does not report must not matter, with or without a view.
    followed = follow_partials(info, lambda i, v: partials.get(i if v is None else f"{i}@{v}"))
    # ``{{.}}`` is the whole view outside sections, and inside a section whose value is true.
    if followed.whole_view or any(u.item for v in followed.variables.values() for u in v):
        return
    words = set(re.findall(r"[A-Za-z_][\w ]*", template)) | {"unused", "k", "length"}
    extra = {w: MARK for w in words if w not in followed.names and w not in view}
    try:
        base = render(template, view, partials)
    except MustacheError:
        return
    assert render(template, {**view, **extra}, partials) == base, sorted(extra)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vectors_agree_with_the_renderer(vector: dict[str, Any]) -> None:
    view = vector["view"] if isinstance(vector["view"], dict) else {}
    check_against_renderer(vector["template"], view, vector.get("partials") or {})


def test_generated_templates_agree_with_the_renderer() -> None:
    rng = random.Random(20240602)
    view = {"a": True, "l": [{"k": 1}, 3], "x": "s", "o": {"k": [1]}, "n": 42, "v": "p"}
    for _ in range(300):
        template = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12)))
        check_against_renderer(template, view, {"p": "P{{x}}{{pn}}"})


templates = st.lists(
    st.sampled_from(PIECES) | st.text(alphabet='{}#^/>&=!. x"\\\n%<', max_size=4), max_size=14
).map("".join)


@pytest.mark.slow  # a heavy property run
@settings(max_examples=300, deadline=None)
@given(template=templates, chat=st.booleans())
def test_analysis_never_raises_and_names_come_from_the_text(template: str, chat: bool) -> None:
    info = analyze_template(template, chat=chat)
    for name in (*info.names, *info.partials, *info.dynamic_partials):
        assert name in template
    assert set(info.required) <= set(info.names)
    assert set(info.json_valued) | set(info.string_valued) == set(info.names)
    assert not set(info.json_valued) & set(info.string_valued)


@pytest.mark.slow  # a heavy property run
@settings(max_examples=200, deadline=None)
@given(template=templates)
def test_generated_templates_agree_with_the_renderer_property(template: str) -> None:
    check_against_renderer(
        template, {"a": True, "l": [1, {"k": 2}], "o": {"k": "v"}}, {"p": "{{pn}}"}
    )
