"""``portkey-prompts diff``: every way a folder and Portkey differ; exit 1 on any.

Content (each version, unpushed ones and ones Portkey made since the file's base), the
published version, labels, and, in a folder a full pull made, prompts only Portkey has.
A chat template is compared message by message.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
from typing import Any, TextIO

from .errors import DIFFERENT, OK
from .fileformat import LocalPrompt, content_of, dump
from .folder import open_folder, shown
from .history import based_on, same_content
from .remote import Api, Remote

__all__ = ["diff", "readable"]


def readable(spec: dict[str, Any]) -> list[str]:
    """A version's content as lines to diff: a chat template as one block per message."""
    content = {k: v for k, v in content_of(spec).items() if v is not None}
    template = spec.get("template")
    if isinstance(template, str) and template.lstrip().startswith("["):
        with contextlib.suppress(ValueError):
            template = json.loads(template, strict=False)
    if isinstance(template, list):
        content["template"] = template
    return dump(content).splitlines(keepends=True)


def _unified(name: str, theirs: dict[str, Any], mine: dict[str, Any], what: str) -> list[str]:
    return list(
        difflib.unified_diff(
            readable(theirs), readable(mine), f"remote/{name} {what}", f"local/{name} {what}"
        )
    )


def _content(item: LocalPrompt, remote: Remote, name: str) -> list[str]:
    base = based_on(item)
    lines: list[str] = []
    for number, spec in sorted(item.versions.items()):
        theirs = remote.versions.get(number)
        if theirs is not None:
            if not same_content(spec, theirs):
                lines.append(f"{name}: v{number} differs from Portkey's v{number}\n")
                lines += _unified(name, theirs, spec, f"v{number}")
        elif base is None or number > base:
            lines.append(f"{name}: new version from local v{number} (not pushed yet)\n")
            if remote.newest:
                newest = remote.versions[remote.newest]
                lines += _unified(name, newest, spec, f"v{remote.newest} -> local v{number}")
    top = max(item.versions)
    since = [n for n in sorted(remote.versions) if n not in item.versions]
    since = [n for n in since if n > (base if base is not None else top)]
    if since:
        lines.append(
            f"{name}: Portkey has {', '.join(f'v{n}' for n in since)}, which the file lacks\n"
        )
    return lines


def _pointers(item: LocalPrompt, remote: Remote, name: str) -> list[str]:
    lines = []
    if item.published is not None and item.published != remote.published:
        lines.append(
            f"{name}: published: the file says v{item.published}, Portkey v{remote.published}\n"
        )
    for label in sorted(set(item.labels) | set(remote.labels)):
        mine, theirs = item.labels.get(label), remote.labels.get(label)
        if mine != theirs:
            said = f"v{mine}" if mine is not None else "no version"
            has = f"v{theirs}" if theirs is not None else "no version"
            lines.append(f"{name}: label {label!r}: the file says {said}, Portkey {has}\n")
    return lines


def diff(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """Run ``diff``."""
    folder = open_folder(args.dir)
    different = 0
    for item in folder.items:
        name = ("partial " if item.partial else "") + shown(item.id)
        remote = api.get(item.id, item.partial)
        if remote is None:
            lines = [f"{name}: only in {args.dir} (push would create it)\n"]
        else:
            lines = _content(item, remote, name) + _pointers(item, remote, name)
        if lines:
            different += 1
            out.writelines(lines)
    if folder.mirror:
        here = {i.id for i in folder.items} | {str(i.data.get("uuid")) for i in folder.items}
        for ref, _ in api.prompt_summaries():
            if ref not in here:
                different += 1
                out.write(f"{shown(ref)}: only in Portkey (pull would add it)\n")
    if different:
        out.write(f"{different} prompt(s) differ\n")
        return DIFFERENT
    out.write(f"in sync: {len(folder.items)} prompt(s)\n")
    return OK
