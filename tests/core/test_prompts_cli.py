"""``portkey-prompts``: pull, push and diff against local servers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from portkey_integrations import PortkeyClient
from portkey_integrations.prompts_cli import main
from portkey_integrations.resources.labels import Labels
from portkey_integrations.resources.prompts import Prompts
from portkey_integrations.server import LocalPortkeyServer, PromptFileError

VARIABLES = {"name": "Ann", "q": "why?", "tone": "kind", "adjective": "dry", "topic": "owls"}


@pytest.fixture
def remote(make_server: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    server = make_server(api_keys={"pk-read": {"prompts.read", "labels.read", "partials.read"}})
    server.store.load_data(
        {"id": "pl-tone", "partial": True, "versions": [{"template": "Be {{tone}}."}]}
    )
    server.register(
        "pp-greet",
        '[{"role": "system", "content": "{{>pl-tone}}"}, {"role": "user", "content": "Hi {{name}}"}]',
        parameters={"temperature": 0.5},
    )
    server.register("pp-greet", "Hello {{name}}", model="gpt-x", publish=False)
    Labels(PortkeyClient(base_url=server.base_url)).create(name="canary")
    server.register("pp-greet", "Hey {{name}}", publish=False, labels=("canary",))
    return server


def run(server: LocalPortkeyServer, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--base-url", server.base_url, *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _refs(server: LocalPortkeyServer) -> list[str]:
    refs = []
    for prompt in server.store:
        refs += [prompt.id, f"{prompt.id}@latest"]
        refs += [f"{prompt.id}@{n}" for n in prompt.versions]
        refs += [f"{prompt.id}@{label}" for label in prompt.labels]
    return refs


def test_pull_then_serve_the_folder_renders_identically(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    code, _, err = run(remote, "pull", "--to", str(tmp_path))
    assert code == 0, err
    assert "pp-greet: 3 version(s)" in err and "pl-tone: partial" in err
    data = json.loads((tmp_path / "pp-greet.json").read_text())
    assert data["published"] == 1 and data["labels"] == {"canary": 3}
    assert json.loads((tmp_path / "_labels.json").read_text())["labels"][0]["name"] == "canary"
    refs = _refs(remote)
    assert "pp-greet@canary" in refs and "pp-joke@production" in refs
    with LocalPortkeyServer(prompts_dir=tmp_path, include_bundled=False) as copy:
        assert sorted(p.id for p in copy.store) == sorted(p.id for p in remote.store)
        one = PortkeyClient(base_url=remote.base_url)
        two = PortkeyClient(base_url=copy.base_url)
        for ref in refs:
            first = one.render(ref, variables=VARIABLES).data
            assert two.render(ref, variables=VARIABLES).data == first, ref
    # A second pull writes the same bytes.
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    assert run(remote, "pull", "--to", str(tmp_path))[0] == 0
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before


def _add_version(path: Path, template: str) -> None:
    data = json.loads(path.read_text())
    newest = max(v["version"] for v in data["versions"])
    data["versions"].append({"version": newest + 1, "template": template, "model": "gpt-y"})
    path.write_text(json.dumps(data))


def test_push_adds_one_version_and_is_idempotent(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    assert run(remote, "pull", "pp-greet", "--to", str(tmp_path))[0] == 0
    assert run(remote, "diff", str(tmp_path))[0] == 0
    _add_version(tmp_path / "pp-greet.json", "Yo {{name}}")
    code, out, _ = run(remote, "diff", str(tmp_path))
    assert code == 1 and '+  "template": "Yo {{name}}"' in out
    code, out, _ = run(remote, "push", str(tmp_path), "--dry-run")
    assert (
        code == 0
        and "new version from local v4" in out
        and len(remote.store.get("pp-greet").versions) == 3
    )
    code, out, err = run(remote, "push", str(tmp_path))
    assert code == 0, err
    assert out.index("plan:") < out.index("pushed as v4")
    prompt = remote.store.get("pp-greet")
    assert sorted(prompt.versions) == [1, 2, 3, 4] and prompt.published == 1
    assert prompt.versions[4].template == "Yo {{name}}" and prompt.versions[4].model == "gpt-y"
    code, out, _ = run(remote, "push", str(tmp_path), "--publish")
    assert code == 0 and "nothing to push" in out
    assert sorted(remote.store.get("pp-greet").versions) == [1, 2, 3, 4]
    assert run(remote, "diff", str(tmp_path))[0] == 0


def test_push_publish_and_label(remote: LocalPortkeyServer, tmp_path: Path) -> None:
    run(remote, "pull", "pp-greet", "--to", str(tmp_path))
    _add_version(tmp_path / "pp-greet.json", "Ahoy {{name}}")
    code, out, err = run(remote, "push", str(tmp_path), "--publish", "--label", "staging")
    assert code == 0, err
    assert "pushed as v4 (published, label 'staging')" in out
    client = PortkeyClient(base_url=remote.base_url)
    assert client.render("pp-greet", variables=VARIABLES).prompt == "Ahoy Ann"
    assert Prompts(client).resolve("pp-greet@staging").prompt_version == 4


def test_errors_are_clear(remote: LocalPortkeyServer, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["list"], out=out, err=err) == 2 and "PORTKEY_API_KEY" in err.getvalue()
    assert main(["push"], out=out, err=io.StringIO()) == 2
    code, _, err_text = run(remote, "pull", "pp-nope", "--to", str(tmp_path))
    assert code == 3 and "prompt 'pp-nope' not found" in err_text
    (tmp_path / "bad.json").write_text('{"id": "pp-bad", "versions": []}')
    code, _, err_text = run(remote, "push", str(tmp_path))
    assert code == 2 and "bad.json: 'versions' must be a non-empty list" in err_text
    (tmp_path / "bad.json").unlink()
    run(remote, "pull", "pp-greet", "--to", str(tmp_path))
    _add_version(tmp_path / "pp-greet.json", "Scoped {{name}}")
    code, _, err_text = run(remote, "--api-key", "pk-read", "push", str(tmp_path))
    assert code == 3 and "'prompts.update' scope" in err_text
    code, _, err_text = run(remote, "push", str(tmp_path), "--label", "nolabel")
    assert code == 2 and "unknown label 'nolabel'" in err_text
    assert sorted(remote.store.get("pp-greet").versions) == [1, 2, 3]


def test_list(remote: LocalPortkeyServer) -> None:
    code, out, _ = run(remote, "list", "--json")
    rows = {row["slug"]: row for row in json.loads(out)}
    assert code == 0 and rows["pp-greet"]["prompt_version"] == 1


def test_help_carries_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], out=io.StringIO(), err=io.StringIO()) == 0
    assert "portkey-prompts pull --to" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"id": "pp-x", "template": "t", "colour": "red"}, "unknown keys: colour"),
        ({"id": "pp-x", "versions": [{"template": "t", "tools": {}}]}, "'tools' must be a list"),
        ({"id": "pp-x", "versions": [{"template": "t"}], "labels": {"latest": 1}}, "would hide"),
    ],
)
def test_push_refuses_the_files_the_server_refuses(
    remote: LocalPortkeyServer, tmp_path: Path, content: dict[str, object], reason: str
) -> None:
    # One reader: the CLI's error is the server's, word for word.
    (tmp_path / "bad.json").write_text(json.dumps(content))
    code, _, err = run(remote, "push", str(tmp_path), "--dry-run")
    assert code == 2 and reason in err
    with pytest.raises(PromptFileError) as info:
        remote.store.load_dir(tmp_path)
    assert f"portkey-prompts: error: {info.value}\n" == err
