"""Exit codes and the typed errors that carry them.

Each failure has its own code, distinct from ``diff``'s 1 ("differences found"), so a
script or CI job can tell "not in sync" from "could not tell".
"""

from __future__ import annotations

__all__ = [
    "CHECK",
    "CONFLICT",
    "DIFFERENT",
    "EXIT_CODES",
    "FILESYSTEM",
    "INTERNAL",
    "INTERRUPTED",
    "OK",
    "REMOTE",
    "USAGE",
    "CheckFailed",
    "CliError",
    "Conflict",
    "UnsafePath",
    "Usage",
]

OK = 0
DIFFERENT = 1
USAGE = 2
REMOTE = 3
CONFLICT = 4
CHECK = 5
FILESYSTEM = 6
INTERNAL = 70
INTERRUPTED = 130

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (OK, "done (diff: in sync)"),
    (DIFFERENT, "diff found differences"),
    (USAGE, "usage, configuration or prompt-file error (the file and reason are named)"),
    (REMOTE, "the API refused or failed: missing scope, unknown id, network"),
    (CONFLICT, "conflict: Portkey moved since the pull, or pull would discard unpushed versions"),
    (CHECK, "a version would not render (push, publish and label send nothing)"),
    (FILESYSTEM, "a file could not be written safely inside the folder"),
    (INTERNAL, "an unexpected internal error (please report it)"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
)
"""Every exit code with its meaning, as ``--help`` and the docs list them."""


class CliError(Exception):
    """A failure the CLI reports with its own exit code."""

    code = USAGE


class Usage(CliError):
    """Bad arguments or configuration."""

    code = USAGE


class Conflict(CliError):
    """Portkey moved since the file was pulled, or a pull would lose unpushed versions."""

    code = CONFLICT


class CheckFailed(CliError):
    """A version that would not render: names the prompt, the version and the reason."""

    code = CHECK


class UnsafePath(CliError):
    """A file the CLI will not write: outside the folder, or a symbolic link."""

    code = FILESYSTEM
