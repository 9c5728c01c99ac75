"""Prompt partials (``{{>pp-part}}``): ``client.partials`` and its operations.

Each operation is written once as steps (see ``_steps.py``); :class:`Partials` and
:class:`AsyncPartials` only run them.
"""

from __future__ import annotations

from .._base_client import BaseClient
from .._errors import PortkeyConfigError
from ._models import (
    PartialCreated,
    PartialUpdated,
    PromptPartial,
    PromptPartialList,
    PromptPartialVersionList,
)
from ._steps import AsyncResource, Steps, SyncResource, admin_path, check_version, clean, step

__all__ = [
    "AsyncPartials",
    "Partials",
    "create_partial",
    "delete_partial",
    "list_partials",
    "partial_versions",
    "publish_partial",
    "retrieve_partial",
    "update_partial",
]


def _subject(partial_id: str) -> str:
    return f"partial {partial_id!r}"


# --- operations -------------------------------------------------------------------


def list_partials(
    client: BaseClient, *, collection_id: str | None = None
) -> Steps[PromptPartialList]:
    """List prompt partials (``GET /prompts/partials``)."""
    query = clean({"collection_id": collection_id})
    result: PromptPartialList = yield step(
        client, "GET", "/prompts/partials", "partials.list", PromptPartialList, query=query
    )
    return result


def retrieve_partial(client: BaseClient, partial_id: str) -> Steps[PromptPartial]:
    """A partial with its published version (``GET /prompts/partials/{id}``)."""
    path = admin_path("prompts", "partials", partial_id)
    result: PromptPartial = yield step(
        client, "GET", path, "partials.retrieve", PromptPartial, subject=_subject(partial_id)
    )
    return result


def partial_versions(client: BaseClient, partial_id: str) -> Steps[PromptPartialVersionList]:
    """Every version of a partial (``GET /prompts/partials/{id}/versions``)."""
    path = admin_path("prompts", "partials", partial_id, "versions")
    result: PromptPartialVersionList = yield step(
        client,
        "GET",
        path,
        "partials.versions",
        PromptPartialVersionList,
        subject=_subject(partial_id),
    )
    return result


def create_partial(
    client: BaseClient,
    *,
    name: str,
    string: str,
    version_description: str | None = None,
    workspace_id: str | None = None,
) -> Steps[PartialCreated]:
    """Create a partial with its first version (``POST /prompts/partials``)."""
    if not isinstance(string, str):
        raise PortkeyConfigError("string (the partial's text) must be a str")
    body = clean(
        {
            "name": name,
            "string": string,
            "version_description": version_description,
            "workspace_id": workspace_id,
        }
    )
    result: PartialCreated = yield step(
        client, "POST", "/prompts/partials", "partials.create", PartialCreated, body=body
    )
    return result


def update_partial(
    client: BaseClient,
    partial_id: str,
    *,
    string: str | None = None,
    name: str | None = None,
    description: str | None = None,
    status: str | None = None,
) -> Steps[PartialUpdated]:
    """Update a partial; a new ``string`` makes a new version (``PUT /prompts/partials/{id}``)."""
    body = clean({"string": string, "name": name, "description": description, "status": status})
    if not body:
        raise PortkeyConfigError("update() of a partial needs at least one field to change")
    path = admin_path("prompts", "partials", partial_id)
    result: PartialUpdated = yield step(
        client,
        "PUT",
        path,
        "partials.update",
        PartialUpdated,
        body=body,
        subject=_subject(partial_id),
    )
    return result


def publish_partial(client: BaseClient, partial_id: str, version: int) -> Steps[None]:
    """Make a version the partial's default (``PUT /prompts/partials/{id}/makeDefault``)."""
    path = admin_path("prompts", "partials", partial_id, "makeDefault")
    yield step(
        client,
        "PUT",
        path,
        "partials.publish",
        body={"version": check_version(version)},
        subject=_subject(partial_id),
    )


