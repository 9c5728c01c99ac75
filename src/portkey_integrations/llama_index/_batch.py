"""Many chats as one job on Portkey's Batch API, for the LlamaIndex ``PortkeyChatModel``.

::

    from llama_index.core.llms import ChatMessage
    from portkey_integrations.llama_index import PortkeyChatModel, batch_chat

    llm = PortkeyChatModel(prompt_id="pp-joke", base_url="local")
    chats = [[ChatMessage(role="user", content=f"a joke about {t}")] for t in topics]
    responses = batch_chat(llm, chats)  # one ChatResponse per chat, in order

Each chat becomes the call ``llm.chat(messages, **kwargs)`` would send (on a prompt id,
its messages mapped onto the prompt's variables and rendered to the saved model's
messages), and the whole list one job; the answers are ``ChatResponse`` objects as
``chat`` returns them (usage, ``prompt_id`` / ``prompt_version`` in
``additional_kwargs``, the completion in ``raw``). ``return_exceptions=True`` puts a
failed line's exception at its index instead of raising the first. The instrumentation
hears no per-chat events: the job has no per-chat calls to time.

A job may outlive its process: :func:`batch_chat_submit` returns its id,
:func:`batch_chat_retrieve` waits for it and maps the answers, from any process, given
a model with the same prompt id or routing. :func:`batch_status` and
:func:`batch_cancel` complete the set. ``polling=BatchPolling(...)`` sets the wait's
backoff, ``timeout`` and ``on_progress`` callback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse

from .._adapters.batch import (
    BatchPolling,
    Outcome,
    collect_ops,
    job_ops,
    job_prompt,
    prefetch,
    run_async,
    run_ops,
    run_sync,
    submit_ops,
    submitted_id,
)
from .._call import Call
from .._errors import PortkeyConfigError
from ._responses import chat_response

if TYPE_CHECKING:
    from ..types import Batch
    from .base import PortkeyLLMBase

__all__ = [
    "BatchPolling",
    "abatch_chat",
    "abatch_chat_retrieve",
    "abatch_chat_submit",
    "batch_cancel",
    "batch_chat",
    "batch_chat_retrieve",
    "batch_chat_submit",
    "batch_status",
]

Chats = Sequence[Sequence[ChatMessage]]


def batch_chat(
    llm: PortkeyLLMBase,
    chats: Chats,
    *,
    return_exceptions: bool = False,
    polling: BatchPolling | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Run ``chats`` as one Batch API job and return a ``ChatResponse`` per chat, in
    order (``return_exceptions=True``: a failed chat's exception at its index);
    ``kwargs`` are ``chat``'s (``variables=``, hyperparameters)."""
    calls = _calls(llm, chats, kwargs, return_exceptions)
    ops = run_ops(calls, polling or BatchPolling(), fail_fast=not return_exceptions)
    return _responses(*run_sync(llm, ops, llm.full_prompt_id), return_exceptions)


async def abatch_chat(
    llm: PortkeyLLMBase,
    chats: Chats,
    *,
    return_exceptions: bool = False,
    polling: BatchPolling | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Async :func:`batch_chat`."""
    await prefetch(llm)
    calls = _calls(llm, chats, kwargs, return_exceptions)
    ops = run_ops(calls, polling or BatchPolling(), fail_fast=not return_exceptions)
    return _responses(*(await run_async(llm, ops, llm.full_prompt_id)), return_exceptions)


def batch_chat_submit(llm: PortkeyLLMBase, chats: Chats, **kwargs: Any) -> str:
    """Submit ``chats`` as one Batch API job and return its id (an invalid chat raises
    before anything is sent)."""
    calls = _calls(llm, chats, kwargs, False)
    return submitted_id(run_sync(llm, submit_ops(calls, fail_fast=True), llm.full_prompt_id))


async def abatch_chat_submit(llm: PortkeyLLMBase, chats: Chats, **kwargs: Any) -> str:
    """Async :func:`batch_chat_submit`."""
    await prefetch(llm)
    calls = _calls(llm, chats, kwargs, False)
    return submitted_id(await run_async(llm, submit_ops(calls, fail_fast=True), llm.full_prompt_id))


def batch_chat_retrieve(
    llm: PortkeyLLMBase,
    job_id: str,
    *,
    return_exceptions: bool = False,
    polling: BatchPolling | None = None,
) -> list[Any]:
    """Wait for job ``job_id`` and return a ``ChatResponse`` per chat, in order."""
    ops = collect_ops(job_id, polling or BatchPolling())
    return _responses(*run_sync(llm, ops, llm.full_prompt_id), return_exceptions)


async def abatch_chat_retrieve(
    llm: PortkeyLLMBase,
    job_id: str,
    *,
    return_exceptions: bool = False,
    polling: BatchPolling | None = None,
) -> list[Any]:
    """Async :func:`batch_chat_retrieve`."""
    ops = collect_ops(job_id, polling or BatchPolling())
    return _responses(*(await run_async(llm, ops, llm.full_prompt_id)), return_exceptions)


def batch_status(llm: PortkeyLLMBase, job_id: str) -> Batch:
    """The job as it stands: ``status``, ``request_counts``, ... (no waiting)."""
    return run_sync(llm, job_ops(job_id, "retrieve"), llm.full_prompt_id)


def batch_cancel(llm: PortkeyLLMBase, job_id: str) -> Batch:
    """Cancel the job (it goes ``cancelling``, then ``cancelled``)."""
    return run_sync(llm, job_ops(job_id, "cancel"), llm.full_prompt_id)


def _calls(
    llm: PortkeyLLMBase, chats: Chats, kwargs: dict[str, Any], return_exceptions: bool
) -> list[Call | BaseException]:
    """Each chat's call, as ``chat`` builds it (an error at its index with
    ``return_exceptions``, else raised before anything is sent)."""
    if isinstance(chats, str) or not all(isinstance(chat, Sequence) for chat in chats):
        raise PortkeyConfigError("batch_chat takes a list of chats, each a list of ChatMessage")
    calls: list[Call | BaseException] = []
    for messages in chats:
        params = dict(kwargs)
        try:
            saved = llm._saved_for(params, messages)
            calls.append(llm._call(params, stream=False, messages=messages, saved=saved))
        except Exception as exc:
            if not return_exceptions:
                raise
            calls.append(exc)
    return calls


def _responses(batch: Batch | None, outcomes: list[Outcome], return_exceptions: bool) -> list[Any]:
    prompt = job_prompt(batch) if batch is not None else None
    # chat_response reads only the call's prompt reference.
    call = Call(prompt_id=prompt) if prompt is not None else Call(messages=[])
    out: list[Any] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            if not return_exceptions:
                raise outcome
            out.append(outcome)
            continue
        response: ChatResponse = chat_response(outcome, call)
        if batch is not None:
            response.additional_kwargs["portkey_batch_id"] = batch.id
        out.append(response)
    return out
