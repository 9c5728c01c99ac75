"""Records behind the admin routes: ids, labels, and prompt files written back to disk.

Kept free of the HTTP layer so the prompt store can use it. Ids are stable: a
prompt's UUID is derived from its slug (unless its file names one) and a
version's UUID from the prompt's UUID and the version number, so a server
reloaded from the same folder answers with the same ids.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._templates.files import LABELS_FILE, write_json

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_ORGANISATION",
    "DEFAULT_WORKSPACE",
    "LABELS_FILE",
    "LABEL_FILE_KEYS",
    "SYSTEM_LABELS",
    "Label",
    "LabelRegistry",
    "PromptFiles",
    "default_uuid",
    "new_slug",
    "now_iso",
    "version_uuid",
]

_NAMESPACE = uuid.UUID("5b0c3f8e-4a53-4f4e-9d53-2f0c1f0e6b11")
DEFAULT_COLLECTION = str(uuid.uuid5(_NAMESPACE, "collection:default"))
"""The collection prompts belong to when their file names none."""

DEFAULT_ORGANISATION = str(uuid.uuid5(_NAMESPACE, "organisation:local"))
DEFAULT_WORKSPACE = str(uuid.uuid5(_NAMESPACE, "workspace:local"))
"""The one organisation and workspace of a local server."""

"""The file of a writable prompts folder that holds the labels created over the API."""

SYSTEM_LABELS = ("production", "staging", "development")
"""Portkey's built-in labels: present in every store, never edited or deleted."""

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def now_iso() -> str:
    """The current UTC time as Portkey prints it (``2026-01-02T03:04:05.678Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_uuid(kind: str, slug: str) -> str:
    """The stable UUID of a prompt (``kind="prompt"``) or partial that has no saved one."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{slug}"))


def version_uuid(owner_uuid: str, number: int) -> str:
    """The stable UUID of version ``number`` of a prompt or partial."""
    try:
        base = uuid.UUID(owner_uuid)
    except ValueError:
        base = uuid.uuid5(_NAMESPACE, owner_uuid)
    return str(uuid.uuid5(base, f"version:{number}"))


def new_slug(prefix: str, name: str, taken: Iterable[str]) -> str:
    """A fresh slug in Portkey's style: ``pp-`` + 10 characters of the name + 6 hex digits."""
    stem = _SLUG_CHARS.sub("-", name.lower()).strip("-")[:10].strip("-") or "prompt"
    used = set(taken)
    while True:
        slug = f"{prefix}-{stem}-{secrets.token_hex(3)}"
        if slug not in used:
            return slug


@dataclass(frozen=True)
class Label:
    """A label: a name that points at one version of each prompt that uses it."""

    id: str
    name: str
    description: str = ""
    color_code: str = ""
    is_universal: bool = False
    created_at: str = ""
    last_updated_at: str = ""
    status: str = "active"

    def to_api(self) -> dict[str, Any]:
        """Portkey's ``Label`` object."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "color_code": self.color_code,
            "organisation_id": DEFAULT_ORGANISATION,
            "workspace_id": DEFAULT_WORKSPACE,
            "is_universal": self.is_universal,
            "created_at": self.created_at,
            "last_updated_at": self.last_updated_at or self.created_at,
            "status": self.status,
        }


class LabelRegistry:
    """The labels of a store, by id and by name; the system labels always exist."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        started = now_iso()
        self._labels: dict[str, Label] = {}
        for name in SYSTEM_LABELS:
            label = Label(default_uuid("label", name), name, is_universal=True, created_at=started)
            self._labels[label.id] = label

    def __iter__(self) -> Iterator[Label]:
        return iter(sorted(self._labels.values(), key=lambda label: label.name))

    def get(self, ref: str) -> Label | None:
        """The label with this id or name."""
        found = self._labels.get(ref)
        if found is not None:
            return found
        return next((label for label in self._labels.values() if label.name == ref), None)

    def ensure(self, name: str) -> Label:
        """The label of this name, created (with a stable id) if it does not exist."""
        with self._lock:
            found = self.get(name)
            if found is None:
                found = Label(default_uuid("label", name), name, created_at=now_iso())
                self._labels[found.id] = found
            return found

    def put(self, label: Label) -> None:
        """Add or replace a label."""
        with self._lock:
            self._labels[label.id] = label

    def remove(self, label_id: str) -> None:
        """Forget a label; no error if it is not held."""
        with self._lock:
            self._labels.pop(label_id, None)

    def custom(self) -> list[Label]:
        """The labels that are not system labels, by name."""
        return [label for label in self if not label.is_universal]


LABEL_FILE_KEYS = ("id", "name", "description", "color_code", "created_at", "last_updated_at")


class PromptFiles:
    """Writes a store's changes back to a folder of prompt files."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"{self.folder}: not a folder of prompt files")
        self._lock = threading.Lock()

    def path_for(self, slug: str, source: Path | None) -> Path:
        """The file a prompt is written to: the one it came from, if in this folder."""
        if source is not None and source.parent.resolve() == self.folder.resolve():
            return source
        return self.folder / f"{slug}.json"

    def write(self, path: Path, data: Any) -> None:
        """Write ``data`` atomically as the CLI does: sorted keys, a template's own kept."""
        with self._lock:
            write_json(path, data)

    def delete(self, path: Path) -> None:
        """Remove a prompt file of this folder, if present."""
        with self._lock:
            if path.parent.resolve() == self.folder.resolve():
                path.unlink(missing_ok=True)

    def write_labels(self, labels: LabelRegistry) -> None:
        """Write the custom labels to ``_labels.json`` (removed when there are none)."""
        custom = labels.custom()
        path = self.folder / LABELS_FILE
        if not custom:
            self.delete(path)
            return
        items = []
        for label in custom:
            item = {k: getattr(label, k) for k in LABEL_FILE_KEYS}
            items.append({k: v for k, v in item.items() if v})
        self.write(path, {"labels": items})
