"""What ``PortkeyChatModel`` and ``PortkeyPromptLLM`` share beyond the core settings:
streaming flags, LangChain serialization and identity, the callbacks' view of a call,
and building the call itself (prompt route or direct route, in one place)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import weakref
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from pydantic import ConfigDict, Field, model_validator

from .._adapters.settings import PortkeySettings
from .._base_client import prompt_cache
from .._call import Call, direct_call, prompt_call, prompt_variables
from .._client import DEFAULT_TIMEOUT
from .._errors import PromptMappingError
from .._options import RequestOptions
from .._secrets import mask_config, mask_headers
from ._errors import raise_langchain_error
from ._input import BOUND_VARIABLES, VariablesPromptValue, callable_identity, variables_key
from ._messages import MappedInput
from ._tracing import install, run_options

if TYPE_CHECKING:
    from langchain_core.load.serializable import SerializedConstructor, SerializedNotImplemented
    from langchain_core.prompt_values import PromptValue
    from typing_extensions import Self

    from .._adapters.mapping import Piece
    from .._templates.cache import PromptTemplate

__all__ = ["LC_SECRETS", "PENDING", "PendingCall", "PortkeyLangChainBase", "run_name_of"]


@dataclasses.dataclass(slots=True)
class PendingCall:
    """The input of the call a model is starting, for its callbacks' invocation params.

    LangChain asks for the invocation params before ``_generate`` sees the input; the
    models remember it here (in ``generate`` and ``_convert_input``) so the params can
    name the variables the request will send, computed once for both.
    """

    model: weakref.ref[Any]
    """The model starting the call (weak: an id could be reused by a later model)."""
    inputs: Any
    run_name: str | None = None
    mapped: MappedInput | None = None
    kwargs: Mapping[str, Any] | None = None
    variables_key: str | None = None
    """The call's bound and per-call variables as JSON (the LLM's cache key needs them)."""
    sent: tuple[Any, Any, dict[str, Any]] | None = None
    """The variables the call sends, with the bound and per-call ones they were merged
    from (the invocation params and LangSmith's params ask for them in turn)."""


# A ContextVar because LangChain forces it: ``invoke`` / ``stream`` call
# ``_convert_input(input)`` and then ``_get_invocation_params(stop, **kwargs)`` (and, on
# ``BaseLLM``, ``dict()`` for the cache key) without the input, before any method of ours
# receives it; ``generate`` does the same with its batch. The callbacks' params must name
# the variables the request sends, so the input travels from the first call to the
# others here, in the caller's context.
PENDING: ContextVar[PendingCall | None] = ContextVar("portkey_pending_call", default=None)

LC_SECRETS = {
    "api_key": "PORTKEY_API_KEY",
    "virtual_key": "PORTKEY_VIRTUAL_KEY",
    "provider_api_key": "PORTKEY_PROVIDER_API_KEY",
}


class PortkeyLangChainBase(PortkeySettings):
    """Fields and LangChain plumbing common to both LangChain classes."""

    timeout: float | None = Field(default=DEFAULT_TIMEOUT, alias="request_timeout")
    """Read timeout in seconds; ``request_timeout`` is ChatOpenAI's name for it. (The
    gateway's own timeout is ``gateway_timeout_ms``.)"""
    streaming: bool = False
    """Stream every call, ``invoke`` included (callbacks get tokens as they arrive)."""
    stream_usage: bool = True
    """Ask for usage in streams (``stream_options: {"include_usage": true}``)."""

    # defer_build: the validator is built on first instantiation, not at import.
    model_config = ConfigDict(
        populate_by_name=True,
        protected_namespaces=(),
        arbitrary_types_allowed=True,
        defer_build=True,
    )

    @model_validator(mode="after")
    def _install_trace_hook(self) -> Self:
        # The root-run hook goes in when the first model is built, not at import.
        install()
        return self

    def __setstate__(self, state: dict[Any, Any]) -> None:
        # An unpickled model (another process) is built too: it gets the hook there.
        super().__setstate__(state)
        install()

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return cls.__module__.split(".")

    @property
    def lc_secrets(self) -> dict[str, str]:
        return dict(LC_SECRETS)

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """LangChain's serialized model (``dumpd`` / ``dumps``, what tracers upload).

        ``lc_secrets`` turns the three key fields into secret markers; the secrets
        inside ``config`` and ``default_headers`` show as ``'**********'`` (LangChain
        revives markers only at the top level): a loaded model needs them again.
        """
        serialized: dict[str, Any] = super().to_json()  # type: ignore[misc]
        kwargs = serialized.get("kwargs")
        if isinstance(kwargs, dict) and ("config" in kwargs or "default_headers" in kwargs):
            kwargs = dict(kwargs)
            if "config" in kwargs:
                kwargs["config"] = mask_config(kwargs["config"])
            if "default_headers" in kwargs:
                kwargs["default_headers"] = mask_headers(kwargs["default_headers"])
            serialized["kwargs"] = kwargs
        return cast("SerializedConstructor", serialized)

    @property
    def lc_attributes(self) -> dict[str, Any]:
        # The mapper is no JSON value, yet it changes every request: naming it in the
        # serialized model keeps LLM caches (keyed on that) from mixing two mappers up.
        if self.variables_mapper is None:
            return {}
        return {"variables_mapper": callable_identity(self.variables_mapper)}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_id": self.full_prompt_id, **self.default_params()}

    def _dict_for_compat(self) -> dict[str, Any]:
        # LangChain reads the model's dict through the deprecated ``dict()``, warnings
        # suppressed and the caller's frames inspected, on every call (the invocation
        # params, the LLM cache key), for subclasses that still override ``dict()``.
        # Ours do not: ``asdict()`` is the same dict at a fraction of the cost.
        if _overrides_dict(type(self)):
            return super()._dict_for_compat()  # type: ignore[misc,no-any-return]
        return self.asdict()  # type: ignore[attr-defined,no-any-return]

    # -- the callbacks' view of a call -------------------------------------------------

    def _map_input(self, inputs: Any) -> MappedInput:
        """The variables an input (messages or a prompt string) maps onto, and its pieces."""
        raise NotImplementedError

    def _prepared_input(self, value: PromptValue) -> Any:
        """A converted input as ``_generate`` / ``_stream`` receive it."""
        raise NotImplementedError

    def _convert_input(self, model_input: Any) -> PromptValue:
        # A dict is the prompt's variables; the base class would reject it. A private
        # hook: tests/trust pins that every entry point calls it, before the params.
        value = (
            VariablesPromptValue.of(model_input)
            if isinstance(model_input, Mapping)
            else super()._convert_input(model_input)  # type: ignore[misc]
        )
        # The invocation params are asked for next, without the input (see PENDING).
        PENDING.set(PendingCall(weakref.ref(self), self._prepared_input(value)))
        return value

    def _dict_input(self, inputs: Any) -> dict[str, Any] | None:
        """The variables of a dict input, if ``inputs`` carries one."""
        raise NotImplementedError

    def _direct_target(self, inputs: Any) -> dict[str, Any]:
        """The input as the direct route's body: ``messages`` or ``prompt``."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _starting(
        self, batch: list[Any], kwargs: Mapping[str, Any], *, cache_key: bool = False
    ) -> Iterator[None]:
        """Remember the input of a ``generate`` call while LangChain prepares its run
        (with ``cache_key``, also its variables as :attr:`PendingCall.variables_key`)."""
        one = batch[0] if len(batch) == 1 else None
        key = variables_key(kwargs) if cache_key else None
        token = PENDING.set(
            PendingCall(weakref.ref(self), one, run_name_of(kwargs), None, kwargs, key)
        )
        try:
            yield
        finally:
            PENDING.reset(token)

    def _pending(self) -> PendingCall | None:
        pending = PENDING.get()
        return pending if pending is not None and pending.model() is self else None

    def _sent_variables(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The variables the call starting now sends: model, input, bound and call ones."""
        bound, given = kwargs.get(BOUND_VARIABLES), kwargs.get("variables")
        pending = self._pending()
        if pending is None or pending.inputs is None:
            return prompt_variables(self, None, bound, given)
        sent = pending.sent
        if sent is not None and sent[0] is bound and sent[1] is given:
            return sent[2]
        if pending.mapped is None:
            pending.mapped = self._map_input(pending.inputs)
        variables = prompt_variables(self, pending.mapped.variables, bound, given)
        pending.sent = (bound, given, variables)
        return variables

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        # Callbacks and tracers see the prompt, its version and the variables sent.
        params: dict[str, Any] = super()._get_invocation_params(stop=stop, **kwargs)  # type: ignore[misc]
        params.pop(BOUND_VARIABLES, None)
        params.pop("options", None)
        ref = self.prompt_ref
        if ref is not None:
            params["prompt_id"], params["prompt_version"] = ref
            params["variables"] = self._sent_variables(kwargs)
        return params

    def _add_prompt_ls_params(self, params: Any, kwargs: Mapping[str, Any]) -> None:
        """``ls_prompt_id``, ``ls_prompt_version`` and ``ls_prompt_variables``."""
        ref = self.prompt_ref
        if ref is not None:
            params["ls_prompt_id"], params["ls_prompt_version"] = ref
            params["ls_prompt_variables"] = self._sent_variables(kwargs)

    @staticmethod
    def _pop_call_options(kwargs: dict[str, Any]) -> RequestOptions | None:
        """A bound or per-call ``trace_id`` (or ``options=RequestOptions(...)``)."""
        trace_id = kwargs.pop("trace_id", None)
        options: RequestOptions | None = kwargs.pop("options", None)
        if trace_id is not None:
            options = RequestOptions(trace_id=trace_id).merged(options)
        return options

    def _build_call(
        self, inputs: Any, stop: list[str] | None, kwargs: dict[str, Any], run_manager: Any = None
    ) -> Call:
        """The :class:`~portkey_integrations._call.Call` of one model call (``kwargs``
        is consumed), built once with the trace options of its run (see
        :func:`~._tracing.run_options`; :data:`~._tracing.NO_RUN` leaves it untraced),
        after the mapping rule's check: on a prompt, every piece of the input must have
        a slot in the saved template (read through the sync client, and carried by the
        call to the core's variables check)."""
        prompt_id = self._checked_prompt()
        template = None if prompt_id is None else prompt_cache().get(self.client, prompt_id)
        return self._plan_call(inputs, stop, kwargs, run_manager, template)

    async def _abuild_call(
        self, inputs: Any, stop: list[str] | None, kwargs: dict[str, Any], run_manager: Any = None
    ) -> Call:
        """Async :meth:`_build_call` (the template is read through the async client)."""
        prompt_id, template = self._checked_prompt(), None
        if prompt_id is not None:
            template = await prompt_cache().aget(self.async_client, prompt_id)
        return self._plan_call(inputs, stop, kwargs, run_manager, template)

    def _checked_prompt(self) -> str | None:
        """The prompt whose saved template a call checks against (the mapping rule and
        the variables check read the same one), ``None`` when calls check nothing."""
        return None if self.check_variables == "off" else self.full_prompt_id

    def _check_mapping(
        self, prompt_id: str, template: PromptTemplate | None, pieces: list[Piece]
    ) -> None:
        # The template cache makes the read once per process, shared with the core's.
        try:
            from .._adapters.mapping import enforce_mapping

            enforce_mapping(prompt_id, template, pieces, self.mapping_check)
        except PromptMappingError as exc:
            raise_langchain_error(exc)  # the twin: a ModelInvalidRequestError, not retried

    def _plan_call(
        self,
        inputs: Any,
        stop: list[str] | None,
        kwargs: dict[str, Any],
        run_manager: Any,
        template: PromptTemplate | None,
    ) -> Call:
        """The call (``kwargs`` consumed): the prompt route with the merged variables,
        once every piece of the input has a slot in ``template`` (the saved one, read
        unless checks are off), or the direct route with the input as the body (no
        pieces: everything is sent as it is)."""
        kwargs.pop("stream", None)
        kwargs.pop("stream_usage", None)  # a bound option of ours, not a hyperparameter
        pending = self._pending()
        run_name = pending.run_name if pending is not None else None
        options = self._pop_call_options(kwargs)
        options = run_options(self, run_manager, options, run_name)
        call_variables = kwargs.pop("variables", None)
        bound_variables = kwargs.pop(BOUND_VARIABLES, None)
        if stop is not None:
            kwargs["stop"] = stop
        prompt_id = self.full_prompt_id
        if prompt_id is None:
            given = bool(self._dict_input(inputs) is not None or call_variables or bound_variables)
            body = self._direct_target(inputs)
            return direct_call(self, body, params=kwargs, variables_given=given, options=options)
        if pending is not None and pending.mapped is not None and _same(pending.inputs, inputs):
            mapped = pending.mapped
        else:
            mapped = self._map_input(inputs)
        if mapped.pieces and self.check_variables != "off":
            self._check_mapping(prompt_id, template, mapped.pieces)
        return prompt_call(
            self,
            prompt_id=prompt_id,
            input_variables=mapped.variables,
            bound_variables=bound_variables,
            call_variables=call_variables,
            params=kwargs,
            options=options,
            # The mapping rule judges these; the core's check does not warn again.
            mapped=mapped.mapped,
            template=template,
        )

    def with_listeners(self, **listeners: Any) -> Any:
        """``Runnable.with_listeners``, with the caller's input (a dict of variables)
        as the listened run's input, as ``RunnableWithMessageHistory`` needs."""
        from ._history import listening

        return listening(self, **listeners)  # type: ignore[arg-type]

    def with_alisteners(self, **listeners: Any) -> Any:
        """Async :meth:`with_listeners`."""
        from ._history import alistening

        return alistening(self, **listeners)  # type: ignore[arg-type]

    def _stream_kwargs(self, kwargs: dict[str, Any], stream_usage: bool | None) -> dict[str, Any]:
        """A stream's ``kwargs``, asking for the usage chunk unless the call or the model
        said otherwise."""
        usage = self.stream_usage if stream_usage is None else stream_usage
        if usage and "stream_options" not in kwargs and "stream_options" not in self.model_kwargs:
            kwargs["stream_options"] = {"include_usage": True}
        return kwargs


@functools.lru_cache(maxsize=64)  # bounded: classes made at run time are not kept forever
def _overrides_dict(cls: type) -> bool:
    """Whether ``cls`` or a class between it and LangChain's bases defines ``dict()``."""
    for klass in cls.__mro__:
        if klass.__module__.startswith("langchain_core."):
            return False
        if "dict" in vars(klass):
            return True
    return False


def run_name_of(kwargs: Mapping[str, Any]) -> str | None:
    """A ``generate`` call's ``run_name`` (batches pass a list: one name per input)."""
    name = kwargs.get("run_name")
    return name if isinstance(name, str) else None


def _same(a: Any, b: Any) -> bool:
    # Whether the input mapped for the callbacks is the one the call sends. LangChain
    # converts the input again for ``_stream`` (new message objects, equal ones), so
    # messages are compared by value: the mapping reads nothing but their fields.
    if a is b:
        return True
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and a == b
    try:
        return len(a) == len(b) and all(
            x is y or (type(x) is type(y) and x == y) for x, y in zip(a, b, strict=True)
        )
    except TypeError:
        return False
