"""Where a :class:`~.template.PortkeyTemplate` comes from: the prompt API or a pulled folder.

- :func:`load_template` / :func:`aload_template`: through the client's prompt API and
  the process template cache (TTL, stale-while-revalidate, version-change refresh).
- :func:`template_from_folder`: a folder written by ``portkey-prompts pull``, read with
  the prompt-file reader, no network.
- :class:`PulledTemplate`: what the framework templates hold: the copy they were built
  from and, for the API, how to get the current one on each format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import PortkeyConfigError
from ..resources.prompts import parse_ref
from .cache import PromptCache, prompt_cache
from .files import LocalPrompt, load_folder
from .mustache import template_details
from .template import PortkeyTemplate

if TYPE_CHECKING:
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "PulledTemplate",
    "aload_template",
    "load_template",
    "observe_prompt_version",
    "template_from_folder",
]


def load_template(
    client: PortkeyClient, prompt_id: str, *, cache: PromptCache | None = None
) -> PortkeyTemplate:
    """The saved version ``prompt_id`` names (``pp-x``, ``pp-x@3``, ``pp-x@production``),
    with its partials, through the process template cache.

    Raises the fetch's error (``PromptNotFoundError``, ``APIConnectionError``, ...).
    """
    return (cache or prompt_cache).load(client, prompt_id)


async def aload_template(
    client: AsyncPortkeyClient, prompt_id: str, *, cache: PromptCache | None = None
) -> PortkeyTemplate:
    """Async :func:`load_template`."""
    return await (cache or prompt_cache).aload(client, prompt_id)


def observe_prompt_version(
    client: PortkeyClient | AsyncPortkeyClient | str, prompt_id: str, version: int
) -> bool:
    """A response showed that ``prompt_id`` (``pp-x@production``, ...) now resolves to
    ``version``: a cached copy holding another version is refreshed on its next read.
    Returns whether one was. ``client`` may be a base URL."""
    base_url = client if isinstance(client, str) else client.base_url
    return prompt_cache.observe_version(base_url, prompt_id, version)


def _select(prompt: LocalPrompt, selector: str) -> int | None:
    # As Portkey (and the local server) resolve id, id@N, id@latest and id@label.
    if not selector:
        return prompt.published if prompt.published is not None else min(prompt.versions)
    if selector == "latest":
        return max(prompt.versions)
    if selector.isdigit() and selector.isascii():
        return int(selector) if int(selector) in prompt.versions else None
    return prompt.labels.get(selector)


def _text(spec: Mapping[str, Any]) -> str:
    template = spec["template"]
    return json.dumps(template, ensure_ascii=False) if isinstance(template, list) else template


def _kind(spec: Mapping[str, Any], text: str) -> Any:
    kind = spec.get("kind")
    if kind in ("chat", "text"):
        return kind
    return "chat" if isinstance(spec["template"], list) or text.lstrip().startswith("[") else "text"


def _partials(found: Mapping[str, LocalPrompt], names: list[str]) -> dict[str, str]:
    # The static references, by their exact text (a partial named by a variable,
    # {{>>name}}, is not known before rendering: it is left out, as online).
    out: dict[str, str] = {}
    for ref in names:
        partial_id, _, selector = ref.partition("@")
        local = found.get(partial_id)
        number = None if local is None else _select(local, selector)
        if local is not None and number is not None:
            out[ref] = _text(local.versions[number])
    return out


def template_from_folder(folder: str | Path, prompt_id: str) -> PortkeyTemplate:
    """The version ``prompt_id`` names, read from a folder of prompt files (no network).

    Raises :class:`~portkey_integrations.PortkeyConfigError` (the prompt-file reader's
    error for a folder or file it cannot use) when the prompt or version is not there.
    """
    wanted, selector = parse_ref(prompt_id)
    files = load_folder(folder)
    # The local server resolves {{>id}} to a prompt first, then a partial: the same here.
    found = {p.id: p for p in files if p.partial} | {p.id: p for p in files if not p.partial}
    local = found.get(wanted)
    if local is None or local.partial:
        raise PortkeyConfigError(f"{folder}: no prompt file with id {wanted!r}")
    number = _select(local, selector)
    if number is None:
        raise PortkeyConfigError(f"{local.path}: no version {selector!r} of {wanted!r}")
    spec = local.versions[number]
    text = _text(spec)
    names = template_details(text)["partials"]
    partials = _partials(found, names)
    parameters = dict(spec.get("parameters") or {})
    if spec.get("response_format") is not None:
        parameters.setdefault("response_format", spec["response_format"])
    return PortkeyTemplate(
        prompt_id=prompt_id,
        template=text,
        kind=_kind(spec, text),
        model=spec.get("model"),
        parameters=parameters,
        tools=spec.get("tools"),
        version=number,
        virtual_key=spec.get("virtual_key"),
        partials=partials,
        unresolved_partials=tuple(n for n in names if n not in partials),
        source="folder",
    )


class PulledTemplate:
    """A pulled template: the copy it was built from, and (for the prompt API) the
    clients to read the current copy through the cache on each format.

    A folder copy never changes. An API copy follows the cache: fresh within the TTL,
    then the stale copy while one background refresh runs, then the refreshed one. When
    a read fails the last copy seen is kept.
    """

    # A plain class, not a dataclass: pydantic models hold it as an opaque object.

    def __init__(
        self,
        last: PortkeyTemplate,
        client: PortkeyClient | None = None,
        async_client: AsyncPortkeyClient | None = None,
        cache: PromptCache | None = None,
    ) -> None:
        self.last = last
        self.client = client
        self.async_client = async_client
        self.cache = cache

    def __repr__(self) -> str:
        return f"PulledTemplate({self.last.prompt_id!r}, version={self.last.version})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Clients hold locks and pools: a pickled template keeps the copy it holds.
        return (PulledTemplate, (self.last,))

    def __deepcopy__(self, memo: dict[int, Any]) -> PulledTemplate:
        # Framework templates deep-copy themselves (partial_format): the copy shares
        # this source and its clients, which hold locks and pools.
        return PulledTemplate(self.last, self.client, self.async_client, self.cache)

    def current(self) -> PortkeyTemplate:
        """The copy to render now."""
        if self.client is not None:
            found = (self.cache or prompt_cache).get(self.client, self.last.prompt_id)
            if found is not None:
                self.last = found
        return self.last

    async def acurrent(self) -> PortkeyTemplate:
        """Async :meth:`current`."""
        if self.async_client is not None:
            found = await (self.cache or prompt_cache).aget(self.async_client, self.last.prompt_id)
            if found is not None:
                self.last = found
        return self.last
