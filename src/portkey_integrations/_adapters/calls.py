"""Planning one call from a model's settings: a prompt call or a direct call.

The adapters decide the route where a reader can see it (``if model.full_prompt_id``)
and call one of these two pure functions; both return a :class:`~.._call.Call` the core
clients run with ``send_call`` / ``stream_call`` / ``render_call``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._call import Call
from .._errors import PortkeyConfigError
from .._options import RequestOptions
from .convert import INPUT_PARTS_VARIABLE
from .settings import PortkeySettings

if TYPE_CHECKING:
    from .._templates.template import PortkeyTemplate

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
    prompt_id: str | None = None,
    input_variables: Mapping[str, Any] | None = None,
    bound_variables: Mapping[str, Any] | None = None,
    call_variables: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    options: RequestOptions | None = None,
    mapped: Iterable[str] = (),
    template: PortkeyTemplate | None = None,
) -> Call:
    """A prompt-route call (``/prompts/{id}/completions``) of ``prompt_id``, by default
    ``settings.full_prompt_id`` (a LlamaIndex template mapped to a prompt names its own).

    Variables merge as in :func:`prompt_variables`; the history and scratchpad
    variables go as JSON values when they are lists (a template splices them into its
    messages); hyperparameters are the model's overridden by ``params``. ``template``
    is the saved template of ``prompt_id`` the adapter already read (see
    :attr:`~.._call.Call.template`).
    """
    prompt_id = prompt_id if prompt_id is not None else settings.full_prompt_id
    if prompt_id is None:
        raise PortkeyConfigError("a prompt call needs a prompt_id")
    variables = prompt_variables(settings, input_variables, bound_variables, call_variables)
    raw = frozenset(
        name
        for name in (settings.history_variable, settings.scratchpad_variable, INPUT_PARTS_VARIABLE)
        if name is not None and isinstance(variables.get(name), list)
    )
    return Call(
        prompt_id=prompt_id,
        variables=variables,
        raw_variables=raw,
        params=settings.merge_params(params),
        options=options,
        check_variables=settings.variables_check,
        mapped=mapped if isinstance(mapped, frozenset) else frozenset(mapped),
        template=template,
    )


def direct_call(
    settings: PortkeySettings,
    target: Mapping[str, Any],
    *,
    params: Mapping[str, Any] | None = None,
    variables_given: bool = False,
    options: RequestOptions | None = None,
) -> Call:
    """A call without a prompt id: ``target`` is ``{"messages": [...]}``
    (``/chat/completions``) or ``{"prompt": ...}`` (``/completions``); the body carries
    the merged hyperparameters.

    Variables have nowhere to go there: passing any is an error, not a silent drop.
    """
    if variables_given or settings.variables:
        raise PortkeyConfigError(
            "prompt variables (a dict input or variables=...) need a prompt_id; "
            "without one the model calls the OpenAI-compatible route"
        )
    params = settings.merge_params(params)
    if "messages" in target:
        return Call(messages=target["messages"], params=params, options=options)
    if "prompt" in target:
        return Call(prompt=target["prompt"], params=params, options=options)
    raise PortkeyConfigError("a direct call's target is {'messages': [...]} or {'prompt': ...}")
