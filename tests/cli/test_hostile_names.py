"""Names a server gives never choose where a file goes: every write stays in --to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Proxy, run

from portkey_integrations._cli.folder import file_stem
from portkey_integrations.server import LocalPortkeyServer

HOSTILE = [
    "../x",
    "../../package.json",
    "/tmp/portkey-abs-x",
    "sub/dir/x",
    "a\x00b",
    "x" * 300,
    "é" * 200,
    "_labels",
    "..",
    ".hidden",
    "con",
    "back\\slash",
    "line\nbreak",
]


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("slug", HOSTILE, ids=[repr(s)[:20] for s in HOSTILE])
def test_pull_of_a_hostile_slug_writes_inside_the_folder(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path, slug: str
) -> None:
    remote.register("pp-evil", "Evil {{x}}")
    uuid = remote.store.get("pp-evil").uuid
    proxy.renames["pp-evil"] = slug
    dest = tmp_path / "work" / "prompts"
    code, _, err = run(proxy.base_url, "pull", uuid, "--to", str(dest))
    assert code == 0, err
    assert _tree(tmp_path) == {"work", "work/prompts"} | {f"work/prompts/{n}" for n in _tree(dest)}
    files = [p for p in dest.glob("*.json") if p.name != "_labels.json"]
    assert "labels" in json.loads((dest / "_labels.json").read_text())
    written = {json.loads(p.read_text())["id"]: p.name for p in files}
    name = written.pop(slug)
    assert name == f"{file_stem(slug)}.json" and "/" not in name and "\x00" not in name
    assert len(name.encode()) <= 200 and not name.startswith(("_", "."))
    # The file is read back and compared through the same names: in sync.
    code, out, err = run(proxy.base_url, "diff", str(dest))
    assert code == 0, out + err


def test_stems_are_distinct_and_stable() -> None:
    stems = [file_stem(name) for name in HOSTILE]
    assert len(set(stems)) == len(stems)
    assert file_stem("pp-joke") == "pp-joke" and file_stem("_labels") != "_labels"
    assert file_stem("../x") == file_stem("../x") != file_stem("..x")


@pytest.mark.parametrize("slug", ["../../escaped", "/tmp/abs", "a\x00b", "_labels", "x" * 300])
def test_push_of_a_prompt_the_server_names_hostilely(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path, slug: str
) -> None:
    collection = remote.store.get("pp-joke").collection_id
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "pp-made.json").write_text(
        json.dumps({"id": "pp-made", "collection_id": collection, "template": "Made {{x}}"})
    )
    proxy.renames[r"pp-pp-made.*"] = slug
    code, out, err = run(proxy.base_url, "push", str(folder), "--publish")
    assert code == 0, err
    assert "pp-made: created as" in out
    stem = file_stem(slug)
    assert _tree(tmp_path) == {"prompts", f"prompts/{stem}.json"}
    data = json.loads((folder / f"{stem}.json").read_text())
    assert data["id"] == slug and data["remote_version"] == 1 and data["published"] == 1
    assert run(proxy.base_url, "diff", str(folder))[0] == 0


def test_a_symlink_in_the_folder_is_not_followed_out(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    url = remote.base_url
    folder = tmp_path / "prompts"
    assert run(url, "pull", "pp-greet", "--to", str(folder))[0] == 0
    outside = tmp_path / "outside.json"
    outside.write_bytes((folder / "pp-greet.json").read_bytes())
    (folder / "pp-greet.json").unlink()
    (folder / "pp-greet.json").symlink_to(outside)
    remote.register("pp-greet", "Changed {{name}}")
    before = outside.read_bytes()
    code, _, err = run(url, "pull", "pp-greet", "--to", str(folder))
    assert code == 6 and "a symbolic link; not written" in err
    assert outside.read_bytes() == before


def test_exit_codes_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    from portkey_integrations.prompts_cli import main

    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for line in ("1   diff found differences", "4   conflict", "5   a version would not render"):
        assert line in text


def test_a_failed_write_leaves_the_old_file_whole(
    remote: LocalPortkeyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = remote.base_url
    assert run(url, "pull", "pp-greet", "--to", str(tmp_path))[0] == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    remote.register("pp-greet", "Changed {{name}}")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("portkey_integrations._templates.files.os.replace", full_disk)
    code, _, err = run(url, "pull", "pp-greet", "--to", str(tmp_path))
    monkeypatch.undo()
    assert code == 6 and "No space left on device" in err, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp file left


def test_two_prompts_that_would_share_a_file_stop_the_pull(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path
) -> None:
    remote.register("pp-case", "Lower {{x}}")
    remote.register("pp-other", "Other {{x}}")
    proxy.renames["pp-other"] = "PP-CASE"  # one file on a case-insensitive disk
    proxy.seen_names["PP-CASE"] = "pp-other"
    code, _, err = run(proxy.base_url, "pull", "pp-case", "PP-CASE", "--to", str(tmp_path / "p"))
    assert code == 6 and "nothing written" in err, err
    assert not list((tmp_path / "p").iterdir())


def test_the_docs_list_every_exit_code() -> None:
    from portkey_integrations._cli.errors import EXIT_CODES

    root = Path(__file__).resolve().parents[2] / "docs"
    for page in ("prompts-as-code.md", "errors-and-guarantees.md"):
        text = (root / page).read_text()
        for code, _ in EXIT_CODES:
            assert f"\n| {code} | " in text, (page, code)
