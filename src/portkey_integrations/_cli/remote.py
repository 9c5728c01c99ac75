"""Portkey as the CLI sees it: a snapshot of one prompt or partial, and writes that can
be retried safely.

Reads go through a client with the usual retries (a GET is safe to repeat). Writes go
through a client with none: after a failure that may have landed (a 5xx, a timeout, a
dropped connection), the CLI first looks for what the call may have made, and only
retries when it finds nothing. So a create answered with a 502 makes one prompt, not
three.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

from .._client import PortkeyClient
from .._errors import APIConnectionError, APIStatusError, PromptNotFoundError
from .fileformat import body_of, content_of, partial_version_spec
from .fileformat import version_spec as prompt_version_spec
from .history import BASE, same_content

__all__ = ["Api", "Remote"]

_PAGE = 100
_ATTEMPTS = 3
_PAUSE = 0.2
_T = TypeVar("_T")


@dataclass
class Remote:
    """One prompt or partial as Portkey holds it: every version, its pointers."""

    id: str
    uuid: str
    partial: bool
    versions: dict[int, dict[str, Any]]
    published: int | None = None
    labels: dict[str, int] = field(default_factory=dict)
    name: str | None = None
    collection_id: str | None = None

    @property
    def newest(self) -> int:
        """The highest version number (0 when there is none)."""
        return max(self.versions, default=0)

    def file_data(self, keep: Iterable[int] | None = None) -> dict[str, Any]:
        """The prompt file for this snapshot (only the versions ``keep`` names, if given),
        recording :data:`~.history.BASE`."""
        numbers = sorted(self.versions if keep is None else set(keep) & set(self.versions))
        data: dict[str, Any] = {
            "id": self.id,
            "uuid": self.uuid,
            "versions": [self.versions[n] for n in numbers],
            BASE: self.newest,
        }
        if self.partial:
            data["partial"] = True
        if self.published in numbers:
            data["published"] = self.published
        labels = {k: v for k, v in self.labels.items() if v in numbers}
        if labels:
            data["labels"] = labels
        if self.collection_id and not self.partial:
            data["collection_id"] = self.collection_id
        if self.name and self.name != self.id:
            data["name"] = self.name
        return data


def _ambiguous(exc: Exception) -> bool:
    """A failed write that may still have been applied (so look before retrying)."""
    if isinstance(exc, APIConnectionError):
        return True
    status = exc.status_code if isinstance(exc, APIStatusError) else None
    return status is not None and (status >= 500 or status in (408, 409, 429))


class Api:
    """The admin API for the CLI: snapshots, and writes that look before they retry."""

    def __init__(self, base_url: str | None, api_key: str | None, err: TextIO) -> None:
        self.read = PortkeyClient(base_url=base_url, api_key=api_key)
        self.read.base_url  # noqa: B018 - fail on a missing configuration before any work
        self.write = PortkeyClient(base_url=base_url, api_key=api_key, max_retries=0)
        self.err = err

        self._label_names: dict[str, str] | None = None

    # --- reads -------------------------------------------------------------------

    def label_names(self) -> dict[str, str]:
        """Label id -> name (read once)."""
        if self._label_names is None:
            self._label_names = {x.id: x.name for x in self.read.labels.list().data}
        return self._label_names

    def prompt_summaries(self) -> list[tuple[str, str | None]]:
        """Every prompt's ref (slug, else id) and name, page by page."""
        out: list[tuple[str, str | None]] = []
        page = 0
        while True:
            listed = self.read.prompts.list(current_page=page, page_size=_PAGE)
            out.extend((p.slug or p.id, p.name) for p in listed.data)
            if len(listed.data) < _PAGE or (listed.total is not None and len(out) >= listed.total):
                return out
            page += 1

    def prompt(self, ref: str) -> Remote | None:
        """A prompt with every version (``None``: no such prompt)."""
        try:
            prompt = self.read.prompts.retrieve(ref)
            summaries = self.read.prompts.versions(ref).data
        except PromptNotFoundError:
            return None
        names = self.label_names()
        versions: dict[int, dict[str, Any]] = {}
        labels: dict[str, int] = {}
        for summary in sorted(summaries, key=lambda v: v.prompt_version):
            source: Any = summary
            if summary.string is None:  # a server listing versions without their content
                source = self.read.prompts.retrieve_version(ref, summary.id)
            number = summary.prompt_version
            versions[number] = prompt_version_spec(source, number, summary.prompt_description)
            named = {names.get(summary.label_id or "")}
            named.update((summary.model_extra or {}).get("labels") or ())
            labels.update({n: number for n in named if isinstance(n, str) and n})
        return Remote(
            prompt.ref,
            prompt.id,
            False,
            versions,
            prompt.prompt_version,
            labels,
            prompt.name,
            prompt.collection_id,
        )

    def partial(self, ref: str) -> Remote | None:
        """A partial with every version (``None``: no such partial)."""
        try:
            partial = self.read.partials.retrieve(ref)
            listed = self.read.partials.versions(ref).data
        except PromptNotFoundError:
            return None
        versions = {v.version: partial_version_spec(v) for v in listed}
        slug = partial.slug or partial.id
        return Remote(slug, partial.id, True, versions, partial.version, {}, partial.name)

    def get(self, ref: str, partial: bool) -> Remote | None:
        """A prompt or a partial snapshot."""
        return self.partial(ref) if partial else self.prompt(ref)

    # --- writes ------------------------------------------------------------------

    def _safely(self, what: str, do: Callable[[], _T], landed: Callable[[], _T | None]) -> _T:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return do()
            except (APIConnectionError, APIStatusError) as exc:
                if not _ambiguous(exc):
                    raise
                found = landed()
                if found is not None:
                    self.err.write(f"{what}: the failed call had landed ({exc}); continuing\n")
                    return found
                if attempt == _ATTEMPTS:
                    raise
                self.err.write(f"{what}: {exc}; nothing landed, retrying\n")
                time.sleep(_PAUSE * attempt)
        raise AssertionError("unreachable")

    def add_version(self, ref: str, partial: bool, spec: dict[str, Any], after: int) -> int:
        """Make ``spec`` a new version of ``ref`` (whose newest is ``after``); its number."""

        def made(now: Remote | None) -> int | None:
            if now is None:
                return None
            later = [n for n in sorted(now.versions) if n > after]
            return next((n for n in later if same_content(spec, now.versions[n])), None)

        def landed() -> int | None:
            return made(self.get(ref, partial))

        def do() -> int:
            if partial:
                self.write.partials.update(ref, string=content_of(spec)["template"])
            else:
                self.write.prompts.update(ref, **body_of(spec))
            now = self.get(ref, partial)
            # The version with this content, else the newest (a server may normalise it).
            return made(now) or max(now.newest if now is not None else 0, after + 1)

        return self._safely(f"{ref}: new version", do, landed)

    def create(self, name: str, partial: bool, spec: dict[str, Any], collection: str | None) -> str:
        """Create a prompt (or partial) named ``name`` from ``spec``; returns its ref."""
        before = self.named(name, partial)

        def landed() -> str | None:
            made = [ref for ref in self.named(name, partial) if ref not in before]
            return made[0] if made else None

        def do() -> str:
            if partial:
                part = self.write.partials.create(name=name, string=content_of(spec)["template"])
                return part.slug or part.id
            made = self.write.prompts.create(name=name, collection_id=collection, **body_of(spec))
            return made.slug or made.id

        return self._safely(f"{name}: create", do, landed)

    def named(self, name: str, partial: bool) -> set[str]:
        """The refs of the prompts (or partials) called ``name``."""
        if partial:
            listed = self.read.partials.list().data
            return {p.slug or p.id for p in listed if p.name == name}
        return {ref for ref, named in self.prompt_summaries() if named == name}

    def publish(self, ref: str, partial: bool, number: int) -> None:
        """Make version ``number`` the default."""

        def landed() -> bool | None:
            now = self.get(ref, partial)
            return True if now is not None and now.published == number else None

        def do() -> bool:
            if partial:
                self.write.partials.publish(ref, number)
            else:
                self.write.prompts.publish(ref, number)
            return True

        self._safely(f"{ref}: publish v{number}", do, landed)

    def set_label(self, ref: str, label: str, number: int) -> None:
        """Point ``label`` at version ``number``."""

        def landed() -> bool | None:
            now = self.prompt(ref)
            return True if now is not None and now.labels.get(label) == number else None

        def do() -> bool:
            self.write.prompts.set_label(ref, number, label)
            return True

        self._safely(f"{ref}: label {label!r} -> v{number}", do, landed)
