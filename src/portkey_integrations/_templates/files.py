"""The prompt-file format: its one reader and one writer, for ``portkey-prompts`` and the
local server alike.

One JSON object per prompt or partial (``docs/local-server.md``), written as stable
JSON (sorted keys, 2-space indent, trailing newline) with defaults left out, so a file
rewritten with nothing changed changes no byte. Custom labels go to ``_labels.json``.
Framework-free and free of the server package: the CLI needs only the core, and the
server builds its stored prompts from what this module reads.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import PortkeyConfigError

__all__ = [
    "FILE_KEYS",
    "LABELS_FILE",
    "LABEL_FILE_KEYS",
    "OPTIONAL_FIELDS",
    "PROMPT_KEYS",
    "VERSION_KEYS",
    "LocalPrompt",
    "PromptFileError",
    "check_prompt_id",
    "check_version",
    "dump",
    "labels_file_data",
    "load_folder",
    "prompt_file_data",
    "read_labels_data",
    "read_labels_file",
    "read_prompt_data",
    "read_prompt_file",
    "template_out",
    "version_data",
    "write_json",
]

LABELS_FILE = "_labels.json"
"""The file of a prompts folder that holds the custom labels."""
LABEL_FILE_KEYS = ("id", "name", "description", "color_code", "created_at", "last_updated_at")
"""The fields of a label that a labels file keeps."""

VERSION_KEYS = frozenset(
    {
        "version",
        "template",
        "model",
        "parameters",
        "tools",
        "response_format",
        "kind",
        "description",
        "virtual_key",
        "functions",
        "tool_choice",
        "is_raw_template",
        "template_metadata",
        "created_at",
    }
)
"""The keys of a version object."""
PROMPT_KEYS = frozenset(
    {
        "id",
        "description",
        "labels",
        "uuid",
        "name",
        "collection_id",
        "partial",
        "status",
        "created_at",
        "last_updated_at",
    }
)
"""The keys of a prompt file besides its versions (and those of the one-version shorthand)."""
# "remote_version" is portkey-prompts' record of the Portkey version a file was pulled at
# (its conflict check); the server keeps it as it is.
FILE_KEYS = PROMPT_KEYS | {"versions", "published", "remote_version"}
"""The keys of a prompt file in the full form."""

OPTIONAL_FIELDS = ("tools", "functions", "tool_choice", "virtual_key", "template_metadata")
"""Version fields that mean something only when set."""
_KEPT_WHEN_FALSY = frozenset({*OPTIONAL_FIELDS, "response_format"})
"""Version fields written whenever they are set, even to an empty value."""


class PromptFileError(PortkeyConfigError):
    """A prompt file (or prompt data) that cannot be used: names the source and the reason."""

    def __init__(self, source: str | Path, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = str(source)
        self.reason = reason

    @property
    def path(self) -> str:
        """The file (or other source) at fault."""
        return self.source


@dataclass
class LocalPrompt:
    """One prompt (or partial) file, checked: its id, versions by number (their objects as
    the file holds them), pointers, prompt-level fields and the decoded data."""

    path: Path
    id: str
    versions: dict[int, dict[str, Any]]
    published: int | None
    """As the file says (``None``: not said; the local server then serves the lowest)."""
    labels: dict[str, int]
    partial: bool
    data: dict[str, Any]
    fields: dict[str, str] = field(default_factory=dict)
    """The prompt-level strings the file sets: ``uuid``, ``name``, ``description``, ..."""

    @property
    def newest(self) -> tuple[int, dict[str, Any]]:
        """The highest-numbered version and its fields."""
        number = max(self.versions)
        return number, self.versions[number]


def _sorted(data: Any) -> Any:
    # Keys sorted everywhere but inside a template, whose text must stay byte for byte.
    if isinstance(data, dict):
        return {k: (v if k == "template" else _sorted(v)) for k, v in sorted(data.items())}
    if isinstance(data, list):
        return [_sorted(item) for item in data]
    return data


def dump(data: Any) -> str:
    """Stable JSON text: sorted keys (a template's own kept), 2-space indent, newline."""
    return json.dumps(_sorted(data), indent=2, ensure_ascii=False) + "\n"


def write_json(path: Path, data: Any) -> bool:
    """Write ``data`` atomically; returns whether the file's bytes changed."""
    text = dump(data)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json.part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def template_out(template: str | None) -> Any:
    """A template as a prompt file holds it: a list for canonical chat JSON, else text."""
    # A chat template in canonical JSON goes out as a list: one message per line in a diff.
    text = template or ""
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, list) and json.dumps(parsed, ensure_ascii=False) == text:
        return parsed
    return text


