"""``/v1/prompts`` admin operations: list, create, retrieve, update, delete, versions, publish.

A prompt is addressed by its UUID ``id`` or its ``slug`` in every route. An
update with version fields adds a version (not published: ``makeDefault`` does
that); ``patch: true`` backfills the omitted fields from the latest version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .._templates.files import PromptFileError
from .admin import AdminCall, AdminError, check, found, matches, page, require, version_number
from .admin_files import build_version
from .records import DEFAULT_MODEL, StoredPrompt, StoredVersion, new_slug, now_iso
from .state import ServerState
from .store import PromptStore

__all__ = [
    "add_version",
    "create_prompt",
    "delete_prompt",
    "described",
    "get_prompt",
    "get_version",
    "list_prompts",
    "list_versions",
    "publish_prompt",
    "timestamps",
    "update_prompt",
    "update_version",
]

_NOT_FOUND = "Prompt not found"
_VERSION_NOT_FOUND = "Prompt version not found"

# The fields that make a new version (metadata-only updates leave versions alone).
_CONTENT_FIELDS = (
    "string",
    "parameters",
    "model",
    "functions",
    "tools",
    "tool_choice",
    "is_raw_template",
    "prompt_metadata",
    "template_metadata",
)


def find_prompt(store: PromptStore, ref: str) -> StoredPrompt:
    """The prompt with this UUID or slug, else 404."""
    return found(store.get(ref), _NOT_FOUND)


def _label_id(state: ServerState, prompt: StoredPrompt, number: int) -> str | None:
    names = sorted(name for name, n in prompt.labels.items() if n == number)
    label = state.store.labels.get(names[0]) if names else None
    return label.id if label else None


def timestamps(store: PromptStore, prompt: StoredPrompt) -> tuple[str, str]:
    """``created_at`` and ``last_updated_at`` of a prompt or partial (load time if unknown)."""
    created = prompt.created_at or prompt.versions[min(prompt.versions)].created_at
    newest = max((v.created_at for v in prompt.versions.values()), default="")
    updated = max(prompt.last_updated_at, newest)
    return created or store.started_at, updated or created or store.started_at


def described(
    store: PromptStore, prompt: StoredPrompt, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """A prompt or partial as the admin API shows it: its identity, ``fields``, then
    its status and timestamps."""
    created, updated = timestamps(store, prompt)
    return {
        "id": prompt.uuid,
        "slug": prompt.id,
        "name": prompt.name,
        "collection_id": prompt.collection_id,
        **fields,
        "status": prompt.status,
        "created_at": created,
        "last_updated_at": updated,
    }


def _parameters(version: StoredVersion) -> dict[str, Any]:
    params = dict(version.parameters)
    if version.response_format is not None:
        params.setdefault("response_format", version.response_format)
    return params


def prompt_summary(state: ServerState, prompt: StoredPrompt) -> dict[str, Any]:
    """Portkey's ``PromptSummary``."""
    current = prompt.versions[prompt.published or prompt.latest]
    return {**described(state.store, prompt, {"model": current.model}), "object": "prompt"}


def prompt_detail(
    state: ServerState, prompt: StoredPrompt, version: StoredVersion
) -> dict[str, Any]:
    """Portkey's ``Prompt``: the prompt with one version's template and settings."""
    fields = {
        "string": version.template,
        "parameters": _parameters(version),
        "prompt_version": version.version,
        "prompt_version_id": prompt.version_id(version.version),
        "prompt_version_status": "active",
        "prompt_version_description": version.description,
        "prompt_version_label_id": _label_id(state, prompt, version.version),
        "virtual_key": version.routing_key,
        "model": version.model,
        "functions": version.functions,
        "tools": version.tools,
        "tool_choice": version.tool_choice,
        "template_metadata": version.template_metadata,
        "is_raw_template": version.is_raw_template,
    }
    return described(state.store, prompt, fields)


