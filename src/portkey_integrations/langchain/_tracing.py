"""LangChain runs as Portkey traces: trace, span and parent span headers per model call.

The trace id is the root run's id, which is LangSmith's trace id too. A model's run
manager knows its own run id and its parent's, not the root's. Where a tracer is
attached (LangSmith, ``astream_events``, listeners) its run map has the run with its
``trace_id``. Otherwise :class:`RootRun` supplies it: a configure hook, installed when
the first model is built (:func:`install`), adds a fresh one to each root run's
callbacks, children inherit that same instance, and it records the first run it sees
(the root) and then ignores every event but a chat model's start. So a root run costs
one small object and one callback per run start, and nothing is kept once the run is
gone. ``PORTKEY_LANGCHAIN_TRACES=false`` (read, never written) turns the hook off.

``BaseChatModel.stream`` gives ``_stream`` no run manager; the chat model's start
callback, which runs inline just before, leaves the run's ids in :data:`MODEL_RUN`.
"""

from __future__ import annotations

import os
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from .._adapters.tracing import merge_metadata, trace_options

if TYPE_CHECKING:
    from .._options import RequestOptions

__all__ = ["MODEL_RUN", "NO_RUN", "ModelRun", "RootRun", "install", "run_ids", "run_options"]


class ModelRun(NamedTuple):
    """A chat model run as its start callback saw it."""

    trace: UUID
    run_id: UUID
    parent_run_id: UUID | None
    name: str | None
    metadata: dict[str, Any] | None


# A ContextVar because LangChain forces it: ``BaseChatModel.stream`` / ``astream`` call
# ``on_chat_model_start`` and then ``_stream(messages, stop, **kwargs)`` with no run
# manager, so the run's ids reach ``_stream`` only through the start callback, which
# runs inline in the caller's context just before.
MODEL_RUN: ContextVar[ModelRun | None] = ContextVar("portkey_model_run", default=None)


class RootRun(BaseCallbackHandler):
    """Remembers the id of the root run of the callbacks it was added to."""

    run_inline = True  # never dispatched to an executor by async managers
    raise_error = False
    root: UUID | None = None

    def __init__(self) -> None:
        self.root = None

    # Once the root is known every event is skipped by LangChain's dispatcher itself.
    @property
    def ignore_llm(self) -> bool:
        return self.root is not None

    @property
    def ignore_chain(self) -> bool:
        return self.root is not None

    @property
    def ignore_agent(self) -> bool:
        return self.root is not None

    @property
    def ignore_retriever(self) -> bool:
        return self.root is not None

    @property
    def ignore_chat_model(self) -> bool:
        return False  # the stream path reads the run from here

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    def _seen(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        if self.root is None:
            # A parent outside LangChain (a LangSmith @traceable) is the root then.
            self.root = parent_run_id or run_id

    def on_chain_start(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
        self._seen(run_id, kwargs.get("parent_run_id"))

    def on_chat_model_start(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
        parent = kwargs.get("parent_run_id")
        self._seen(run_id, parent)
        MODEL_RUN.set(
            ModelRun(
                self.root or run_id, run_id, parent, kwargs.get("name"), kwargs.get("metadata")
            )
        )

    def on_llm_start(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
        self._seen(run_id, kwargs.get("parent_run_id"))

    def on_tool_start(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
        self._seen(run_id, kwargs.get("parent_run_id"))

    def on_retriever_start(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
        self._seen(run_id, kwargs.get("parent_run_id"))

    def __deepcopy__(self, memo: dict[int, Any]) -> RootRun:
        return self  # configs are deep-copied in places; the run's root is shared


class _FreshRootRun:
    """Stands in for the context variable of a configure hook: every lookup is a new
    :class:`RootRun`.

    ``CallbackManager.configure`` adds ``var.get()`` to a callback manager that holds no
    ``RootRun`` yet, which is a root run's (children inherit their parent's). LangChain's
    other way to get a fresh handler per root is an environment variable it reads, and
    a library must not write the environment. ``tests/trust`` pins this behaviour.
    """

    __slots__ = ()

    def get(self) -> RootRun:
        return RootRun()


_HOOK_ENV = "PORTKEY_LANGCHAIN_TRACES"
_OFF = frozenset({"", "0", "false", "False"})  # what LangChain's env_var_is_set reads as off
_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Add the root-run hook to LangChain's configure hooks, once per process.

    The models call this when they are built: importing the package changes nothing.
    ``PORTKEY_LANGCHAIN_TRACES=false`` (or ``0``) leaves the hook out; nested model
    calls then use their parent run as the trace.
    """
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        if os.environ.get(_HOOK_ENV, "true") not in _OFF:
            # Imported here: langchain-core's tracer context brings tenacity and
            # LangSmith's helpers, which a model built later pays for, not the import.
            from langchain_core.tracers.context import register_configure_hook

            hook = cast("ContextVar[RootRun | None]", _FreshRootRun())
            register_configure_hook(hook, True, RootRun)
        _installed = True


def run_ids(run_manager: Any) -> tuple[str, str, str | None, str | None]:
    """``(trace id, span id, parent span id, run name)`` of a model's run."""
    run_id = run_manager.run_id
    parent = run_manager.parent_run_id
    trace: Any = None
    name: str | None = None
    for handler in run_manager.handlers:
        run_map = getattr(handler, "run_map", None)
        if run_map is not None:
            run = run_map.get(str(run_id))
            if run is not None:
                # A tracer knows LangSmith's own trace id and the run's name.
                trace = getattr(run, "trace_id", None) or trace
                name = getattr(run, "name", None) or name
                if trace is not None:
                    break
        elif trace is None and isinstance(handler, RootRun):
            trace = handler.root
    if trace is None:
        trace = parent or run_id
    return (
        str(trace),
        str(run_id),
        None if parent is None else str(parent),
        name,
    )


NO_RUN: Any = object()
"""The run manager of a call to leave untraced: an LLM batch's prompts after the first
(LangChain hands over the first one's run only), which must not take a chat model's
run from :data:`MODEL_RUN` either."""


def run_options(
    model: Any, run_manager: Any, options: RequestOptions | None, run_name: str | None = None
) -> RequestOptions | None:
    """``options`` (the call's own) over the trace options of its run: trace, span,
    parent span, run name and run metadata.

    Without a run manager, the run a chat model's start callback saw (:data:`MODEL_RUN`)
    is used; with neither (or :data:`NO_RUN`), ``options`` come back as they are. A
    trace id of the call's own or the model's wins over the run's, as do the call's
    other options; the run's metadata joins the model's ``portkey_metadata``, which
    wins on a clash.
    """
    if run_manager is NO_RUN:
        return options
    if run_manager is not None:
        if MODEL_RUN.get() is not None:
            MODEL_RUN.set(None)  # a chat run's start seen earlier must not linger
        trace, span, parent, name = run_ids(run_manager)
        metadata = run_manager.metadata
    else:
        seen = MODEL_RUN.get()
        if seen is None:
            return options
        MODEL_RUN.set(None)
        trace, span, name = str(seen.trace), str(seen.run_id), seen.name
        parent = None if seen.parent_run_id is None else str(seen.parent_run_id)
        metadata = seen.metadata
    own_trace = model.trace_id is not None or (options is not None and options.trace_id)
    traced = trace_options(
        trace_id=None if own_trace else trace,
        span_id=span,
        parent_span_id=parent,
        span_name=run_name or name or type(model).__name__,
        metadata=merge_metadata(metadata, model.portkey_metadata) if metadata else None,
    )
    # The call's own options win: they go over the run's, not the other way round.
    return traced.merged(options)
