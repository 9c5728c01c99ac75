"""``portkey-prompts pull``: write Portkey's prompts, and the partials they name, to files.

Everything is read first; then, unless ``--force``, a file holding versions Portkey
lacks stops the pull before any file is written. A version naming a partial Portkey no
longer has is skipped with a warning, not fatal.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from .._errors import PromptNotFoundError
from .._templates.analysis import analyze_template, split_partial_ref
from .checks import template_text
from .errors import Conflict, UnsafePath
from .fileformat import LABELS_FILE, labels_data
from .folder import MIRROR, Folder, open_folder, shown
from .history import unpushed
from .remote import Api, Remote

__all__ = ["pull"]


class _Reader:
    """Reads the prompts asked for and every partial their versions name."""

    def __init__(self, api: Api, err: TextIO) -> None:
        self.api = api
        self.err = err
        self.found: dict[tuple[bool, str], Remote] = {}
        self.partials: dict[str, bool] = {}  # partial id -> exists
        self.skipped: dict[tuple[bool, str], set[int]] = {}

    def add(self, remote: Remote) -> None:
        if (remote.partial, remote.id) in self.found:
            return
        self.found[(remote.partial, remote.id)] = remote
        for number, spec in sorted(remote.versions.items()):
            names = analyze_template(template_text(spec["template"]), chat=False).partials
            for name in sorted({split_partial_ref(n)[0] for n in names} - {""}):
                if not self.partial(name):
                    self.skipped.setdefault((remote.partial, remote.id), set()).add(number)
                    self.err.write(
                        f"warning: {shown(remote.id)} v{number} skipped: it names partial "
                        f"{shown(name)!r}, which Portkey does not have\n"
                    )

    def partial(self, name: str) -> bool:
        if name not in self.partials:
            self.partials[name] = True  # a partial naming itself ends here
            # Portkey's partials, else (as on the local server) another prompt.
            found = self.api.partial(name) or self.api.prompt(name)
            self.partials[name] = found is not None
            if found is not None:
                self.add(found)
        return self.partials[name]


def _check_unpushed(folder: Folder, remotes: list[Remote]) -> None:
    lost = []
    for remote in remotes:
        local = folder.find(remote.id, remote.partial)
        if local is not None:
            versions = unpushed(local, remote.versions)
            if versions:
                lost.append(f"  {local.path.name} ({shown(remote.id)}): {', '.join(versions)}\n")
    if lost:
        raise Conflict(
            "pull would discard versions Portkey does not have:\n"
            + "".join(lost)
            + "  push them first, or pass --force to overwrite them"
        )


def pull(api: Api, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``pull``."""
    folder = open_folder(args.to, create=True)
    refs = list(args.ids) or [ref for ref, _ in api.prompt_summaries()]
    err.write(f"pulling {len(refs)} prompt(s) into {folder.root}\n")
    reader = _Reader(api, err)
    for ref in refs:
        remote = api.prompt(ref)
        if remote is None:
            raise PromptNotFoundError(f"prompt {ref!r} not found", status_code=404, body=None)
        reader.add(remote)
    remotes = list(reader.found.values())
    if not args.force:
        _check_unpushed(folder, remotes)
    targets: dict[str, str] = {}
    for remote in remotes:
        path = folder.target(remote.id, remote.partial)
        # Compared without case: on macOS and Windows "PP-A.json" is "pp-a.json".
        claimed = targets.setdefault(path.name.lower(), remote.id)
        if claimed != remote.id:
            raise UnsafePath(
                f"{path.name}: both {shown(claimed)} and {shown(remote.id)} would be written "
                "there; nothing written"
            )
    written = 0
    for remote in remotes:
        skipped = reader.skipped.get((remote.partial, remote.id), set())
        keep = [n for n in remote.versions if n not in skipped]
        if not keep:
            err.write(f"warning: {shown(remote.id)}: every version skipped; no file written\n")
            continue
        changed = folder.write(folder.target(remote.id, remote.partial), remote.file_data(keep))
        written += 1
        kind = "partial, " if remote.partial else ""
        state = "written" if changed else "unchanged"
        err.write(f"[{written}] {shown(remote.id)}: {kind}{len(keep)} version(s), {state}\n")
    mirror = not args.ids or folder.mirror
    custom = labels_data(api.read.labels.list().data) or ({"labels": []} if mirror else None)
    if custom is not None:
        folder.write(folder.root / LABELS_FILE, {**custom, **({MIRROR: True} if mirror else {})})
    out.write(f"pulled {written} file(s) into {folder.root}\n")
    return 0
