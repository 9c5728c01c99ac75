"""The prompt store: prompts with versions, a published version and labels.

Prompts and partials come from JSON files (one per prompt, format in
``docs/local-server.md``), from :meth:`PromptStore.register` or from the admin
routes. A reference such as ``pp-x``, ``pp-x@12``, ``pp-x@latest`` or
``pp-x@production`` (the slug or the UUID before the ``@``) resolves to one
:class:`StoredVersion`. With :meth:`PromptStore.write_to`, changes made through
:meth:`PromptStore.save` are written back to the folder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._templates.files import (
    LABELS_FILE,
    PromptFileError,
    load_folder,
    read_labels_file,
    read_prompt_file,
)
from .admin_files import (
    PromptFiles,
    build_version,
    load_labels,
    parse_prompt_data,
    prompt_to_data,
    stored_prompt,
)
from .records import (
    DEFAULT_MODEL,
    LabelRegistry,
    PromptKind,
    StoredPrompt,
    StoredVersion,
    now_iso,
    split_prompt_ref,
)

__all__ = [
    "DEFAULT_MODEL",
    "PromptFileError",
    "PromptStore",
    "StoredPrompt",
    "StoredVersion",
    "bundled_prompts_dir",
]


def bundled_prompts_dir() -> Path:
    """The folder of prompts shipped with the package."""
    return Path(__file__).parent / "prompts"


class PromptStore:
    """Prompts held in memory; safe to read while another thread registers."""

    def __init__(self) -> None:
        self._prompts: dict[str, StoredPrompt] = {}
        self._partials: dict[str, StoredPrompt] = {}
        self._uuids: dict[str, str] = {}
        self._sources: dict[str, Path] = {}
        # Re-entrant: the admin routes hold it across a read-modify-write.
        self.lock = threading.RLock()
        self.labels = LabelRegistry()
        self.files: PromptFiles | None = None
        self.started_at = now_iso()

    @classmethod
    def from_dir(cls, path: str | Path, *, include_bundled: bool = False) -> PromptStore:
        """A store holding the prompt files of ``path`` (plus the bundled ones if asked)."""
        store = cls()
        if include_bundled:
            store.load_dir(bundled_prompts_dir())
        store.load_dir(path)
        return store

    # --- reading -----------------------------------------------------------

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self._prompts

    def __len__(self) -> int:
        return len(self._prompts)

    def __iter__(self) -> Iterator[StoredPrompt]:
        return iter(list(self._prompts.values()))

    def ids(self) -> list[str]:
        """The ids of the prompts held, sorted."""
        return sorted(self._prompts)

    def get(self, prompt_id: str) -> StoredPrompt | None:
        """The prompt with this slug or UUID (no version suffix), if held."""
        found = self._prompts.get(prompt_id)
        if found is None and prompt_id in self._uuids:
            found = self._prompts.get(self._uuids[prompt_id])
        return found

    def get_partial(self, partial_id: str) -> StoredPrompt | None:
        """The partial with this slug or UUID, if held."""
        found = self._partials.get(partial_id)
        if found is None and partial_id in self._uuids:
            found = self._partials.get(self._uuids[partial_id])
        return found

    def partials(self) -> list[StoredPrompt]:
        """The partials held."""
        return list(self._partials.values())

    def resolve(self, ref: str) -> StoredVersion | None:
        """The version ``ref`` names: ``id``, ``id@N``, ``id@latest`` or ``id@label``.

        ``id`` is a prompt's slug or UUID, else a partial's (so partials and, as
        before, other prompts can both be rendered with ``{{>id}}``).
        """
        prompt_id, selector = split_prompt_ref(ref)
        prompt = self.get(prompt_id) or self.get_partial(prompt_id)
        if prompt is None or selector == "":
            return None
        if selector is None:
            number = prompt.published
        elif selector == "latest":
            number = prompt.latest
        elif selector.isdigit() and selector.isascii():
            number = int(selector)
        else:
            number = prompt.labels.get(selector)
        return None if number is None else prompt.versions.get(number)

    # --- writing -----------------------------------------------------------

    def register(
        self,
        prompt_id: str,
        template: str | list[Any],
        *,
        model: str = DEFAULT_MODEL,
        parameters: Mapping[str, Any] | None = None,
        tools: list[Any] | None = None,
        response_format: dict[str, Any] | None = None,
        kind: PromptKind | None = None,
        version: int | None = None,
        publish: bool = True,
        labels: Iterable[str] = (),
        description: str | None = None,
        virtual_key: str | None = None,
    ) -> int:
        """Add a version of a prompt and return its number.

        A list template is stored as its JSON text. ``kind`` is inferred when
        omitted. ``version`` defaults to the next number; the first version of a
        prompt is always published, as on Portkey. ``virtual_key`` is the one the
        version runs on (by default the server's own, ``vk-portkey-local``).
        """
        built = build_version(
            prompt_id,
            {
                "template": template,
                "model": model,
                "parameters": dict(parameters or {}),
                "tools": tools,
                "response_format": response_format,
                "kind": kind,
                "virtual_key": virtual_key,
            },
            version,
            f"prompt {prompt_id!r}",
        )
        with self.lock:
            old = self._prompts.get(prompt_id) or StoredPrompt(prompt_id)
            # Copy, then swap in: the server thread may be reading the old one.
            prompt = replace(old, versions=dict(old.versions), labels=dict(old.labels))
            number = built.version if version is not None else (max(prompt.versions, default=0) + 1)
            prompt.versions[number] = replace(built, version=number)
            if publish or prompt.published is None:
                prompt.published = number
            for label in labels:
                prompt.labels[label] = number
            if description is not None:
                prompt.description = description
            self.add(prompt)
        return number

    def add(self, prompt: StoredPrompt) -> None:
        """Add (or replace) a whole prompt or partial (``prompt.partial``)."""
        with self.lock:
            held = self._partials if prompt.partial else self._prompts
            old = held.get(prompt.id)
            if old is not None and old.uuid != prompt.uuid:
                self._uuids.pop(old.uuid, None)
            held[prompt.id] = prompt
            self._uuids[prompt.uuid] = prompt.id
            for label in prompt.labels:
                self.labels.ensure(label)

    def remove(self, prompt_id: str, *, partial: bool = False) -> None:
        """Forget a prompt (or partial) by slug or UUID; no error if it is not held."""
        with self.lock:
            held = self._partials if partial else self._prompts
            slug = self._uuids.get(prompt_id, prompt_id) if prompt_id not in held else prompt_id
            old = held.pop(slug, None)
            if old is not None:
                self._uuids.pop(old.uuid, None)

    # --- writing back to files ------------------------------------------------

    def write_to(self, folder: str | Path) -> None:
        """Write later :meth:`save` / :meth:`discard` / label changes to ``folder``."""
        files = PromptFiles(folder)
        for path in [*self._sources.values(), files.folder / LABELS_FILE]:
            if path.parent.resolve() == files.folder.resolve():
                files.remember(path)
        self.files = files

    def check_files(self) -> None:
        """Refuse (:class:`~.admin_files.FileRefused`, 409) when a file the store writes
        to was edited by hand since it was read or written."""
        if self.files is not None:
            self.files.check_all()

    def snapshot(self) -> tuple[dict[str, Any], ...]:
        """What :meth:`restore` puts back: a refused write leaves the store as it was."""
        with self.lock:
            held = (self._prompts, self._partials, self._uuids, self._sources)
            return (*(dict(d) for d in held), self.labels.snapshot())

    def restore(self, saved: tuple[dict[str, Any], ...]) -> None:
        """Put back a :meth:`snapshot`."""
        with self.lock:
            prompts, partials, uuids, sources, labels = (dict(d) for d in saved)
            self._prompts, self._partials, self._uuids, self._sources = (
                prompts,
                partials,
                uuids,
                sources,
            )
            self.labels.restore(labels)

    def _path(self, prompt: StoredPrompt) -> Path:
        assert self.files is not None
        return self.files.path_for(prompt.id, self._sources.get(_source_key(prompt)))

    def save(self, prompt: StoredPrompt) -> None:
        """Write a prompt's file, if the store writes to a folder."""
        if self.files is not None:
            path = self._path(prompt)
            self.files.write(path, prompt_to_data(prompt))
            self._sources[_source_key(prompt)] = path

    def discard(self, prompt: StoredPrompt) -> None:
        """Remove a deleted prompt's file, if the store writes to a folder."""
        if self.files is not None:
            self.files.delete(self._path(prompt))
            self._sources.pop(_source_key(prompt), None)

    def save_labels(self) -> None:
        """Write the custom labels, if the store writes to a folder."""
        if self.files is not None:
            self.files.write_labels(self.labels)

    def load_data(self, data: Any, *, source: str | Path = "<data>") -> StoredPrompt:
        """Add a prompt given as a decoded prompt file."""
        prompt: StoredPrompt = parse_prompt_data(data, source)
        self.add(prompt)
        return prompt

    def load_file(self, path: str | Path) -> StoredPrompt:
        """Add the prompt of one JSON file."""
        path = Path(path)
        prompt = stored_prompt(read_prompt_file(path), path)
        self.add(prompt)
        return prompt

    def load_dir(self, path: str | Path) -> list[str]:
        """Add every ``*.json`` prompt file of a folder; returns the ids loaded.

        All files are checked before any is added; an id found in two files of
        the folder is an error, an id already in the store is replaced.
        """
        folder = Path(path)
        loaded = [(local.path, stored_prompt(local, local.path)) for local in load_folder(folder)]
        labels_data = read_labels_file(folder)
        if labels_data is not None:
            load_labels(self.labels, labels_data, folder / LABELS_FILE)
        for file, prompt in loaded:
            self.add(prompt)
            self._sources[_source_key(prompt)] = file
        return [prompt.id for _, prompt in loaded]


def _source_key(prompt: StoredPrompt) -> str:
    return f"partial:{prompt.id}" if prompt.partial else prompt.id
