"""The prompt-file format: reading a decoded file into a :class:`Prompt`, and back.

One JSON object per prompt (or partial); the format is described in
``docs/local-server.md``. Written files are stable JSON (sorted keys, 2-space
indent, trailing newline) with defaults left out, so they diff well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._templates.files import template_out
from .admin_records import DEFAULT_COLLECTION, LABEL_FILE_KEYS, Label, LabelRegistry, default_uuid
from .mustache import MustacheError, template_details
from .store import DEFAULT_MODEL, Prompt, PromptFileError, PromptKind, PromptVersion

__all__ = [
    "build_version",
    "infer_kind",
    "load_labels",
    "parse_prompt_data",
    "prompt_to_data",
    "relabel",
]

_VERSION_KEYS = frozenset(
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
_PROMPT_KEYS = frozenset(
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
# "remote_version" is portkey-prompts' record of the Portkey version a file was
# pulled at (its conflict check); the server reads past it.
_FILE_KEYS = _PROMPT_KEYS | {"versions", "published", "remote_version"}


def infer_kind(template: Any) -> PromptKind:
    """``chat`` for a list or JSON-array text, else ``text``."""
    if isinstance(template, list) or (
        isinstance(template, str) and template.lstrip().startswith("[")
    ):
        return "chat"
    return "text"


def _check_id(prompt_id: Any, source: str | Path) -> str:
    if not isinstance(prompt_id, str) or not prompt_id.strip():
        raise PromptFileError(source, "'id' must be a non-empty string")
    if "@" in prompt_id:
        raise PromptFileError(
            source, f"'id' {prompt_id!r} must not contain '@' (it selects versions)"
        )
    return prompt_id


def build_version(
    prompt_id: str, spec: Mapping[str, Any], number: int | None, source: str | Path
) -> PromptVersion:
    template = spec.get("template")
    if isinstance(template, list):
        template = json.dumps(template, ensure_ascii=False)
    if not isinstance(template, str):
        raise PromptFileError(source, "'template' must be a string or a list of messages")
    kind = spec.get("kind") or infer_kind(template)
    if kind not in ("chat", "text"):
        raise PromptFileError(source, f"'kind' must be 'chat' or 'text', not {kind!r}")
    model = spec.get("model") or DEFAULT_MODEL
    if not isinstance(model, str):
        raise PromptFileError(source, "'model' must be a string")
    parameters = spec.get("parameters")
    parameters = {} if parameters is None else parameters
    if not isinstance(parameters, dict):
        raise PromptFileError(source, "'parameters' must be an object")
    tools = spec.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise PromptFileError(source, "'tools' must be a list")
    response_format = spec.get("response_format")
    if response_format is not None and not isinstance(response_format, dict):
        raise PromptFileError(source, "'response_format' must be an object")
    if number is not None and (
        isinstance(number, bool) or not isinstance(number, int) or number < 1
    ):
        raise PromptFileError(source, f"'version' must be a positive integer, not {number!r}")
    extra = _version_extras(spec, source)
    try:
        details = template_details(template)
    except MustacheError:
        # Portkey saves such a template; rendering it is what fails (with a 400).
        details = {"partials": [], "variablePartials": [], "variables": []}
    return PromptVersion(
        prompt_id=_check_id(prompt_id, source),
        version=number or 1,
        template=template,
        kind=kind,
        model=model,
        parameters=parameters,
        tools=tools,
        response_format=response_format,
        partials=tuple(details["partials"]),
        variable_partials=tuple(details["variablePartials"]),
        variables=tuple(details["variables"]),
        **extra,
    )


_EXTRA_TYPES: dict[str, tuple[type, str]] = {
    "description": (str, "a string"),
    "virtual_key": (str, "a string"),
    "functions": (list, "a list"),
    "template_metadata": (dict, "an object"),
    "created_at": (str, "a string"),
}


def _version_extras(spec: Mapping[str, Any], source: str | Path) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key, (kind, what) in _EXTRA_TYPES.items():
        value = spec.get(key)
        if value is not None and not isinstance(value, kind):
            raise PromptFileError(source, f"'{key}' must be {what}")
        if value is not None:
            extra[key] = value
    if spec.get("tool_choice") is not None:
        extra["tool_choice"] = spec["tool_choice"]
    raw = spec.get("is_raw_template")
    if raw is not None:
        if raw not in (0, 1, True, False):
            raise PromptFileError(source, "'is_raw_template' must be 0, 1, true or false")
        extra["is_raw_template"] = bool(raw)
    return extra


def parse_prompt_data(data: Any, source: str | Path = "<data>") -> Prompt:
    """Check a decoded prompt file and build its :class:`Prompt`."""
    if not isinstance(data, dict):
        raise PromptFileError(source, "a prompt file must hold a JSON object")
    prompt_id = _check_id(data.get("id"), source)
    if "versions" not in data:
        # One-version shorthand: the version's fields sit beside the id.
        unknown = set(data) - _VERSION_KEYS - _PROMPT_KEYS
        if unknown:
            raise PromptFileError(source, f"unknown keys: {', '.join(sorted(unknown))}")
        # Keys both levels know (description, created_at) belong to the prompt here.
        own = _VERSION_KEYS - _PROMPT_KEYS
        specs: list[Any] = [{k: v for k, v in data.items() if k in own}]
        published: Any = None
    else:
        unknown = set(data) - _FILE_KEYS
        if unknown:
            raise PromptFileError(source, f"unknown keys: {', '.join(sorted(unknown))}")
        specs = data["versions"]
        if not isinstance(specs, list) or not specs:
            raise PromptFileError(source, "'versions' must be a non-empty list")
        published = data.get("published")
    prompt = Prompt(prompt_id, **_prompt_fields(data, source))
    for position, spec in enumerate(specs, start=1):
        where = f"{source} (version #{position})"
        if not isinstance(spec, dict):
            raise PromptFileError(where, "each version must be an object")
        unknown = set(spec) - _VERSION_KEYS
        if unknown:
            raise PromptFileError(where, f"unknown keys: {', '.join(sorted(unknown))}")
        if "template" not in spec:
            raise PromptFileError(where, "missing 'template'")
        built = build_version(prompt_id, spec, spec.get("version", position), where)
        if built.version in prompt.versions:
            raise PromptFileError(source, f"version {built.version} is defined twice")
        prompt.versions[built.version] = built
    if published is None:
        published = min(prompt.versions)
    if published not in prompt.versions or isinstance(published, bool):
        raise PromptFileError(source, f"'published' names no version: {published!r}")
    prompt.published = published
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise PromptFileError(source, "'labels' must be an object of label -> version")
    for label, number in labels.items():
        if number not in prompt.versions or isinstance(number, bool):
            raise PromptFileError(source, f"label {label!r} names no version: {number!r}")
        if label == "latest" or label.isdigit():
            raise PromptFileError(source, f"label {label!r} would hide a version selector")
        prompt.labels[label] = number
    return prompt


def _prompt_fields(data: Mapping[str, Any], source: str | Path) -> dict[str, Any]:
    fields: dict[str, Any] = {"description": str(data.get("description") or "")}
    for key in ("uuid", "name", "collection_id", "status", "created_at", "last_updated_at"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise PromptFileError(source, f"'{key}' must be a string")
        if value:
            fields[key] = value
    partial = data.get("partial", False)
    if not isinstance(partial, bool):
        raise PromptFileError(source, "'partial' must be true or false")
    fields["partial"] = partial
    return fields


def _version_to_data(version: PromptVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": version.version,
        "kind": version.kind,
        "model": version.model,
        "template": template_out(version.template),
    }
    if version.parameters:
        out["parameters"] = dict(version.parameters)
    optional = {
        "tools": version.tools,
        "response_format": version.response_format,
        "functions": version.functions,
        "tool_choice": version.tool_choice,
        "virtual_key": version.virtual_key,
        "template_metadata": version.template_metadata,
        "description": version.description or None,
        "is_raw_template": version.is_raw_template or None,
        "created_at": version.created_at or None,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def prompt_to_data(prompt: Prompt) -> dict[str, Any]:
    """A prompt (or partial) as its prompt file's JSON object; defaults are left out."""
    kind = "partial" if prompt.partial else "prompt"
    out: dict[str, Any] = {
        "id": prompt.id,
        "published": prompt.published,
        "versions": [_version_to_data(prompt.versions[n]) for n in sorted(prompt.versions)],
    }
    if prompt.partial:
        out["partial"] = True
    if prompt.labels:
        out["labels"] = dict(prompt.labels)
    optional = {
        "uuid": None if prompt.uuid == default_uuid(kind, prompt.id) else prompt.uuid,
        "name": None if prompt.name == prompt.id else prompt.name,
        "collection_id": None
        if prompt.collection_id == DEFAULT_COLLECTION
        else prompt.collection_id,
        "description": prompt.description or None,
        "status": None if prompt.status == "active" else prompt.status,
        "created_at": prompt.created_at or None,
        "last_updated_at": prompt.last_updated_at or None,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def load_labels(registry: LabelRegistry, data: Any, source: str | Path) -> None:
    """Add the labels of a decoded labels file (``{"labels": [...]}``) to ``registry``."""
    items = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PromptFileError(source, 'a labels file must hold {"labels": [...]}')
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise PromptFileError(source, "each label needs a 'name'")
        text = {k: str(item.get(k) or "") for k in LABEL_FILE_KEYS}
        registry.put(
            Label(
                text["id"] or default_uuid("label", text["name"]),
                text["name"],
                description=text["description"],
                color_code=text["color_code"],
                created_at=text["created_at"],
                last_updated_at=text["last_updated_at"],
            )
        )


def relabel(prompt: Prompt, old: str, new: str | None) -> Prompt:
    """A copy of ``prompt`` with label ``old`` renamed to ``new`` (or dropped for ``None``)."""
    labels = {}
    for name, number in prompt.labels.items():
        if name != old:
            labels[name] = number
        elif new is not None:
            labels[new] = number
    return replace(prompt, labels=labels)
