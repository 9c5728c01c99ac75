"""The folder of prompt files: safe file names, writes that stay inside it, and the
fields the CLI adds to a prompt file.

A file name never comes from a raw server string: :func:`file_stem` is the one
sanitiser. Every write goes through :func:`write_inside`, which checks the resolved
path and refuses symbolic links, then writes atomically (``write_json``: a temporary
file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UnsafePath
from .fileformat import (
    LocalPrompt,
    PromptFileError,
    load_folder,
    read_labels_file,
    write_json,
)

__all__ = [
    "MIRROR",
    "Folder",
    "file_stem",
    "open_folder",
    "shown",
]

MIRROR = "mirror"
"""``_labels.json``'s field set by a full pull: the folder holds every prompt, so a
prompt only Portkey has is drift."""

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9._-]+")
# Names Windows reserves whatever the extension: refused so a folder checks out anywhere.
_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)]
)


def file_stem(name: str) -> str:
    """The file name (without ``.json``) for a prompt id or slug: the name itself when
    it is plain (letters, digits, ``.``, ``_``, ``-``; at most 100; not starting with
    ``_`` or ``.``, which the CLI reserves), else a cleaned prefix plus a hash of the
    whole name, so two names never share a file."""
    if _SAFE.fullmatch(name) and name.lower().split(".")[0] not in _DEVICES:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    cleaned = _UNSAFE_CHAR.sub("_", name).strip("._-")[:60]
    return f"{cleaned}-{digest}" if cleaned else f"prompt-{digest}"


@dataclass
class Folder:
    """A folder of prompt files, resolved once: where each id's file is."""

    root: Path
    items: list[LocalPrompt] = field(default_factory=list)
    mirror: bool = False

    def find(self, prompt_id: str, partial: bool) -> LocalPrompt | None:
        """The file holding ``prompt_id`` (a prompt, or a partial when ``partial``)."""
        return next((i for i in self.items if i.id == prompt_id and i.partial == partial), None)

    def target(self, prompt_id: str, partial: bool) -> Path:
        """Where ``prompt_id``'s file goes: its current file, else the sanitised name."""
        found = self.find(prompt_id, partial)
        if found is not None:
            return found.path
        return self.root / f"{file_stem(prompt_id)}.json"

    def write(self, path: Path, data: Any) -> bool:
        """Write ``data`` to ``path``, a file directly inside the folder (checked)."""
        return write_inside(self.root, path, data)


def write_inside(root: Path, path: Path, data: Any) -> bool:
    """Write JSON atomically to ``path`` after checking it is a plain file name directly
    inside ``root`` and not a symbolic link; returns whether the bytes changed."""
    resolved_root = root.resolve()
    candidate = resolved_root / path.name
    if (
        path.name in ("", ".", "..")
        or "\x00" in path.name
        or path.parent.resolve() != resolved_root
        or candidate.parent != resolved_root
    ):
        raise UnsafePath(f"{path}: not a file directly inside {root}; not written")
    if candidate.is_symlink():
        raise UnsafePath(f"{candidate}: a symbolic link; not written")
    try:
        return write_json(candidate, data)
    except OSError as exc:
        raise UnsafePath(f"{candidate}: cannot write: {exc.strerror or exc}") from None


def _refuse_other_formats(root: Path) -> None:
    others = sorted(
        p.name for p in root.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()
    )
    if others:
        raise PromptFileError(
            root / others[0],
            "YAML prompt files are not supported: prompt files are JSON "
            f"(found {', '.join(others)})",
        )


def open_folder(path: str | Path, *, create: bool = False) -> Folder:
    """Read a folder of prompt files (every file checked; YAML refused)."""
    root = Path(path)
    if create:
        if root.exists() and not root.is_dir():
            raise PromptFileError(root, "not a folder")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UnsafePath(f"{root}: cannot create the folder: {exc.strerror or exc}") from None
    if not root.is_dir():
        raise PromptFileError(root, "not a folder of prompt files")
    _refuse_other_formats(root)
    items = load_folder(root)
    data = read_labels_file(root)
    return Folder(root, items, isinstance(data, dict) and data.get(MIRROR) is True)


def shown(name: str) -> str:
    """A name from a server or a file, safe to print on one line."""
    return name if name.isprintable() and len(name) <= 120 else repr(name[:120])
