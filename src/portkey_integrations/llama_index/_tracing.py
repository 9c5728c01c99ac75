"""LlamaIndex dispatches as Portkey traces, through ``llama_index.core.instrumentation``.

Every instrumented method runs in a span whose id is in ``active_span_id``. One span
handler on the root dispatcher (:class:`TraceSpans`, added by :func:`install_spans` when
the first model is built, never on import) remembers, for each open span, its parent
and the root span of its dispatch. An LLM call sends the root span as the trace
id, its own span as the span id and its parent as the parent span id, so every LLM call
of one query (or agent run) shares a trace and two queries get two. The instrument tags
(``instrument_tags({...})``) are the dispatch's metadata.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from typing import Any

from llama_index.core.instrumentation.event_handlers import NullEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.span import BaseSpan, active_span_id
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.types import BasePydanticProgram
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.dispatcher import active_instrument_tags
from pydantic import ConfigDict

from .._adapters.tracing import merge_metadata, trace_options
from .._call import Call
from .._options import RequestOptions
from ._predict import enter_program, leave_program

__all__ = [
    "PortkeyRequestEvent",
    "TraceSpans",
    "install_spans",
    "span_name",
]

_dispatcher = get_dispatcher(__name__)


_OPEN: dict[str, tuple[str, str | None]] = {}
"""Each open span's ``(root span id, parent span id)``: the process has one handler, and
a plain dict costs no model attribute lookup on every span of the process."""


class TraceSpans(BaseSpanHandler[BaseSpan]):
    """Each open span's ``(root span id, parent span id)``, nothing more."""

    model_config = ConfigDict(defer_build=True)  # built with the first model, not on import

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyTraceSpans"

    # Plain tuples instead of span objects: this runs for every span of the process.
    def span_enter(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent = _OPEN.get(parent_id) if parent_id is not None else None
        root = parent[0] if parent is not None else (parent_id or id_)
        _OPEN[id_] = (root, parent_id)
        if isinstance(instance, BasePydanticProgram):
            enter_program(id_, instance, bound_args)

    def span_exit(self, id_: str, *args: Any, **kwargs: Any) -> None:
        _OPEN.pop(id_, None)
        leave_program(id_)

    def span_drop(self, id_: str, *args: Any, **kwargs: Any) -> None:
        _OPEN.pop(id_, None)
        leave_program(id_)

    def lookup(self, span_id: str) -> tuple[str, str | None]:
        """``(root span id, parent span id)`` of an open span (itself when unknown)."""
        return _OPEN.get(span_id, (span_id, None))

    def new_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None


_spans: TraceSpans | None = None
_install_lock = threading.Lock()


def install_spans() -> TraceSpans:
    """The root dispatcher's :class:`TraceSpans`, added on the first call only.

    Called by every model's constructor: after the first, a read of a global.
    """
    global _spans
    if _spans is not None:
        return _spans
    with _install_lock:
        if _spans is None:
            root = get_dispatcher()
            # A handler an earlier import of this module added (a reload) is reused.
            found = [h for h in root.span_handlers if isinstance(h, TraceSpans)]
            handler = found[0] if found else TraceSpans()
            if not found:
                root.add_span_handler(handler)
            _spans = handler
    return _spans


def span_name(span_id: str) -> str:
    """``"PortkeyChatModel.chat"`` from ``"PortkeyChatModel.chat-<uuid4>"``."""
    return span_id[:-37] if len(span_id) > 37 and span_id[-37] == "-" else span_id


class PortkeyRequestEvent(BaseEvent):
    """Dispatched by each Portkey LLM call: the prompt, its version and the variables
    the request sends (never keys or headers)."""

    model_config = ConfigDict(defer_build=True)  # built at the first prompt call

    prompt_id: str | None = None
    prompt_version: str | None = None
    variables: dict[str, Any] | None = None
    model: str | None = None

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyRequestEvent"


def call_options(model: Any, given: RequestOptions | None) -> RequestOptions | None:
    """A call's options: the current dispatch's trace context under the call's own
    ``options=`` (``given`` wins); ``given`` alone outside any span."""
    span = active_span_id.get()
    if span is None:
        return given
    # A model unpickled in a fresh process was never constructed there: install now.
    root, parent = (_spans or install_spans()).lookup(span)
    tags: Mapping[str, Any] | None = active_instrument_tags.get()
    options = trace_options(
        trace_id=None if model.trace_id is not None else root,
        span_id=span,
        parent_span_id=parent,
        span_name=span_name(span),
        metadata=merge_metadata(tags, model.portkey_metadata),
    )
    return options if given is None else options.merged(given)


def _heard() -> bool:
    """Whether an event handler other than LlamaIndex's null one would receive an event
    of this module's dispatcher (the same walk as ``Dispatcher.event``)."""
    dispatcher: Any = _dispatcher
    while dispatcher:
        for handler in dispatcher.event_handlers:
            if type(handler) is not NullEventHandler:
                return True
        if not dispatcher.propagate:
            return False
        dispatcher = dispatcher.parent
    return False


def announce(call: Call) -> None:
    """Tell the instrumentation which prompt and variables a prompt call sends.

    Nothing is built when no handler listens: the event (a model with an id and a
    timestamp) would cost every prompt call a few per cent of a stream for nobody."""
    ref = call.prompt_ref
    if ref is not None and _heard():
        prompt_id, version = ref
        _dispatcher.event(
            PortkeyRequestEvent(
                prompt_id=prompt_id,
                prompt_version=version,
                variables=dict(call.variables),
                model=call.params.get("model"),
            )
        )
