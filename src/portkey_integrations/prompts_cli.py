"""``portkey-prompts``: keep Portkey prompts in a folder of files (prompts as code).

    portkey-prompts list
    portkey-prompts pull [IDS...] --to DIR
    portkey-prompts push DIR [--publish] [--label NAME] [--dry-run]
    portkey-prompts diff DIR

Configuration as the client's: ``PORTKEY_API_KEY`` / ``--api-key``, ``PORTKEY_BASE_URL``
/ ``--base-url`` (``local`` for the embedded local server). Exit codes: 0 done (or in
sync), 1 ``diff`` found differences, 2 usage, configuration or prompt-file error,
3 the API refused or failed (missing scope, unknown id, network).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._client import PortkeyClient
from ._errors import PortkeyConfigError, PortkeyError, PromptNotFoundError
from ._templates.analysis import analyze_template
from ._templates.files import (
    LABELS_FILE,
    LocalPrompt,
    dump,
    load_folder,
    prompt_file_data,
    write_json,
)
from ._templates.sync import (
    body_of,
    content_of,
    differences,
    labels_data,
    partial_version_spec,
    version_spec,
)
from .resources._faces import Labels, Partials, Prompts
from .resources._models import PromptVersion

__all__ = ["main"]

_PAGE = 100


class _Usage(Exception):
    """A usage or configuration problem: exit 2."""


class _Api:
    """The admin resources of one client."""

    def __init__(self, client: PortkeyClient) -> None:
        self.prompts = Prompts(client)
        self.partials = Partials(client)
        self.labels = Labels(client)

    def all_prompt_ids(self) -> list[str]:
        ids: list[str] = []
        page = 0
        while True:
            listed = self.prompts.list(current_page=page, page_size=_PAGE)
            ids.extend(p.slug or p.id for p in listed.data)
            if len(listed.data) < _PAGE or (listed.total is not None and len(ids) >= listed.total):
                return ids
            page += 1

    def version_specs(self, prompt_id: str) -> list[tuple[PromptVersion, dict[str, Any]]]:
        """Every version of a prompt, oldest first, as prompt-file version objects."""
        out = []
        for summary in sorted(self.prompts.versions(prompt_id).data, key=_number):
            source: Any = summary
            if summary.string is None:  # a server listing versions without their content
                source = self.prompts.retrieve_version(prompt_id, summary.id)
            spec = version_spec(source, summary.prompt_version, summary.prompt_description)
            out.append((summary, spec))
        return out

    def newest(self, local: LocalPrompt) -> tuple[int, dict[str, Any]] | None:
        """The remote newest version of a local prompt or partial (``None``: not remote)."""
        try:
            if local.partial:
                versions = self.partials.versions(local.id).data
                top = max(versions, key=lambda v: v.version)
                return top.version, partial_version_spec(top)
            summary, spec = self.version_specs(local.id)[-1]
            return summary.prompt_version, spec
        except PromptNotFoundError:
            return None


def _number(version: PromptVersion) -> int:
    return version.prompt_version


# --- list and pull -----------------------------------------------------------------


def _list(api: _Api, args: argparse.Namespace, out: TextIO) -> int:
    listed = [api.prompts.retrieve(ref) for ref in api.all_prompt_ids()]
    if args.json:
        rows = [
            p.model_dump(include={"id", "slug", "name", "model", "prompt_version"}) for p in listed
        ]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    for prompt in listed:
        out.write(
            f"{prompt.ref}\tv{prompt.prompt_version}\t{prompt.model or '-'}\t{prompt.name or ''}\n"
        )
    return 0


@dataclass
class _Pull:
    api: _Api
    folder: Path
    err: TextIO
    label_names: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)

    def prompt(self, ref: str) -> list[str]:
        """Write one prompt's file; returns the partials its versions name."""
        prompt = self.api.prompts.retrieve(ref)
        slug = prompt.ref
        labels: dict[str, int] = {}
        versions = []
        used: list[str] = []
        for summary, spec in self.api.version_specs(ref):
            versions.append(spec)
            named = {self.label_names.get(summary.label_id or "")}
            named.update((summary.model_extra or {}).get("labels") or ())
            labels.update({name: summary.prompt_version for name in named if name})
            text = (
                spec["template"]
                if isinstance(spec["template"], str)
                else json.dumps(spec["template"])
            )
            used.extend(analyze_template(text, chat=False).partials)
        data = prompt_file_data(
            slug,
            versions,
            published=prompt.prompt_version,
            labels=labels,
            uuid=prompt.id,
            collection_id=prompt.collection_id,
            name=prompt.name if prompt.name != slug else None,
        )
        self._write(slug, data, f"{len(versions)} version(s)")
        return used

    def partial(self, name: str) -> bool:
        """Write a partial's file; ``False`` when no partial has this id."""
        try:
            partial = self.api.partials.retrieve(name)
        except PromptNotFoundError:
            return False
        versions = sorted(self.api.partials.versions(name).data, key=lambda v: v.version)
        slug = partial.slug or partial.id
        data = prompt_file_data(
            slug,
            [partial_version_spec(v) for v in versions],
            published=partial.version,
            partial=True,
            uuid=partial.id,
            name=partial.name if partial.name != slug else None,
        )
        self._write(slug, data, f"partial, {len(versions)} version(s)")
        return True

    def _write(self, slug: str, data: dict[str, Any], what: str) -> None:
        changed = write_json(self.folder / f"{slug}.json", data)
        self.written.append(slug)
        self.done.add(slug)
        state = "written" if changed else "unchanged"
        self.err.write(f"[{len(self.written)}] {slug}: {what}, {state}\n")


