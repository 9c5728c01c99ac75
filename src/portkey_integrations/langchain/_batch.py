"""``PortkeyChatModel`` on Portkey's Batch API: ``use_batch_api=True`` and ``batch_api_*``.

With ``use_batch_api=True``, ``batch`` / ``abatch`` send every input as one line of one
batch job (half the price on most providers, and no rate-limit fight), wait for it and
return what ``batch`` would: an ``AIMessage`` per input, in input order, with usage and
response metadata, or (``return_exceptions=True``) the exception of a failed line at its
index. The answers are then handed to LangChain through ``invoke``, one input at a
time, so each input gets its ``on_chat_model_start`` / ``on_llm_end`` (or
``on_llm_error``) callbacks and tracing exactly as ``batch`` gives them: the ``invoke``
runs on a copy of the model whose class answers from the job instead of calling Portkey
(:func:`replaying`), so the model's own calls never pass through this module.

A job may outlive its process: ``batch_api_submit`` returns the job id,
``batch_api_retrieve(job_id)`` waits for it and maps the answers, from any process and
any model configured with the same routing (the job's metadata records the inputs'
count and the prompt that ran). ``batch_api_status`` and ``batch_api_cancel`` complete
the set; each has its ``a``-prefixed async twin. The runner itself is framework-free:
``portkey_integrations._adapters.batch``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list
from pydantic import ConfigDict, Field, field_validator

from .._call import Call
from .._errors import PortkeyError
from .._request import parse_prompt_ref
from ._errors import to_langchain_error
from ._messages import chat_result
from ._tracing import NO_RUN

if TYPE_CHECKING:
    from .._adapters.batch import Ops, Outcome
    from .._adapters.polling import BatchPolling
    from ..types import Batch
    from .chat_models import PortkeyChatModel

__all__ = ["BatchAPIChatModel"]


@dataclasses.dataclass
class _Replay:
    """The answer the job gave one input, for the ``invoke`` that hands it to LangChain."""

    model: Any
    outcome: ChatResult | BaseException
    used: bool = False


_REPLAY: ContextVar[_Replay | None] = ContextVar("portkey_batch_replay", default=None)


class BatchAPIChatModel(BaseChatModel):
    """The Batch API half of ``PortkeyChatModel`` (see the module docstring).

    Each method imports what it runs of the runner: it loads with the first Batch API
    call, not with every import of the chat model (the import budget)."""

    # defer_build: the validator is built with the model class, not at import.
    model_config = ConfigDict(defer_build=True)

    use_batch_api: bool = False
    """Send ``batch`` / ``abatch`` as one job on Portkey's Batch API instead of one
    call per input (the answers come when the job ends: minutes to hours)."""
    # Any, checked below: pydantic before 2.12 builds a schema for InstanceOf's class too,
    # and BatchPolling's annotations name types only imported for type checkers.
    batch_api_polling: Any = Field(default=None, exclude=True)
    """How to wait for a job: backoff, ``timeout``, ``on_progress`` (default
    ``BatchPolling()``: 1 s growing to 60 s, no time limit)."""

    @field_validator("batch_api_polling")
    @classmethod
    def _check_polling(cls, value: Any) -> BatchPolling | None:
        from .._adapters.polling import BatchPolling

        if value is not None and not isinstance(value, BatchPolling):
            kind = type(value).__name__
            raise ValueError(f"batch_api_polling must be a BatchPolling, not {kind}")
        return value

    # -- batch / abatch -----------------------------------------------------------------

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``Runnable.batch``; with ``use_batch_api``, one Batch API job for all inputs."""
        if not self.use_batch_api or not inputs:
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        from .._adapters.batch import run_sync

        model = self._portkey()
        ops = self._run_ops(_calls(model, inputs, kwargs, return_exceptions), return_exceptions)
        results = _chat_results(*run_sync(model, ops, model.full_prompt_id))
        out: list[Any] = []
        replayer = _replayer(model)
        for value, conf in _replayed(replayer, inputs, config, results):
            try:
                out.append(replayer.invoke(value, conf, **kwargs))
            except Exception as exc:
                if not return_exceptions:
                    raise
                out.append(exc)
        return out

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async :meth:`batch`."""
        if not self.use_batch_api or not inputs:
            return await super().abatch(
                inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        from .._adapters.batch import prefetch, run_async

        model = self._portkey()
        await prefetch(model)
        ops = self._run_ops(_calls(model, inputs, kwargs, return_exceptions), return_exceptions)
        results = _chat_results(*(await run_async(model, ops, model.full_prompt_id)))
        out: list[Any] = []
        replayer = _replayer(model)
        for value, conf in _replayed(replayer, inputs, config, results):
            try:
                out.append(await replayer.ainvoke(value, conf, **kwargs))
            except Exception as exc:
                if not return_exceptions:
                    raise
                out.append(exc)
        return out

    # -- jobs that outlive the process --------------------------------------------------

    def batch_api_submit(self, inputs: Sequence[LanguageModelInput], **kwargs: Any) -> str:
        """Submit ``inputs`` as one Batch API job and return its id (nothing is sent
        when an input is invalid: its error is raised first)."""
        from .._adapters.batch import run_sync, submit_ops, submitted_id

        model = self._portkey()
        ops = submit_ops(_calls(model, inputs, kwargs, False), fail_fast=True)
        return submitted_id(run_sync(model, ops, model.full_prompt_id))

    async def abatch_api_submit(self, inputs: Sequence[LanguageModelInput], **kwargs: Any) -> str:
        """Async :meth:`batch_api_submit`."""
        from .._adapters.batch import prefetch, run_async, submit_ops, submitted_id

        model = self._portkey()
        await prefetch(model)
        ops = submit_ops(_calls(model, inputs, kwargs, False), fail_fast=True)
        return submitted_id(await run_async(model, ops, model.full_prompt_id))

    def batch_api_retrieve(
        self,
        job_id: str,
        *,
        return_exceptions: bool = False,
        polling: BatchPolling | None = None,
    ) -> list[Any]:
        """Wait for job ``job_id`` and return an ``AIMessage`` per input, in input order
        (``return_exceptions=True``: a failed line's exception at its index)."""
        from .._adapters.batch import collect_ops, run_sync

        model = self._portkey()
        ops = collect_ops(job_id, self._polling(polling))
        return _messages(*run_sync(model, ops, model.full_prompt_id), return_exceptions)

    async def abatch_api_retrieve(
        self,
        job_id: str,
        *,
        return_exceptions: bool = False,
        polling: BatchPolling | None = None,
    ) -> list[Any]:
        """Async :meth:`batch_api_retrieve`."""
        from .._adapters.batch import collect_ops, run_async

        model = self._portkey()
        ops = collect_ops(job_id, self._polling(polling))
        return _messages(*(await run_async(model, ops, model.full_prompt_id)), return_exceptions)

    def batch_api_status(self, job_id: str) -> Batch:
        """The job as it stands: ``status``, ``request_counts``, ... (no waiting)."""
        from .._adapters.batch import job_ops, run_sync

        model = self._portkey()
        return run_sync(model, job_ops(job_id, "retrieve"), model.full_prompt_id)

    async def abatch_api_status(self, job_id: str) -> Batch:
        """Async :meth:`batch_api_status`."""
        from .._adapters.batch import job_ops, run_async

        model = self._portkey()
        return await run_async(model, job_ops(job_id, "retrieve"), model.full_prompt_id)

    def batch_api_cancel(self, job_id: str) -> Batch:
        """Cancel the job (it goes ``cancelling``, then ``cancelled``)."""
        from .._adapters.batch import job_ops, run_sync

        model = self._portkey()
        return run_sync(model, job_ops(job_id, "cancel"), model.full_prompt_id)

    async def abatch_api_cancel(self, job_id: str) -> Batch:
        """Async :meth:`batch_api_cancel`."""
        from .._adapters.batch import job_ops, run_async

        model = self._portkey()
        return await run_async(model, job_ops(job_id, "cancel"), model.full_prompt_id)

    # -- helpers ------------------------------------------------------------------------

    def _portkey(self) -> PortkeyChatModel:
        return cast("PortkeyChatModel", self)

    def _polling(self, polling: BatchPolling | None) -> BatchPolling:
        from .._adapters.polling import BatchPolling

        return polling or self.batch_api_polling or BatchPolling()

    def _run_ops(
        self, calls: list[Call | BaseException], return_exceptions: bool
    ) -> Ops[tuple[Batch | None, list[Outcome]]]:
        from .._adapters.batch import run_ops

        return run_ops(calls, self._polling(None), fail_fast=not return_exceptions)


class _Replaying:
    """Answers a chat model's call from the job (see :func:`replaying`)."""

    def _generate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        replay = _take_replay(self)
        if replay is None:
            return super()._generate_with_cache(messages, stop, run_manager, **kwargs)  # type: ignore[misc,no-any-return]
        return replay

    async def _agenerate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        replay = _take_replay(self)
        if replay is None:
            return await super()._agenerate_with_cache(messages, stop, run_manager, **kwargs)  # type: ignore[misc,no-any-return]
        return replay


@functools.cache
def replaying(cls: type[BaseChatModel]) -> type[BaseChatModel]:
    """``cls`` answering each call from the job instead of calling Portkey, under the
    same name (callbacks and traces see the model they know); one class per model class.
    ``_generate_with_cache`` is where LangChain's ``generate`` asks for an answer, after
    the callbacks started and before any cache or streaming."""
    namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    return types.new_class(
        cls.__name__, (_Replaying, cls), exec_body=lambda ns: ns.update(namespace)
    )


def _replayer(model: PortkeyChatModel) -> BaseChatModel:
    """A copy of ``model`` whose class is :func:`replaying`'s (fields and their set-ness
    kept, nothing validated again)."""
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    return replaying(type(model)).model_construct(_fields_set=model.model_fields_set, **fields)


def _replayed(
    replayer: BaseChatModel,
    inputs: list[LanguageModelInput],
    config: RunnableConfig | list[RunnableConfig] | None,
    results: list[ChatResult | BaseException],
) -> Iterator[tuple[LanguageModelInput, RunnableConfig]]:
    """Each input and its config, the job's answer for it set for the ``invoke`` the
    caller runs on ``replayer``."""
    configs = get_config_list(config, len(inputs))
    for value, conf, result in zip(inputs, configs, results, strict=True):
        token = _REPLAY.set(_Replay(replayer, result))
        try:
            yield value, conf
        finally:
            _REPLAY.reset(token)


def _take_replay(model: Any) -> ChatResult | None:
    replay = _REPLAY.get()
    if replay is None or replay.model is not model or replay.used:
        return None
    replay.used = True  # once: a callback that calls the model again really calls it
    if isinstance(replay.outcome, BaseException):
        raise replay.outcome
    return replay.outcome


_GENERATE_KEYWORDS = frozenset({"ls_structured_output_format", "structured_output_format"})


def _calls(
    model: PortkeyChatModel,
    inputs: Sequence[LanguageModelInput],
    kwargs: dict[str, Any],
    return_exceptions: bool,
) -> list[Call | BaseException]:
    """Each input's call, as ``invoke`` would build it (an input's error at its index
    with ``return_exceptions``, else raised before anything is sent)."""
    calls: list[Call | BaseException] = []
    # What LangChain's generate takes out of the keywords before the model sees them.
    shared = {k: v for k, v in kwargs.items() if k not in _GENERATE_KEYWORDS}
    for value in inputs:
        params = dict(shared)
        try:
            messages = model._convert_input(value).to_messages()
            # NO_RUN: a line carries no run's trace headers (a job has one set of headers).
            stop = params.pop("stop", None)
            calls.append(model._build_call(messages, stop, params, NO_RUN))
        except Exception as exc:
            if not return_exceptions:
                raise
            calls.append(exc)
    return calls


def _chat_results(batch: Batch | None, outcomes: list[Outcome]) -> list[ChatResult | BaseException]:
    """Each outcome as LangChain's ``ChatResult`` (or the error, as its LangChain twin)."""
    from .._adapters.batch import job_prompt

    prompt = job_prompt(batch) if batch is not None else None
    ref = parse_prompt_ref(prompt) if prompt is not None else None
    results: list[ChatResult | BaseException] = []
    for outcome in outcomes:
        if isinstance(outcome, PortkeyError):
            results.append(to_langchain_error(outcome))
        elif isinstance(outcome, BaseException):
            results.append(outcome)
        else:
            try:
                result = chat_result(outcome, ref)
            except Exception as exc:
                results.append(exc)
                continue
            if batch is not None:
                for generation in result.generations:
                    generation.message.response_metadata["portkey_batch_id"] = batch.id
            results.append(result)
    return results


def _messages(batch: Batch, outcomes: list[Outcome], return_exceptions: bool) -> list[Any]:
    out: list[Any] = []
    for result in _chat_results(batch, outcomes):
        if isinstance(result, BaseException):
            if not return_exceptions:
                raise result
            out.append(result)
        else:
            out.append(result.generations[0].message)
    return out
