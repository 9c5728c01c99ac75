"""Prompt files on disk for ``portkey-prompts``: the local server's prompt-file format.

One JSON object per prompt or partial (``docs/local-server.md``), written as stable
JSON (sorted keys, 2-space indent, trailing newline) with volatile fields (timestamps)
left out, so a pull that changes nothing remotely changes no byte locally. Custom
labels go to ``_labels.json``. Read without the server package, so the CLI needs only
the core.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import PortkeyConfigError
from ..resources._models import Label, PromptPartialVersion, _Versioned

__all__ = [
    "LABELS_FILE",
    "LocalPrompt",
    "PromptFolderError",
    "body_of",
    "content_of",
    "differences",
    "dump",
    "labels_data",
    "load_folder",
    "partial_version_spec",
    "template_out",
    "version_spec",
    "write_json",
]

LABELS_FILE = "_labels.json"

_OPTIONAL = ("tools", "functions", "tool_choice", "virtual_key", "template_metadata")
"""Version fields compared only when the local file sets them."""


class PromptFolderError(PortkeyConfigError):
    """A prompt file that cannot be used: names the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass
class LocalPrompt:
    """One prompt (or partial) file: its id, versions by number, pointers and raw data."""

    path: Path
    id: str
    versions: dict[int, dict[str, Any]]
    published: int | None
    labels: dict[str, int]
    partial: bool
    data: dict[str, Any]

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


def version_spec(version: _Versioned, number: int, description: str | None) -> dict[str, Any]:
    """A remote prompt version as a prompt file's version object."""
    out: dict[str, Any] = {"version": number, "template": template_out(version.string)}
    if version.model:
        out["model"] = version.model
    if version.parameters:
        out["parameters"] = dict(version.parameters)
    for name in _OPTIONAL:
        value = getattr(version, name)
        if value is not None:
            out[name] = value
    if description:
        out["description"] = description
    if version.is_raw_template:
        out["is_raw_template"] = True
    kind = (version.model_extra or {}).get("kind")
    if kind in ("chat", "text"):
        out["kind"] = kind
    return out


def partial_version_spec(version: PromptPartialVersion) -> dict[str, Any]:
    """A remote partial version as a prompt file's version object."""
    out: dict[str, Any] = {"version": version.version, "template": version.string or ""}
    if version.description:
        out["description"] = version.description
    return out


def labels_data(labels: list[Label]) -> dict[str, Any] | None:
    """``_labels.json``'s content: the custom labels (``None`` when there are none)."""
    items = []
    for label in sorted(labels, key=lambda item: item.name):
        if label.is_universal:
            continue
        item = {"id": label.id, "name": label.name}
        if label.description:
            item["description"] = label.description
        if label.color_code:
            item["color_code"] = label.color_code
        items.append(item)
    return {"labels": items} if items else None


def content_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A version's content in one canonical form, for comparing local and remote."""
    template = spec.get("template")
    text = template if isinstance(template, str) else json.dumps(template, ensure_ascii=False)
    parameters = dict(spec.get("parameters") or {})
    if spec.get("response_format") is not None:
        parameters.setdefault("response_format", spec["response_format"])
    out = {"template": text, "parameters": parameters, "model": spec.get("model")}
    out.update({name: spec.get(name) for name in _OPTIONAL})
    return out


def differences(local: Mapping[str, Any], remote: Mapping[str, Any]) -> list[str]:
    """The fields in which a local version differs from a remote one (template and
    parameters always count; other fields only when the local file sets them)."""
    mine, theirs = content_of(local), content_of(remote)
    return [
        name
        for name, value in mine.items()
        if (name in ("template", "parameters") or value is not None) and value != theirs[name]
    ]


def body_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a strict ``update``/``create`` making this version remotely."""
    content = content_of(spec)
    body: dict[str, Any] = {"string": content["template"], "parameters": content["parameters"]}
    for name in ("model", "tools", "functions", "tool_choice", "virtual_key"):
        if content.get(name) is not None:
            body[name] = content[name]
    if spec.get("description"):
        body["version_description"] = spec["description"]
    return body


def _check_version(path: Path, position: int, spec: Any) -> tuple[int, dict[str, Any]]:
    where = f"version #{position}"
    if not isinstance(spec, dict):
        raise PromptFolderError(path, f"{where} must be an object")
    template = spec.get("template")
    if not isinstance(template, (str, list)):
        raise PromptFolderError(path, f"{where}: 'template' must be a string or a list")
    number = spec.get("version", position)
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise PromptFolderError(path, f"{where}: 'version' must be a positive integer")
    if spec.get("parameters") is not None and not isinstance(spec["parameters"], dict):
        raise PromptFolderError(path, f"{where}: 'parameters' must be an object")
    return number, spec


def _load_file(path: Path) -> LocalPrompt:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromptFolderError(path, f"cannot read the file: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PromptFolderError(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PromptFolderError(path, "a prompt file must hold a JSON object")
    prompt_id = data.get("id")
    if not isinstance(prompt_id, str) or not prompt_id.strip() or "@" in prompt_id:
        raise PromptFolderError(path, "'id' must be a non-empty string without '@'")
    specs = data.get("versions", [data] if "template" in data else None)
    if not isinstance(specs, list) or not specs:
        raise PromptFolderError(path, "'versions' must be a non-empty list")
    versions: dict[int, dict[str, Any]] = {}
    for position, spec in enumerate(specs, start=1):
        number, checked = _check_version(path, position, spec)
        if number in versions:
            raise PromptFolderError(path, f"version {number} is defined twice")
        versions[number] = checked
    published = data.get("published")
    if published is not None and published not in versions:
        raise PromptFolderError(path, f"'published' names no version: {published!r}")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict) or any(n not in versions for n in labels.values()):
        raise PromptFolderError(path, "'labels' must map label names to versions of the file")
    return LocalPrompt(
        path, prompt_id, versions, published, dict(labels), data.get("partial") is True, data
    )


def load_folder(folder: str | Path) -> list[LocalPrompt]:
    """Every prompt file of ``folder`` (``*.json`` but ``_labels.json``), checked."""
    path = Path(folder)
    if not path.is_dir():
        raise PromptFolderError(path, "not a folder of prompt files")
    found: dict[tuple[bool, str], LocalPrompt] = {}
    for file in sorted(path.glob("*.json")):
        if file.name == LABELS_FILE:
            continue
        prompt = _load_file(file)
        key = (prompt.partial, prompt.id)
        if key in found:
            raise PromptFolderError(file, f"id {prompt.id!r} is also defined in {found[key].path}")
        found[key] = prompt
    return list(found.values())
