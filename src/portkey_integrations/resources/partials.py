"""The admin API's partial and label operations (steps as in ``prompts.py``)."""

from __future__ import annotations

from .._base_client import BaseClient
from .._errors import PortkeyConfigError
from ._models import (
    Label,
    PartialCreated,
    PartialUpdated,
    PromptPartial,
    PromptPartialList,
    PromptPartialVersionList,
)
from ._steps import Steps, admin_path, clean, step

__all__ = [
    "create_label",
    "create_partial",
    "delete_label",
    "delete_partial",
    "list_partials",
    "partial_versions",
    "publish_partial",
    "retrieve_label",
    "retrieve_partial",
    "update_label",
    "update_partial",
]


def _subject(partial_id: str) -> str:
    return f"partial {partial_id!r}"


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
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PortkeyConfigError(f"version must be a positive int, not {version!r}")
    path = admin_path("prompts", "partials", partial_id, "makeDefault")
    yield step(
        client,
        "PUT",
        path,
        "partials.publish",
        body={"version": version},
        subject=_subject(partial_id),
    )


def delete_partial(client: BaseClient, partial_id: str) -> Steps[None]:
    """Delete a partial (``DELETE /prompts/partials/{id}``)."""
    path = admin_path("prompts", "partials", partial_id)
    yield step(client, "DELETE", path, "partials.delete", subject=_subject(partial_id))


def retrieve_label(client: BaseClient, label_id: str) -> Steps[Label]:
    """One label by id (``GET /labels/{id}``)."""
    path = admin_path("labels", label_id)
    result: Label = yield step(
        client, "GET", path, "labels.retrieve", Label, subject=f"label {label_id!r}"
    )
    return result


def create_label(
    client: BaseClient,
    *,
    name: str,
    description: str | None = None,
    color_code: str | None = None,
    organisation_id: str | None = None,
    workspace_id: str | None = None,
) -> Steps[str]:
    """Create a label (``POST /labels``); returns its id."""
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


class _LabelId(Label):
    """``POST /labels`` answers only ``{"id": ...}``."""

    name: str = ""


def update_label(
    client: BaseClient,
    label_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    color_code: str | None = None,
) -> Steps[None]:
    """Rename or describe a label (``PUT /labels/{id}``)."""
    body = clean({"name": name, "description": description, "color_code": color_code})
    path = admin_path("labels", label_id)
    yield step(client, "PUT", path, "labels.update", body=body, subject=f"label {label_id!r}")


def delete_label(client: BaseClient, label_id: str) -> Steps[None]:
    """Delete a label (``DELETE /labels/{id}``)."""
    path = admin_path("labels", label_id)
    yield step(client, "DELETE", path, "labels.delete", subject=f"label {label_id!r}")
