"""``portkey-prompts push``: send each file's versions Portkey does not have yet.

Everything is checked before anything is sent: each version to send (and each version a
pointer will move to) renders, Portkey has not moved since the file's
``remote_version`` (``--force`` overrides), the label exists, a new prompt has a
collection. Then the versions go out in order, ``--publish`` / ``--label`` move the
pointers (a rerun completes an interrupted one), and each file is rewritten from
Portkey: remote numbers, labels, published version.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, TextIO

from .._templates.analysis import analyze_template, split_partial_ref
from .checks import template_problem, template_text
from .errors import CheckFailed, Conflict, Usage
from .fileformat import LocalPrompt
from .folder import Folder, open_folder, shown
from .history import based_on, same_content
from .remote import Api, Remote

__all__ = ["Known", "push"]


@dataclass
class _Plan:
    """What push will do for one file."""

    item: LocalPrompt
    remote: Remote | None
    base: int | None = None  # the remote version the file is based on
    pending: list[int] = field(default_factory=list)  # local numbers to send, in order
    numbers: dict[int, int] = field(default_factory=dict)  # local number -> remote number
    moved: list[int] = field(default_factory=list)  # remote versions the file never saw
    changed: list[int] = field(default_factory=list)  # pushed versions edited since
    adopted: list[int] = field(default_factory=list)  # sent by an interrupted push
    publish: bool = False
    label: bool = False
    created: str | None = None

    @property
    def ref(self) -> str:
        """The prompt's id in Portkey (a created prompt's once made)."""
        return self.created or (self.remote.id if self.remote is not None else self.item.id)

    @ref.setter
    def ref(self, value: str) -> None:
        self.created = value

    @property
    def name(self) -> str:
        return ("partial " if self.item.partial else "") + shown(self.item.id)

    @property
    def target(self) -> int:
        """The local number of the version ``--publish`` / ``--label`` point at."""
        return self.item.newest[0]


def _plan(item: LocalPrompt, remote: Remote | None, base: int | None = None) -> _Plan:
    plan = _Plan(item, remote)
    numbers = sorted(item.versions)
    if remote is None:
        plan.pending = numbers
        return plan
    base = based_on(item) if base is None else base
    plan.base = base
    if base is None:
        # A file without a recorded base (written by hand or by an older pull): send the
        # versions above Portkey's newest, else the newest when its content differs.
        plan.pending = [n for n in numbers if n > remote.newest]
        newest_number, newest = item.newest
        if not plan.pending and (
            remote.newest == 0 or not same_content(newest, remote.versions[remote.newest])
        ):
            plan.pending = [newest_number]
        plan.numbers = {n: n for n in numbers if n not in plan.pending}
        return plan
    plan.pending = [n for n in numbers if n > base]
    plan.numbers = {n: n for n in numbers if n <= base}
    plan.changed = [
        n
        for n in numbers
        if n <= base
        and n in remote.versions
        and not same_content(item.versions[n], remote.versions[n])
    ]
    # Versions made since the base that match ours in order are ours, from an interrupted
    # push: adopted, not sent again. Any other is someone else's: a conflict.
    for number in sorted(n for n in remote.versions if n > base):
        if (
            not plan.moved
            and plan.pending
            and same_content(item.versions[plan.pending[0]], remote.versions[number])
        ):
            plan.adopted.append(plan.pending[0])
            plan.numbers[plan.pending.pop(0)] = number
        else:
            plan.moved.append(number)
    return plan


def _plan_of(api: Api, item: LocalPrompt) -> _Plan:
    remote = api.get(item.id, item.partial)
    if remote is not None or based_on(item) is not None:
        return _plan(item, remote)
    # A new file: an earlier push may have created it (Portkey picked another slug) and
    # stopped before renaming the file. Its first version, under the same name, is ours.
    first = item.versions[min(item.versions)]
    for ref in sorted(api.named(str(item.data.get("name") or item.id), item.partial)):
        found = api.get(ref, item.partial)
        if found is not None and 1 in found.versions and same_content(first, found.versions[1]):
            return _plan(item, found, base=0)
    return _plan(item, None)


def _pointers(plan: _Plan, args: argparse.Namespace) -> None:
    remote = plan.remote
    target = plan.numbers.get(plan.target) if not plan.pending else None
    if args.publish:
        plan.publish = remote is None or target is None or remote.published != target
    if args.label is not None and not plan.item.partial:
        plan.label = remote is None or target is None or remote.labels.get(args.label) != target


class Known:
    """Whether a partial exists in the folder or in Portkey (remote answers cached)."""

    def __init__(self, api: Api, folder: Folder | None) -> None:
        self.api = api
        self.local = {item.id for item in folder.items} if folder is not None else set()
        self.remote: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        if name in self.local:
            return True
        if name not in self.remote:
            self.remote[name] = bool(self.api.partial(name) or self.api.prompt(name))
        return self.remote[name]


def _refusals(plans: list[_Plan], args: argparse.Namespace, known: Known) -> None:
    problems = []
    for plan in plans:
        checked = list(plan.pending)
        if (plan.publish or plan.label) and plan.target not in checked:
            checked.append(plan.target)
        for number in checked:
            problem = template_problem(plan.item.versions[number], known)
            if problem is not None:
                problems.append(f"  {plan.name} v{number} ({plan.item.path.name}): {problem}\n")
    if problems:
        listed = "".join(problems).rstrip()
        raise CheckFailed(f"nothing sent: these versions would not render:\n{listed}")
    conflicts = []
    for plan in plans:
        if plan.moved:
            conflicts.append(
                f"  {plan.name}: Portkey has {', '.join(f'v{n}' for n in plan.moved)} since "
                f"{plan.item.path.name} was based on v{plan.base}\n"
            )
        if plan.changed:
            conflicts.append(
                f"  {plan.name}: {', '.join(f'v{n}' for n in plan.changed)} changed after it was "
                "pushed (a pushed version cannot change: add a new version)\n"
            )
    if conflicts and not args.force:
        raise Conflict(
            "nothing sent: the files and Portkey disagree:\n"
            + "".join(conflicts)
            + "  pull again (after moving your new versions aside), or pass --force to "
            "push on top"
        )
    for plan in plans:
        new = plan.remote is None and not plan.item.partial
        if new and not (plan.item.data.get("collection_id") or args.collection):
            raise Usage(
                f"{plan.item.path}: a new prompt needs a collection: "
                "set 'collection_id' or pass --collection"
            )


def _v(number: int | None) -> str:
    return "none" if number is None else f"v{number}"


def _describe(plan: _Plan, label: str | None) -> list[str]:
    remote = plan.remote
    lines = []
    if remote is None:
        first, *rest = plan.pending
        lines.append(f"{plan.name}: create from local v{first}")
        lines += [f"{plan.name}: new version from local v{n}" for n in rest]
    else:
        since = f"Portkey moved to v{remote.newest}!" if plan.moved else f"remote v{remote.newest}"
        lines += [f"{plan.name}: new version from local v{n} ({since})" for n in plan.pending]
        lines += [
            f"{plan.name}: local v{n} already sent as v{plan.numbers[n]} (record it)"
            for n in plan.adopted
        ]
        if not plan.pending and not plan.adopted:
            lines.append(f"{plan.name}: up to date (remote v{remote.newest})")
    was = remote.published if remote is not None else None
    if plan.publish:
        lines.append(f"{plan.name}: publish local v{plan.target} (published now: {_v(was)})")
    if plan.label:
        now = remote.labels.get(label or "") if remote is not None else None
        lines.append(f"{plan.name}: move label {label!r} to local v{plan.target} (now: {_v(now)})")
    return lines


def _apply(api: Api, folder: Folder, plan: _Plan, args: argparse.Namespace) -> list[str]:
    item, remote = plan.item, plan.remote
    ref = plan.ref
    lines = []
    newest = remote.newest if remote is not None else 0
    for position, number in enumerate(plan.pending):
        spec = item.versions[number]
        if remote is None and position == 0:
            name = str(item.data.get("name") or item.id)
            collection = item.data.get("collection_id") or args.collection
            ref = plan.ref = api.create(name, item.partial, spec, collection)
            newest = 1
            lines.append(f"{plan.name}: created as {shown(ref)} (v1)")
        else:
            newest = api.add_version(ref, item.partial, spec, newest)
            lines.append(f"{plan.name}: pushed as v{newest}")
        plan.numbers[number] = newest
    target = plan.numbers[plan.target]
    notes = []
    if plan.publish:
        api.publish(ref, item.partial, target)
        notes.append("published")
    if plan.label:
        api.set_label(ref, args.label, target)
        notes.append(f"label {args.label!r}")
    if notes:
        note = f" ({', '.join(notes)})"
        if lines:
            lines[-1] += note
        else:
            lines.append(f"{plan.name}: v{target}{note}")
    lines.append(_write_back(api, folder, item, ref))
    return lines


def _write_back(api: Api, folder: Folder, item: LocalPrompt, ref: str) -> str:
    now = api.get(ref, item.partial)
    if now is None:
        return f"{shown(ref)}: not found after the push; {item.path.name} left as it was"
    data: dict[str, Any] = now.file_data()
    target = item.path if now.id == item.id else folder.target(now.id, item.partial)
    folder.write(target, data)
    if target != item.path:
        item.path.unlink()
        return f"  {item.path.name} -> {target.name} (remote v{now.newest})"
    return f"  {target.name} updated (remote v{now.newest})"


def push(api: Api, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``push``."""
    folder = open_folder(args.dir)
    if args.label is not None and args.label not in api.label_names().values():
        names = ", ".join(sorted(api.label_names().values()))
        raise Usage(f"unknown label {args.label!r}; labels: {names}")
    plans = [_plan_of(api, item) for item in folder.items]
    for plan in plans:
        _pointers(plan, args)
    out.write(
        "plan:\n" + "".join(f"  {line}\n" for p in plans for line in _describe(p, args.label))
    )
    _refusals(plans, args, Known(api, folder))
    todo = [p for p in plans if p.pending or p.adopted or p.publish or p.label]
    if not any(p.pending for p in plans):
        out.write(f"nothing to push: {len(plans)} prompt(s) up to date\n")
    if not todo:
        return 0
    if args.dry_run:
        out.write(f"dry run: {len(todo)} prompt(s) would change; nothing sent\n")
        return 0
    renamed: dict[str, str] = {}  # a new partial's local id -> the slug Portkey gave it
    # Partials first: a prompt version never reaches Portkey before the partial it names.
    for plan in sorted(todo, key=lambda p: not p.item.partial):
        _renamed_partials(plan, renamed)
        out.write("".join(f"{line}\n" for line in _apply(api, folder, plan, args)))
        if plan.item.partial and plan.remote is None and plan.ref != plan.item.id:
            renamed[plan.item.id] = plan.ref
    return 0


def _renamed_partials(plan: _Plan, renamed: dict[str, str]) -> None:
    """Refuse to send versions naming a partial this push created under another slug."""
    for number in plan.pending:
        text = template_text(plan.item.versions[number]["template"])
        for ref in analyze_template(text, chat=False).partials:
            old = split_partial_ref(ref)[0]
            if old in renamed:
                raise CheckFailed(
                    f"{plan.name} v{number} names partial {shown(old)!r}, which Portkey "
                    f"created as {shown(renamed[old])!r}: name that and push again "
                    f"(nothing of {plan.name} was sent)"
                )
