"""The admin API's operations, each written once as a sequence of steps.

An operation is a generator: it yields a :class:`Step` (a built request, how to parse
its response, and the operation's name for error messages), receives the parsed
result, and returns the operation's value. The sync and async resources (``_admin.py``)
only send the steps; most operations are one step, a few (``update(patch=True)``,
``set_label``, ``resolve``) read before they write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from ._admin_models import (
    Label,
    LabelList,
    Prompt,
    PromptCreated,
    PromptList,
    PromptUpdated,
    PromptVersion,
    PromptVersionList,
)
from ._base_client import BaseClient, parse_model
from ._errors import PortkeyConfigError, PromptNotFoundError
from ._request import _SAFE_SEGMENT

__all__ = [
    "SCOPES",
    "Step",
    "Steps",
    "admin_path",
    "fetch_json",
    "parse_ref",
    "partial_references",
    "resolve_version",
    "step",
]

_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)

SCOPES: dict[str, tuple[str, ...]] = {
    "prompts.list": ("prompts.list", "prompts.read"),
    "prompts.retrieve": ("prompts.read",),
    "prompts.versions": ("prompts.read",),
    "prompts.retrieve_version": ("prompts.read",),
    "prompts.create": ("prompts.create",),
    "prompts.update": ("prompts.update",),
    "prompts.update_version": ("prompts.update",),
    "prompts.publish": ("prompts.publish",),
    "prompts.delete": ("prompts.delete",),
    "partials.list": ("partials.list", "partials.read"),
    "partials.retrieve": ("partials.read",),
    "partials.versions": ("partials.read",),
    "partials.create": ("partials.create",),
    "partials.update": ("partials.update",),
    "partials.publish": ("partials.publish",),
    "partials.delete": ("partials.delete",),
    "labels.list": ("labels.list", "labels.read"),
    "labels.retrieve": ("labels.read",),
    "labels.create": ("labels.create",),
    "labels.update": ("labels.update",),
    "labels.delete": ("labels.delete",),
}
"""Admin operation -> the API key scopes that allow it (any one will do; a 403 names them)."""


class Step(NamedTuple):
    """One request of an operation, how to read its answer, and what it was for."""

    request: httpx.Request
    parse: Callable[[httpx.Response], Any]
    operation: str
    subject: str | None = None
    """What the request is about (``prompt 'pp-x'``), named in a 404's message."""


Steps = Generator[Step, Any, _T]
"""An operation: yields steps, is sent each step's parsed result, returns the value."""


def admin_path(*segments: str) -> str:
    """``/seg/seg/...`` with every caller-supplied segment percent-encoded as one segment."""
    parts = []
    for segment in segments:
        if not isinstance(segment, str) or not segment.strip():
            raise PortkeyConfigError(
                f"an id in an admin route must be a non-empty string, not {segment!r}"
            )
        encoded = quote(segment, safe=_SAFE_SEGMENT)
        parts.append(encoded.replace(".", "%2E") if encoded in (".", "..") else encoded)
    return "/" + "/".join(parts)


def _ignore(response: httpx.Response) -> None:
    """The body of a write that answers ``{}`` (or nothing) carries no information."""


def fetch_json(model: type[_M]) -> Callable[[httpx.Response], _M]:
    """A parser validating the response body as ``model``."""

    def parse(response: httpx.Response) -> _M:
        return parse_model(response, model)

    return parse


def step(
    client: BaseClient,
    method: str,
    path: str,
    operation: str,
    model: type[BaseModel] | None = None,
    *,
    body: Any = None,
    query: Mapping[str, Any] | None = None,
    subject: str | None = None,
) -> Step:
    """Build one step through the client's shared request builder (headers, timeouts)."""
    request = client._request(method, path, body, None, False, query)
    return Step(request, _ignore if model is None else fetch_json(model), operation, subject)


def clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given (``None`` means not given)."""
    return {k: v for k, v in fields.items() if v is not None}


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``pp-x@sel`` into ``("pp-x", "sel")`` (``""`` for a bare id)."""
    if not isinstance(ref, str) or not ref.partition("@")[0].strip():
        raise PortkeyConfigError(f"a prompt reference must be 'id' or 'id@version', not {ref!r}")
    prompt_id, _, selector = ref.partition("@")
    if "@" in ref and not selector:
        raise PortkeyConfigError(f"prompt reference {ref!r} has an empty version after '@'")
    return prompt_id, selector


_PARTIAL_TAG = re.compile(r"\{\{>(?!>)\s*([^{}\s]+)\s*\}\}")


def partial_references(template: str | None) -> list[str]:
    """The partials a template names statically (``{{>pp-part}}``, ``{{>pp-part@2}}``),
    in order of first use; ``{{>>var}}`` references are only known at render time."""
    seen: dict[str, None] = {}
    for match in _PARTIAL_TAG.finditer(template or ""):
        seen.setdefault(match.group(1), None)
    return list(seen)


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
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PortkeyConfigError(f"version must be a positive int, not {version!r}")
    path = admin_path("prompts", prompt_id, "makeDefault")
    yield step(
        client,
        "PUT",
        path,
        "prompts.publish",
        body={"version": version},
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


# --- labels -----------------------------------------------------------------------


def list_labels(
    client: BaseClient,
    *,
    organisation_id: str | None = None,
    workspace_id: str | None = None,
    search: str | None = None,
    current_page: int | None = None,
    page_size: int | None = None,
) -> Steps[LabelList]:
    """List labels (``GET /labels``)."""
    query = clean(
        {
            "organisation_id": organisation_id,
            "workspace_id": workspace_id,
            "search": search,
            "current_page": current_page,
            "page_size": page_size,
        }
    )
    result: LabelList = yield step(client, "GET", "/labels", "labels.list", LabelList, query=query)
    return result
