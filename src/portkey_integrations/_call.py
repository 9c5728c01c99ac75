"""Building one call from a model's settings: a prompt call or a direct call.

The adapters decide the route where a reader can see it (``if model.full_prompt_id``)
and call one of these two functions; both return the keyword arguments of the core
client's ``complete`` / ``stream``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._adapters.convert import INPUT_PARTS_VARIABLE
from ._adapters.settings import PortkeySettings
from ._errors import PortkeyConfigError

__all__ = ["direct_call", "prompt_call", "prompt_variables"]


def prompt_variables(
    settings: PortkeySettings,
    input_variables: Mapping[str, Any] | None = None,
    bound_variables: Mapping[str, Any] | None = None,
    call_variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge variables: model < input < bound < call, the most specific winning."""
    variables = {**settings.variables}
    for layer in (input_variables, bound_variables, call_variables):
        if layer:
            variables.update(layer)
    return variables


def prompt_call(
    settings: PortkeySettings,
    *,
    input_variables: Mapping[str, Any] | None = None,
    bound_variables: Mapping[str, Any] | None = None,
    call_variables: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Client keyword arguments for a prompt-route call (``/prompts/{id}/completions``).

    Variables merge as in :func:`prompt_variables`; the history and scratchpad
    variables go as JSON values when they are lists (a template splices them into its
    messages); hyperparameters are the model's overridden by ``params``.
    """
    variables = prompt_variables(settings, input_variables, bound_variables, call_variables)
    raw = frozenset(
        name
        for name in (settings.history_variable, settings.scratchpad_variable, INPUT_PARTS_VARIABLE)
        if name is not None and isinstance(variables.get(name), list)
    )
    return {
        "prompt_id": settings.full_prompt_id,
        "variables": variables,
        "raw_variables": raw,
        "check_variables": settings.check_variables,
        **settings.merge_params(params),
    }


def direct_call(
    settings: PortkeySettings,
    target: Mapping[str, Any],
    *,
    params: Mapping[str, Any] | None = None,
    variables_given: bool = False,
) -> dict[str, Any]:
    """Client keyword arguments for a call without a prompt id: ``target`` is
    ``{"messages": [...]}`` (``/chat/completions``) or ``{"prompt": ...}``
    (``/completions``), with the merged hyperparameters.

    Variables have nowhere to go there: passing any is an error, not a silent drop.
    """
    if variables_given or settings.variables:
        raise PortkeyConfigError(
            "prompt variables (a dict input or variables=...) need a prompt_id; "
            "without one the model calls the OpenAI-compatible route"
        )
    request = settings.merge_params(params)
    request.update(target)
    return request
