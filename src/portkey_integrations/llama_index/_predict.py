"""Template variables straight through: ``predict``, ``stream`` and ``structured_predict``.

LlamaIndex's query engines and synthesizers call ``llm.predict(template, **args)``; the
base ``LLM`` formats the template locally and sends the text. With a Portkey prompt the
template's variables are what the prompt needs, so these overrides work out the
template's route (which prompt, which variables: see :mod:`._routing`) and then run
LlamaIndex's own method through ``super()``, which keeps its events, callbacks and
output parsing. The route reaches the ``chat`` / ``complete`` call that method makes:

- ``predict`` / ``stream`` (and async) call ``self.chat(messages)`` with no way to add a
  keyword, so the route waits in :data:`_PENDING` for this model's next call method,
  which takes it (once) before it builds its request;
- the structured methods pass ``llm_kwargs`` on to ``chat`` / ``complete``, so the route
  goes there under a private keyword.

The locally formatted messages still go to the callbacks, for observability, and are
what a template no prompt serves sends.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from llama_index.core.llms.llm import LLM
from llama_index.core.prompts import BasePromptTemplate, PromptTemplate
from llama_index.core.types import Model, TokenAsyncGen, TokenGen
from llama_index_instrumentation.dispatcher import DISPATCHER_SPAN_DECORATED_ATTR
from pydantic import BaseModel, ConfigDict

__all__ = ["TEMPLATE_VARIABLES", "TemplatePassThrough", "enter_program", "leave_program"]

TEMPLATE_VARIABLES = "template_variables"
"""Call keyword: variables that replace the ones derived from the messages or prompt
(``predict`` and ``structured_predict`` send a template's variables this way)."""

_PENDING: ContextVar[tuple[int, dict[str, Any]] | None] = ContextVar(
    "portkey_llama_index_pending_route", default=None
)
"""``(id of the model, call keywords)`` a ``predict`` hands to the call it makes next.

A ContextVar because ``LLM.predict`` calls ``self.chat(messages)`` with nothing else:
it is set only around ``super().predict(...)``, in this thread or task alone."""

_F = TypeVar("_F", bound=Callable[..., Any])

_ROUTE_KEYS = ("portkey_template_route", TEMPLATE_VARIABLES)  # _routing.TEMPLATE_ROUTE

_PROGRAM_ROUTES: dict[str, tuple[int, dict[str, Any]]] = {}
"""The route each open program span left in :data:`_PENDING`, by span id."""


def enter_program(span_id: str, program: Any, bound_args: inspect.BoundArguments) -> None:
    """A pydantic program (``FunctionCallingProgram``, ``LLMTextCompletionProgram``, a
    selector's program) is called: hand its template's route to its model's next call.

    The programs format their template themselves and call ``chat`` / ``complete`` /
    ``predict_and_call`` with the text, so the template and its variables are only
    seen here, in LlamaIndex's span of the program call (its model and template are
    the program's ``_llm`` and ``prompt``).
    """
    llm = getattr(program, "_llm", None)
    if not isinstance(llm, TemplatePassThrough):
        return
    arguments = bound_args.arguments
    llm_kwargs = arguments.get("llm_kwargs") or {}
    if any(key in llm_kwargs for key in _ROUTE_KEYS):
        return  # structured_predict already routed it
    try:
        prompt = program.prompt
    except (AttributeError, NotImplementedError):
        return
    if not isinstance(prompt, BasePromptTemplate):
        return
    extra = llm._template_kwargs(prompt, dict(arguments.get("kwargs") or {}))
    if extra:
        pending = (id(llm), extra)
        _PENDING.set(pending)
        _PROGRAM_ROUTES[span_id] = pending


def leave_program(span_id: str) -> None:
    """A program call ended: its route, if no call took it, goes too."""
    pending = _PROGRAM_ROUTES.pop(span_id, None)
    if pending is not None and _PENDING.get() is pending:
        _PENDING.set(None)


def _one_span(method: _F) -> _F:
    """Mark an override that only wraps ``super()``'s method as already instrumented.

    LlamaIndex's ``DispatcherSpanMixin`` opens a span around every override of a span
    method; ``super()``'s own span already covers this call, so a second one would nest
    ``predict`` inside ``predict`` for every handler (and cost a span per call).
    """
    setattr(method, DISPATCHER_SPAN_DECORATED_ATTR, True)
    return method


class TemplatePassThrough(LLM):
    """An ``LLM`` whose prompt-template entry points pass the template's variables on.

    Subclasses say which variables to send (:meth:`_template_kwargs`, empty for none);
    with none, every method is LlamaIndex's own.
    """

    # The models' validators are built when the first model is, not at import.
    model_config = ConfigDict(defer_build=True)

    def _template_kwargs(
        self, prompt: BasePromptTemplate, prompt_args: dict[str, Any]
    ) -> dict[str, Any]:
        return {}

    @contextmanager
    def _routed(self, prompt: BasePromptTemplate, prompt_args: dict[str, Any]) -> Iterator[None]:
        """Hand the template's route to the call ``super()``'s method makes inside."""
        extra = self._template_kwargs(prompt, prompt_args)
        if not extra:
            yield
            return
        token = _PENDING.set((id(self), extra))
        try:
            yield
        finally:
            _PENDING.reset(token)

    def _take_pending(self, kwargs: dict[str, Any]) -> None:
        """Add the route a ``predict`` of this model left for this call (then gone)."""
        pending = _PENDING.get()
        if pending is not None and pending[0] == id(self):
            _PENDING.set(None)
            for key, value in pending[1].items():
                kwargs.setdefault(key, value)

    @_one_span
    def predict(self, prompt: BasePromptTemplate, **prompt_args: Any) -> str:
        """Predict; with a ``prompt_id`` the template's variables go to the prompt."""
        with self._routed(prompt, prompt_args):
            return super().predict(prompt, **prompt_args)

    @_one_span
    async def apredict(self, prompt: BasePromptTemplate, **prompt_args: Any) -> str:
        """Async :meth:`predict`."""
        with self._routed(prompt, prompt_args):
            return await super().apredict(prompt, **prompt_args)

    @_one_span
    def stream(self, prompt: BasePromptTemplate, **prompt_args: Any) -> TokenGen:
        """Stream tokens; with a ``prompt_id`` the template's variables go to the prompt."""
        # stream_chat / stream_complete build their request before returning the
        # generator, so the route is taken inside this block.
        with self._routed(prompt, prompt_args):
            return super().stream(prompt, **prompt_args)

    @_one_span
    async def astream(self, prompt: BasePromptTemplate, **prompt_args: Any) -> TokenAsyncGen:
        """Async :meth:`stream`."""
        with self._routed(prompt, prompt_args):
            return await super().astream(prompt, **prompt_args)

    def _structured_template_kwargs(
        self, output_cls: type[BaseModel], extra: dict[str, Any]
    ) -> dict[str, Any]:
        """What a structured call adds to :meth:`_template_kwargs` (the schema)."""
        return extra

    def _structured_kwargs(
        self,
        output_cls: type[BaseModel],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None,
        prompt_args: dict[str, Any],
    ) -> dict[str, Any]:
        # The program (function calling or text completion) forwards llm_kwargs to
        # chat / complete, which is where the template's route is picked up.
        extra = self._template_kwargs(prompt, prompt_args)
        return {**(llm_kwargs or {}), **self._structured_template_kwargs(output_cls, extra)}

    @_one_span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Structured predict; with a ``prompt_id`` the template's variables go along."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        result: Model = super().structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
        return result

    @_one_span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        result: Model = await super().astructured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
        return result

    @_one_span
    def stream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        """Stream partial objects; with a ``prompt_id`` the template's variables go along."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        return super().stream_structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )

    @_one_span
    async def astream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        """Async :meth:`stream_structured_predict`."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        return await super().astream_structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
