"""The ``portkey-local`` command, run as a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portkey_integrations.server.cli import main

from .conftest import SSL_CONTEXT

CLI = [sys.executable, "-m", "portkey_integrations.server.cli"]


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    (tmp_path / "mine.json").write_text(
        json.dumps({"id": "pp-mine", "template": [{"role": "user", "content": "mine: {{x}}"}]}),
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def served(prompts_dir: Path) -> Iterator[str]:
    with subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--prompts", str(prompts_dir), "--api-key", "pk-cli"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.fullmatch(
                r"Portkey-compatible server listening on (http://127\.0\.0\.1:\d+/v1)\n", line
            )
            assert match, line
            served_line = proc.stdout.readline()
            assert re.fullmatch(r"serving \d+ prompt\(s\): .*pp-mine.*\n", served_line), served_line
            assert "PORTKEY_BASE_URL=http://127.0.0.1:" in proc.stdout.readline()
            yield match.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_serve_answers_prompts_from_the_folder_and_bundled(served: str) -> None:
    headers = {"x-portkey-api-key": "pk-cli"}
    with httpx.Client(base_url=served, timeout=5.0, verify=SSL_CONTEXT, headers=headers) as http:
        r = http.post("/prompts/pp-mine/completions", json={"variables": {"x": "1"}})
        assert r.json()["choices"][0]["message"]["content"] == "Echo: mine: 1"
        assert http.post("/prompts/pp-joke/completions", json={"variables": {}}).status_code == 200
        assert (
            http.post(
                "/chat/completions",
                json={"messages": [{"role": "user", "content": "x"}]},
                headers={"x-portkey-api-key": "no"},
            ).status_code
            == 401
        )
        # Faults can be driven from this process.
        http.post(
            served.removesuffix("/v1") + "/_local/faults", json={"kind": "status", "status": 418}
        )
        assert http.post("/prompts/pp-mine/completions", json={"variables": {}}).status_code == 418


def test_prompts_lists_bundled_and_folder_prompts(
    prompts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prompts", "--prompts", str(prompts_dir)]) == 0
    out = capsys.readouterr().out
    joke = next(line for line in out.splitlines() if line.startswith("pp-joke"))
    assert (
        "v1, v2 (published v1; production -> v2)" in joke and "variables: adjective, topic" in joke
    )
    assert any(line.startswith("pp-mine") for line in out.splitlines())
    assert main(["prompts", "--no-bundled", "--json", "--prompts", str(prompts_dir)]) == 0
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == ["pp-mine"]


def test_bad_prompt_folder_exits_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    assert main(["serve", "--port", "0", "--prompts", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "not valid JSON" in err


def test_port_in_use(portkey_server: object, capsys: pytest.CaptureFixture[str]) -> None:
    port = portkey_server.port  # type: ignore[attr-defined]
    assert main(["serve", "--port", str(port), "--no-bundled"]) == 1
    assert "cannot listen" in capsys.readouterr().err


@pytest.mark.slow  # runs the CLIs in subprocesses
def test_help_texts_carry_examples() -> None:
    for argv in (["--help"], ["serve", "--help"]):
        out = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "examples:" in out.stdout
        assert "portkey-local serve --prompts" in out.stdout
