"""The server package's imports, read statically: no late imports of siblings, no cycles."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import portkey_integrations
import portkey_integrations.server as server_package
from portkey_integrations.resources import _models as wire

PACKAGE = "portkey_integrations.server"
ROOT = Path(server_package.__file__).parent
MODULES = {path.stem: path for path in sorted(ROOT.glob("*.py"))}


def _sibling(node: ast.ImportFrom | ast.Import) -> list[str]:
    """The server modules an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return [n.split(".")[2] for n in names if n.startswith(PACKAGE + ".")]
    if node.level == 1:
        if node.module is None:  # from . import x
            return [alias.name for alias in node.names if alias.name in MODULES]
        return [node.module.split(".")[0]]
    if node.level == 0 and (node.module or "").startswith(PACKAGE + "."):
        return [(node.module or "").split(".")[2]]
    return []


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """Every sibling module imported (anywhere: a late import still makes a cycle), and
    the late imports (inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported.update(_sibling(node))
    late = []
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and _sibling(node):
                    late.append(f"{path.name}:{node.lineno} in {func.name}()")
    return imported - {"__init__"}, late


GRAPH = {name: _imports(path)[0] for name, path in MODULES.items() if name != "__init__"}


def test_the_package_is_what_the_test_reads() -> None:
    assert {"app", "pipeline", "store", "records", "state", "feedback"} <= set(GRAPH)
    assert all(GRAPH[name] <= set(MODULES) for name in GRAPH)


def test_no_function_imports_a_sibling_module() -> None:
    late = [where for path in MODULES.values() for where in _imports(path)[1]]
    assert late == []


def test_the_module_import_graph_has_no_cycle() -> None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(GRAPH.get(name, ())):
            visit(target, [*path, name])
        done.add(name)

    for name in GRAPH:
        visit(name, [])


def test_every_route_module_reaches_the_pipeline_and_none_copies_it() -> None:
    # The routes use the pipeline; only the pipeline reads the body and records it.
    for name in ("completions", "embeddings", "feedback", "control", "admin"):
        assert "pipeline" in GRAPH[name], name
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if name not in ("pipeline", "state"):
            assert "read_body(" not in text and ".record(" not in text, name


def test_the_old_re_export_modules_are_gone() -> None:
    assert "mustache" not in MODULES and "jsvalues" not in MODULES


def test_server_names_do_not_shadow_the_client_s() -> None:
    # The server's stored models and errors are named apart from the client's public
    # names and wire models (Prompt, PromptVersion, Label, PortkeyError, ...).
    client = set(portkey_integrations.__all__)
    client |= {
        name
        for name, value in vars(wire).items()
        if isinstance(value, type) and value.__module__ == wire.__name__
    }
    for name in MODULES:
        module = importlib.import_module(f"{PACKAGE}.{name}" if name != "__init__" else PACKAGE)
        clash = set(getattr(module, "__all__", ())) & client
        assert not clash, (name, clash)
    assert {"Prompt", "PromptVersion", "Label", "PortkeyError"} <= client
