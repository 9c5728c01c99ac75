"""A writable server (``writable=True`` / ``--write``) writes only inside its prompts
folder, never through a symlink, and never over a file edited by hand. Over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    prompts = tmp_path / "team" / "prompts"
    prompts.mkdir(parents=True)
    (prompts / "pp-a.json").write_text(
        json.dumps({"id": "pp-a", "template": "a {{x}}"}), encoding="utf-8"
    )
    return prompts


@pytest.fixture
def writable(folder: Path) -> Iterator[LocalPortkeyServer]:
    with LocalPortkeyServer(prompts_dir=folder, writable=True, include_bundled=False) as server:
        yield server


def _uuid(http: httpx.Client, slug: str) -> str:
    prompts = http.get("/v1/prompts").json()["data"]
    return next(p["id"] for p in prompts if p["slug"] == slug)


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("prompt_id", ["../../victim", "/tmp/abs-victim", "..", "_labels"])
def test_registered_ids_are_written_inside_the_folder(
    writable: LocalPortkeyServer, folder: Path, prompt_id: str
) -> None:
    root = folder.parent.parent
    victim = root / "victim.json"
    victim.write_text("keep me", encoding="utf-8")
    before = _files_under(root)
    with httpx.Client(base_url=writable.url) as http:
        r = http.post("/_local/prompts", json={"id": prompt_id, "template": "v1"})
        assert r.status_code == 201
        r = http.put(f"/v1/prompts/{_uuid(http, prompt_id)}", json={"string": "v2", "patch": True})
        assert r.status_code == 200, r.text
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not Path("/tmp/abs-victim.json").exists()
    new = _files_under(root) - before
    assert len(new) == 1 and next(iter(new)).parent == folder
    written = json.loads(next(iter(new)).read_text(encoding="utf-8"))
    assert written["id"] == prompt_id
    # The labels file is not taken over by a prompt called "_labels".
    assert not (folder / "_labels.json").exists() or "labels" in json.loads(
        (folder / "_labels.json").read_text(encoding="utf-8")
    )


def test_a_symlink_out_of_the_folder_is_not_written_through(folder: Path) -> None:
    outside = folder.parent / "outside.json"
    outside.write_text(json.dumps({"id": "pp-link", "template": "outside"}), encoding="utf-8")
    (folder / "pp-link.json").symlink_to(outside)
    server = LocalPortkeyServer(prompts_dir=folder, writable=True, include_bundled=False)
    with server, httpx.Client(base_url=server.url) as http:
        r = http.put(
            f"/v1/prompts/{_uuid(http, 'pp-link')}", json={"string": "changed", "patch": True}
        )
    assert r.status_code == 400 and "not a plain file" in r.json()["message"]
    assert json.loads(outside.read_text(encoding="utf-8"))["template"] == "outside"


def test_a_hand_edit_is_never_overwritten(writable: LocalPortkeyServer, folder: Path) -> None:
    path = folder / "pp-a.json"
    edited = json.dumps({"id": "pp-a", "template": "edited by hand {{x}}"})
    path.write_text(edited, encoding="utf-8")
    with httpx.Client(base_url=writable.url) as http:
        r = http.put(
            f"/v1/prompts/{_uuid(http, 'pp-a')}", json={"string": "from the API", "patch": True}
        )
        assert r.status_code == 409
        assert str(path) in r.json()["message"]
        # Any admin change is refused while the edit stands, and the store is unchanged.
        r = http.post("/v1/labels", json={"name": "qa"})
        assert r.status_code == 409
        assert http.get("/v1/prompts/pp-a/versions").json()["total"] == 1
    assert path.read_text(encoding="utf-8") == edited


def test_a_file_made_by_hand_for_a_new_prompt_is_not_overwritten(
    writable: LocalPortkeyServer, folder: Path
) -> None:
    with httpx.Client(base_url=writable.url) as http:
        assert (
            http.post("/_local/prompts", json={"id": "pp-new", "template": "x"}).status_code == 201
        )
        (folder / "pp-new.json").write_text("hand made", encoding="utf-8")
        r = http.put(f"/v1/prompts/{_uuid(http, 'pp-new')}", json={"string": "y", "patch": True})
    assert r.status_code == 409 and "pp-new.json" in r.json()["message"]
    assert (folder / "pp-new.json").read_text(encoding="utf-8") == "hand made"


def test_its_own_writes_are_not_conflicts(writable: LocalPortkeyServer, folder: Path) -> None:
    with httpx.Client(base_url=writable.url) as http:
        uuid = _uuid(http, "pp-a")
        for text in ("b {{x}}", "c {{x}}"):
            assert (
                http.put(f"/v1/prompts/{uuid}", json={"string": text, "patch": True}).status_code
                == 200
            )
        path = folder / "pp-a.json"
        path.touch()  # a touch without a change is not an edit
        assert (
            http.put(f"/v1/prompts/{uuid}", json={"string": "d {{x}}", "patch": True}).status_code
            == 200
        )
    assert "d {{x}}" in (folder / "pp-a.json").read_text(encoding="utf-8")
