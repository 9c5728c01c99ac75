"""The team loop on the local server: two working copies, a conflict, every local
version pushed and written back, pointers moved, drift found, unpushed work kept."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import add_version, run, templates

from portkey_integrations import PortkeyClient
from portkey_integrations.server import LocalPortkeyServer


def _file(folder: Path, name: str = "pp-greet") -> dict:
    return json.loads((folder / f"{name}.json").read_text())


def test_two_working_copies_conflict_then_force(remote: LocalPortkeyServer, tmp_path: Path) -> None:
    url = remote.base_url
    ann, bob = tmp_path / "ann", tmp_path / "bob"
    for copy in (ann, bob):
        assert run(url, "pull", "pp-greet", "--to", str(copy))[0] == 0
    assert _file(ann)["remote_version"] == 3
    add_version(bob / "pp-greet.json", "Bob's {{name}}")
    assert run(url, "push", str(bob))[0] == 0
    assert templates(remote, "pp-greet")[4] == "Bob's {{name}}"
    assert _file(bob)["remote_version"] == 4

    add_version(ann / "pp-greet.json", "Ann's {{name}}")
    code, _, err = run(url, "push", str(ann))
    assert code == 4, err
    assert "pp-greet: Portkey has v4 since pp-greet.json was based on v3" in err
    assert "nothing sent" in err and len(templates(remote, "pp-greet")) == 4

    # pull would lose Ann's v4: refused, naming it; the file is untouched.
    before = (ann / "pp-greet.json").read_bytes()
    code, _, err = run(url, "pull", "pp-greet", "--to", str(ann))
    assert code == 4 and "pp-greet.json (pp-greet): v4 (changed)" in err, err
    assert (ann / "pp-greet.json").read_bytes() == before

    # --force pushes on top: Bob's v4 stays, Ann's becomes v5, the file records both.
    code, out, err = run(url, "push", str(ann), "--force")
    assert code == 0, err
    assert "pp-greet: pushed as v5" in out
    held = templates(remote, "pp-greet")
    assert (held[4], held[5]) == ("Bob's {{name}}", "Ann's {{name}}")
    data = _file(ann)
    assert data["remote_version"] == 5
    assert [v["template"] for v in data["versions"]][3:] == ["Bob's {{name}}", "Ann's {{name}}"]
    assert run(url, "diff", str(ann))[0] == 0
    code, out, _ = run(url, "diff", str(bob))
    assert code == 1 and "Portkey has v5, which the file lacks" in out
    assert run(url, "pull", "pp-greet", "--to", str(bob))[0] == 0
    assert run(url, "diff", str(bob))[0] == 0


def test_push_sends_every_local_version_in_order_and_writes_back(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    url = remote.base_url
    run(url, "pull", "pp-greet", "--to", str(tmp_path))
    add_version(tmp_path / "pp-greet.json", "Four {{name}}")
    add_version(tmp_path / "pp-greet.json", "Five {{name}}", model="gpt-y")
    code, out, err = run(url, "push", str(tmp_path), "--publish", "--label", "staging")
    assert code == 0, err
    assert "new version from local v4" in out and "new version from local v5" in out
    assert "pp-greet: pushed as v4\n" in out
    assert "pp-greet: pushed as v5 (published, label 'staging')" in out
    prompt = remote.store.get("pp-greet")
    assert prompt.versions[4].template == "Four {{name}}"
    assert prompt.versions[5].model == "gpt-y"
    assert prompt.published == 5 and prompt.labels["staging"] == 5
    data = _file(tmp_path)
    assert data["published"] == 5 and data["labels"] == {"canary": 3, "staging": 5}
    assert data["remote_version"] == 5
    assert run(url, "diff", str(tmp_path))[0] == 0
    code, out, _ = run(url, "push", str(tmp_path), "--publish", "--label", "staging")
    assert code == 0 and "nothing to push" in out and "publish" not in out.split("plan:")[1]
    assert len(remote.store.get("pp-greet").versions) == 5


def test_publish_and_label_commands(remote: LocalPortkeyServer, tmp_path: Path) -> None:
    url = remote.base_url
    run(url, "pull", "pp-greet", "--to", str(tmp_path))

    code, out, _ = run(url, "label", "pp-greet", "canary", "2", "--dry-run")
    assert code == 0 and "would move label 'canary' to v2 (was on v3)" in out
    assert remote.store.get("pp-greet").labels["canary"] == 3
    code, out, _ = run(url, "label", "pp-greet", "canary", "2")
    assert code == 0 and "pp-greet: moved label 'canary' to v2 (was on v3)" in out
    assert remote.store.get("pp-greet").labels["canary"] == 2
    code, out, _ = run(url, "label", "pp-greet", "canary", "2")
    assert code == 0 and "already on v2; nothing changed" in out
    assert run(url, "label", "pp-greet", "nolabel", "2")[0] == 2
    assert run(url, "label", "pp-greet", "canary", "9")[0] == 2

    code, out, _ = run(url, "publish", "pp-greet", "3", "--dry-run")
    assert code == 0 and "would publish v3 (was v1)" in out
    assert remote.store.get("pp-greet").published == 1
    code, out, _ = run(url, "publish", "pp-greet", "3")
    assert code == 0 and "pp-greet: published v3 (was v1)" in out
    assert remote.store.get("pp-greet").published == 3
    client = PortkeyClient(base_url=url)
    assert client.render("pp-greet", variables={"name": "Ann"}).prompt == "Hey Ann"

    # The folder no longer matches: diff names both pointers, a pull records them.
    code, out, _ = run(url, "diff", str(tmp_path))
    assert code == 1
    assert "pp-greet: published: the file says v1, Portkey v3" in out
    assert "pp-greet: label 'canary': the file says v3, Portkey v2" in out
    assert run(url, "pull", "pp-greet", "--to", str(tmp_path))[0] == 0
    assert _file(tmp_path)["labels"] == {"canary": 2} and _file(tmp_path)["published"] == 3
    assert run(url, "diff", str(tmp_path))[0] == 0


def test_diff_finds_every_drift(remote: LocalPortkeyServer, tmp_path: Path) -> None:
    url = remote.base_url
    assert run(url, "pull", "--to", str(tmp_path))[0] == 0  # every prompt: a mirror
    assert run(url, "diff", str(tmp_path))[0] == 0
    remote.register("pp-new-remote", "Only remote {{x}}")
    code, out, _ = run(url, "diff", str(tmp_path))
    assert code == 1 and "pp-new-remote: only in Portkey (pull would add it)" in out
    assert run(url, "pull", "--to", str(tmp_path))[0] == 0

    # A chat template is compared message by message.
    path = tmp_path / "pp-greet.json"
    data = json.loads(path.read_text())
    data["versions"][0]["template"][1]["content"] = "Hello there {{name}}"
    path.write_text(json.dumps(data))
    code, out, _ = run(url, "diff", str(tmp_path))
    assert code == 1 and "pp-greet: v1 differs from Portkey's v1" in out
    assert '-      "content": "Hi {{name}}"\n' in out
    assert '+      "content": "Hello there {{name}}"\n' in out
    assert '       "role": "user",' in out  # the changed message, whole

    # A partial's content is drift too.
    run(url, "pull", "--to", str(tmp_path), "--force")
    partial = tmp_path / "pl-tone.json"
    data = json.loads(partial.read_text())
    data["versions"][0]["template"] = "Be very {{tone}}."
    partial.write_text(json.dumps(data))
    code, out, _ = run(url, "diff", str(tmp_path))
    assert code == 1 and "partial pl-tone: v1 differs" in out


def test_diff_refuses_unreadable_and_yaml_files(remote: LocalPortkeyServer, tmp_path: Path) -> None:
    url = remote.base_url
    run(url, "pull", "pp-greet", "--to", str(tmp_path))
    (tmp_path / "pp-more.yaml").write_text("id: pp-more\ntemplate: hi\n")
    code, _, err = run(url, "diff", str(tmp_path))
    assert code == 2 and "YAML prompt files are not supported" in err and "pp-more.yaml" in err
    (tmp_path / "pp-more.yaml").unlink()
    (tmp_path / "broken.json").write_text("{not json")
    code, _, err = run(url, "diff", str(tmp_path))
    assert code == 2 and "broken.json: not valid JSON" in err


def test_pull_keeps_unpushed_versions_unless_forced(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    url = remote.base_url
    run(url, "pull", "pp-greet", "--to", str(tmp_path))
    add_version(tmp_path / "pp-greet.json", "Draft {{name}}")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, _, err = run(url, "pull", "--to", str(tmp_path))
    assert code == 4 and "pp-greet.json (pp-greet): v4" in err and "--force" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written
    code, _, err = run(url, "pull", "--to", str(tmp_path), "--force")
    assert code == 0, err
    assert len(_file(tmp_path)["versions"]) == 3


def test_pull_skips_a_version_naming_a_deleted_partial(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    client = PortkeyClient(base_url=remote.base_url)
    made = client.partials.create(name="pl-gone", string="gone")
    ref = made.slug or made.id
    remote.register("pp-old", f"Uses {{{{>{ref}}}}}")
    remote.register("pp-old", "Plain {{x}}")
    client.partials.delete(ref)
    code, _, err = run(remote.base_url, "pull", "pp-old", "--to", str(tmp_path))
    assert code == 0, err
    assert f"warning: pp-old v1 skipped: it names partial '{ref}'" in err
    data = _file(tmp_path, "pp-old")
    assert [v["version"] for v in data["versions"]] == [2] and data["remote_version"] == 2