def delete_partial(client: BaseClient, partial_id: str) -> Steps[None]:
    """Delete a partial (``DELETE /prompts/partials/{id}``)."""
    path = admin_path("prompts", "partials", partial_id)
    yield step(client, "DELETE", path, "partials.delete", subject=_subject(partial_id))


# --- the resources ----------------------------------------------------------------


class Partials(SyncResource):
    """``client.partials``: prompt partials (``{{>pp-part}}``) and their versions."""

    def list(self, *, collection_id: str | None = None) -> PromptPartialList:
        """List prompt partials, optionally of one collection."""
        return self._run(list_partials(self._client, collection_id=collection_id))

    def retrieve(self, partial_id: str) -> PromptPartial:
        """A partial with its published version (id or slug)."""
        return self._run(retrieve_partial(self._client, partial_id))

    def versions(self, partial_id: str) -> PromptPartialVersionList:
        """Every version of a partial."""
        return self._run(partial_versions(self._client, partial_id))

    def create(
        self,
        *,
        name: str,
        string: str,
        version_description: str | None = None,
        workspace_id: str | None = None,
    ) -> PartialCreated:
        """Create a partial with ``string`` (its text) as its first version."""
        return self._run(
            create_partial(
                self._client,
                name=name,
                string=string,
                version_description=version_description,
                workspace_id=workspace_id,
            )
        )

    def update(
        self,
        partial_id: str,
        *,
        string: str | None = None,
        name: str | None = None,
        description: str | None = None,
        status: str | None = None,
    ) -> PartialUpdated:
        """Change a partial; a new ``string`` makes a new version. At least one field."""
        return self._run(
            update_partial(
                self._client,
                partial_id,
                string=string,
                name=name,
                description=description,
                status=status,
            )
        )

    def publish(self, partial_id: str, version: int) -> None:
        """Make version number ``version`` the one ``{{>partial}}`` renders."""
        return self._run(publish_partial(self._client, partial_id, version))

    def delete(self, partial_id: str) -> None:
        """Delete a partial."""
        return self._run(delete_partial(self._client, partial_id))


class AsyncPartials(AsyncResource):
    """``async_client.partials``: the coroutine twin of :class:`Partials`."""

    async def list(self, *, collection_id: str | None = None) -> PromptPartialList:
        """List prompt partials, optionally of one collection."""
        return await self._run(list_partials(self._client, collection_id=collection_id))

    async def retrieve(self, partial_id: str) -> PromptPartial:
        """A partial with its published version (id or slug)."""
        return await self._run(retrieve_partial(self._client, partial_id))

    async def versions(self, partial_id: str) -> PromptPartialVersionList:
        """Every version of a partial."""
        return await self._run(partial_versions(self._client, partial_id))

    async def create(
        self,
        *,
        name: str,
        string: str,
        version_description: str | None = None,
        workspace_id: str | None = None,
    ) -> PartialCreated:
        """Create a partial with ``string`` (its text) as its first version."""
        return await self._run(
            create_partial(
                self._client,
                name=name,
                string=string,
                version_description=version_description,
                workspace_id=workspace_id,
            )
        )

    async def update(
        self,
        partial_id: str,
        *,
        string: str | None = None,
        name: str | None = None,
        description: str | None = None,
        status: str | None = None,
    ) -> PartialUpdated:
        """Change a partial; a new ``string`` makes a new version. At least one field."""
        return await self._run(
            update_partial(
                self._client,
                partial_id,
                string=string,
                name=name,
                description=description,
                status=status,
            )
        )

    async def publish(self, partial_id: str, version: int) -> None:
        """Make version number ``version`` the one ``{{>partial}}`` renders."""
        return await self._run(publish_partial(self._client, partial_id, version))

    async def delete(self, partial_id: str) -> None:
        """Delete a partial."""
        return await self._run(delete_partial(self._client, partial_id))
