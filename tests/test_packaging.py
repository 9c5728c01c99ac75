"""Packaging: one version, dependency floors that hold here, and benchmark peers kept optional."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

import portkey_integrations

packaging_requirements = pytest.importorskip("packaging.requirements")
packaging_utils = pytest.importorskip("packaging.utils")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "portkey_integrations"
DIST = "portkey-integrations"
# The extras the test suite runs with; every requirement in them must be installed here.
INSTALLED_EXTRAS = ("langchain", "llama-index", "server", "test")
# Import names of the benchmark-only peers, by distribution name.
BENCH_MODULES = {
    "portkey-ai": "portkey_ai",
    "langchain-openai": "langchain_openai",
    "llama-index-llms-openai": "llama_index.llms.openai",
    "psutil": "psutil",
}


def _pyproject() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    with (ROOT / "pyproject.toml").open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    return data


def _requirements(*extras: str) -> list[Any]:
    project = _pyproject()["project"]
    lines: list[str] = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    reqs = [packaging_requirements.Requirement(line) for line in lines]
    return [r for r in reqs if packaging_utils.canonicalize_name(r.name) != DIST]


def _names(requirements: list[Any]) -> set[str]:
    return {packaging_utils.canonicalize_name(r.name) for r in requirements}


def test_installed_version_is_the_package_version() -> None:
    assert version(DIST) == portkey_integrations.__version__


def test_version_is_read_from_the_package_not_written_in_pyproject() -> None:
    project = _pyproject()["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    source = ROOT / _pyproject()["tool"]["hatch"]["version"]["path"]
    assert source.resolve().is_relative_to(SRC)
    assert f'__version__ = "{portkey_integrations.__version__}"' in source.read_text("utf-8")


def test_every_declared_range_holds_for_the_installed_versions() -> None:
    unmet = []
    for req in _requirements(*INSTALLED_EXTRAS):
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            unmet.append(f"{req} (not installed)")
            continue
        if not req.specifier.contains(installed, prereleases=True):
            unmet.append(f"{req} (installed {installed})")
    assert unmet == []


def test_every_requirement_has_a_floor() -> None:
    no_floor = [
        str(r)
        for r in _requirements(*_pyproject()["project"]["optional-dependencies"])
        if not any(spec.operator in (">=", "==", "~=") for spec in r.specifier)
    ]
    assert no_floor == []


def test_bench_extra_lists_exactly_the_known_benchmark_peers() -> None:
    assert _names(_requirements("bench")) - _names(_requirements()) == set(BENCH_MODULES)


def test_bench_peers_are_not_required_by_any_runtime_extra() -> None:
    runtime = _names(_requirements("langchain", "llama-index", "server"))
    assert runtime.isdisjoint(BENCH_MODULES)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_package_source_never_imports_a_benchmark_peer() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(SRC.rglob("*.py"))
        for module in sorted(_imported_modules(path))
        for peer in BENCH_MODULES.values()
        if module == peer or module.startswith(peer + ".")
    ]
    assert offenders == []


_BLOCKED_IMPORTS = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = sys.argv[1].split(",")

class Missing(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == b or fullname.startswith(b + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None

sys.meta_path.insert(0, Missing())
import portkey_integrations, portkey_integrations.server, portkey_integrations.testing
import portkey_integrations.langchain, portkey_integrations.llama_index
print("imported")
"""


@pytest.mark.slow  # fresh interpreters
def test_package_and_adapters_import_with_the_benchmark_peers_missing() -> None:
    for module in ("langchain_core", "llama_index.core"):
        importlib.import_module(module)  # the adapters' own frameworks are here
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORTS, ",".join(BENCH_MODULES.values())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_console_script_target_resolves() -> None:
    target = _pyproject()["project"]["scripts"]["portkey-local"]
    module_name, _, attr = target.partition(":")
    assert module_name == "portkey_integrations._cli.local"
    assert callable(getattr(importlib.import_module(module_name), attr))
