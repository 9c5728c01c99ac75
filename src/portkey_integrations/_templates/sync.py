"""Prompt files against remote prompts, for ``portkey-prompts``: remote versions as file
objects, and the comparison of a local version with a remote one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..resources._models import Label, PromptPartialVersion, _Versioned
from .files import OPTIONAL_FIELDS, labels_file_data, version_data

__all__ = [
    "body_of",
    "content_of",
    "differences",
    "labels_data",
    "partial_version_spec",
    "version_spec",
]


def version_spec(version: _Versioned, number: int, description: str | None) -> dict[str, Any]:
    """A remote prompt version as a prompt file's version object."""
    kind = (version.model_extra or {}).get("kind")
    return version_data(
        number,
        version.string,
        model=version.model,
        parameters=dict(version.parameters or {}),
        **{name: getattr(version, name) for name in OPTIONAL_FIELDS},
        description=description,
        is_raw_template=bool(version.is_raw_template),
        kind=kind if kind in ("chat", "text") else None,
    )


def partial_version_spec(version: PromptPartialVersion) -> dict[str, Any]:
    """A remote partial version as a prompt file's version object."""
    return version_data(version.version, version.string, description=version.description)


def labels_data(labels: list[Label]) -> dict[str, Any] | None:
    """``_labels.json``'s content: the custom labels (``None`` when there are none)."""
    custom = [
        {"id": label.id, "name": label.name, "description": label.description or "", **color}
        for label in labels
        if not label.is_universal
        for color in [{"color_code": label.color_code or ""}]
    ]
    return labels_file_data(custom)


def content_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A version's content in one canonical form, for comparing local and remote."""
    template = spec.get("template")
    text = template if isinstance(template, str) else json.dumps(template, ensure_ascii=False)
    parameters = dict(spec.get("parameters") or {})
    if spec.get("response_format") is not None:
        parameters.setdefault("response_format", spec["response_format"])
    out = {"template": text, "parameters": parameters, "model": spec.get("model")}
    out.update({name: spec.get(name) for name in OPTIONAL_FIELDS})
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
