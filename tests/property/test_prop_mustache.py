"""Properties of the Mustache renderer on generated templates and views.

Python alone: any template renders to a string or raises ``MustacheError``. Against
``@portkey-ai/mustache`` (Node, ``npm ci --prefix tests/server/node``): every generated
case renders exactly as the npm package renders it, all cases in one Node process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portkey_integrations._templates.mustache import MustacheError, render

NODE_DIR = Path(__file__).parents[1] / "server" / "node"
NODE_PACKAGE = NODE_DIR / "node_modules" / "@portkey-ai" / "mustache"

TAGS = [
    "{{", "}}", "{{{", "}}}", "{{#a}}", "{{/a}}", "{{^a}}", "{{#l}}", "{{/l}}", "{{.}}",
    "{{{.}}}", "{{x}}", "{{ x }}", "{{&x}}", "{{!c}}", "{{! c }}", "{{>p}}", "{{>>v}}",
    "{{=<% %>=}}", "<%x%>", "<%={{ }}=%>", "{{o.k}}", "{{l.length}}", "{{n}}", "{{b}}",
    "{{z}}", "{{#o}}", "{{/o}}", "{{#x}}", "{{/x}}", "{{^b}}", "{{/b}}", "{{user name}}",
    "{{#", "{{/", "{{>", "{{x", "{{#s}}", "{{/s}}", "{{f}}", "{{e}}", "{{#e}}", "{{/e}}",
]  # fmt: skip
TEXT = [" ", "\n", "  \n", "\r\n", "\t", "x", '"', "\\", "[", ",", "é", "😀", "{", "}"]

templates = st.lists(st.sampled_from(TAGS) | st.sampled_from(TEXT), max_size=12).map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.sampled_from([0.5, -2.25, 1e21, 1e-7, 3.0])
    | st.text(alphabet=st.sampled_from('ab"\\\n\t{}é'), max_size=5)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["k", "x", "a", "length"]), inner, max_size=3)
    ),
    max_leaves=6,
)
views = st.fixed_dictionaries(
    {},
    optional={name: json_values for name in ("a", "l", "x", "o", "n", "b", "z", "s", "e", "f")},
)
partials = st.none() | st.fixed_dictionaries({"p": templates})


def python_result(template: str, view: Any, parts: dict[str, str] | None) -> dict[str, str]:
    try:
        return {"output": render(template, view, parts)}
    except MustacheError as exc:
        return {"error": str(exc)}


@pytest.mark.slow  # a heavy property run
@settings(max_examples=300, deadline=None, database=None)
@given(template=templates, view=views, parts=partials)
def test_any_template_renders_or_raises_mustache_error(
    template: str, view: dict[str, Any], parts: dict[str, str] | None
) -> None:
    result = python_result(template, view, parts)
    assert isinstance(result.get("output", result.get("error")), str)


def run_node(cases: list[dict[str, Any]]) -> list[dict[str, str]]:
    node = shutil.which("node")
    if node is None or not NODE_PACKAGE.is_dir():
        pytest.skip("node and @portkey-ai/mustache are missing (npm ci --prefix tests/server/node)")
    done = subprocess.run(
        [node, str(NODE_DIR / "render.mjs")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results: list[dict[str, str]] = json.loads(done.stdout)
    return results


@pytest.mark.slow  # a heavy property run, through Node
def test_generated_templates_render_as_the_npm_package() -> None:
    # Hypothesis generates the cases, Node renders them all in one process: one Node
    # start per example would cost seconds. Mismatches are listed with their inputs.
    cases: list[dict[str, Any]] = []

    @settings(max_examples=400, deadline=None, database=None)
    @given(template=templates, view=views, parts=partials)
    def collect(template: str, view: dict[str, Any], parts: dict[str, str] | None) -> None:
        cases.append({"template": template, "view": view, "partials": parts})

    collect()
    expected = run_node(cases)
    mismatches = [
        (case, js, python_result(case["template"], case["view"], case["partials"]))
        for case, js in zip(cases, expected, strict=True)
        if js != python_result(case["template"], case["view"], case["partials"])
    ]
    assert len(cases) >= 100
    assert mismatches == []
