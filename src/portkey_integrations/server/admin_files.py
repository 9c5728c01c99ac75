"""The prompt-file format as the store holds it: stored prompts from what
:mod:`portkey_integrations._templates.files` reads, and back to what it writes.

The format itself (its keys, checks and stable JSON) lives in that one module, shared
with ``portkey-prompts``; this one adds what the server keeps beside it: the kind a
template implies, its variables and partials, default ids, and the labels registry.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._templates.files import (
    LABELS_FILE,
    LocalPrompt,
    PromptFileError,
    check_prompt_id,
    check_version,
    labels_file_data,
    prompt_file_data,
    read_labels_data,
    read_prompt_data,
    version_data,
    write_json,
)
from .._templates.mustache import MustacheError, template_details
from .records import (
    DEFAULT_COLLECTION,
    DEFAULT_MODEL,
    LabelRegistry,
    PromptKind,
    StoredLabel,
    StoredPrompt,
    StoredVersion,
    default_uuid,
)

__all__ = [
    "MAX_TEMPLATE_CHARS",
    "FileRefused",
    "PromptFiles",
    "build_version",
    "infer_kind",
    "load_labels",
    "parse_prompt_data",
    "prompt_to_data",
    "relabel",
    "safe_file_name",
    "stored_prompt",
]


MAX_TEMPLATE_CHARS = 4 * 2**20
"""The longest template the server stores (parsing is linear; this bounds memory)."""


def infer_kind(template: Any) -> PromptKind:
    """``chat`` for a list or JSON-array text, else ``text``."""
    if isinstance(template, list) or (
        isinstance(template, str) and template.lstrip().startswith("[")
    ):
        return "chat"
    return "text"


def build_version(
    prompt_id: str, spec: Mapping[str, Any], number: int | None, source: str | Path
) -> StoredVersion:
    """A stored version from a version object (a file's, an admin request's or
    :meth:`~.store.PromptStore.register`'s); ``number`` ``None`` stands for 1."""
    fields = check_version(spec, 1 if number is None else number, source)
    template: str = fields.pop("template")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise PromptFileError(
            source,
            f"the template has {len(template)} characters; "
            f"the local server takes at most {MAX_TEMPLATE_CHARS}",
        )
    kind = fields.pop("kind") or infer_kind(template)
    model = fields.pop("model") or DEFAULT_MODEL
    try:
        details = template_details(template)
    except MustacheError:
        # Portkey saves such a template; rendering it is what fails (with a 400).
        details = {"partials": [], "variablePartials": [], "variables": []}
    set_fields = {k: v for k, v in fields.items() if v is not None}
    return StoredVersion(
        prompt_id=check_prompt_id(prompt_id, source),
        version=number or 1,
        template=template,
        kind=kind,
        model=model,
        partials=tuple(details["partials"]),
        variable_partials=tuple(details["variablePartials"]),
        variables=tuple(details["variables"]),
        **set_fields,
    )


def stored_prompt(local: LocalPrompt, source: str | Path) -> StoredPrompt:
    """The stored prompt of a checked prompt file."""
    text = local.fields
    prompt = StoredPrompt(
        local.id,
        description=text.get("description", ""),
        uuid=text.get("uuid", ""),
        name=text.get("name", ""),
        collection_id=text.get("collection_id", DEFAULT_COLLECTION),
        partial=local.partial,
        status=text.get("status", "active"),
        created_at=text.get("created_at", ""),
        last_updated_at=text.get("last_updated_at", ""),
    )
    for position, (number, spec) in enumerate(local.versions.items(), start=1):
        where = f"{source} (version #{position})"
        prompt.versions[number] = build_version(local.id, spec, number, where)
    prompt.published = min(prompt.versions) if local.published is None else local.published
    prompt.labels.update(local.labels)
    return prompt


def parse_prompt_data(data: Any, source: str | Path = "<data>") -> StoredPrompt:
    """Check a decoded prompt file and build its stored prompt."""
    return stored_prompt(read_prompt_data(data, source), source)


def prompt_to_data(prompt: StoredPrompt) -> dict[str, Any]:
    """A prompt (or partial) as its prompt file's JSON object; defaults are left out."""
    versions = []
    for number in sorted(prompt.versions):
        version = prompt.versions[number]
        versions.append(
            version_data(
                number,
                version.template,
                kind=version.kind,
                model=version.model,
                parameters=dict(version.parameters),
                tools=version.tools,
                response_format=version.response_format,
                functions=version.functions,
                tool_choice=version.tool_choice,
                virtual_key=version.virtual_key,
                template_metadata=version.template_metadata,
                description=version.description,
                is_raw_template=version.is_raw_template,
                created_at=version.created_at,
            )
        )
    kind = "partial" if prompt.partial else "prompt"
    return prompt_file_data(
        prompt.id,
        versions,
        published=prompt.published,
        labels=prompt.labels,
        partial=prompt.partial,
        uuid=None if prompt.uuid == default_uuid(kind, prompt.id) else prompt.uuid,
        name=None if prompt.name == prompt.id else prompt.name,
        collection_id=None if prompt.collection_id == DEFAULT_COLLECTION else prompt.collection_id,
        description=prompt.description,
        status=None if prompt.status == "active" else prompt.status,
        created_at=prompt.created_at,
        last_updated_at=prompt.last_updated_at,
    )


def load_labels(registry: LabelRegistry, data: Any, source: str | Path) -> None:
    """Add the labels of a decoded labels file (``{"labels": [...]}``) to ``registry``."""
    for text in read_labels_data(data, source):
        registry.put(
            StoredLabel(
                text["id"] or default_uuid("label", text["name"]),
                text["name"],
                description=text["description"],
                color_code=text["color_code"],
                created_at=text["created_at"],
                last_updated_at=text["last_updated_at"],
            )
        )


def relabel(prompt: StoredPrompt, old: str, new: str | None) -> StoredPrompt:
    """A copy of ``prompt`` with label ``old`` renamed to ``new`` (or dropped for ``None``)."""
    labels = {}
    for name, number in prompt.labels.items():
        if name != old:
            labels[name] = number
        elif new is not None:
            labels[new] = number
    return replace(prompt, labels=labels)


class FileRefused(Exception):
    """A write the server refuses: a file edited by hand since it was read, or a path
    outside the prompts folder. ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
Fingerprint = tuple[int, int, str]


def safe_file_name(prompt_id: str) -> str:
    """A file name for a prompt id: the id itself when it is a plain name, else a
    sanitised stem plus a hash of the id (``../../x`` -> ``x-3f2a9c1b.json``)."""
    if _SAFE_NAME.fullmatch(prompt_id) and not prompt_id.endswith("."):
        return f"{prompt_id}.json"
    stem = _UNSAFE_CHARS.sub("-", prompt_id).strip(".-_")[:80] or "prompt"
    digest = hashlib.sha256(prompt_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem}-{digest}.json"


def _fingerprint(path: Path) -> Fingerprint | None:
    try:
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size, digest


def _changed(path: Path, known: Fingerprint | None) -> bool:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return known is not None
    if known is None:
        return True
    if (info.st_mtime_ns, info.st_size) == known[:2]:
        return False
    # Touched: changed only if the bytes differ.
    return hashlib.sha256(path.read_bytes()).hexdigest() != known[2]


class PromptFiles:
    """Writes a store's changes back to a folder of prompt files.

    Every write stays in the folder (names are sanitised, the resolved path is checked,
    symlinks are never written through), and never replaces a file changed on disk
    since the server read or wrote it: that is a :class:`FileRefused` (409).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"{self.folder}: not a folder of prompt files")
        self._root = self.folder.resolve()
        self._seen: dict[Path, Fingerprint | None] = {}
        self._lock = threading.Lock()

    def path_for(self, slug: str, source: Path | None) -> Path:
        """The file a prompt is written to: the one it came from, if in this folder."""
        if source is not None and source.parent.resolve() == self._root:
            return source
        return self.folder / safe_file_name(slug)

    def remember(self, path: Path) -> None:
        """Record a file as the server knows it (at load, after a write)."""
        self._seen[path] = _fingerprint(path)

    def _check(self, path: Path) -> None:
        if path.parent.resolve() != self._root or path.is_symlink():
            raise FileRefused(400, f"{path}: refused, not a plain file of {self.folder}")
        changed = _changed(path, self._seen[path]) if path in self._seen else path.exists()
        if changed:
            raise FileRefused(
                409,
                f"{path} changed on disk since the server read it; restart the server "
                "(or undo the edit) before changing it over the admin API",
            )

    def check_all(self) -> None:
        """:class:`FileRefused` naming the first known file edited by hand."""
        with self._lock:
            for path in list(self._seen):
                self._check(path)

    def write(self, path: Path, data: Any) -> None:
        """Write ``data`` atomically as the CLI does: sorted keys, a template's own kept."""
        with self._lock:
            self._check(path)
            write_json(path, data)
            self.remember(path)

    def delete(self, path: Path) -> None:
        """Remove a prompt file of this folder, if present."""
        with self._lock:
            self._check(path)
            path.unlink(missing_ok=True)
            self._seen[path] = None

    def write_labels(self, labels: LabelRegistry) -> None:
        """Write the custom labels to ``_labels.json`` (removed when there are none)."""
        path = self.folder / LABELS_FILE
        data = labels_file_data(vars(label) for label in labels.custom())
        if data is None:
            self.delete(path)
        else:
            self.write(path, data)
