"""Labels (``production``, ``staging``, ...): ``client.labels`` and its operations.

Each operation is written once as steps (see ``_steps.py``); :class:`Labels` and
:class:`AsyncLabels` only run them. Pointing a label at a prompt version is
``client.prompts.set_label`` (``prompts.py``).
"""

from __future__ import annotations

from .._base_client import BaseClient
from .._errors import PortkeyConfigError
from ._models import Label, LabelList
from ._steps import AsyncResource, Steps, SyncResource, admin_path, clean, step

__all__ = [
    "AsyncLabels",
    "Labels",
    "create_label",
    "delete_label",
    "list_labels",
    "retrieve_label",
    "update_label",
]


# --- operations -------------------------------------------------------------------


def list_labels(
    client: BaseClient,
    *,
    organisation_id: str | None = None,
    workspace_id: str | None = None,
    search: str | None = None,
    current_page: int | None = None,
    page_size: int | None = None,
) -> Steps[LabelList]:
    """``GET /labels``."""
    query = clean(
        {
            "organisation_id": organisation_id,
            "workspace_id": workspace_id,
            "search": search,
            "current_page": current_page,
            "page_size": page_size,
        }
    )
    result: LabelList = yield step(client, "GET", "/labels", "labels.list", LabelList, query=query)
    return result


def retrieve_label(client: BaseClient, label_id: str) -> Steps[Label]:
    """``GET /labels/{id}``."""
    path = admin_path("labels", label_id)
    result: Label = yield step(
        client, "GET", path, "labels.retrieve", Label, subject=f"label {label_id!r}"
    )
    return result


class _LabelId(Label):
    """``POST /labels`` answers only ``{"id": ...}``."""

    name: str = ""


def create_label(
    client: BaseClient,
    *,
    name: str,
    description: str | None = None,
    color_code: str | None = None,
    organisation_id: str | None = None,
    workspace_id: str | None = None,
) -> Steps[str]:
    """``POST /labels``; returns the new label's id."""
    if not isinstance(name, str) or not name or name in ("latest", "default") or name.isdigit():
        raise PortkeyConfigError(
            f"label name {name!r} is reserved or empty ('latest', 'default' and numbers "
            "select versions)"
        )
    body = clean(
        {
            "name": name,
            "description": description,
            "color_code": color_code,
            "organisation_id": organisation_id,
            "workspace_id": workspace_id,
        }
    )
    created: Label = yield step(client, "POST", "/labels", "labels.create", _LabelId, body=body)
    return created.id


def update_label(
    client: BaseClient,
    label_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    color_code: str | None = None,
) -> Steps[None]:
    """``PUT /labels/{id}``."""
    body = clean({"name": name, "description": description, "color_code": color_code})
    path = admin_path("labels", label_id)
    yield step(client, "PUT", path, "labels.update", body=body, subject=f"label {label_id!r}")


def delete_label(client: BaseClient, label_id: str) -> Steps[None]:
    """``DELETE /labels/{id}``."""
    path = admin_path("labels", label_id)
    yield step(client, "DELETE", path, "labels.delete", subject=f"label {label_id!r}")


# --- the resources ----------------------------------------------------------------


class Labels(SyncResource):
    """``client.labels``: the labels prompt versions can carry."""

    def list(
        self,
        *,
        organisation_id: str | None = None,
        workspace_id: str | None = None,
        search: str | None = None,
        current_page: int | None = None,
        page_size: int | None = None,
    ) -> LabelList:
        """List labels, filtered and paged as the API allows."""
        return self._run(
            list_labels(
                self._client,
                organisation_id=organisation_id,
                workspace_id=workspace_id,
                search=search,
                current_page=current_page,
                page_size=page_size,
            )
        )

    def retrieve(self, label_id: str) -> Label:
        """One label by id."""
        return self._run(retrieve_label(self._client, label_id))

    def create(
        self,
        *,
        name: str,
        description: str | None = None,
        color_code: str | None = None,
        organisation_id: str | None = None,
        workspace_id: str | None = None,
    ) -> str:
        """Create a label and return its id; ``latest``, ``default`` and numbers are
        reserved (they select versions)."""
        return self._run(
            create_label(
                self._client,
                name=name,
                description=description,
                color_code=color_code,
                organisation_id=organisation_id,
                workspace_id=workspace_id,
            )
        )

    def update(
        self,
        label_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        color_code: str | None = None,
    ) -> None:
        """Rename, describe or recolour a label."""
        return self._run(
            update_label(
                self._client, label_id, name=name, description=description, color_code=color_code
            )
        )

    def delete(self, label_id: str) -> None:
        """Delete a label."""
        return self._run(delete_label(self._client, label_id))


class AsyncLabels(AsyncResource):
    """``async_client.labels``: the coroutine twin of :class:`Labels`."""

    async def list(
        self,
        *,
        organisation_id: str | None = None,
        workspace_id: str | None = None,
        search: str | None = None,
        current_page: int | None = None,
        page_size: int | None = None,
    ) -> LabelList:
        """List labels, filtered and paged as the API allows."""
        return await self._run(
            list_labels(
                self._client,
                organisation_id=organisation_id,
                workspace_id=workspace_id,
                search=search,
                current_page=current_page,
                page_size=page_size,
            )
        )

    async def retrieve(self, label_id: str) -> Label:
        """One label by id."""
        return await self._run(retrieve_label(self._client, label_id))

    async def create(
        self,
        *,
        name: str,
        description: str | None = None,
        color_code: str | None = None,
        organisation_id: str | None = None,
        workspace_id: str | None = None,
    ) -> str:
        """Create a label and return its id; ``latest``, ``default`` and numbers are
        reserved (they select versions)."""
        return await self._run(
            create_label(
                self._client,
                name=name,
                description=description,
                color_code=color_code,
                organisation_id=organisation_id,
                workspace_id=workspace_id,
            )
        )

    async def update(
        self,
        label_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        color_code: str | None = None,
    ) -> None:
        """Rename, describe or recolour a label."""
        return await self._run(
            update_label(
                self._client, label_id, name=name, description=description, color_code=color_code
            )
        )

    async def delete(self, label_id: str) -> None:
        """Delete a label."""
        return await self._run(delete_label(self._client, label_id))
