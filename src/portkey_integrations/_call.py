"""The typed call: what an adapter asks the core to send, and the one contract between
them.

An adapter turns its framework's input into a :class:`Call` and hands it to a client's
``send_call`` / ``stream_call`` / ``render_call``. The core reads the fields; nothing pops
keys out of a dict. The adapters plan a model's call with :func:`prompt_call` or
:func:`direct_call` (the route is their visible branch), pure functions of the model's
settings (:class:`CallSettings`) and what the framework handed over.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from ._errors import PortkeyConfigError
from ._options import RequestOptions
from ._request import parse_prompt_ref

if TYPE_CHECKING:
    from ._templates.template import PortkeyTemplate

__all__ = [
    "INPUT_PARTS_VARIABLE",
    "Call",
    "CallRoute",
    "CallSettings",
    "CheckMode",
    "call_of",
    "direct_call",
    "prompt_call",
    "prompt_variables",
]

CallRoute = Literal["prompt", "chat", "text"]
CheckMode = Literal["warn", "error", "off"]

INPUT_PARTS_VARIABLE = "input_parts"
"""The variable that receives the last user message's content parts when any is not
text (an image, audio, a file): the whole list, sent as a JSON value like the history,
so a template splices it as that message's content, keeping the text when there are no
parts: ``"content": {{#input_parts.0}}[{{{input_parts}}}]{{/input_parts.0}}``
``{{^input_parts}}"{{input}}"{{/input_parts}}``."""

_CHECK_MODES = get_args(CheckMode)
# Body keys that are a call's own fields: in ``params`` they would be sent twice or lost.
_RESERVED = frozenset(
    {"prompt_id", "messages", "prompt", "variables", "raw_variables", "options", "check_variables"}
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Call:
    """One completion or render the core is asked to run.

    Exactly one of ``prompt_id`` (``/prompts/{id}/completions``), ``messages``
    (``/chat/completions``) or ``prompt`` (``/completions``) is set.
    """

    prompt_id: str | None = None
    """The prompt reference, version or label included (``"pp-abc@12"``)."""
    messages: Sequence[Mapping[str, Any]] | None = None
    """OpenAI-format messages for the chat route."""
    prompt: str | None = None
    """The text for the text-completion route."""
    variables: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The prompt's variables (prompt route only)."""
    raw_variables: frozenset[str] = frozenset()
    """Accepted for compatibility; changes nothing: every list and dict goes as a JSON
    value (see :func:`~._request.encode_value`)."""
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Hyperparameters and any other key, sent at the body's root."""
    options: RequestOptions | None = None
    """Routing options for this call; their set fields win over the client's."""
    check_variables: CheckMode = "off"
    """Check the variables against the prompt's saved template before sending."""
    mapped: frozenset[str] = frozenset()
    """Variables whose fate the adapter's mapping rule already decided (they carry
    content the framework handed the model): the variables check does not warn again
    that the template never reads them."""
    template: PortkeyTemplate | None = dataclasses.field(default=None, repr=False, compare=False)
    """The saved template of ``prompt_id`` as the adapter already read it from the
    process's prompt cache (for its mapping rule), through the client that runs the
    call: the variables check uses it instead of reading the cache again. ``None``: the
    core reads it itself when the check needs it (and always when a refusal on a cached
    copy makes it fetch a fresh one)."""

    def __post_init__(self) -> None:
        routes = (self.prompt_id is not None) + (self.messages is not None)
        if routes + (self.prompt is not None) != 1:
            raise PortkeyConfigError("pass exactly one of prompt_id, messages or prompt")
        if self.check_variables not in _CHECK_MODES:
            raise PortkeyConfigError(
                "check_variables must be one of 'warn', 'error' or 'off', "
                f"got {self.check_variables!r}"
            )
        if not _RESERVED.isdisjoint(self.params):
            clash = sorted(_RESERVED.intersection(self.params))
            raise PortkeyConfigError(
                f"{', '.join(map(repr, clash))} is a field of the call, not a body parameter"
            )

    @property
    def route(self) -> CallRoute:
        """``"prompt"``, ``"chat"`` or ``"text"``: the route this call goes to."""
        if self.prompt_id is not None:
            return "prompt"
        return "chat" if self.messages is not None else "text"

    @functools.cached_property  # read by the adapters' tracing and responses: parsed once
    def prompt_ref(self) -> tuple[str, str | None] | None:
        """``(prompt id, version or label)`` of a prompt call (see
        :func:`~._request.parse_prompt_ref`), ``None`` on the other routes."""
        return None if self.prompt_id is None else parse_prompt_ref(self.prompt_id)

    def with_options(self, options: RequestOptions | None) -> Call:
        """This call with ``options`` layered over its own (their set fields win)."""
        if options is None:
            return self
        merged = options if self.options is None else self.options.merged(options)
        return dataclasses.replace(self, options=merged)

    def with_params(self, params: Mapping[str, Any]) -> Call:
        """This call with ``params`` added at the body's root (they win)."""
        return dataclasses.replace(self, params={**self.params, **params}) if params else self

    def with_variables(
        self, variables: Mapping[str, Any], *, raw: frozenset[str] = frozenset()
    ) -> Call:
        """This call with ``variables`` added (they win); ``raw`` is kept for
        compatibility (the encoding does not depend on it)."""
        return dataclasses.replace(
            self,
            variables={**self.variables, **variables},
            raw_variables=self.raw_variables | raw,
        )


def call_of(
    *,
    prompt_id: str | None,
    messages: Sequence[Mapping[str, Any]] | None,
    prompt: str | None,
    variables: Mapping[str, Any] | None,
    raw_variables: Collection[str],
    hyperparameters: Mapping[str, Any] | None,
    options: RequestOptions | None,
    check_variables: CheckMode,
    params: dict[str, Any],
) -> Call:
    """The :class:`Call` of a client method's keyword arguments (``hyperparameters``
    and the other keywords both go at the body's root, the keywords winning)."""
    return Call(
        prompt_id=prompt_id,
        messages=messages,
        prompt=prompt,
        variables={} if variables is None else variables,
        raw_variables=(
            raw_variables if isinstance(raw_variables, frozenset) else frozenset(raw_variables)
        ),
        params={**hyperparameters, **params} if hyperparameters else params,
        options=options,
        check_variables=check_variables,
    )


# --- planning a model's call ------------------------------------------------------------


class CallSettings(Protocol):
    """What planning a call reads of a model's settings (the adapters'
    ``PortkeySettings``; the core names only these members)."""

    @property
    def variables(self) -> Mapping[str, Any]: ...
    @property
    def history_variable(self) -> str | None: ...
    @property
    def scratchpad_variable(self) -> str | None: ...
    @property
    def full_prompt_id(self) -> str | None: ...
    @property
    def variables_check(self) -> CheckMode: ...
    def merge_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]: ...


def prompt_variables(
    settings: CallSettings,
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
    settings: CallSettings,
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

    Variables merge as in :func:`prompt_variables`; the history, scratchpad and input
    parts variables are noted raw when they are lists (a template splices them into its
    messages); hyperparameters are the model's overridden by ``params``. ``template``
    is the saved template of ``prompt_id`` the adapter already read (see
    :attr:`Call.template`).
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
    settings: CallSettings,
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
