"""The prompt admin API (client.prompts / partials / labels) against the local server."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from portkey_integrations import (
    AsyncPortkeyClient,
    PermissionDeniedError,
    PortkeyClient,
    PortkeyConfigError,
    PromptNotFoundError,
)
from portkey_integrations.resources._steps import SCOPES
from portkey_integrations.resources.feedback import AsyncFeedback, Feedback
from portkey_integrations.resources.labels import AsyncLabels, Labels
from portkey_integrations.resources.partials import AsyncPartials, Partials
from portkey_integrations.resources.prompts import AsyncPrompts, Prompts
from portkey_integrations.server import LocalPortkeyServer
from portkey_integrations.types import PromptVersionList

CHAT = '[{"role": "user", "content": "Hi {{name}}"}]'


@pytest.fixture
def admin(make_server: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    """A fresh server per test: these tests create and delete prompts."""
    server = make_server(api_keys={"pk-read": {"prompts.read"}})
    server.register("pp-admin", CHAT, parameters={"temperature": 0.1})
    server.register(
        "pp-admin",
        '[{"role": "user", "content": "v2 {{name}}"}]',
        parameters={"temperature": 0.2},
        publish=False,
        labels=("staging",),
    )
    return server


@pytest.fixture
def client(admin: LocalPortkeyServer) -> PortkeyClient:
    return PortkeyClient(base_url=admin.base_url, api_key="pk-admin")


def test_list_retrieve_and_versions(client: PortkeyClient) -> None:
    prompts = Prompts(client)
    listed = prompts.list(search="admin")
    assert [p.slug for p in listed.data] == ["pp-admin"]
    prompt = prompts.retrieve("pp-admin")
    assert (prompt.slug, prompt.prompt_version, prompt.string) == ("pp-admin", 1, CHAT)
    assert prompt.parameters == {"temperature": 0.1} and prompt.kind == "chat"
    versions = prompts.versions("pp-admin")
    assert [v.prompt_version for v in versions.data] == [1, 2]
    assert versions.data[1].string == '[{"role": "user", "content": "v2 {{name}}"}]'
    second = prompts.retrieve_version("pp-admin", versions.data[1].id)
    assert second.prompt_version == 2 and second.parameters == {"temperature": 0.2}


def test_resolve_follows_portkey_references(client: PortkeyClient) -> None:
    prompts = Prompts(client)
    assert prompts.resolve("pp-admin").prompt_version == 1
    assert prompts.resolve("pp-admin@2").prompt_version == 2
    assert prompts.resolve("pp-admin@latest").prompt_version == 2
    assert prompts.resolve("pp-admin@staging").prompt_version == 2
    with pytest.raises(PromptNotFoundError, match="production"):
        prompts.resolve("pp-admin@production")


def test_unknown_prompt_is_prompt_not_found_naming_it(client: PortkeyClient) -> None:
    with pytest.raises(PromptNotFoundError, match="prompt 'pp-nope' not found"):
        Prompts(client).retrieve("pp-nope")


def test_create_update_publish_delete(admin: LocalPortkeyServer, client: PortkeyClient) -> None:
    prompts = Prompts(client)
    collection = prompts.retrieve("pp-admin").collection_id
    assert collection is not None
    made = prompts.create(
        name="Greeter", collection_id=collection, string=CHAT, parameters={"max_tokens": 5}
    )
    assert made.slug is not None and made.slug.startswith("pp-greeter")
    slug = made.slug
    updated = prompts.update(slug, string="Hello {{name}}", parameters={"max_tokens": 9})
    assert updated.prompt_version_id is not None
    assert prompts.retrieve(slug).prompt_version == 1  # a new version is not published
    prompts.publish(slug, 2)
    rendered = client.render(slug, variables={"name": "Ann"})
    assert rendered.prompt == "Hello Ann"
    prompts.delete(slug)
    with pytest.raises(PromptNotFoundError):
        prompts.retrieve(slug)


def test_strict_update_needs_the_whole_version_before_any_request(
    admin: LocalPortkeyServer, client: PortkeyClient
) -> None:
    admin.clear_requests()
    with pytest.raises(PortkeyConfigError, match="patch=True"):
        Prompts(client).update("pp-admin", parameters={"temperature": 1})
    assert admin.admin_requests == []


def test_patch_update_backfills_from_the_latest_version(
    admin: LocalPortkeyServer, client: PortkeyClient
) -> None:
    prompts = Prompts(client)
    prompts.update("pp-admin", parameters={"temperature": 0.9}, patch=True)
    newest = prompts.resolve("pp-admin@latest")
    assert newest.prompt_version == 3
    # The template came from version 2 (the latest), the parameters from the call.
    assert newest.string == '[{"role": "user", "content": "v2 {{name}}"}]'
    assert newest.parameters == {"temperature": 0.9}
    put = [r for r in admin.admin_requests if r.method == "PUT"]
    assert put[-1].body["string"] == newest.string and put[-1].body["patch"] is True


def test_set_label_moves_a_label(client: PortkeyClient) -> None:
    Prompts(client).set_label("pp-admin", 1, "staging")
    assert Prompts(client).resolve("pp-admin@staging").prompt_version == 1
    rendered = client.render("pp-admin@staging", variables={"name": "Bo"})
    assert rendered.messages == [{"role": "user", "content": "Hi Bo"}]


def test_missing_scope_names_the_scope(admin: LocalPortkeyServer) -> None:
    reader = PortkeyClient(base_url=admin.base_url, api_key="pk-read")
    assert Prompts(reader).retrieve("pp-admin").slug == "pp-admin"
    with pytest.raises(PermissionDeniedError) as caught:
        Prompts(reader).publish("pp-admin", 2)
    assert "'prompts.publish' scope" in str(caught.value)
    assert caught.value.status_code == 403
    assert len(Prompts(reader).list().data) >= 1  # prompts.read also allows listing
    with pytest.raises(PermissionDeniedError) as listing:
        Labels(reader).list()
    assert "'labels.list' (or 'labels.read') scope" in str(listing.value)
    assert set(SCOPES["labels.list"]) == {"labels.list", "labels.read"}


def test_partials_and_labels(client: PortkeyClient) -> None:
    partials = Partials(client)
    made = partials.create(name="tone", string="Be {{tone}}.")
    slug = made.slug or made.id
    assert [p.slug for p in partials.list().data] == [slug]
    partials.update(slug, string="Be very {{tone}}.")
    assert [v.version for v in partials.versions(slug).data] == [1, 2]
    assert partials.retrieve(slug).string == "Be {{tone}}."
    partials.publish(slug, 2)
    assert partials.retrieve(slug).string == "Be very {{tone}}."
    labels = Labels(client)
    label_id = labels.create(name="canary")
    assert "canary" in {label.name for label in labels.list().data}
    assert labels.retrieve(label_id).name == "canary"
    partials.delete(slug)
    with pytest.raises(PromptNotFoundError, match=f"partial '{slug}' not found"):
        partials.retrieve(slug)


async def test_async_resources_send_the_same_operations(admin: LocalPortkeyServer) -> None:
    client = AsyncPortkeyClient(base_url=admin.base_url)
    prompts = AsyncPrompts(client)
    assert (await prompts.resolve("pp-admin@staging")).prompt_version == 2
    versions = await prompts.versions("pp-admin")
    assert len(versions) == 2
    await prompts.publish("pp-admin", 2)
    assert (await prompts.retrieve("pp-admin")).prompt_version == 2
    assert [x.name for x in (await AsyncLabels(client).list()).data][:1] == ["development"]
    assert (await AsyncPartials(client).list()).data == []
    with pytest.raises(PromptNotFoundError):
        await prompts.retrieve("pp-nope")


@pytest.mark.parametrize(
    ("sync", "async_"),
    [
        (Prompts, AsyncPrompts),
        (Partials, AsyncPartials),
        (Labels, AsyncLabels),
        (Feedback, AsyncFeedback),
    ],
)
def test_sync_and_async_resources_have_the_same_methods(sync: type, async_: type) -> None:
    names = {n for n in vars(sync) if not n.startswith("_")}
    assert names == {n for n in vars(async_) if not n.startswith("_")}
    for name in names:
        assert inspect.signature(getattr(sync, name)) == inspect.signature(getattr(async_, name))
        assert inspect.iscoroutinefunction(getattr(async_, name))
        assert getattr(sync, name).__doc__


def test_versions_accept_a_bare_array_and_a_wrapper() -> None:
    item = {"id": "v1", "prompt_version": 1, "prompt_template": {"string": "Hi", "model": "m"}}
    bare = PromptVersionList.model_validate([item])
    wrapped = PromptVersionList.model_validate({"object": "list", "total": 1, "data": [item]})
    assert bare.data == wrapped.data
    assert (bare.data[0].string, bare.data[0].model, bare.data[0].kind) == ("Hi", "m", "text")
    extra = PromptVersionList.model_validate([{**item, "new_field": 1}])
    assert extra.data[0].model_extra == {"new_field": 1}
