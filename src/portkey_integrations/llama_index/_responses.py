"""From the wire back to LlamaIndex: a completion or a stream of chunks as responses.

Every response carries the usage, Portkey's trace id and provider, the prompt that ran
(``prompt_id`` / ``prompt_version``, and ``prompt_version_number``, the number that ran)
and the guardrail results in ``additional_kwargs``; ``raw`` is the completion (its
``portkey.prompt_version`` too) or the chunk.
Streams are sent on first iteration, as ``llama_index.llms.openai`` does; each response
is yielded as its chunk arrives, so a failure mid-stream raises only after everything
received before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_index.core.base.llms.types import (
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
)

from .._adapters.tracing import hook_results_dict
from .._response import Completion
from ._messages import (
    ChatStreamAssembler,
    CompletionStreamAssembler,
    chat_message_from_choice,
    logprobs_from_choice,
    response_kwargs,
)
from ._tracing import StreamHooks

if TYPE_CHECKING:
    from .._call import Call
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "aiter_chat",
    "aiter_completion",
    "chat_response",
    "completion_response",
    "iter_chat",
    "iter_completion",
]


def chat_response(completion: Completion, call: Call) -> ChatResponse:
    """The ``ChatResponse`` of a completion."""
    choice = completion.choices[0] if completion.choices else None
    return ChatResponse(
        message=chat_message_from_choice(choice),
        raw=completion,
        logprobs=logprobs_from_choice(choice),
        additional_kwargs=response_kwargs(completion.usage, completion.portkey, call.prompt_ref)
        | hook_results_dict(completion.model_extra),
    )


def completion_response(completion: Completion, call: Call) -> CompletionResponse:
    """The ``CompletionResponse`` of a completion."""
    choice = completion.choices[0] if completion.choices else None
    return CompletionResponse(
        text=completion.content,
        raw=completion,
        logprobs=logprobs_from_choice(choice),
        additional_kwargs=response_kwargs(completion.usage, completion.portkey, call.prompt_ref)
        | hook_results_dict(completion.model_extra),
    )


def iter_chat(client: PortkeyClient, call: Call) -> ChatResponseGen:
    """Stream ``call``: each response carries the whole message so far."""
    with client.stream_call(call) as stream:
        assembler = ChatStreamAssembler(stream.portkey, call.prompt_ref)
        hooks = StreamHooks()
        chunk = None
        for chunk in stream:
            hooks.see(chunk)
            response = assembler.add(chunk)
            if response is not None:
                yield hooks(response)
        final = assembler.last(chunk)
        if final is not None:
            yield hooks(final)


async def aiter_chat(client: AsyncPortkeyClient, call: Call) -> ChatResponseAsyncGen:
    """Async :func:`iter_chat`."""
    stream = await client.stream_call(call)
    async with stream:
        assembler = ChatStreamAssembler(stream.portkey, call.prompt_ref)
        hooks = StreamHooks()
        chunk = None
        async for chunk in stream:
            hooks.see(chunk)
            response = assembler.add(chunk)
            if response is not None:
                yield hooks(response)
        final = assembler.last(chunk)
        if final is not None:
            yield hooks(final)


def iter_completion(client: PortkeyClient, call: Call) -> CompletionResponseGen:
    """Stream ``call``: ``text`` is cumulative, ``delta`` the new text."""
    with client.stream_call(call) as stream:
        assemble = CompletionStreamAssembler(stream.portkey, call.prompt_ref)
        hooks = StreamHooks()
        for chunk in stream:
            hooks.see(chunk)
            yield hooks(assemble(chunk))


async def aiter_completion(client: AsyncPortkeyClient, call: Call) -> CompletionResponseAsyncGen:
    """Async :func:`iter_completion`."""
    stream = await client.stream_call(call)
    async with stream:
        assemble = CompletionStreamAssembler(stream.portkey, call.prompt_ref)
        hooks = StreamHooks()
        async for chunk in stream:
            hooks.see(chunk)
            yield hooks(assemble(chunk))
