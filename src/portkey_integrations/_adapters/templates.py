"""What both adapters' ``pull_prompt`` share: getting the template and the saved model.

:func:`pull_template` reads the prompt from a pulled folder (no network) or through the
prompt API with the caller's client options; :func:`model_options` turns the saved
model, parameters and virtual key into a direct-route model's keyword arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._templates.sources import PulledTemplate, load_template, template_from_folder
from .._templates.template import PortkeyTemplate
from .settings import PortkeyClientSettings

__all__ = ["fallback_metadata", "model_options", "pull_template"]


def pull_template(
    prompt_id: str, folder: str | Path | None, client_options: Mapping[str, Any]
) -> PulledTemplate:
    """The template ``prompt_id`` names: from ``folder`` when given, else the prompt API."""
    if folder is not None:
        return PulledTemplate(template_from_folder(folder, prompt_id))
    settings = PortkeyClientSettings(**client_options)
    first = load_template(settings.client, prompt_id)
    return PulledTemplate(first, settings.client, settings.async_client)


def model_options(template: PortkeyTemplate, client_options: Mapping[str, Any]) -> dict[str, Any]:
    """A direct-route model's keywords: the saved model and hyperparameters, routed by
    the saved virtual key unless the caller passed one; the caller's options win."""
    options = {k: v for k, v in template.model_params().items() if k != "tools"}
    if template.virtual_key and "virtual_key" not in client_options:
        options["virtual_key"] = template.virtual_key
    options.update(client_options)
    return options


def fallback_metadata(template: PortkeyTemplate) -> dict[str, Any]:
    """What an answer made by a fallback carries: the template's metadata, marked."""
    return {**template.metadata, "portkey_fallback": True}
