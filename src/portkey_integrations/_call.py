"""The typed call: what an adapter asks the core to send, and the one contract between
them.

An adapter turns its framework's input into a :class:`Call` (the pure builders in
``_adapters/calls.py`` do it from a model's settings) and hands it to a client's
``send_call`` / ``stream_call`` / ``render_call``. The core reads the fields; nothing pops
keys out of a dict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

from ._errors import PortkeyConfigError
from ._options import RequestOptions
from ._request import parse_prompt_ref

if TYPE_CHECKING:
    from ._templates.template import PortkeyTemplate

__all__ = [
    "Call",
    "CallRoute",
    "CheckMode",
    "call_of",
]

CallRoute = Literal["prompt", "chat", "text"]
CheckMode = Literal["warn", "error", "off"]

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

    @property
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
