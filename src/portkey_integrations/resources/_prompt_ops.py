"""Prompts and their versions: the operations behind ``client.prompts``.

Each operation is written once as a sequence of steps (see ``_steps.py``);
:class:`~.prompts.Prompts` and :class:`~.prompts.AsyncPrompts` run them. Operations
and classes sit in two modules only because together they pass 400 lines.

Most operations are one step; a few (``update(patch=True)``, ``set_label``,
``resolve``) read before they write. :func:`resolve_version` is the pure rule by which
``id``, ``id@N``, ``id@latest`` and ``id@label`` select a version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._base_client import BaseClient
from .._errors import PortkeyConfigError, PromptNotFoundError
from ._models import (
    Label,
    LabelList,
    Prompt,
    PromptCreated,
    PromptList,
    PromptUpdated,
    PromptVersion,
    PromptVersionList,
)
from ._steps import Steps, admin_path, check_version, clean, parse_ref, step
from .labels import list_labels

__all__ = [
    "create_prompt",
    "delete_prompt",
    "list_prompts",
    "prompt_versions",
    "publish_prompt",
    "resolve_prompt",
    "resolve_version",
    "retrieve_prompt",
    "retrieve_version",
    "set_label",
    "update_prompt",
    "update_version",
]


# --- version resolution -----------------------------------------------------------


def _carries(version: PromptVersion, label: str, label_ids: set[str]) -> bool:
    if version.label_id is not None and version.label_id in label_ids:
        return True
    # Servers that hold several labels per version may list them by name.
    names = (version.model_extra or {}).get("labels")
    return isinstance(names, list) and label in names


def resolve_version(
    prompt: Prompt,
    versions: Sequence[PromptVersion],
    ref: str | None,
    labels: Sequence[Label] = (),
) -> PromptVersion:
    """The version ``ref`` selects, as Portkey resolves ``id``, ``id@N``, ``id@latest``
    and ``id@label``.

    ``ref`` is the selector (``None``/``""`` for the published version, ``"3"``,
    ``"latest"``, ``"production"``), with or without a leading ``@`` or the id before
    it. ``labels`` maps label names to the ids versions carry. Raises
    :class:`PromptNotFoundError` when nothing matches.
    """
    selector = (ref or "").rpartition("@")[2] if ref and "@" in ref else (ref or "")
    found: PromptVersion | None = None
    if not selector:
        found = next((v for v in versions if v.prompt_version == prompt.prompt_version), None)
        if found is None and prompt.prompt_version_id is not None:
            found = next((v for v in versions if v.id == prompt.prompt_version_id), None)
    elif selector == "latest":
        found = max(versions, key=lambda v: v.prompt_version, default=None)
    elif selector.isdigit() and selector.isascii():
        found = next((v for v in versions if v.prompt_version == int(selector)), None)
    else:
        ids = {label.id for label in labels if selector in (label.name, label.id)}
        carrying = [v for v in versions if _carries(v, selector, ids)]
        found = max(carrying, key=lambda v: v.prompt_version, default=None)
    if found is None:
        what = f"version {selector!r}" if selector else "a published version"
        raise PromptNotFoundError(
            f"prompt {prompt.ref!r} has no {what}", status_code=404, body=None
        )
    return found


# --- prompts ----------------------------------------------------------------------


def list_prompts(
    client: BaseClient,
    *,
    collection_id: str | None = None,
    workspace_id: str | None = None,
    current_page: int | None = None,
    page_size: int | None = None,
    search: str | None = None,
) -> Steps[PromptList]:
    """List prompts (``GET /prompts``), filtered as the API allows."""
    query = clean(
        {
            "collection_id": collection_id,
            "workspace_id": workspace_id,
            "current_page": current_page,
            "page_size": page_size,
            "search": search,
        }
    )
    result: PromptList = yield step(
        client, "GET", "/prompts", "prompts.list", PromptList, query=query
    )
    return result


def retrieve_prompt(client: BaseClient, prompt_id: str) -> Steps[Prompt]:
    """A prompt with its published version (``GET /prompts/{id}``; id or slug)."""
    path = admin_path("prompts", prompt_id)
    result: Prompt = yield step(
        client, "GET", path, "prompts.retrieve", Prompt, subject=f"prompt {prompt_id!r}"
    )
    return result


def prompt_versions(client: BaseClient, prompt_id: str) -> Steps[PromptVersionList]:
    """Every version of a prompt (``GET /prompts/{id}/versions``)."""
    path = admin_path("prompts", prompt_id, "versions")
    result: PromptVersionList = yield step(
        client, "GET", path, "prompts.versions", PromptVersionList, subject=f"prompt {prompt_id!r}"
    )
    return result


def retrieve_version(client: BaseClient, prompt_id: str, version_id: str) -> Steps[Prompt]:
    """One version of a prompt by its version id (``GET /prompts/{id}/versions/{vid}``)."""
    path = admin_path("prompts", prompt_id, "versions", version_id)
    subject = f"version {version_id!r} of prompt {prompt_id!r}"
    result: Prompt = yield step(
        client, "GET", path, "prompts.retrieve_version", Prompt, subject=subject
    )
    return result


def resolve_prompt(client: BaseClient, ref: str) -> Steps[Prompt]:
    """The version a reference names (``pp-x``, ``pp-x@3``, ``pp-x@latest``,
    ``pp-x@production``), with its template and settings."""
    prompt_id, selector = parse_ref(ref)
    prompt: Prompt = yield from retrieve_prompt(client, prompt_id)
    if not selector:
        return prompt
    versions: PromptVersionList = yield from prompt_versions(client, prompt_id)
    labels: Sequence[Label] = ()
    if selector != "latest" and not selector.isdigit():
        labels = (yield from list_labels(client)).data
    chosen = resolve_version(prompt, versions.data, selector, labels)
    if chosen.prompt_version == prompt.prompt_version:
        return prompt
    detail: Prompt = yield from retrieve_version(client, prompt_id, chosen.id)
    return detail


_VERSION_FIELDS = (
    "string",
    "parameters",
    "model",
    "virtual_key",
    "version_description",
    "functions",
    "tools",
    "tool_choice",
    "is_raw_template",
    "prompt_metadata",
)


def create_prompt(
    client: BaseClient,
    *,
    name: str,
    string: str,
    parameters: Mapping[str, Any],
    collection_id: str | None = None,
    virtual_key: str | None = None,
    model: str | None = None,
    functions: Sequence[Any] | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    version_description: str | None = None,
    template_metadata: Mapping[str, Any] | None = None,
) -> Steps[PromptCreated]:
    """Create a prompt with its first version (``POST /prompts``)."""
    if not isinstance(string, str):
        raise PortkeyConfigError("string (the template) must be a str")
    body = clean({k: v for k, v in locals().items() if k != "client"})
    result: PromptCreated = yield step(
        client, "POST", "/prompts", "prompts.create", PromptCreated, body=body
    )
    return result


def _backfill(latest: Prompt) -> dict[str, Any]:
    extra = latest.model_extra or {}
    return {
        "string": latest.string,
        "parameters": latest.parameters,
        "model": latest.model,
        "virtual_key": latest.virtual_key,
        "version_description": latest.prompt_version_description,
        "functions": latest.functions,
        "tools": latest.tools,
        "tool_choice": latest.tool_choice,
        "is_raw_template": None if latest.is_raw_template is None else int(latest.is_raw_template),
        "prompt_metadata": extra.get("prompt_metadata"),
    }


def update_prompt(
    client: BaseClient,
    prompt_id: str,
    *,
    string: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    model: str | None = None,
    virtual_key: str | None = None,
    version_description: str | None = None,
    functions: Sequence[Any] | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    is_raw_template: int | None = None,
    prompt_metadata: Mapping[str, Any] | None = None,
    name: str | None = None,
    collection_id: str | None = None,
    patch: bool = False,
) -> Steps[PromptUpdated]:
    """Make a new version of a prompt (``PUT /prompts/{id}``).

    Strict (``patch=False``, Portkey's default) takes the whole version: ``string`` and
    ``parameters`` are required. With ``patch=True`` the omitted version fields are
    copied from the latest version first (read here, so it also works on servers that
    ignore ``patch``); ``patch: true`` is sent as well.
    """
    given = {k: v for k, v in locals().items() if k in _VERSION_FIELDS}
    fields = clean(given)
    path = admin_path("prompts", prompt_id)
    if not patch and fields and ("string" not in fields or "parameters" not in fields):
        raise PortkeyConfigError(
            "update() without patch=True takes the whole version: pass string= and "
            "parameters= (or patch=True to copy the omitted fields from the latest version)"
        )
    if patch:
        latest: Prompt = yield from resolve_prompt(client, f"{prompt_id}@latest")
        fields = {**clean(_backfill(latest)), **fields}
    body = {**fields, **clean({"name": name, "collection_id": collection_id})}
    if patch:
        body["patch"] = True
    result: PromptUpdated = yield step(
        client,
        "PUT",
        path,
        "prompts.update",
        PromptUpdated,
        body=body,
        subject=f"prompt {prompt_id!r}",
    )
    return result


def publish_prompt(client: BaseClient, prompt_id: str, version: int) -> Steps[None]:
    """Make a version the prompt's default (``PUT /prompts/{id}/makeDefault``)."""
    path = admin_path("prompts", prompt_id, "makeDefault")
    yield step(
        client,
        "PUT",
        path,
        "prompts.publish",
        body={"version": check_version(version)},
        subject=f"prompt {prompt_id!r}",
    )


def delete_prompt(client: BaseClient, prompt_id: str) -> Steps[None]:
    """Delete a prompt (``DELETE /prompts/{id}``)."""
    path = admin_path("prompts", prompt_id)
    yield step(client, "DELETE", path, "prompts.delete", subject=f"prompt {prompt_id!r}")


def update_version(
    client: BaseClient, prompt_id: str, version_id: str, *, label_id: str
) -> Steps[None]:
    """Set the label of one version (``PUT /prompts/{id}/versions/{vid}``)."""
    path = admin_path("prompts", prompt_id, "versions", version_id)
    subject = f"version {version_id!r} of prompt {prompt_id!r}"
    yield step(
        client,
        "PUT",
        path,
        "prompts.update_version",
        body={"label_id": label_id},
        subject=subject,
    )


def set_label(client: BaseClient, prompt_id: str, version: int, label: str) -> Steps[None]:
    """Point ``label`` (a name or id) at version number ``version`` of a prompt."""
    labels: LabelList = yield from list_labels(client)
    found = next((item for item in labels.data if label in (item.name, item.id)), None)
    if found is None:
        raise PortkeyConfigError(
            f"no label {label!r}; labels: {', '.join(sorted(x.name for x in labels.data))}"
        )
    versions: PromptVersionList = yield from prompt_versions(client, prompt_id)
    chosen = next((v for v in versions.data if v.prompt_version == version), None)
    if chosen is None:
        raise PromptNotFoundError(f"prompt {prompt_id!r} has no version {version}", status_code=404)
    yield from update_version(client, prompt_id, chosen.id, label_id=found.id)
