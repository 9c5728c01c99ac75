"""``python -m benchmarks --quick`` runs end to end and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a full quick benchmark run in a subprocess (~40-60 s)

REPO = Path(__file__).resolve().parent.parent
PEERS = ("langchain_openai", "llama_index.llms.openai", "portkey_ai")


def _missing_peers() -> list[str]:
    import importlib.util

    missing = []
    for name in PEERS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def test_quick_run_prints_every_section_of_the_table(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a timing assertion
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| row | ours | peer |")
    names = {line.split(" | ")[0].removeprefix("| ") for line in table[1:]}
    for expected in (
        "core: PortkeyClient.complete",
        "core: PortkeyClient.stream",
        "core: time to first chunk",
        "connections: 50 sequential PortkeyClient.stream",
        "langchain: chat invoke",
        "llama-index: chat",
        "concurrency: 50 concurrent langchain ainvoke",
        "concurrency: 50 concurrent langchain astream",
        "concurrency: 50 concurrent llama-index achat",
        "concurrency: 50 concurrent llama-index astream_chat",
        "import: portkey_integrations.langchain",
        "memory: PortkeyClient.stream, 1.0 MB answer",
    ):
        assert expected in names, f"{expected!r} missing from {sorted(names)}"
    # Every row carries our figure; every row with a peer's figure carries the ratio (an
    # import row has no peer figure when that peer is not installed).
    for line in table[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1] and cells[1] != "-", line
        if cells[2] != "-":
            assert cells[4].endswith("x"), line
        else:
            assert cells[0].startswith("import:"), line
    # Rows against a peer appear exactly when the peer (the bench extra) is installed;
    # without them the run still measures every adapter against its floor model.
    missing = _missing_peers()
    assert any("| ChatOpenAI |" in line for line in table) == ("langchain_openai" not in missing)
    assert any("| OpenAI |" in line for line in table) == ("llama_index.llms.openai" not in missing)
    assert ("portkey-ai SDK: prompts.completions.create (sync)" in names) == (
        "portkey_ai" not in missing
    )
    text = out.read_text()
    assert "shared 2-core machine" in text and "| row | ours | peer |" in text
