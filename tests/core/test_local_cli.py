"""``portkey-local`` without the ``server`` extra: one line saying what to install, status 1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from portkey_integrations._cli.local import INSTALL_HINT, main

# Run in a child interpreter: a meta-path finder makes the named top-level modules (and their
# submodules) unimportable, as if they were not installed, then runs portkey-local.
_BLOCKED_RUN = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = set(sys.argv[1].split(","))

class Missing(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in BLOCKED or fullname.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None

sys.meta_path.insert(0, Missing())
from portkey_integrations._cli.local import main
sys.exit(main(sys.argv[2:]))
"""


def _run_without(blocked: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKED_RUN, blocked, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # a fresh interpreter each
@pytest.mark.parametrize("blocked", ["starlette", "uvicorn", "starlette,uvicorn"])
def test_missing_server_extra_prints_one_line_and_exits_1(blocked: str) -> None:
    result = _run_without(blocked, "serve", "--port", "0")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [INSTALL_HINT]
    assert "pip install 'portkey-integrations[server]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.slow  # a fresh interpreter
def test_other_import_errors_are_not_mistaken_for_the_missing_extra() -> None:
    # A broken module of the package itself is a bug: it must surface with its traceback.
    result = _run_without("portkey_integrations.server.store", "prompts")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "portkey_integrations.server.store" in result.stderr
    assert INSTALL_HINT not in result.stderr


def test_with_the_extra_it_delegates_to_the_server_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompts", "--json"]) == 0
    listed = {prompt["id"] for prompt in json.loads(capsys.readouterr().out)}
    assert {"pp-joke", "pp-assistant", "pp-rag-qa"} <= listed


def test_bad_arguments_keep_argparse_exit_status() -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
