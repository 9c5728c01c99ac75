"""Portkey's official Python SDK (``portkey-ai``), unchanged, against the local admin routes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portkey_integrations.server import LocalPortkeyServer

portkey_ai = pytest.importorskip("portkey_ai")
errors = pytest.importorskip("portkey_ai.api_resources.exceptions")

CHAT = '[{"role": "user", "content": "Hi {{name}}"}]'


@pytest.fixture
def local(tmp_path: Path, make_server: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    return make_server(prompts_dir=tmp_path, api_keys={"pk-read": {"prompts.read"}})


@pytest.fixture
def sdk(local: LocalPortkeyServer) -> Any:
    return portkey_ai.Portkey(api_key="pk-sdk", base_url=local.base_url)


def test_prompts_create_retrieve_update_publish_list(sdk: Any, local: LocalPortkeyServer) -> None:
    created = sdk.prompts.create(
        name="SDK prompt", collection_id="col", string=CHAT, parameters={"temperature": 0}
    )
    slug, prompt_id = created.slug, created.id
    assert slug.startswith("pp-sdk-prompt") and created.version_id
    assert sdk.prompts.retrieve(prompt_id).slug == slug
    assert sdk.prompts.retrieve(slug).string == CHAT
    updated = sdk.prompts.update(
        slug,
        string='[{"role": "user", "content": "Bye {{name}}"}]',
        parameters={"temperature": 1},
        model="gpt-sdk",
    )
    assert updated.prompt_version_id != created.version_id
    sdk.prompts.publish(slug, version=2)
    assert sdk.prompts.retrieve(slug).prompt_version == 2
    reply = sdk.prompts.completions.create(prompt_id=slug, variables={"name": "Ada"})
    assert reply.choices[0].message.content == "Echo: Bye Ada"
    listing = sdk.prompts.list(search="sdk prompt")
    assert listing.total == 1 and listing.data[0]["slug"] == slug
    sent = [r for r in local.admin_requests if r.method == "PUT" and r.path.endswith(f"/{slug}")]
    assert sent[-1].headers["x-portkey-api-key"] == "pk-sdk"


def test_prompt_versions(sdk: Any) -> None:
    created = sdk.prompts.create(name="versions", collection_id="c", string="v1", parameters={})
    sdk.prompts.update(created.id, string="v2", parameters={})
    versions = sdk.prompts.versions.list(created.slug)
    assert [v["prompt_version"] for v in versions.data] == [1, 2]
    second = sdk.prompts.versions.retrieve(created.slug, versions.data[1]["id"])
    assert second.string == "v2" and second.prompt_version == 2
    staging = next(lb for lb in sdk.labels.list().data if lb["name"] == "staging")
    sdk.prompts.versions.update(created.slug, versions.data[1]["id"], label_id=staging["id"])
    assert sdk.prompts.versions.list(created.slug).data[1]["label_id"] == staging["id"]
    rendered = sdk.prompts.render(prompt_id=f"{created.slug}@staging", variables={})
    assert rendered.data.prompt == "v2"


def test_partials_and_labels(sdk: Any) -> None:
    partial = sdk.prompts.partials.create(name="SDK partial", string="Tone: {{tone}}")
    assert sdk.prompts.partials.retrieve(partial.slug).string == "Tone: {{tone}}"
    sdk.prompts.partials.update(partial.slug, string="Tone: {{tone}}!")
    assert [v["version"] for v in sdk.prompts.partials.versions.list(partial.slug).data] == [
        "1",
        "2",
    ]
    sdk.prompts.partials.publish(partial.slug, version=2)
    prompt = sdk.prompts.create(
        name="with partial", collection_id="c", string="{{>" + partial.slug + "}}", parameters={}
    )
    rendered = sdk.prompts.render(prompt_id=prompt.slug, variables={"tone": "dry"})
    assert rendered.data.prompt == "Tone: dry!"
    assert partial.slug in [p["slug"] for p in sdk.prompts.partials.list().data]
    label = sdk.labels.create(name="sdk-label", description="from the SDK")
    assert sdk.labels.retrieve(label.id).name == "sdk-label"
    sdk.labels.update(label.id, color_code="#123456")
    assert sdk.labels.retrieve(label.id).color_code == "#123456"
    assert "sdk-label" in [lb["name"] for lb in sdk.labels.list().data]
    sdk.labels.delete(label.id)
    sdk.prompts.partials.delete(partial.slug)
    sdk.prompts.delete(prompt.id)
    with pytest.raises(errors.NotFoundError):
        sdk.prompts.retrieve(prompt.id)


def test_a_key_without_the_scope_gets_forbidden(local: LocalPortkeyServer) -> None:
    reader = portkey_ai.Portkey(api_key="pk-read", base_url=local.base_url)
    assert reader.prompts.retrieve("pp-joke").slug == "pp-joke"
    with pytest.raises(errors.PermissionDeniedError) as info:
        reader.prompts.create(name="n", collection_id="c", string="s", parameters={})
    assert "Forbidden!" in str(info.value)
