"""``/v1/prompts/partials`` admin operations.

A partial is a versioned text template addressed by UUID or slug (``pl-...``).
Renders look partials up on every request, so ``{{>pl-x@N}}`` (or
``@latest``) sees a new version at once and ``{{>pl-x}}`` the published one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .admin import AdminCall, AdminError, check, found, require, version_number
from .admin_prompts import add_version, described, timestamps
from .records import StoredPrompt, StoredVersion, new_slug, now_iso
from .state import ServerState
from .store import PromptStore

__all__ = [
    "create_partial",
    "delete_partial",
    "get_partial",
    "list_partial_versions",
    "list_partials",
    "publish_partial",
    "update_partial",
]

_NOT_FOUND = "Prompt partial not found"


def _find(store: PromptStore, ref: str) -> StoredPrompt:
    return found(store.get_partial(ref), _NOT_FOUND)


def _summary(store: PromptStore, partial: StoredPrompt) -> dict[str, Any]:
    return {**described(store, partial, {}), "object": "partial"}


def _detail(store: PromptStore, partial: StoredPrompt, version: StoredVersion) -> dict[str, Any]:
    fields = {
        "string": version.template,
        "version": version.version,
        "version_description": version.description,
        "prompt_partial_version_id": partial.version_id(version.version),
    }
    return described(store, partial, fields)


def _version_item(
    store: PromptStore, partial: StoredPrompt, version: StoredVersion
) -> dict[str, Any]:
    return {
        "prompt_partial_id": partial.uuid,
        "prompt_partial_version_id": partial.version_id(version.version),
        "slug": partial.id,
        # The spec types this one as a string.
        "version": str(version.version),
        "string": version.template,
        "description": version.description,
        "created_at": version.created_at or timestamps(store, partial)[0],
        "prompt_version_status": "active",
        "object": "partial",
    }


def _spec(string: str, description: str | None) -> dict[str, Any]:
    # A partial is text spliced into a template, never a chat prompt of its own.
    return {"template": string, "kind": "text", "description": description, "created_at": now_iso()}


def _commit(state: ServerState, partial: StoredPrompt) -> None:
    state.store.add(partial)
    state.store.save(partial)


def list_partials(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts/partials``, filtered by ``collection_id``."""
    collection = call.query.get("collection_id")
    found = sorted(state.store.partials(), key=lambda p: p.name.lower())
    data = [
        _summary(state.store, p) for p in found if not collection or p.collection_id == collection
    ]
    return {"object": "list", "total": len(data), "data": data}


def create_partial(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``POST /prompts/partials``: a new partial whose version 1 is published."""
    body = call.body
    require(body, "name", "string")
    name = check(body, "name", "str")
    string = check(body, "string", "str")
    description = check(body, "version_description", "str")
    slug = new_slug("pl", name, [p.id for p in state.store.partials()])
    fresh = StoredPrompt(slug, name=name, partial=True, created_at=now_iso())
    partial = add_version(fresh, _spec(string, description), publish=True)
    _commit(state, partial)
    return {"id": partial.uuid, "slug": partial.id, "version_id": partial.version_id(1)}


def get_partial(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts/partials/{id}``: the partial with its published version."""
    partial = _find(state.store, call.param("partial_id"))
    return _detail(state.store, partial, partial.versions[partial.published or partial.latest])


def update_partial(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``PUT /prompts/partials/{id}``: ``string`` adds a version; ``name``/``status`` edit."""
    body = call.body
    partial = _find(state.store, call.param("partial_id"))
    name = check(body, "name", "str")
    string = check(body, "string", "str")
    description = check(body, "description", "str")
    status = check(body, "status", "str")
    if status is not None and status not in ("active", "archived"):
        raise AdminError(400, "Invalid value for 'status': must be 'active' or 'archived'")
    if string is not None:
        partial = add_version(partial, _spec(string, description), publish=False)
    partial = replace(
        partial,
        name=name or partial.name,
        status=status or partial.status,
        description=partial.description if description is None else description,
        last_updated_at=now_iso(),
    )
    _commit(state, partial)
    return {"prompt_partial_version_id": partial.version_id(partial.latest)}


def delete_partial(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``DELETE /prompts/partials/{id}``."""
    partial = _find(state.store, call.param("partial_id"))
    state.store.remove(partial.id, partial=True)
    state.store.discard(partial)
    return {}


def list_partial_versions(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts/partials/{id}/versions``, oldest first."""
    partial = _find(state.store, call.param("partial_id"))
    data = [
        _version_item(state.store, partial, partial.versions[n]) for n in sorted(partial.versions)
    ]
    return {"object": "list", "total": len(data), "data": data}


def publish_partial(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``PUT /prompts/partials/{id}/makeDefault``."""
    partial = _find(state.store, call.param("partial_id"))
    number = version_number(call.body)
    if number not in partial.versions:
        raise AdminError(404, "Prompt partial version not found")
    _commit(state, replace(partial, published=number, last_updated_at=now_iso()))
    return {}