def _version_summary(
    state: ServerState, prompt: StoredPrompt, version: StoredVersion
) -> dict[str, Any]:
    return {
        "id": prompt.version_id(version.version),
        "prompt_id": prompt.uuid,
        "prompt_template": {
            "string": version.template,
            "parameters": _parameters(version),
            "model": version.model,
            "virtual_key": version.routing_key,
            "functions": version.functions,
            "tools": version.tools,
            "tool_choice": version.tool_choice,
            "is_raw_template": version.is_raw_template,
            "template_metadata": version.template_metadata,
        },
        "prompt_version": version.version,
        "prompt_description": version.description,
        "label_id": _label_id(state, prompt, version.version),
        # Beyond Portkey's shape: a local version may carry several labels.
        "labels": sorted(name for name, n in prompt.labels.items() if n == version.version),
        "created_at": version.created_at or timestamps(state.store, prompt)[0],
        "status": "active",
        "object": "prompt",
    }


def _version_spec(body: dict[str, Any], base: StoredVersion | None) -> dict[str, Any]:
    """The stored fields of a new version: the body's, the rest from ``base`` (patch mode)."""
    string = check(body, "string", "str")
    parameters = check(body, "parameters", "object")
    for name in ("model", "virtual_key", "version_description"):
        check(body, name, "str")
    for name in ("functions", "tools"):
        check(body, name, "list")
    metadata = check(body, "template_metadata", "object")
    metadata = check(body, "prompt_metadata", "object") if metadata is None else metadata
    raw = body.get("is_raw_template")
    if raw is not None and raw not in (0, 1, True, False):
        raise AdminError(400, "Invalid value for 'is_raw_template': must be 0 or 1")
    params = dict(parameters) if parameters is not None else None
    # One model per version: the body's, else the one inside the parameters.
    params_model = params.pop("model", None) if params is not None else None
    model = body.get("model") or params_model
    spec: dict[str, Any] = {
        "template": string,
        "parameters": params,
        "model": model,
        "virtual_key": body.get("virtual_key"),
        "description": body.get("version_description"),
        "functions": body.get("functions"),
        "tools": body.get("tools"),
        "tool_choice": body.get("tool_choice"),
        "is_raw_template": raw,
        "template_metadata": metadata,
    }
    if base is not None:
        inherited = {
            "template": base.template,
            "parameters": dict(base.parameters),
            "model": base.model,
            "virtual_key": base.virtual_key,
            "description": base.description,
            "functions": base.functions,
            "tools": base.tools,
            "tool_choice": base.tool_choice,
            "is_raw_template": base.is_raw_template,
            "template_metadata": base.template_metadata,
        }
        spec = {k: inherited[k] if v is None else v for k, v in spec.items()}
        if parameters is None:
            spec["response_format"] = base.response_format
    spec["model"] = spec["model"] or DEFAULT_MODEL
    spec["created_at"] = now_iso()
    return spec


def add_version(prompt: StoredPrompt, spec: dict[str, Any], *, publish: bool) -> StoredPrompt:
    """A copy of ``prompt`` with a new latest version built from ``spec``."""
    number = max(prompt.versions, default=0) + 1
    try:
        version = build_version(prompt.id, spec, number, "the request")
    except PromptFileError as exc:
        raise AdminError(400, exc.reason) from None
    versions = {**prompt.versions, number: version}
    published = number if publish or prompt.published is None else prompt.published
    return replace(prompt, versions=versions, published=published, last_updated_at=now_iso())


def _commit(state: ServerState, prompt: StoredPrompt) -> None:
    state.store.add(prompt)
    state.store.save(prompt)


# --- operations ----------------------------------------------------------------


