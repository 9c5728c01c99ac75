"""What both adapters' ``pull_prompt`` share: getting the template and the saved model.

:func:`pull_template` reads the prompt from a pulled folder (no network) or through the
prompt API with the caller's client options; :func:`model_options` turns the saved
model, parameters and virtual key into a direct-route model's keyword arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .._templates.sources import PulledTemplate, load_template, template_from_folder
from .._templates.template import PortkeyTemplate
from .settings import PortkeyClientSettings

__all__ = ["fallback_metadata", "field_names", "model_options", "pull_template"]


def pull_template(
    prompt_id: str, folder: str | Path | None, client_options: Mapping[str, Any]
) -> PulledTemplate:
    """The template ``prompt_id`` names: from ``folder`` when given, else the prompt API."""
    if folder is not None:
        return PulledTemplate(template_from_folder(folder, prompt_id))
    settings = PortkeyClientSettings(**client_options)
    first = load_template(settings.client, prompt_id)
    return PulledTemplate(first, settings.client, settings.async_client)


def model_options(
    template: PortkeyTemplate, client_options: Mapping[str, Any], fields: Collection[str]
) -> dict[str, Any]:
    """A direct-route model's keywords: the saved model and hyperparameters (those that
    are no field of the model class, ``fields``, in ``model_kwargs``), routed by the
    saved virtual key unless the caller passed one; the caller's options win."""
    saved = {k: v for k, v in template.model_params().items() if k != "tools"}
    options = {k: v for k, v in saved.items() if k in fields}
    extra = {k: v for k, v in saved.items() if k not in fields}
    if extra:
        options["model_kwargs"] = extra
    if template.virtual_key and "virtual_key" not in client_options:
        options["virtual_key"] = template.virtual_key
    options.update(client_options)
    return options


def field_names(model_class: type[BaseModel]) -> set[str]:
    """The keywords a pydantic model class takes: its field names and aliases."""
    names = set(model_class.model_fields)
    names.update(f.alias for f in model_class.model_fields.values() if f.alias)
    return names


def fallback_metadata(template: PortkeyTemplate) -> dict[str, Any]:
    """What an answer made by a fallback carries: the template's metadata, marked."""
    return {**template.metadata, "portkey_fallback": True}
