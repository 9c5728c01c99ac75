"""What the prompt store holds: prompts, their versions and labels, and their ids.

Free of the HTTP layer and of the file format, so the store, the file format and the
admin routes all build on it. The names say "stored" to keep them apart from the
client's models (``Prompt``, ``PromptVersion``, ``Label``). Ids are stable: a
prompt's UUID is derived from its slug (unless its file names one) and a
version's UUID from the prompt's UUID and the version number, so a server
reloaded from the same folder answers with the same ids.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_MODEL",
    "DEFAULT_ORGANISATION",
    "DEFAULT_WORKSPACE",
    "LOCAL_VIRTUAL_KEY",
    "SYSTEM_LABELS",
    "LabelRegistry",
    "PromptKind",
    "StoredLabel",
    "StoredPrompt",
    "StoredVersion",
    "default_uuid",
    "new_slug",
    "now_iso",
    "split_prompt_ref",
    "version_uuid",
]

_NAMESPACE = uuid.UUID("5b0c3f8e-4a53-4f4e-9d53-2f0c1f0e6b11")
DEFAULT_COLLECTION = str(uuid.uuid5(_NAMESPACE, "collection:default"))
"""The collection prompts belong to when their file names none."""

DEFAULT_ORGANISATION = str(uuid.uuid5(_NAMESPACE, "organisation:local"))
DEFAULT_WORKSPACE = str(uuid.uuid5(_NAMESPACE, "workspace:local"))
"""The one organisation and workspace of a local server."""

SYSTEM_LABELS = ("production", "staging", "development")
"""Portkey's built-in labels: present in every store, never edited or deleted."""

PromptKind = Literal["chat", "text"]
DEFAULT_MODEL = "portkey-local"
LOCAL_VIRTUAL_KEY = "vk-portkey-local"
"""The virtual key of every local prompt that saves none. Portkey prompts always carry
the virtual key they run on; the local server accepts this one as routing, so a template
run on a prompt's saved model routes offline exactly as it does on Portkey."""


@dataclass(frozen=True)
class StoredVersion:
    """One saved version of a prompt."""

    prompt_id: str
    version: int
    template: str
    kind: PromptKind
    model: str = DEFAULT_MODEL
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tools: list[Any] | None = None
    response_format: dict[str, Any] | None = None
    partials: tuple[str, ...] = ()
    variable_partials: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    description: str = ""
    virtual_key: str | None = None
    functions: list[Any] | None = None
    tool_choice: Any = None
    is_raw_template: bool = False
    template_metadata: dict[str, Any] | None = None
    created_at: str = ""

    @property
    def routing_key(self) -> str:
        """The virtual key this version runs on: its own, else :data:`LOCAL_VIRTUAL_KEY`
        (kept out of prompt files, which save only what was set)."""
        return self.virtual_key or LOCAL_VIRTUAL_KEY

    def parameters_object(self) -> dict[str, Any]:
        """The saved request parameters, as Portkey stores them beside the template."""
        params: dict[str, Any] = {"model": self.model, **self.parameters}
        extra = {
            "tools": self.tools,
            "response_format": self.response_format,
            "functions": self.functions,
            "tool_choice": self.tool_choice,
        }
        params.update({k: v for k, v in extra.items() if v is not None})
        return params


@dataclass
class StoredPrompt:
    """A stored prompt (or partial): its versions, the published one and its labels."""

    id: str
    versions: dict[int, StoredVersion] = field(default_factory=dict)
    published: int | None = None
    labels: dict[str, int] = field(default_factory=dict)
    description: str = ""
    uuid: str = ""
    name: str = ""
    collection_id: str = DEFAULT_COLLECTION
    partial: bool = False
    status: str = "active"
    created_at: str = ""
    last_updated_at: str = ""

    def __post_init__(self) -> None:
        if not self.uuid:
            self.uuid = default_uuid("partial" if self.partial else "prompt", self.id)
        if not self.name:
            self.name = self.id

    @property
    def latest(self) -> int:
        """The newest version number."""
        return max(self.versions)

    def version_id(self, number: int) -> str:
        """The UUID of one version."""
        return version_uuid(self.uuid, number)

    def find_version(self, ref: str) -> StoredVersion | None:
        """The version with this UUID (or number)."""
        if ref.isdigit() and ref.isascii():
            return self.versions.get(int(ref))
        return next((v for n, v in self.versions.items() if self.version_id(n) == ref), None)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description (what ``portkey-local prompts --json`` prints)."""
        current = self.versions[self.published or self.latest]
        return {
            "id": self.id,
            "description": self.description,
            "kind": current.kind,
            "model": current.model,
            "versions": sorted(self.versions),
            "published": self.published,
            "latest": self.latest,
            "labels": dict(self.labels),
            "variables": list(current.variables),
        }


def split_prompt_ref(ref: str) -> tuple[str, str | None]:
    """``"pp-x@12"`` -> ``("pp-x", "12")``; ``"pp-x"`` -> ``("pp-x", None)``.

    The one place the server reads a prompt reference (``id``, ``id@N``, ``id@latest``
    or ``id@label``); ``"pp-x@"`` gives an empty selector, which names no version.
    """
    prompt_id, at, selector = ref.partition("@")
    return prompt_id, selector if at else None


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
class StoredLabel:
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
        self._labels: dict[str, StoredLabel] = {}
        for name in SYSTEM_LABELS:
            label = StoredLabel(
                default_uuid("label", name), name, is_universal=True, created_at=started
            )
            self._labels[label.id] = label

    def __iter__(self) -> Iterator[StoredLabel]:
        return iter(sorted(self._labels.values(), key=lambda label: label.name))

    def get(self, ref: str) -> StoredLabel | None:
        """The label with this id or name."""
        found = self._labels.get(ref)
        if found is not None:
            return found
        return next((label for label in self._labels.values() if label.name == ref), None)

    def ensure(self, name: str) -> StoredLabel:
        """The label of this name, created (with a stable id) if it does not exist."""
        with self._lock:
            found = self.get(name)
            if found is None:
                found = StoredLabel(default_uuid("label", name), name, created_at=now_iso())
                self._labels[found.id] = found
            return found

    def put(self, label: StoredLabel) -> None:
        """Add or replace a label."""
        with self._lock:
            self._labels[label.id] = label

    def remove(self, label_id: str) -> None:
        """Forget a label; no error if it is not held."""
        with self._lock:
            self._labels.pop(label_id, None)

    def snapshot(self) -> dict[str, StoredLabel]:
        """A copy of the labels, for :meth:`restore`."""
        with self._lock:
            return dict(self._labels)

    def restore(self, labels: Mapping[str, StoredLabel]) -> None:
        """Put back a :meth:`snapshot`."""
        with self._lock:
            self._labels = dict(labels)

    def custom(self) -> list[StoredLabel]:
        """The labels that are not system labels, by name."""
        return [label for label in self if not label.is_universal]