def list_prompts(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts``: filtered by ``collection_id`` and ``search``, paged."""
    collection = call.query.get("collection_id")
    search = call.query.get("search")
    found = [
        p
        for p in sorted(state.store, key=lambda p: p.name.lower())
        if (not collection or p.collection_id == collection) and matches(search, p.name, p.id)
    ]
    data = [prompt_summary(state, p) for p in page(found, call.query)]
    return {"object": "list", "total": len(found), "data": data}


def create_prompt(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``POST /prompts``: a new prompt whose version 1 is published."""
    body = call.body
    require(body, "name", "collection_id", "string", "parameters")
    name = check(body, "name", "str")
    collection = check(body, "collection_id", "str")
    spec = _version_spec(body, None)
    slug = new_slug("pp", name, [p.id for p in state.store])
    stamp = now_iso()
    fresh = StoredPrompt(slug, name=name, collection_id=collection, created_at=stamp)
    prompt = add_version(fresh, spec, publish=True)
    _commit(state, prompt)
    return {
        "id": prompt.uuid,
        "slug": prompt.id,
        "version_id": prompt.version_id(1),
        "object": "prompt",
    }


def get_prompt(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts/{id}``: the prompt with its published version."""
    prompt = find_prompt(state.store, call.param("prompt_id"))
    return prompt_detail(state, prompt, prompt.versions[prompt.published or prompt.latest])


def update_prompt(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``PUT /prompts/{id}``: metadata, and a new version when version fields are sent."""
    body = call.body
    prompt = find_prompt(state.store, call.param("prompt_id"))
    patch = check(body, "patch", "bool")
    if patch is None:
        patch = call.query.get("patch", "").lower() == "true"
    name = check(body, "name", "str")
    collection = check(body, "collection_id", "str")
    changes: dict[str, Any] = {"last_updated_at": now_iso()}
    if name:
        changes["name"] = name
    if collection:
        changes["collection_id"] = collection
    latest = prompt.versions[prompt.latest]
    if any(body.get(field) is not None for field in _CONTENT_FIELDS):
        if not patch:
            require(body, "string", "parameters")
        prompt = add_version(prompt, _version_spec(body, latest if patch else None), publish=False)
    elif body.get("version_description") is not None or body.get("virtual_key") is not None:
        # Version metadata is edited in place: no new version.
        edited = replace(
            latest,
            description=check(body, "version_description", "str") or latest.description,
            virtual_key=check(body, "virtual_key", "str") or latest.virtual_key,
        )
        prompt = replace(prompt, versions={**prompt.versions, latest.version: edited})
    prompt = replace(prompt, **changes)
    _commit(state, prompt)
    return {
        "id": prompt.uuid,
        "slug": prompt.id,
        "prompt_version_id": prompt.version_id(prompt.latest),
    }


def delete_prompt(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``DELETE /prompts/{id}``."""
    prompt = find_prompt(state.store, call.param("prompt_id"))
    state.store.remove(prompt.id)
    state.store.discard(prompt)
    return {}


def list_versions(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts/{id}/versions``, oldest first."""
    prompt = find_prompt(state.store, call.param("prompt_id"))
    data = [_version_summary(state, prompt, prompt.versions[n]) for n in sorted(prompt.versions)]
    return {"object": "list", "total": len(data), "data": data}


def _find_version(prompt: StoredPrompt, ref: str) -> StoredVersion:
    return found(prompt.find_version(ref), _VERSION_NOT_FOUND)


def get_version(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``GET /prompts/{id}/versions/{versionId}`` (a version UUID, or its number)."""
    prompt = find_prompt(state.store, call.param("prompt_id"))
    return prompt_detail(state, prompt, _find_version(prompt, call.param("version_id")))


def update_version(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``PUT /prompts/{id}/versions/{versionId}``: point the label ``label_id`` at it."""
    prompt = find_prompt(state.store, call.param("prompt_id"))
    version = _find_version(prompt, call.param("version_id"))
    require(call.body, "label_id")
    label = state.store.labels.get(str(check(call.body, "label_id", "str")))
    if label is None:
        raise AdminError(400, "Invalid value for 'label_id': no such label")
    labels = {**prompt.labels, label.name: version.version}
    _commit(state, replace(prompt, labels=labels, last_updated_at=now_iso()))
    return {}


def publish_prompt(state: ServerState, call: AdminCall) -> dict[str, Any]:
    """``PUT /prompts/{id}/makeDefault``: the version a bare id runs."""
    prompt = find_prompt(state.store, call.param("prompt_id"))
    number = version_number(call.body)
    if number not in prompt.versions:
        raise AdminError(404, _VERSION_NOT_FOUND)
    _commit(state, replace(prompt, published=number, last_updated_at=now_iso()))
    return {}
