"""``python -m benchmarks --quick`` runs end to end and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.skipif(
    bool(_missing_peers()),
    reason=f"benchmark peers not installed: {', '.join(_missing_peers())}",
)
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
        "portkey-ai SDK: prompts.completions.create (sync)",
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
    # Every row carries both figures and a ratio.
    for line in table[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1] and cells[2] != "-" and cells[4].endswith("x"), line
    # The peers ran: each framework row is there against the floor and the peer.
    assert any("| ChatOpenAI |" in line for line in table)
    assert any("| OpenAI |" in line for line in table)
    text = out.read_text()
    assert "shared 2-core machine" in text and "| row | ours | peer |" in text