def version_data(number: int, template: str | None, **fields: Any) -> dict[str, Any]:
    """A prompt file's version object; fields that are unset or hold their default are
    left out (``tools`` and the like are kept whenever set, even to an empty value)."""
    out: dict[str, Any] = {"version": number, "template": template_out(template)}
    for name, value in fields.items():
        if (value is not None) if name in _KEPT_WHEN_FALSY else bool(value):
            out[name] = value
    return out


def prompt_file_data(
    prompt_id: str,
    versions: list[dict[str, Any]],
    *,
    published: int | None,
    labels: Mapping[str, int] | None = None,
    partial: bool = False,
    **fields: str | None,
) -> dict[str, Any]:
    """A prompt file's JSON object in the full form; empty ``fields`` are left out."""
    out: dict[str, Any] = {"id": prompt_id, "published": published, "versions": versions}
    if partial:
        out["partial"] = True
    if labels:
        out["labels"] = dict(labels)
    out.update({name: value for name, value in fields.items() if value})
    return out


def labels_file_data(labels: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``_labels.json``'s content: the given labels by name, empty fields left out
    (``None`` when there are none)."""
    items = [
        {key: label[key] for key in LABEL_FILE_KEYS if label.get(key)}
        for label in sorted(labels, key=lambda item: str(item["name"]))
    ]
    return {"labels": items} if items else None


def read_labels_file(folder: Path) -> Any:
    """The decoded ``_labels.json`` of ``folder``, ``None`` when it has none."""
    path = folder / LABELS_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromptFileError(path, f"cannot read the labels: {exc}") from exc


def read_labels_data(data: Any, source: str | Path) -> list[dict[str, str]]:
    """The labels of a decoded ``_labels.json``, every field as text (``""`` when absent)."""
    items = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PromptFileError(source, 'a labels file must hold {"labels": [...]}')
    if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in items):
        raise PromptFileError(source, "each label needs a 'name'")
    return [{key: str(item.get(key) or "") for key in LABEL_FILE_KEYS} for item in items]


def check_prompt_id(prompt_id: Any, source: str | Path) -> str:
    """A prompt file's ``id``: a non-empty string without ``@`` (which selects versions)."""
    if not isinstance(prompt_id, str) or not prompt_id.strip():
        raise PromptFileError(source, "'id' must be a non-empty string")
    if "@" in prompt_id:
        raise PromptFileError(
            source, f"'id' {prompt_id!r} must not contain '@' (it selects versions)"
        )
    return prompt_id


_TYPES: dict[str, tuple[type, str]] = {
    "model": (str, "a string"),
    "parameters": (dict, "an object"),
    "tools": (list, "a list"),
    "response_format": (dict, "an object"),
    "description": (str, "a string"),
    "virtual_key": (str, "a string"),
    "functions": (list, "a list"),
    "template_metadata": (dict, "an object"),
    "created_at": (str, "a string"),
}


def check_version(spec: Mapping[str, Any], number: Any, source: str | Path) -> dict[str, Any]:
    """A version's fields, checked: the template as text (a list becomes its JSON), and
    ``kind``, ``model`` and the optional fields (``None`` when not set)."""
    template = spec.get("template")
    if isinstance(template, list):
        template = json.dumps(template, ensure_ascii=False)
    if not isinstance(template, str):
        raise PromptFileError(source, "'template' must be a string or a list of messages")
    kind = spec.get("kind") or None
    if kind not in (None, "chat", "text"):
        raise PromptFileError(source, f"'kind' must be 'chat' or 'text', not {kind!r}")
    out: dict[str, Any] = {"template": template, "kind": kind, "model": spec.get("model") or None}
    for key, (kind_of, what) in _TYPES.items():
        value = out[key] if key == "model" else spec.get(key)
        if value is not None and not isinstance(value, kind_of):
            raise PromptFileError(source, f"'{key}' must be {what}")
        out[key] = value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise PromptFileError(source, f"'version' must be a positive integer, not {number!r}")
    out["parameters"] = out["parameters"] or {}
    out["tool_choice"] = spec.get("tool_choice")
    raw = spec.get("is_raw_template")
    if raw not in (None, 0, 1, True, False):
        raise PromptFileError(source, "'is_raw_template' must be 0, 1, true or false")
    out["is_raw_template"] = bool(raw)
    return out


def _unknown(source: str | Path, keys: Iterable[str], known: frozenset[str]) -> None:
    unknown = set(keys) - known
    if unknown:
        raise PromptFileError(source, f"unknown keys: {', '.join(sorted(unknown))}")


def _versions(specs: Any, source: str | Path) -> dict[int, dict[str, Any]]:
    if not isinstance(specs, list) or not specs:
        raise PromptFileError(source, "'versions' must be a non-empty list")
    versions: dict[int, dict[str, Any]] = {}
    for position, spec in enumerate(specs, start=1):
        where = f"{source} (version #{position})"
        if not isinstance(spec, dict):
            raise PromptFileError(where, "each version must be an object")
        _unknown(where, spec, VERSION_KEYS)
        if "template" not in spec:
            raise PromptFileError(where, "missing 'template'")
        number = spec.get("version")
        number = position if number is None else number
        check_version(spec, number, where)
        if number in versions:
            raise PromptFileError(source, f"version {number} is defined twice")
        versions[number] = spec
    return versions


def _prompt_fields(data: Mapping[str, Any], source: str | Path) -> dict[str, str]:
    fields = {"description": str(data.get("description") or "")}
    for key in ("uuid", "name", "collection_id", "status", "created_at", "last_updated_at"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise PromptFileError(source, f"'{key}' must be a string")
        if value:
            fields[key] = value
    if not isinstance(data.get("partial", False), bool):
        raise PromptFileError(source, "'partial' must be true or false")
    return {key: value for key, value in fields.items() if value}


def read_prompt_data(data: Any, source: str | Path = "<data>") -> LocalPrompt:
    """Check a decoded prompt file (the full form or the one-version shorthand)."""
    if not isinstance(data, dict):
        raise PromptFileError(source, "a prompt file must hold a JSON object")
    prompt_id = check_prompt_id(data.get("id"), source)
    if "versions" in data:
        _unknown(source, data, FILE_KEYS)
        versions = _versions(data["versions"], source)
    else:
        # One-version shorthand: the version's fields sit beside the id; the keys both
        # levels know (description, created_at) belong to the prompt here.
        _unknown(source, data, VERSION_KEYS | PROMPT_KEYS)
        own = VERSION_KEYS - PROMPT_KEYS
        versions = _versions([{k: v for k, v in data.items() if k in own}], source)
    fields = _prompt_fields(data, source)
    published = data.get("published")
    if published is not None and (published not in versions or isinstance(published, bool)):
        raise PromptFileError(source, f"'published' names no version: {published!r}")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise PromptFileError(source, "'labels' must be an object of label -> version")
    for label, number in labels.items():
        if number not in versions or isinstance(number, bool):
            raise PromptFileError(source, f"label {label!r} names no version: {number!r}")
        if label == "latest" or label.isdigit():
            raise PromptFileError(source, f"label {label!r} would hide a version selector")
    partial = data.get("partial") is True
    path = Path(source)
    return LocalPrompt(path, prompt_id, versions, published, dict(labels), partial, data, fields)


def read_prompt_file(path: Path) -> LocalPrompt:
    """Read and check one prompt file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromptFileError(path, f"cannot read the file: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PromptFileError(path, f"not valid JSON: {exc}") from None
    return read_prompt_data(data, path)


def load_folder(folder: str | Path) -> list[LocalPrompt]:
    """Every prompt file of ``folder`` (``*.json`` but ``_labels.json``), checked; an id
    (a partial's apart) found in two files is an error."""
    path = Path(folder)
    if not path.is_dir():
        raise PromptFileError(path, "not a folder of prompt files")
    found: dict[tuple[bool, str], LocalPrompt] = {}
    for file in sorted(path.glob("*.json")):
        if file.name == LABELS_FILE:
            continue
        prompt = read_prompt_file(file)
        key = (prompt.partial, prompt.id)
        if key in found:
            raise PromptFileError(
                file, f"prompt id {prompt.id!r} is also defined in {found[key].path}"
            )
        found[key] = prompt
    return list(found.values())
