"""push, publish and label refuse a version that would not render, before sending."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import add_version, run

from portkey_integrations import PortkeyClient
from portkey_integrations.server import LocalPortkeyServer


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("Hi {{>pl-nope}}", "unknown partial(s): pl-nope"),
        ('[{"role": "user", "content": "Hi {{name}}"', "a chat template must be JSON messages"),
        ("[not json at all", "a chat template must be JSON messages"),
        ([{"content": "no role"}], "message #1 must be an object with a 'role'"),
        ("{{#items}}unclosed", "the Mustache does not parse: section 'items' is never closed"),
        ("{{#a}}x{{/b}}", "the Mustache does not parse: section 'a' is closed by '{{/b}}'"),
        ("{{= | =}}", "the Mustache does not parse"),
    ],
)
def test_a_broken_version_is_refused_and_nothing_is_sent(
    remote: LocalPortkeyServer, tmp_path: Path, template: object, reason: str
) -> None:
    url = remote.base_url
    run(url, "pull", "pp-greet", "--to", str(tmp_path))
    add_version(tmp_path / "pp-greet.json", "Fine {{name}}")
    add_version(tmp_path / "pp-greet.json", template)
    code, _, err = run(url, "push", str(tmp_path), "--publish", "--label", "production")
    assert code == 5, err
    assert "nothing sent" in err and f"pp-greet v5 (pp-greet.json): {reason}" in err
    prompt = remote.store.get("pp-greet")
    assert sorted(prompt.versions) == [1, 2, 3] and prompt.published == 1
    assert "production" not in prompt.labels


def test_partials_known_locally_or_remotely_pass(
    remote: LocalPortkeyServer, tmp_path: Path
) -> None:
    url = remote.base_url
    run(url, "pull", "pp-greet", "--to", str(tmp_path))
    (tmp_path / "pl-local.json").write_text(
        json.dumps({"id": "pl-local", "partial": True, "versions": [{"template": "local"}]})
    )
    add_version(
        tmp_path / "pp-greet.json",
        [
            {"role": "system", "content": "{{>pl-tone}} {{>pl-local}}"},
            {"role": "user", "content": "{{name}}"},
        ],
    )
    # Messages made by a loop sit outside JSON strings: Portkey renders, then parses.
    add_version(
        tmp_path / "pp-greet.json",
        '[{{#turns}}{"role": "user", "content": "{{text}}"},{{/turns}}'
        '{"role": "user", "content": "{{name}}"}]',
    )
    code, out, err = run(url, "push", str(tmp_path))
    # Portkey picks a new partial's slug: the versions naming the local id are held back.
    assert code == 5, err
    (made,) = [p for p in tmp_path.glob("pl-*.json") if p.name != "pl-tone.json"]
    slug = json.loads(made.read_text())["id"]
    assert f"pp-greet v4 names partial 'pl-local', which Portkey created as '{slug}'" in err
    assert sorted(remote.store.get("pp-greet").versions) == [1, 2, 3]
    path = tmp_path / "pp-greet.json"
    path.write_text(path.read_text().replace("{{>pl-local}}", f"{{{{>{slug}}}}}"))
    code, out, err = run(url, "push", str(tmp_path))
    assert code == 0, err
    assert "pp-greet: pushed as v5" in out
    assert slug in remote.store.get("pp-greet").versions[4].template


def test_publish_and_label_refuse_a_version_that_would_not_render(
    remote: LocalPortkeyServer,
) -> None:
    remote.register("pp-broken", "Fine {{x}}")
    remote.register("pp-broken", "Uses {{>pl-missing}}", publish=False)
    url = remote.base_url
    code, _, err = run(url, "publish", "pp-broken", "2")
    assert code == 5 and "pp-broken v2 would not render: unknown partial(s): pl-missing" in err
    code, _, err = run(url, "label", "pp-broken", "production", "2")
    assert code == 5 and "unknown partial(s): pl-missing" in err
    prompt = remote.store.get("pp-broken")
    assert prompt.published == 1 and "production" not in prompt.labels
    client = PortkeyClient(base_url=url)
    assert client.render("pp-broken", variables={"x": "ok"}).prompt == "Fine ok"
