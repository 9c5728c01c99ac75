"""The prompt admin routes over HTTP: create, list, retrieve, update (strict and patch), versions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

from .conftest import SSL_CONTEXT

CHAT = '[{"role": "user", "content": "Hello {{name}}"}]'


@pytest.fixture
def local(tmp_path: Path, make_server: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    return make_server(prompts_dir=tmp_path)


@pytest.fixture
def http(local: LocalPortkeyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local.base_url, timeout=5.0, verify=SSL_CONTEXT) as client:
        yield client


def create(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Greeter prompt",
        "collection_id": "col-1",
        "string": CHAT,
        "parameters": {"temperature": 0.5},
        "model": "gpt-x",
        **fields,
    }
    r = http.post("/prompts", json=body)
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()
    return created


def echo(http: httpx.Client, ref: str, name: str = "Ada") -> str:
    r = http.post(f"/prompts/{ref}/completions", json={"variables": {"name": name}})
    assert r.status_code == 200, r.text
    content: str = r.json()["choices"][0]["message"]["content"]
    return content


def test_create_answers_ids_and_the_prompt_runs_at_once(http: httpx.Client) -> None:
    created = create(http)
    assert set(created) == {"id", "slug", "version_id", "object"}
    assert created["object"] == "prompt"
    uuid.UUID(created["id"])
    uuid.UUID(created["version_id"])
    assert created["slug"].startswith("pp-greeter-p")
    for ref in (created["slug"], created["id"], f"{created['id']}@1"):
        assert echo(http, ref) == "Echo: Hello Ada"
    rendered = http.post(f"/prompts/{created['id']}/render", json={"variables": {"name": "Bo"}})
    assert rendered.json()["data"]["model"] == "gpt-x"
    assert rendered.json()["data"]["temperature"] == 0.5


def test_retrieve_by_id_or_slug_in_portkeys_shape(http: httpx.Client) -> None:
    created = create(http, tools=[{"type": "function", "function": {"name": "f"}}])
    by_id = http.get(f"/prompts/{created['id']}").json()
    by_slug = http.get(f"/prompts/{created['slug']}").json()
    assert by_id == by_slug
    assert by_id["id"] == created["id"] and by_id["slug"] == created["slug"]
    assert by_id["name"] == "Greeter prompt" and by_id["collection_id"] == "col-1"
    assert by_id["string"] == CHAT and by_id["parameters"] == {"temperature": 0.5}
    assert by_id["model"] == "gpt-x" and by_id["tools"][0]["function"]["name"] == "f"
    assert by_id["prompt_version"] == 1
    assert by_id["prompt_version_id"] == created["version_id"]
    assert by_id["prompt_version_status"] == "active"


def test_bundled_prompts_have_stable_uuids(local: LocalPortkeyServer, http: httpx.Client) -> None:
    joke = http.get("/prompts/pp-joke").json()
    assert joke["slug"] == "pp-joke" and joke["prompt_version"] == 1
    assert http.get(f"/prompts/{joke['id']}").json()["slug"] == "pp-joke"
    with LocalPortkeyServer() as other, httpx.Client(base_url=other.base_url) as client:
        assert client.get("/prompts/pp-joke").json()["id"] == joke["id"]
    r = http.post(f"/prompts/{joke['id']}@production/render", json={"variables": {}})
    assert r.json()["data"]["messages"][0]["role"] == "system"


def test_list_filters_and_pages(http: httpx.Client) -> None:
    a = create(http, name="Alpha one", collection_id="col-a")
    create(http, name="Beta two", collection_id="col-b")
    create(http, name="Alpha three", collection_id="col-b")
    everything = http.get("/prompts").json()
    assert everything["total"] >= 7  # the bundled four and these three
    item = next(p for p in everything["data"] if p["id"] == a["id"])
    assert set(item) == {
        "id", "slug", "name", "collection_id", "model", "status",
        "created_at", "last_updated_at", "object",
    }  # fmt: skip
    assert item["object"] == "prompt" and item["model"] == "gpt-x"
    by_collection = http.get("/prompts", params={"collection_id": "col-b"}).json()
    assert sorted(p["name"] for p in by_collection["data"]) == ["Alpha three", "Beta two"]
    search = http.get("/prompts", params={"search": "alpha"}).json()
    assert sorted(p["name"] for p in search["data"]) == ["Alpha one", "Alpha three"]
    paged = http.get(
        "/prompts", params={"search": "alpha", "page_size": 1, "current_page": 1}
    ).json()
    assert paged["total"] == 2 and [p["name"] for p in paged["data"]] == ["Alpha three"]
    bad = http.get("/prompts", params={"page_size": "zero"})
    assert bad.status_code == 400 and "page_size" in bad.json()["message"]


def test_strict_update_needs_every_version_field(http: httpx.Client) -> None:
    created = create(http)
    r = http.put(f"/prompts/{created['slug']}", json={"string": "only {{name}}"})
    assert r.status_code == 400
    assert r.json() == {"status": "failure", "message": "Missing required fields: parameters"}
    r = http.put(
        f"/prompts/{created['slug']}",
        json={"string": '[{"role": "user", "content": "Bye {{name}}"}]', "parameters": {}},
    )
    assert r.status_code == 200
    answer = r.json()
    assert answer["id"] == created["id"] and answer["slug"] == created["slug"]
    v2 = http.get(f"/prompts/{created['id']}/versions/{answer['prompt_version_id']}").json()
    # Strict: what was not sent is not inherited.
    assert v2["prompt_version"] == 2 and v2["model"] == "portkey-local" and v2["parameters"] == {}
    assert echo(http, f"{created['slug']}@2") == "Echo: Bye Ada"
    assert echo(http, f"{created['slug']}@latest") == "Echo: Bye Ada"
    assert echo(http, created["slug"]) == "Echo: Hello Ada"  # still the published v1


def test_patch_update_backfills_from_the_latest_version(http: httpx.Client) -> None:
    created = create(http, virtual_key="vk-1", version_description="first")
    r = http.put(
        f"/prompts/{created['id']}", json={"patch": True, "parameters": {"temperature": 1}}
    )
    assert r.status_code == 200, r.text
    v2 = http.get(f"/prompts/{created['id']}/versions/2").json()
    assert v2["string"] == CHAT and v2["model"] == "gpt-x" and v2["virtual_key"] == "vk-1"
    assert v2["parameters"] == {"temperature": 1}
    assert v2["prompt_version_description"] == "first"
    assert v2["prompt_version_id"] == r.json()["prompt_version_id"]


def test_metadata_only_update_makes_no_version(http: httpx.Client) -> None:
    created = create(http)
    r = http.put(f"/prompts/{created['slug']}", json={"name": "Renamed", "collection_id": "c2"})
    assert r.status_code == 200 and r.json()["prompt_version_id"] == created["version_id"]
    got = http.get(f"/prompts/{created['slug']}").json()
    assert got["name"] == "Renamed" and got["collection_id"] == "c2"
    assert [
        v["prompt_version"] for v in http.get(f"/prompts/{got['id']}/versions").json()["data"]
    ] == [1]


def test_make_default_changes_what_the_slug_runs(http: httpx.Client) -> None:
    created = create(http)
    http.put(
        f"/prompts/{created['slug']}",
        json={"patch": True, "string": '[{"role": "user", "content": "v2 {{name}}"}]'},
    ).raise_for_status()
    assert echo(http, created["slug"]) == "Echo: Hello Ada"
    r = http.put(f"/prompts/{created['slug']}/makeDefault", json={"version": 2})
    assert (r.status_code, r.json()) == (200, {})
    assert echo(http, created["slug"]) == "Echo: v2 Ada"
    assert echo(http, created["id"]) == "Echo: v2 Ada"
    assert http.get(f"/prompts/{created['id']}").json()["prompt_version"] == 2
    missing = http.put(f"/prompts/{created['slug']}/makeDefault", json={"version": 9})
    assert missing.status_code == 404
    bad = http.put(f"/prompts/{created['slug']}/makeDefault", json={"version": "two"})
    assert bad.status_code == 400 and "'version'" in bad.json()["message"]


def test_versions_list_and_version_labels(http: httpx.Client) -> None:
    created = create(http, version_description="one")
    http.put(
        f"/prompts/{created['id']}", json={"patch": True, "string": "text {{name}}"}
    ).raise_for_status()
    listing = http.get(f"/prompts/{created['slug']}/versions").json()
    assert listing["object"] == "list" and listing["total"] == 2
    first, second = listing["data"]
    assert first["id"] == created["version_id"] and first["prompt_id"] == created["id"]
    assert first["prompt_version"] == 1 and first["prompt_description"] == "one"
    assert first["prompt_template"]["string"] == CHAT and first["object"] == "prompt"
    assert second["prompt_template"]["string"] == "text {{name}}" and second["label_id"] is None
    staging = next(lb for lb in http.get("/labels").json()["data"] if lb["name"] == "staging")
    r = http.put(
        f"/prompts/{created['slug']}/versions/{second['id']}", json={"label_id": staging["id"]}
    )
    assert (r.status_code, r.json()) == (200, {})
    again = http.get(f"/prompts/{created['slug']}/versions").json()["data"]
    assert again[1]["label_id"] == staging["id"] and again[1]["labels"] == ["staging"]
    rendered = http.post(f"/prompts/{created['slug']}@staging/render", json={"variables": {}})
    assert rendered.json()["data"]["prompt"] == "text "
    bad = http.put(
        f"/prompts/{created['slug']}/versions/{second['id']}", json={"label_id": str(uuid.uuid4())}
    )
    assert bad.status_code == 400 and "label_id" in bad.json()["message"]


def test_delete(http: httpx.Client) -> None:
    created = create(http)
    r = http.delete(f"/prompts/{created['id']}")
    assert (r.status_code, r.json()) == (200, {})
    assert http.get(f"/prompts/{created['slug']}").status_code == 404
    gone = http.post(f"/prompts/{created['slug']}/completions", json={"variables": {}})
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/prompts/pp-nope", None),
        ("PUT", "/prompts/pp-nope", {"name": "x"}),
        ("DELETE", "/prompts/pp-nope", None),
        ("GET", "/prompts/pp-nope/versions", None),
        # A fixed unknown UUID: test ids must be the same in every pytest-xdist worker.
        ("GET", "/prompts/pp-joke/versions/6f1d2c3b-0000-4000-8000-000000000404", None),
        ("PUT", "/prompts/pp-nope/makeDefault", {"version": 1}),
        ("GET", "/prompts/pp-joke@2", None),
    ],
)
def test_unknown_ids_are_404_in_portkeys_shape(
    http: httpx.Client, method: str, path: str, body: Any
) -> None:
    r = http.request(method, path, json=body)
    assert r.status_code == 404
    assert r.json()["status"] == "failure" and "not found" in r.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"collection_id": "c", "string": "s", "parameters": {}}, "name"),
        ({"name": "n", "string": "s", "parameters": {}}, "collection_id"),
        ({"name": "n", "collection_id": "c", "parameters": {}}, "string"),
        ({"name": "n", "collection_id": "c", "string": 3, "parameters": {}}, "string"),
        ({"name": "n", "collection_id": "c", "string": "s", "parameters": []}, "parameters"),
        (
            {"name": "n", "collection_id": "c", "string": "s", "parameters": {}, "tools": {}},
            "tools",
        ),
    ],
)
def test_bad_create_bodies_name_the_field(
    http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    r = http.post("/prompts", json=body)
    assert r.status_code == 400
    assert r.json()["status"] == "failure" and f"{field}" in r.json()["message"]


def test_a_body_that_is_not_json(http: httpx.Client) -> None:
    r = http.post("/prompts", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["message"].startswith("Invalid JSON body")
