"""The requests that read one prompt version and the partials it names, written once
for both clients (see :mod:`portkey_integrations.resources._steps`)."""

from __future__ import annotations

from .._base_client import BaseClient
from .._errors import APIResponseValidationError, APIStatusError
from ..resources._models import Prompt
from ..resources.partials import partial_versions, retrieve_partial
from ..resources.prompts import Steps, resolve_prompt
from .analysis import split_partial_ref
from .template import PortkeyTemplate

__all__ = ["MAX_PARTIALS", "template_steps"]

MAX_PARTIALS = 8
"""Partials fetched per template; a template naming more gets the first ones only."""


def _template_of(
    ref: str, prompt: Prompt, partials: dict[str, str], names: list[str]
) -> PortkeyTemplate:
    return PortkeyTemplate(
        prompt_id=ref,
        template=prompt.string or "",
        kind=prompt.kind,
        model=prompt.model,
        parameters=dict(prompt.parameters or {}),
        tools=prompt.tools,
        version=prompt.prompt_version,
        virtual_key=prompt.virtual_key,
        partials=partials,
        unresolved_partials=tuple(n for n in names if n not in partials),
    )


def _partial_text(client: BaseClient, ref: str) -> Steps[str | None]:
    partial_id, selector = split_partial_ref(ref)
    if selector is None:
        partial = yield from retrieve_partial(client, partial_id)
        return partial.string
    if selector != "latest" and not (selector.isdigit() and selector.isascii()):
        return None  # a partial pinned by label: not resolved
    versions = (yield from partial_versions(client, partial_id)).data
    if selector == "latest":
        chosen = max(versions, key=lambda v: v.version, default=None)
    else:
        chosen = next((v for v in versions if v.version == int(selector)), None)
    return None if chosen is None else chosen.string


def template_steps(client: BaseClient, ref: str) -> Steps[PortkeyTemplate]:
    """The requests that read one prompt version and its partials (written once for
    both clients)."""
    prompt: Prompt = yield from resolve_prompt(client, ref)
    # The renderer's own tokens: a partial inside a comment is none, one after a
    # set-delimiter tag is one.
    names = list(prompt.template_info.partials)
    partials: dict[str, str] = {}
    for name in names[:MAX_PARTIALS]:
        try:
            text = yield from _partial_text(client, name)
        except (APIStatusError, APIResponseValidationError):
            continue
        if text is not None:
            partials[name] = text
    return _template_of(ref, prompt, partials, names)
