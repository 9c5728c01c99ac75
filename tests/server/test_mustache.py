"""The Python renderer against the table of vectors, and against the real npm package."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portkey_integrations._templates.mustache import MustacheError, render, template_details

HERE = Path(__file__).parent
VECTORS: list[dict[str, Any]] = json.loads((HERE / "mustache_vectors.json").read_text("utf-8"))
NODE_DIR = HERE / "node"
NODE_PACKAGE = NODE_DIR / "node_modules" / "@portkey-ai" / "mustache"


def python_result(vector: dict[str, Any]) -> dict[str, str]:
    try:
        return {"output": render(vector["template"], vector["view"], vector.get("partials"))}
    except MustacheError as exc:
        return {"error": str(exc)}


def expected(vector: dict[str, Any]) -> dict[str, str]:
    return {k: vector[k] for k in ("output", "error") if k in vector}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    assert python_result(vector) == expected(vector)


def run_node(cases: list[dict[str, Any]]) -> list[dict[str, str]]:
    node = shutil.which("node")
    if node is None or not NODE_PACKAGE.is_dir():
        pytest.skip(
            "node and @portkey-ai/mustache are not installed (cd tests/server/node && npm ci)"
        )
    done = subprocess.run(
        [node, str(NODE_DIR / "render.mjs")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    results: list[dict[str, str]] = json.loads(done.stdout)
    return results


def test_vectors_agree_with_the_npm_package() -> None:
    cases = [
        {"template": v["template"], "view": v["view"], "partials": v.get("partials")}
        for v in VECTORS
    ]
    node = run_node(cases)
    mismatches = [
        (v["name"], js, python_result(v))
        for v, js in zip(VECTORS, node, strict=True)
        if js != python_result(v)
    ]
    assert mismatches == []
    # The table itself must say what the npm package says.
    assert [expected(v) for v in VECTORS] == node


def test_random_templates_agree_with_the_npm_package() -> None:
    import random

    pieces = [
        "{{", "}}", "{{{", "}}}", "{{#a}}", "{{/a}}", "{{^a}}", "{{#l}}", "{{/l}}", "{{.}}",
        "{{{.}}}", "{{x}}", "{{ x }}", "{{&x}}", "{{!c}}", "{{! c }}", "{{>p}}", "{{>>v}}",
        "{{=<% %>=}}", "<%x%>", "{{o.k}}", "{{l.length}}", "{{n}}", "{{b}}", "{{z}}", " ", "\n",
        "  \n", "x", '"', "\\", "[", ",", "{{#", "{{/", "{{>", "{{x", "{{user name}}", "{{^z}}",
        "{{/z}}",
    ]  # fmt: skip
    view = {
        "a": True, "l": [{"k": 1}, {"k": "two"}, 3], "x": 'q"z\\\n\t', "o": {"k": [1, 2.5]},
        "n": 42, "b": False, "z": None, "v": "p", "user name": "U",
    }  # fmt: skip
    rng = random.Random(20240601)
    cases = [
        {
            "template": "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10))),
            "view": view,
            "partials": {"p": "P{{x}}\n {{n}}"},
        }
        for _ in range(400)
    ]
    node = run_node(cases)
    for case, js in zip(cases, node, strict=True):
        assert python_result(case) == js, case["template"]


def test_template_details_lists_partials_and_variables() -> None:
    details = template_details("{{a}} {{#s}}{{b.c}}{{/s}} {{>pp-p@2}} {{>>which}} {{{d}}}")
    assert details["partials"] == ["pp-p@2"]
    assert details["variablePartials"] == ["which"]
    assert details["sections"] == ["s"]
    assert sorted(details["variables"]) == ["a", "b", "d"]


@pytest.mark.parametrize(
    ("template", "partial", "expected"),
    [
        # mustache.js pads a partial with a space per UTF-16 code unit before its tag:
        # an emoji is two (the npm package's outputs, found by the property test).
        ("😀x{{>p}}", "\r\na", "😀x\r\n   a"),
        ("é😀 {{>p}}", "a\nb", "é😀 a\n    b"),
        ("ab {{>p}}", "a\nb", "ab a\n   b"),
    ],
)
def test_partial_indentation_counts_utf16_units(template: str, partial: str, expected: str) -> None:
    assert render(template, {}, {"p": partial}) == expected


def test_recursive_partials_fail_like_javascript() -> None:
    # A variable that renders a partial tag into the partial's own text recurses.
    with pytest.raises(MustacheError, match="Maximum call stack size exceeded"):
        render("{{>p}}", {"x": "{{>p}}"}, {"p": "{{{x}}}{{>p}}"})


def test_server_module_re_exports_the_core_renderer() -> None:
    from portkey_integrations import PortkeyError
    from portkey_integrations._templates import mustache as _mustache

    assert render is _mustache.render
    assert template_details is _mustache.template_details
    assert issubclass(MustacheError, PortkeyError)


def test_long_malformed_templates_agree_with_the_npm_package() -> None:
    # Many tags without a closing delimiter: the parser's look-ahead is reused across them.
    templates = [
        "{{x " * 300 + "}} {{x}}",
        "{{" * 300 + "{{x}}",
        "{{>" * 200 + "{{>p}}" + "{{#a}}" * 50 + "{{x}}",
        "{{{x " * 200 + "}}}",
        "{{=<% %>=}}" + "<%x " * 200 + "%> {{x}} <%={{ }}=%>{{x}}",
        "{{! " * 100 + "}} " + "a\n  " * 100 + "{{#l}}{{k}}{{/l}}",
    ]
    view = {"a": True, "l": [{"k": 1}], "x": "v", "x {{x": "w"}
    cases = [{"template": t, "view": view, "partials": {"p": "P"}} for t in templates]
    for case, js in zip(cases, run_node(cases), strict=True):
        assert python_result(case) == js, case["template"][:40]
