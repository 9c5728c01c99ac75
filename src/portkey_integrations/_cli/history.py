"""A file's history against Portkey's: the version it was based on, and the versions
Portkey does not hold."""

from __future__ import annotations

from typing import Any

from .fileformat import LocalPrompt, differences

__all__ = ["BASE", "based_on", "same_content", "unpushed"]

BASE = "remote_version"
"""A prompt file's field: Portkey's newest version when the file was last pulled or
pushed (the parent a push checks against, as a commit's parent)."""


def based_on(item: LocalPrompt) -> int | None:
    """The remote version a file was based on (``None``: not recorded)."""
    value = item.data.get(BASE)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def same_content(local: dict[str, Any], remote: dict[str, Any]) -> bool:
    """Whether a local version and a remote one hold the same content."""
    return not differences(local, remote)


def unpushed(item: LocalPrompt, remote: dict[int, dict[str, Any]]) -> list[str]:
    """The versions of a file Portkey does not hold (a pull would lose them): each as
    ``"v4"`` (never pushed) or ``"v2 (changed)"`` (edited after it was pushed)."""
    base = based_on(item)
    out = []
    for number, spec in sorted(item.versions.items()):
        theirs = remote.get(number)
        if theirs is not None:
            if not same_content(spec, theirs):
                out.append(f"v{number} (changed)")
        elif base is None or number > base:
            out.append(f"v{number}")
    return out
