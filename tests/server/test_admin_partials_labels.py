"""The partial and label admin routes over HTTP, and partial changes reaching renders."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

from .conftest import SSL_CONTEXT


@pytest.fixture
def http(tmp_path: Path, make_server: Callable[..., LocalPortkeyServer]) -> Iterator[httpx.Client]:
    server = make_server(prompts_dir=tmp_path)
    with httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as client:
        yield client


def make_partial(http: httpx.Client, string: str = "Be brief, {{name}}.") -> dict[str, Any]:
    r = http.post("/prompts/partials", json={"name": "Style rules", "string": string})
    assert r.status_code == 200, r.text
    made: dict[str, Any] = r.json()
    return made


def system_of(http: httpx.Client, template_ref: str) -> str:
    """The system message a prompt splicing ``{{>template_ref}}`` renders to."""
    created = http.post(
        "/prompts",
        json={
            "name": "uses partial",
            "collection_id": "c",
            "string": '[{"role": "system", "content": "{{>' + template_ref + '}}"}]',
            "parameters": {},
        },
    ).json()
    r = http.post(f"/prompts/{created['slug']}/render", json={"variables": {"name": "Ada"}})
    assert r.status_code == 200, r.text
    content: str = r.json()["data"]["messages"][0]["content"]
    return content


def test_partial_create_retrieve_list(http: httpx.Client) -> None:
    made = make_partial(http)
    assert set(made) == {"id", "slug", "version_id"} and made["slug"].startswith("pl-")
    uuid.UUID(made["id"])
    by_slug = http.get(f"/prompts/partials/{made['slug']}").json()
    assert by_slug == http.get(f"/prompts/partials/{made['id']}").json()
    assert by_slug["string"] == "Be brief, {{name}}." and by_slug["version"] == 1
    assert by_slug["prompt_partial_version_id"] == made["version_id"]
    assert by_slug["name"] == "Style rules" and by_slug["status"] == "active"
    listing = http.get("/prompts/partials").json()
    assert listing["total"] == 1 and listing["data"][0]["object"] == "partial"
    assert listing["data"][0]["slug"] == made["slug"]
    assert http.get("/prompts/partials", params={"collection_id": "other"}).json()["total"] == 0


def test_partials_render_by_slug_id_and_version_at_once(http: httpx.Client) -> None:
    made = make_partial(http)
    assert system_of(http, made["slug"]) == "Be brief, Ada."
    assert system_of(http, made["id"]) == "Be brief, Ada."
    r = http.put(f"/prompts/partials/{made['slug']}", json={"string": "Be kind, {{name}}."})
    assert r.status_code == 200
    new_version = r.json()["prompt_partial_version_id"]
    assert new_version != made["version_id"]
    # A new version is live at once by number; the bare id follows makeDefault.
    assert system_of(http, f"{made['slug']}@2") == "Be kind, Ada."
    assert system_of(http, f"{made['slug']}@latest") == "Be kind, Ada."
    assert system_of(http, made["slug"]) == "Be brief, Ada."
    published = http.put(f"/prompts/partials/{made['id']}/makeDefault", json={"version": 2})
    assert (published.status_code, published.json()) == (200, {})
    assert system_of(http, made["slug"]) == "Be kind, Ada."
    assert http.get(f"/prompts/partials/{made['slug']}").json()["version"] == 2


def test_partial_versions_update_and_delete(http: httpx.Client) -> None:
    made = make_partial(http)
    http.put(
        f"/prompts/partials/{made['id']}",
        json={"string": "two", "description": "second", "name": "Renamed"},
    ).raise_for_status()
    versions = http.get(f"/prompts/partials/{made['slug']}/versions").json()
    assert versions["total"] == 2
    assert [v["version"] for v in versions["data"]] == ["1", "2"]
    assert versions["data"][1]["string"] == "two" and versions["data"][1]["description"] == "second"
    assert versions["data"][0]["prompt_partial_version_id"] == made["version_id"]
    assert http.get(f"/prompts/partials/{made['slug']}").json()["name"] == "Renamed"
    bad = http.put(f"/prompts/partials/{made['slug']}", json={"status": "gone"})
    assert bad.status_code == 400 and "'status'" in bad.json()["message"]
    r = http.delete(f"/prompts/partials/{made['slug']}")
    assert (r.status_code, r.json()) == (200, {})
    assert http.get(f"/prompts/partials/{made['id']}").status_code == 404
    missing = http.post(
        "/prompts",
        json={
            "name": "x",
            "collection_id": "c",
            "string": "{{>" + made["slug"] + "}}",
            "parameters": {},
        },
    ).json()
    r = http.post(f"/prompts/{missing['slug']}/render", json={"variables": {}})
    assert (
        r.status_code == 400 and r.json()["message"] == f"Missing prompt partials: {made['slug']}"
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("POST", "/prompts/partials", {"name": "n"}, 400, "string"),
        ("POST", "/prompts/partials", {"string": "s"}, 400, "name"),
        ("GET", "/prompts/partials/pl-nope", None, 404, "not found"),
        ("PUT", "/prompts/partials/pl-nope", {"string": "s"}, 404, "not found"),
        ("GET", "/prompts/partials/pl-nope/versions", None, 404, "not found"),
        ("PUT", "/prompts/partials/pl-nope/makeDefault", {"version": 1}, 404, "not found"),
    ],
)
def test_partial_errors(
    http: httpx.Client, method: str, path: str, body: Any, status: int, needle: str
) -> None:
    r = http.request(method, path, json=body)
    assert r.status_code == status and needle in r.json()["message"]


def test_system_labels_are_listed_and_fixed(http: httpx.Client) -> None:
    listing = http.get("/labels").json()
    names = {lb["name"]: lb for lb in listing["data"]}
    assert {"production", "staging", "development"} <= set(names)
    production = names["production"]
    assert production["is_universal"] is True and listing["total"] == len(listing["data"])
    assert http.get(f"/labels/{production['id']}").json() == production
    for r in (
        http.put(f"/labels/{production['id']}", json={"name": "prod"}),
        http.delete(f"/labels/{production['id']}"),
    ):
        assert r.status_code == 400 and "system label" in r.json()["message"]


def test_label_create_update_delete(http: httpx.Client) -> None:
    r = http.post("/labels", json={"name": "canary", "description": "d", "color_code": "#fff"})
    assert r.status_code == 200 and set(r.json()) == {"id"}
    label_id = r.json()["id"]
    got = http.get(f"/labels/{label_id}").json()
    assert (got["name"], got["description"], got["color_code"]) == ("canary", "d", "#fff")
    assert got["is_universal"] is False
    assert [lb["name"] for lb in http.get("/labels", params={"search": "can"}).json()["data"]] == [
        "canary"
    ]
    # Attach it to pp-joke v2, then rename: the prompt follows the new name.
    joke = http.get("/prompts/pp-joke/versions").json()["data"]
    http.put(f"/prompts/pp-joke/versions/{joke[1]['id']}", json={"label_id": label_id})
    ok = http.post("/prompts/pp-joke@canary/render", json={"variables": {}})
    assert ok.status_code == 200
    assert http.put(f"/labels/{label_id}", json={"name": "early"}).json() == {}
    assert http.post("/prompts/pp-joke@early/render", json={"variables": {}}).status_code == 200
    assert http.post("/prompts/pp-joke@canary/render", json={"variables": {}}).status_code == 404
    assert http.delete(f"/labels/{label_id}").json() == {}
    assert http.get(f"/labels/{label_id}").status_code == 404
    assert http.post("/prompts/pp-joke@early/render", json={"variables": {}}).status_code == 404
    versions = http.get("/prompts/pp-joke/versions").json()["data"]
    assert versions[1]["label_id"] != label_id


@pytest.mark.parametrize("name", ["latest", "default", "12", "has space", "a@b", ""])
def test_label_names_follow_portkeys_pattern(http: httpx.Client, name: str) -> None:
    r = http.post("/labels", json={"name": name})
    assert r.status_code == 400 and "'name'" in r.json()["message"]


def test_label_name_clash_and_paging(http: httpx.Client) -> None:
    assert http.post("/labels", json={"name": "staging"}).status_code == 400
    first = http.get("/labels", params={"page_size": 2, "current_page": 0}).json()
    second = http.get("/labels", params={"page_size": 2, "current_page": 1}).json()
    assert len(first["data"]) == 2 and first["total"] == second["total"] >= 3
    assert {lb["id"] for lb in first["data"]}.isdisjoint(lb["id"] for lb in second["data"])


def test_partials_from_prompt_files(tmp_path: Path) -> None:
    (tmp_path / "style.json").write_text(
        '{"id": "pl-style", "partial": true, "description": "house style",'
        ' "versions": [{"template": "old"}, {"template": "Short, {{name}}.", "description": "v2"}],'
        ' "published": 2}',
        encoding="utf-8",
    )
    (tmp_path / "uses.json").write_text(
        '{"id": "pp-uses", "description": "shorthand", "template": "{{>pl-style}} / {{>pl-style@1}}"}',
        encoding="utf-8",
    )
    with (
        LocalPortkeyServer(prompts_dir=tmp_path, include_bundled=False) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0, verify=SSL_CONTEXT) as http,
    ):
        r = http.post("/prompts/pp-uses/render", json={"variables": {"name": "Ada"}})
        assert r.json()["data"]["prompt"] == "Short, Ada. / old"
        partial = http.get("/prompts/partials/pl-style").json()
        assert partial["version"] == 2 and partial["version_description"] == "v2"
        assert http.get(f"/prompts/partials/{partial['id']}").json()["slug"] == "pl-style"
        assert http.get("/prompts/pl-style").status_code == 404  # a partial is not a prompt
        uses = server.store.get("pp-uses")
        assert uses is not None and uses.description == "shorthand"
        assert uses.versions[1].description == ""
