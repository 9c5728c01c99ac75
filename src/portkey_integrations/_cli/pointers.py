"""``portkey-prompts publish ID VERSION`` and ``portkey-prompts label ID LABEL VERSION``:
move a pointer to a version Portkey already has, after checking it renders.

Each prints what changed (or that nothing had to); ``--dry-run`` prints it only.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from .._errors import PromptNotFoundError
from .checks import template_problem
from .errors import CheckFailed, Usage
from .folder import shown
from .push import Known
from .remote import Api, Remote

__all__ = ["label", "publish"]


def _version(api: Api, ref: str, number: int, *, partials: bool) -> Remote:
    remote = api.prompt(ref) or (api.partial(ref) if partials else None)
    if remote is None:
        raise PromptNotFoundError(f"prompt {ref!r} not found", status_code=404, body=None)
    if number not in remote.versions:
        have = ", ".join(f"v{n}" for n in sorted(remote.versions))
        raise Usage(f"{shown(ref)} has no version {number}; it has {have}")
    problem = template_problem(remote.versions[number], Known(api, None))
    if problem is not None:
        raise CheckFailed(f"{shown(ref)} v{number} would not render: {problem}; not changed")
    return remote


def _move(
    out: TextIO, name: str, *, done: str | None, change: str, verb: str, dry_run: bool
) -> bool:
    """Print what moving a pointer does (``done``: why nothing has to); whether to move it."""
    if done is not None:
        out.write(f"{name}: {done}; nothing changed\n")
    elif dry_run:
        out.write(f"dry run: {name}: would {verb} {change}\n")
    return done is None and not dry_run


def publish(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """Run ``publish``."""
    remote = _version(api, args.id, args.version, partials=True)
    name = ("partial " if remote.partial else "") + shown(remote.id)
    done = f"v{args.version} is already published" if remote.published == args.version else None
    change = f"v{args.version} (was v{remote.published})"
    if _move(out, name, done=done, change=change, verb="publish", dry_run=args.dry_run):
        api.publish(args.id, remote.partial, args.version)
        out.write(f"{name}: published {change}\n")
    return 0


def label(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """Run ``label``."""
    names = api.label_names().values()
    if args.label not in names:
        raise Usage(f"unknown label {args.label!r}; labels: {', '.join(sorted(names))}")
    remote = _version(api, args.id, args.version, partials=False)
    was = remote.labels.get(args.label)
    name = shown(remote.id)
    done = f"label {args.label!r} is already on v{was}" if was == args.version else None
    change = f"{args.label!r} to v{args.version} (was on {f'v{was}' if was else 'no version'})"
    if _move(out, name, done=done, change=change, verb="move label", dry_run=args.dry_run):
        api.set_label(args.id, args.label, args.version)
        out.write(f"{name}: moved label {change}\n")
    return 0
