"""Writes that fail half-way: a rerun completes them, and a write Portkey committed
but answered with a 502 is found, not made again."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import Proxy, add_version, run, templates

from portkey_integrations.server import LocalPortkeyServer


def test_an_interrupted_publish_completes_on_rerun(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path
) -> None:
    run(proxy.base_url, "pull", "pp-greet", "--to", str(tmp_path))
    add_version(tmp_path / "pp-greet.json", "New {{name}}")
    proxy.fail("PUT", r"/prompts/pp-greet/makeDefault$", times=10)
    code, out, err = run(proxy.base_url, "push", str(tmp_path), "--publish")
    assert code == 3, err
    assert "pp-greet: publish v4" in err and "502" in err
    prompt = remote.store.get("pp-greet")
    assert sorted(prompt.versions) == [1, 2, 3, 4] and prompt.published == 1

    proxy.rules.clear()
    code, out, err = run(proxy.base_url, "push", str(tmp_path), "--publish")
    assert code == 0, err
    assert "local v4 already sent as v4" in out and "published" in out
    prompt = remote.store.get("pp-greet")
    assert sorted(prompt.versions) == [1, 2, 3, 4] and prompt.published == 4
    data = json.loads((tmp_path / "pp-greet.json").read_text())
    assert data["published"] == 4 and data["remote_version"] == 4
    assert run(proxy.base_url, "diff", str(tmp_path))[0] == 0


def test_an_interrupted_label_completes_on_rerun(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path
) -> None:
    run(proxy.base_url, "pull", "pp-greet", "--to", str(tmp_path))
    proxy.fail("PUT", r"/prompts/pp-greet/versions/[^/]+$", times=10)
    code, _, err = run(proxy.base_url, "push", str(tmp_path), "--label", "staging")
    assert code == 3, err
    assert "staging" not in remote.store.get("pp-greet").labels
    proxy.rules.clear()
    code, out, err = run(proxy.base_url, "push", str(tmp_path), "--label", "staging")
    assert code == 0 and "pp-greet: v3 (label 'staging')" in out, err
    assert remote.store.get("pp-greet").labels["staging"] == 3


def test_committed_writes_answered_502_are_not_repeated(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path
) -> None:
    collection = remote.store.get("pp-greet").collection_id
    (tmp_path / "pp-fresh.json").write_text(
        json.dumps(
            {
                "id": "pp-fresh",
                "collection_id": collection,
                "versions": [
                    {"version": 1, "template": "One {{x}}"},
                    {"version": 2, "template": "Two {{x}}"},
                ],
            }
        )
    )
    before = set(remote.store.ids())
    proxy.fail("POST", r"/prompts$", commit=True)
    proxy.fail("PUT", r"/prompts/[^/]*fresh[^/]*$", commit=True)
    proxy.fail("PUT", r"/makeDefault$", commit=True)
    code, _out, err = run(proxy.base_url, "push", str(tmp_path), "--publish")
    assert code == 0, err
    assert err.count("the failed call had landed") == 3
    (made,) = set(remote.store.ids()) - before  # one prompt, named by the server
    assert templates(remote, made) == {1: "One {{x}}", 2: "Two {{x}}"}
    assert remote.store.get(made).published == 2
    writes = [(m, p) for m, p, _ in proxy.log if m in ("POST", "PUT")]
    assert writes.count(("POST", "/v1/prompts")) == 1
    assert writes.count(("PUT", f"/v1/prompts/{made}")) == 1
    assert not (tmp_path / "pp-fresh.json").exists()
    data = json.loads((tmp_path / f"{made}.json").read_text())
    assert data["id"] == made and data["remote_version"] == 2 and data["published"] == 2


def test_a_502_that_did_not_land_is_retried_once(
    remote: LocalPortkeyServer, proxy: Proxy, tmp_path: Path
) -> None:
    run(proxy.base_url, "pull", "pp-greet", "--to", str(tmp_path))
    add_version(tmp_path / "pp-greet.json", "Retry {{name}}")
    proxy.fail("PUT", r"/prompts/pp-greet$")
    code, _out, err = run(proxy.base_url, "push", str(tmp_path))
    assert code == 0 and "nothing landed, retrying" in err, err
    assert templates(remote, "pp-greet")[4] == "Retry {{name}}"
    assert len(remote.store.get("pp-greet").versions) == 4


def test_a_create_whose_rename_was_lost_is_found_on_rerun(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    collection = remote.store.get("pp-greet").collection_id
    original = json.dumps({"id": "pp-solo", "collection_id": collection, "template": "Solo {{x}}"})
    (tmp_path / "pp-solo.json").write_text(original)
    before = set(remote.store.ids())
    assert run(remote.base_url, "push", str(tmp_path))[0] == 0
    (made,) = set(remote.store.ids()) - before
    # As if the process had died before renaming the file: the old file is back.
    (tmp_path / f"{made}.json").unlink()
    (tmp_path / "pp-solo.json").write_text(original)
    code, out, err = run(remote.base_url, "push", str(tmp_path), "--publish")
    assert code == 0, err
    assert "local v1 already sent as v1" in out
    assert set(remote.store.ids()) - before == {made}
    assert json.loads((tmp_path / f"{made}.json").read_text())["remote_version"] == 1
    assert not (tmp_path / "pp-solo.json").exists()
