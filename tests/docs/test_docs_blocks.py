"""Every ```python block of the README and of ``docs/*.md`` runs as a reader would run it.

Each block runs alone in a subprocess, in an empty folder, with no ``PORTKEY_*``
variables: a block must be self-contained and opt into the local server itself
(``base_url="local"``). A block that cannot run offline carries, on the line just
above its fence, ``<!-- not-runnable: the reason -->``; exactly those are skipped, and
the reason must be given. A line ending in ``# -> TEXT`` promises that TEXT appears in
the block's output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FIRST_SCREEN = 40  # lines of the README a newcomer sees before scrolling
README_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[langchain,server]' && "
    ".venv/bin/python examples/langchain_chain.py",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
    ".venv/bin/python -m pytest -q",
)

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_MARKER = re.compile(r"^\s*<!--\s*not-runnable\b:?\s*(?P<reason>.*?)\s*-->\s*$")
_PROMISE = re.compile(r"#\s*->\s*(?P<text>.+?)\s*$")
_PYTHON = frozenset({"python", "py", "python3"})


@dataclass(frozen=True)
class Block:
    """One fenced python block: where it is, its code, and its not-runnable reason."""

    page: Path
    line: int
    code: str
    skip_reason: str | None  # None: runnable; "" would be a marker without a reason

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def promises(self) -> list[str]:
        return [m["text"] for line in self.code.splitlines() if (m := _PROMISE.search(line))]


def python_blocks(page: Path) -> list[Block]:
    """The page's fenced python blocks, with the marker above each, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if opening["info"].lower() in _PYTHON:
            body = [line[indent:] for line in lines[i + 1 : end]]
            above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = _MARKER.match(above)
            reason = marker["reason"] if marker else None
            blocks.append(Block(page, i + 1, "\n".join(body) + "\n", reason))
        i = end + 1
    return blocks


def stale_markers(page: Path) -> list[int]:
    """Lines of markers that are not just above a python block."""
    marked = {b.line for b in python_blocks(page) if b.skip_reason is not None}
    lines = page.read_text(encoding="utf-8").splitlines()
    stale = []
    for number, line in enumerate(lines, 1):
        if _MARKER.match(line):
            after = next((n for n in range(number + 1, len(lines) + 1) if lines[n - 1].strip()), 0)
            if after not in marked:
                stale.append(number)
    return stale


BLOCKS = [block for page in PAGES for block in python_blocks(page)]


def _run(block: Block, folder: Path) -> subprocess.CompletedProcess[str]:
    script = folder / "block.py"
    script.write_text(block.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTKEY_")}
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    """Every selected runnable block, started at once (they mostly wait on servers)."""
    params = [
        item.callspec.params.get("block")
        for item in request.session.items
        if isinstance(item, pytest.Function) and hasattr(item, "callspec")
    ]
    selected = {block.id for block in params if isinstance(block, Block)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield {
            b.id: pool.submit(_run, b, tmp_path_factory.mktemp("block"))
            for b in BLOCKS
            if b.skip_reason is None and b.id in selected
        }


@pytest.mark.slow  # each block in its own interpreter
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs(
    block: Block, runs: dict[str, Future[subprocess.CompletedProcess[str]]]
) -> None:
    if block.skip_reason is not None:
        assert block.skip_reason, f"{block.id}: a not-runnable marker must give its reason"
        pytest.skip(f"not runnable: {block.skip_reason}")
    done = runs[block.id].result()
    assert done.returncode == 0, f"{block.id} failed:\n{done.stdout}\n{done.stderr}"
    missing = [text for text in block.promises() if text not in done.stdout]
    assert not missing, f"{block.id} did not print {missing}:\n{done.stdout}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_markers_sit_just_above_a_python_block(page: Path) -> None:
    assert stale_markers(page) == []


def test_blocks_are_found() -> None:
    # A parser that found nothing would make the suite pass vacuously.
    pages = {b.page.name for b in BLOCKS}
    assert {"README.md", "langchain.md", "llama-index.md", "configuration.md"} <= pages
    assert sum(b.skip_reason is None for b in BLOCKS) >= 20


def test_parser_reads_markers_and_indented_fences(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- not-runnable: needs a Portkey key -->\n```python\nx = 1\n```\n\n"
        "- item\n\n  ```python\n  print(2)  # -> 2\n  ```\n\n"
        "<!-- not-runnable -->\n\n```py\ny = 2\n```\n```bash\nls\n```\n"
        "<!-- not-runnable: orphan -->\ntext\n"
    )
    first, second, third = python_blocks(page)
    assert (first.skip_reason, first.code) == ("needs a Portkey key", "x = 1\n")
    assert (second.skip_reason, second.code, second.promises()) == (
        None,
        "print(2)  # -> 2\n",
        ["2"],
    )
    assert third.skip_reason == ""  # a marker without a reason: test_block_runs fails on it
    assert stale_markers(page) == [20]


def test_readme_first_screen_has_the_two_commands_and_the_opt_in() -> None:
    first = "\n".join((ROOT / "README.md").read_text().splitlines()[:FIRST_SCREEN])
    for command in README_COMMANDS:
        assert command in first
    assert 'base_url="local"' in first and "PORTKEY_BASE_URL=local" in first


@pytest.mark.slow  # a whole mkdocs build
def test_mkdocs_site_builds_strictly(tmp_path: Path) -> None:
    # Broken links and anchors, pages missing from the nav, docstrings the API reference
    # cannot render: ``--strict`` turns each into a failure (not with ``-q``, which hides
    # the warnings strict mode counts).
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "index.html").read_text().count("doc-heading") > 50
