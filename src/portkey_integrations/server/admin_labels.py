"""``/v1/labels`` admin operations.

``production``, ``staging`` and ``development`` are system labels: always
there, never edited or deleted. A label is attached to a prompt version with
``PUT /prompts/{id}/versions/{versionId}``; renaming a label renames it in every
prompt, deleting it detaches it everywhere.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from .admin import AdminCall, AdminError, check, found, matches, page, require
from .admin_files import relabel
from .records import StoredLabel, now_iso
from .state import ServerState

__all__ = ["create_label", "delete_label", "get_label", "list_labels", "update_label"]

_NOT_FOUND = "Label not found"
# Portkey's own pattern for label names (from its OpenAPI file).
_NAME = re.compile(r"(?!latest$)(?!default$)(?!\d+$)[a-zA-Z0-9_-]*[^@\s]?[a-zA-Z0-9_-]*")


def _name(body: dict[str, Any]) -> str | None:
    name = check(body, "name", "str")
    if name is not None and (not name or not _NAME.fullmatch(name)):
        raise AdminError(
            400,
            "Invalid value for 'name': letters, digits, '-' and '_' only; "
            "not 'latest', 'default' or a number",
        )
    return name


def _find(state: ServerState, ref: str) -> StoredLabel:
    return found(state.store.labels.get(ref), _NOT_FOUND)


def _editable(state: ServerState, ref: str) -> StoredLabel:
    label = _find(state, ref)
    if label.is_universal:
        raise AdminError(400, f"The system label '{label.name}' cannot be changed or deleted")
    return label


def _relabel_everywhere(state: ServerState, old: str, new: str | None) -> None:
    store = state.store
    for prompt in [*store, *store.partials()]:
        if old in prompt.labels:
            changed = relabel(prompt, old, new)
            store.add(changed)
            store.save(changed)


def list_labels(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /labels``: filtered by ``search`` (in the name), paged."""
    found = [label for label in state.store.labels if matches(call.query.get("search"), label.name)]
    return {"total": len(found), "data": [label.to_api() for label in page(found, call.query)]}


def create_label(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``POST /labels``."""
    require(call.body, "name")
    name = _name(call.body)
    assert name is not None
    if state.store.labels.get(name) is not None:
        raise AdminError(400, f"Invalid value for 'name': a label '{name}' already exists")
    label = StoredLabel(
        str(uuid.uuid4()),
        name,
        description=check(call.body, "description", "str") or "",
        color_code=check(call.body, "color_code", "str") or "",
        created_at=now_iso(),
    )
    state.store.labels.put(label)
    state.store.save_labels()
    return {"id": label.id}


def get_label(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /labels/{id}``."""
    return _find(state, call.param("label_id")).to_api()


def update_label(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``PUT /labels/{id}``: name, description, color code."""
    label = _editable(state, call.param("label_id"))
    name = _name(call.body)
    if name is not None and name != label.name and state.store.labels.get(name) is not None:
        raise AdminError(400, f"Invalid value for 'name': a label '{name}' already exists")
    description = check(call.body, "description", "str")
    color = check(call.body, "color_code", "str")
    updated = replace(
        label,
        name=name or label.name,
        description=label.description if description is None else description,
        color_code=label.color_code if color is None else color,
        last_updated_at=now_iso(),
    )
    state.store.labels.put(updated)
    if updated.name != label.name:
        _relabel_everywhere(state, label.name, updated.name)
    state.store.save_labels()
    return {}


def delete_label(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``DELETE /labels/{id}``: the label is detached from every prompt version."""
    label = _editable(state, call.param("label_id"))
    state.store.labels.remove(label.id)
    _relabel_everywhere(state, label.name, None)
    state.store.save_labels()
    return {}
