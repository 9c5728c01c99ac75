"""Admin scopes (403 ``Forbidden!``) and writable servers writing prompt files back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer, PromptStore
from portkey_integrations.server.cli import main

from .conftest import SSL_CONTEXT

FORBIDDEN = {"status": "failure", "message": "Forbidden!"}
NEW_PROMPT = {"name": "n", "collection_id": "c", "string": "hi {{x}}", "parameters": {}}
KEYS = {
    "pk-read": {"prompts.read"},
    "pk-write": {"prompts.read", "prompts.create", "prompts.update"},
    "pk-labels": {"labels.read", "partials.read"},
}


@pytest.fixture(scope="module")
def scoped(server_factory: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    return server_factory(api_keys=KEYS)


def call(server: LocalPortkeyServer, key: str, method: str, path: str, body: Any = None) -> Any:
    with httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as http:
        return http.request(method, path, json=body, headers={"x-portkey-api-key": key})


@pytest.mark.parametrize(
    ("key", "method", "path", "body", "allowed"),
    [
        ("pk-read", "GET", "/prompts", None, True),
        ("pk-read", "GET", "/prompts/pp-joke", None, True),
        ("pk-read", "GET", "/prompts/pp-joke/versions", None, True),
        ("pk-read", "POST", "/prompts", NEW_PROMPT, False),
        ("pk-read", "PUT", "/prompts/pp-joke", {"name": "x"}, False),
        ("pk-read", "DELETE", "/prompts/pp-joke", None, False),
        ("pk-read", "PUT", "/prompts/pp-joke/makeDefault", {"version": 2}, False),
        ("pk-read", "GET", "/labels", None, False),
        ("pk-read", "GET", "/prompts/partials", None, False),
        ("pk-write", "POST", "/prompts", NEW_PROMPT, True),
        ("pk-write", "PUT", "/prompts/pp-joke/makeDefault", {"version": 1}, False),
        ("pk-write", "DELETE", "/prompts/pp-joke", None, False),
        ("pk-labels", "GET", "/labels", None, True),
        ("pk-labels", "POST", "/labels", {"name": "x"}, False),
        ("pk-labels", "GET", "/prompts/partials", None, True),
        ("pk-labels", "POST", "/prompts/partials", {"name": "p", "string": "s"}, False),
        ("pk-labels", "GET", "/prompts", None, False),
        ("pk-anything", "PUT", "/prompts/pp-joke/makeDefault", {"version": 1}, True),
    ],
)
def test_scopes(
    scoped: LocalPortkeyServer, key: str, method: str, path: str, body: Any, allowed: bool
) -> None:
    r = call(scoped, key, method, path, body)
    if allowed:
        assert r.status_code == 200, r.text
    else:
        assert (r.status_code, r.json()) == (403, FORBIDDEN)


def test_a_forbidden_write_changes_nothing(scoped: LocalPortkeyServer) -> None:
    before = call(scoped, "pk-read", "GET", "/prompts/pp-joke").json()
    call(scoped, "pk-read", "PUT", "/prompts/pp-joke/makeDefault", {"version": 2})
    assert call(scoped, "pk-read", "GET", "/prompts/pp-joke").json() == before


def test_scoped_keys_still_run_prompts_and_a_server_key_is_required() -> None:
    with LocalPortkeyServer(api_key="pk-admin", api_keys={"pk-read": {"prompts.read"}}) as server:
        ok = call(server, "pk-read", "POST", "/prompts/pp-joke/completions", {"variables": {}})
        assert ok.status_code == 200
        assert call(server, "pk-admin", "DELETE", "/prompts/pp-rag-qa").status_code == 200
        wrong = call(server, "pk-other", "GET", "/prompts")
        assert wrong.status_code == 401 and "Invalid API Key" in wrong.json()["message"]


def test_keys_set_over_the_control_route(portkey_local: LocalPortkeyServer) -> None:
    with httpx.Client(base_url=portkey_local.url, timeout=5.0, verify=SSL_CONTEXT) as http:
        try:
            set_keys = http.post("/_local/api-keys", json={"keys": {"pk-ro": ["prompts.read"]}})
            assert set_keys.json() == {"ok": True, "keys": 1}
            denied = http.post(
                "/v1/prompts", json=NEW_PROMPT, headers={"x-portkey-api-key": "pk-ro"}
            )
            assert (denied.status_code, denied.json()) == (403, FORBIDDEN)
            bad = http.post("/_local/api-keys", json={"keys": {"pk-ro": "prompts.read"}})
            assert bad.status_code == 400
        finally:
            assert http.delete("/_local/api-keys").json() == {"ok": True}
        listed = http.get("/v1/prompts", headers={"x-portkey-api-key": "pk-ro"})
        assert listed.status_code == 200


# --- writing back ------------------------------------------------------------------


def test_writable_server_writes_files_that_reload_the_same(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text(
        json.dumps({"id": "pp-mine", "template": "mine {{x}}"}), encoding="utf-8"
    )
    with (
        LocalPortkeyServer(prompts_dir=tmp_path, writable=True, include_bundled=False) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as http,
    ):
        created = http.post("/prompts", json={**NEW_PROMPT, "model": "m1"}).json()
        http.put(
            f"/prompts/{created['id']}", json={"patch": True, "string": "v2 {{x}}"}
        ).raise_for_status()
        http.put(f"/prompts/{created['slug']}/makeDefault", json={"version": 2}).raise_for_status()
        label = http.post("/labels", json={"name": "canary", "color_code": "#0f0"}).json()
        v1 = http.get(f"/prompts/{created['slug']}/versions").json()["data"][0]
        http.put(
            f"/prompts/{created['slug']}/versions/{v1['id']}", json={"label_id": label["id"]}
        ).raise_for_status()
        partial = http.post("/prompts/partials", json={"name": "p", "string": "P!"}).json()
        http.put("/prompts/pp-mine", json={"patch": True, "string": "mine v2"}).raise_for_status()
        before = {
            "prompt": http.get(f"/prompts/{created['id']}").json(),
            "versions": http.get(f"/prompts/{created['id']}/versions").json(),
            "partial": http.get(f"/prompts/partials/{partial['slug']}").json(),
            "label": http.get(f"/labels/{label['id']}").json(),
        }
    written = tmp_path / f"{created['slug']}.json"
    text = written.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert data["published"] == 2 and data["labels"] == {"canary": 1}
    assert [v["template"] for v in data["versions"]] == ["hi {{x}}", "v2 {{x}}"]
    assert json.loads((tmp_path / "mine.json").read_text())["id"] == "pp-mine"
    assert not (tmp_path / "pp-mine.json").exists()  # written back to the file it came from
    with (
        LocalPortkeyServer(prompts_dir=tmp_path, include_bundled=False) as again,
        httpx.Client(base_url=again.base_url, timeout=5.0, verify=SSL_CONTEXT) as http,
    ):
        after = {
            "prompt": http.get(f"/prompts/{created['id']}").json(),
            "versions": http.get(f"/prompts/{created['id']}/versions").json(),
            "partial": http.get(f"/prompts/partials/{partial['slug']}").json(),
            "label": http.get(f"/labels/{label['id']}").json(),
        }
        assert after == before
        assert http.get("/prompts/pp-mine").json()["prompt_version"] == 1
        r = http.post("/prompts/pp-mine@2/render", json={"variables": {}})
        assert r.json()["data"]["prompt"] == "mine v2"
        http.delete(f"/prompts/{created['slug']}").raise_for_status()
    assert written.exists()  # that server was not writable


def test_deletes_remove_files_and_memory_only_servers_write_nothing(tmp_path: Path) -> None:
    with (
        LocalPortkeyServer(prompts_dir=tmp_path, include_bundled=False) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as http,
    ):
        http.post("/prompts", json=NEW_PROMPT).raise_for_status()
        http.post("/labels", json={"name": "l1"}).raise_for_status()
    assert list(tmp_path.iterdir()) == []
    with (
        LocalPortkeyServer(prompts_dir=tmp_path, writable=True, include_bundled=False) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as http,
    ):
        created = http.post("/prompts", json=NEW_PROMPT).json()
        label = http.post("/labels", json={"name": "l1"}).json()
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "_labels.json",
            f"{created['slug']}.json",
        ]
        http.delete(f"/prompts/{created['id']}").raise_for_status()
        http.delete(f"/labels/{label['id']}").raise_for_status()
    assert list(tmp_path.iterdir()) == []


def test_a_changed_bundled_prompt_is_written_to_the_folder(tmp_path: Path) -> None:
    with (
        LocalPortkeyServer(prompts_dir=tmp_path, writable=True) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as http,
    ):
        http.put("/prompts/pp-joke/makeDefault", json={"version": 2}).raise_for_status()
    store = PromptStore.from_dir(tmp_path)
    joke = store.get("pp-joke")
    assert joke is not None and joke.published == 2 and joke.labels == {"production": 2}
    assert isinstance(
        json.loads((tmp_path / "pp-joke.json").read_text())["versions"][0]["template"], list
    )


def test_writable_needs_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="prompts_dir"):
        LocalPortkeyServer(writable=True)
    assert main(["serve", "--write", "--port", "0"]) == 2
    assert "--write needs --prompts" in capsys.readouterr().err


def test_write_back_keeps_a_chat_templates_own_key_order(tmp_path: Path) -> None:
    # Sorting keys inside a template would change its text on every save.
    template = [{"role": "user", "content": "hi {{x}}"}]
    with LocalPortkeyServer(prompts_dir=tmp_path, writable=True, include_bundled=False) as server:
        server.register("pp-order", template=template)
        store = server.store
        store.save(store.get("pp-order"))
    with LocalPortkeyServer(prompts_dir=tmp_path, include_bundled=False) as again:
        assert again.store.get("pp-order").versions[1].template == json.dumps(template)
    saved = json.loads((tmp_path / "pp-order.json").read_text(encoding="utf-8"))
    assert list(saved["versions"][0]["template"][0]) == ["role", "content"]