def _pull(api: _Api, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    folder = Path(args.to)
    if folder.exists() and not folder.is_dir():
        raise _Usage(f"{folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    labels = api.labels.list().data
    pull = _Pull(api, folder, err, {label.id: label.name for label in labels})
    pending = list(args.ids) or api.all_prompt_ids()
    err.write(f"pulling {len(pending)} prompt(s) into {folder}\n")
    while pending:
        ref = pending.pop(0)
        if ref in pull.done:
            continue
        for name in pull.prompt(ref):
            base = name.partition("@")[0]
            # Portkey's partials, else (as on the local server) another prompt.
            if base not in pull.done and base not in pending and not pull.partial(base):
                pending.append(base)
    custom = labels_data(labels)
    if custom is not None:
        write_json(folder / LABELS_FILE, custom)
    out.write(f"pulled {len(pull.written)} file(s) into {folder}\n")
    return 0


# --- push and diff -----------------------------------------------------------------


@dataclass
class _Change:
    local: LocalPrompt
    action: str  # "create", "update" or "same"
    remote: int | None = None
    fields: list[str] = field(default_factory=list)


def _plan(api: _Api, local: list[LocalPrompt]) -> list[_Change]:
    plan = []
    for item in local:
        spec = item.newest[1]
        remote = api.newest(item)
        if remote is None:
            plan.append(_Change(item, "create"))
            continue
        fields = differences(spec, remote[1])
        plan.append(_Change(item, "update" if fields else "same", remote[0], fields))
    return plan


def _describe(change: _Change) -> str:
    kind = "partial " if change.local.partial else ""
    number = change.local.newest[0]
    if change.action == "create":
        return f"{kind}{change.local.id}: create from local v{number}"
    if change.action == "update":
        why = ", ".join(change.fields)
        return (
            f"{kind}{change.local.id}: new version from local v{number} "
            f"(differs from remote v{change.remote} in {why})"
        )
    return f"{kind}{change.local.id}: up to date (remote v{change.remote})"


def _push(api: _Api, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    local = load_folder(args.dir)
    if args.label is not None:
        names = {label.name for label in api.labels.list().data}
        if args.label not in names:
            raise _Usage(f"unknown label {args.label!r}; labels: {', '.join(sorted(names))}")
    plan = _plan(api, local)
    out.write("plan:\n" + "".join(f"  {_describe(c)}\n" for c in plan))
    todo = [c for c in plan if c.action != "same"]
    if not todo:
        out.write(f"nothing to push: {len(plan)} prompt(s) up to date\n")
        return 0
    if args.dry_run:
        out.write(f"dry run: {len(todo)} change(s) not pushed\n")
        return 0
    for change in todo:
        out.write(f"{_apply(api, change, args)}\n")
    return 0


def _apply(api: _Api, change: _Change, args: argparse.Namespace) -> str:
    item = change.local
    spec = item.newest[1]
    if item.partial:
        text = content_of(spec)["template"]
        if change.action == "create":
            part = api.partials.create(name=item.data.get("name") or item.id, string=text)
            return _renamed(item, part.slug or part.id, "partial")
        api.partials.update(item.id, string=text)
        number = max(v.version for v in api.partials.versions(item.id).data)
        if args.publish:
            api.partials.publish(item.id, number)
        return f"partial {item.id}: pushed as v{number}" + (" (published)" if args.publish else "")
    body = body_of(spec)
    if change.action == "create":
        collection = item.data.get("collection_id") or args.collection
        if not collection:
            raise _Usage(
                f"{item.path}: a new prompt needs a collection: "
                "set 'collection_id' or pass --collection"
            )
        made = api.prompts.create(
            name=item.data.get("name") or item.id, collection_id=collection, **body
        )
        return _renamed(item, made.slug or made.id, "prompt")
    updated = api.prompts.update(item.id, **body)
    versions = api.prompts.versions(item.id).data
    number = next(
        (v.prompt_version for v in versions if v.id == updated.prompt_version_id),
        max(v.prompt_version for v in versions),
    )
    notes = []
    if args.publish:
        api.prompts.publish(item.id, number)
        notes.append("published")
    if args.label is not None:
        api.prompts.set_label(item.id, number, args.label)
        notes.append(f"label {args.label!r}")
    return f"{item.id}: pushed as v{number}" + (f" ({', '.join(notes)})" if notes else "")


def _renamed(item: LocalPrompt, slug: str, kind: str) -> str:
    # Portkey picks a new prompt's slug: the file takes it, so the next push finds it.
    data = {**item.data, "id": slug}
    target = item.path.with_name(f"{slug}.json")
    write_json(target, data)
    if target != item.path:
        item.path.unlink()
    return f"{kind} {item.id}: created as {slug} (file now {target.name})"


def _diff(api: _Api, args: argparse.Namespace, out: TextIO) -> int:
    local = load_folder(args.dir)
    different = 0
    for change in _plan(api, local):
        item = change.local
        if change.action == "create":
            different += 1
            out.write(f"{item.id}: only in {args.dir} (push would create it)\n")
            continue
        remote = api.newest(item)
        assert remote is not None
        if change.action == "update":
            different += 1
            out.write(f"{_describe(change)}\n")
            mine = dump(content_of(item.newest[1])).splitlines(keepends=True)
            theirs = dump(content_of(remote[1])).splitlines(keepends=True)
            out.writelines(
                difflib.unified_diff(theirs, mine, f"remote/{item.id}", f"local/{item.id}")
            )
        if not item.partial:
            out.writelines(_pointer_notes(api, item))
    if different:
        out.write(f"{different} of {len(local)} prompt(s) differ\n")
        return 1
    out.write(f"in sync: {len(local)} prompt(s)\n")
    return 0


def _pointer_notes(api: _Api, item: LocalPrompt) -> list[str]:
    """Published and label pointers that differ (notes only: push moves them on request)."""
    prompt = api.prompts.retrieve(item.id)
    notes = []
    if item.published is not None and prompt.prompt_version != item.published:
        notes.append(
            f"note: {item.id}: remote publishes v{prompt.prompt_version}, "
            f"the file v{item.published}\n"
        )
    return notes


# --- entry point -------------------------------------------------------------------


_EXAMPLES = """examples:
  portkey-prompts list
  portkey-prompts pull --to prompts/                # every prompt, version, label, partial
  portkey-prompts pull pp-joke pp-rag-qa --to prompts/
  portkey-prompts diff prompts/                     # exit 1 when not in sync
  portkey-prompts push prompts/ --dry-run           # print the plan only
  portkey-prompts push prompts/ --publish --label staging
  portkey-local serve --prompts prompts/            # test the folder offline first
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portkey-prompts",
        description="Pull, diff and push Portkey prompts as files.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--base-url", help="Portkey base URL (PORTKEY_BASE_URL; 'local' for the embedded server)"
    )
    parser.add_argument("--api-key", help="Portkey API key (PORTKEY_API_KEY)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the prompts")
    listing.add_argument("--json", action="store_true", help="print JSON")
    pull = commands.add_parser("pull", help="write prompts, versions, labels and partials to files")
    pull.add_argument("ids", nargs="*", help="prompt ids or slugs (default: every prompt)")
    pull.add_argument("--to", required=True, help="the folder to write")
    push = commands.add_parser("push", help="make a new remote version of each changed prompt")
    push.add_argument("dir", help="a folder of prompt files")
    push.add_argument("--publish", action="store_true", help="make the new versions the default")
    push.add_argument("--label", help="move this label to the new versions")
    push.add_argument("--dry-run", action="store_true", help="print the plan only")
    push.add_argument("--collection", help="the collection of prompts created by this push")
    diff = commands.add_parser("diff", help="show what differs (exit 1 when not in sync)")
    diff.add_argument("dir", help="a folder of prompt files")
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run ``portkey-prompts`` with ``argv`` (default: the process's); returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        client = PortkeyClient(base_url=args.base_url, api_key=args.api_key)
        client.base_url  # noqa: B018 - fail on a missing configuration before any work
        api = _Api(client)
        if args.command == "list":
            return _list(api, args, out)
        if args.command == "pull":
            return _pull(api, args, out, err)
        if args.command == "push":
            return _push(api, args, out, err)
        return _diff(api, args, out)
    except (_Usage, PortkeyConfigError) as exc:
        err.write(f"portkey-prompts: error: {exc}\n")
        return 2
    except PortkeyError as exc:
        err.write(f"portkey-prompts: {exc}\n")
        return 3


if __name__ == "__main__":
    sys.exit(main())
