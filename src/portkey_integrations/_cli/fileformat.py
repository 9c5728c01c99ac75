"""The prompt-file format as the CLI uses it, imported in one place: the reader and
writer shared with the local server, and the comparisons of local and remote versions.
"""

from __future__ import annotations

from .._templates.files import (
    LABELS_FILE,
    LocalPrompt,
    PromptFileError,
    dump,
    load_folder,
    read_labels_file,
    write_json,
)
from .._templates.sync import (
    body_of,
    content_of,
    differences,
    labels_data,
    partial_version_spec,
    version_spec,
)

__all__ = [
    "LABELS_FILE",
    "LocalPrompt",
    "PromptFileError",
    "body_of",
    "content_of",
    "differences",
    "dump",
    "labels_data",
    "load_folder",
    "partial_version_spec",
    "read_labels_file",
    "version_spec",
    "write_json",
]
