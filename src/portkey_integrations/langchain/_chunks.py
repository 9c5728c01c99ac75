"""Streams as LangChain chunks, for the chat model and the LLM: the one stream loop
(:func:`stream_chunks`, :func:`astream_chunks`: only the transport differs) and the
event converters it drives.

Content goes out as it arrives; what carries no content (a role-only first event, the
finish reason, usage) is folded into one closing chunk, so callbacks see no empty
chunks in between and usage lands on exactly one chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from langchain_core.messages import AIMessageChunk, ToolCallChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk

from .._adapters.tracing import hook_results_dict
from .._errors import PortkeyError
from .._response import CompletionChunk, DeltaToolCall, ResponseInfo
from ._errors import raise_langchain_error
from ._messages import portkey_metadata, usage_metadata

if TYPE_CHECKING:
    from ._base import PortkeyLangChainBase

__all__ = ["ChatChunks", "TextChunks", "astream_chunks", "chunk_message", "stream_chunks"]

_C = TypeVar("_C", ChatGenerationChunk, GenerationChunk)
_NO_LOGPROBS: dict[str, Any] = {"logprobs": None}
PromptRef = tuple[str, str | None] | None
Stop = list[str] | None
Kwargs = dict[str, Any]


class _Converter(Protocol[_C]):
    def __call__(self, event: CompletionChunk) -> _C | None: ...
    def last(self) -> _C | None: ...
    def token_kwargs(self, chunk: _C) -> dict[str, Any]: ...


class _Kind(Protocol[_C]):
    def of(self, info: ResponseInfo, prompt_ref: PromptRef) -> _Converter[_C]: ...


def stream_chunks(
    model: PortkeyLangChainBase, inputs: Any, stop: Stop, kwargs: Kwargs, run: Any, kind: _Kind[_C]
) -> Iterator[_C]:
    """``model``'s call of ``inputs`` streamed as ``kind``'s chunks (:class:`ChatChunks`
    or :class:`TextChunks`), each handed to the run's callbacks before it is yielded;
    the core's errors are raised as their LangChain twins. The call is built when the
    first chunk is asked for, as LangChain expects of ``_stream``."""
    call = model._build_call(inputs, stop, kwargs, run)
    try:
        stream = model.client.stream_call(call)
        with stream:
            convert = kind.of(stream.portkey, model.prompt_ref)
            for event in stream:
                chunk = convert(event)
                if chunk is not None:
                    if run is not None:
                        run.on_llm_new_token(chunk.text, chunk=chunk, **convert.token_kwargs(chunk))
                    yield chunk
            last = convert.last()
        if last is not None:
            if run is not None:
                run.on_llm_new_token("", chunk=last)
            yield last
    except PortkeyError as exc:
        raise_langchain_error(exc)


async def astream_chunks(
    model: PortkeyLangChainBase, inputs: Any, stop: Stop, kwargs: Kwargs, run: Any, kind: _Kind[_C]
) -> AsyncIterator[_C]:
    """Async :func:`stream_chunks` (the model's ``_astream`` returns it as it is: one
    async generator per stream, not two)."""
    call = await model._abuild_call(inputs, stop, kwargs, run)
    try:
        stream = await model.async_client.stream_call(call)
        async with stream:
            convert = kind.of(stream.portkey, model.prompt_ref)
            async for event in stream:
                chunk = convert(event)
                if chunk is not None:
                    if run is not None:
                        await run.on_llm_new_token(
                            chunk.text, chunk=chunk, **convert.token_kwargs(chunk)
                        )
                    yield chunk
            last = convert.last()
        if last is not None:
            if run is not None:
                await run.on_llm_new_token("", chunk=last)
            yield last
    except PortkeyError as exc:
        raise_langchain_error(exc)


def _tool_call_chunks(deltas: Sequence[DeltaToolCall]) -> list[ToolCallChunk]:
    return [
        ToolCallChunk(
            type="tool_call_chunk",
            name=d.function.name if d.function is not None else None,
            args=d.function.arguments if d.function is not None else None,
            id=d.id,
            index=d.index,
        )
        for d in deltas
    ]


def chunk_message(
    chunk: CompletionChunk,
) -> tuple[AIMessageChunk | None, UsageMetadata | None, dict[str, Any] | None]:
    """A stream event as ``(message chunk, usage, generation info)``.

    The message is ``None`` when the event carries no content, tool call or function
    call (a role-only first event, a finish event, a usage event): the caller folds its
    usage and info into the stream's last chunk instead of sending an empty chunk
    through every callback. Only the first choice is streamed, as in langchain-openai.
    """
    usage = usage_metadata(chunk.usage) if chunk.usage is not None else None
    if not chunk.choices:
        return None, usage, None
    choice = chunk.choices[0]
    info: dict[str, Any] | None = None
    if choice.finish_reason is not None:
        info = {"finish_reason": choice.finish_reason, "model_name": chunk.model}
        if chunk.system_fingerprint is not None:
            info["system_fingerprint"] = chunk.system_fingerprint
    if choice.logprobs is not None:
        info = info or {}
        info["logprobs"] = choice.logprobs
    delta = choice.delta
    if delta is None:  # a text-completion shaped event
        text = choice.text
        return (AIMessageChunk(content=text) if text else None), usage, info
    if delta.tool_calls or delta.function_call is not None:
        additional: dict[str, Any] = {}
        if delta.function_call is not None:
            additional["function_call"] = delta.function_call.model_dump(exclude_none=True)
        message = AIMessageChunk(
            content=delta.content or "",
            additional_kwargs=additional,
            tool_call_chunks=_tool_call_chunks(delta.tool_calls) if delta.tool_calls else [],
        )
        return message, usage, info
    if delta.content:
        return AIMessageChunk(content=delta.content), usage, info
    return None, usage, info


class ChatChunks:
    """Stream events to ``ChatGenerationChunk``s.

    Content and tool-call chunks go out as they arrive, the first one carrying Portkey's
    metadata (string metadata is concatenated when chunks add up, so it goes once).
    Events without content (role, finish reason, usage) are folded into one closing
    chunk marked ``chunk_position="last"``: it carries the usage, so usage lands on one
    chunk, and LangChain need not append an empty closing chunk of its own.
    """

    __slots__ = ("info", "metadata", "usage")

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        self.info: dict[str, Any] = {}
        self.usage: UsageMetadata | None = None

    @classmethod
    def of(cls, info: ResponseInfo, prompt_ref: PromptRef) -> ChatChunks:
        """The converter of a stream with these headers, of this prompt."""
        return cls(portkey_metadata(info, prompt_ref))

    def __call__(self, event: CompletionChunk) -> ChatGenerationChunk | None:
        if event.__pydantic_extra__:
            # Guardrail verdicts come in an event of their own, before the content.
            self.metadata.update(hook_results_dict(event.__pydantic_extra__))
        # Nearly every event is one choice's text and nothing else: it is tested inline
        # here (this runs once per event) and goes out as a content-only chunk.
        choices = event.choices
        if event.usage is None and len(choices) == 1:
            choice = choices[0]
            delta = choice.delta
            if (
                delta is not None
                and choice.finish_reason is None
                and choice.logprobs is None
                and not delta.tool_calls
                and delta.function_call is None
            ):
                text = delta.content
                if not text:
                    return None  # a role-only first event: nothing to fold in either
                if not self.metadata:
                    return ChatGenerationChunk(message=AIMessageChunk(content=text))
                metadata, self.metadata = self.metadata, {}
                return ChatGenerationChunk(
                    message=AIMessageChunk(content=text, response_metadata=metadata)
                )
        message, usage, info = chunk_message(event)
        if message is None:
            if usage is not None:
                self.usage = usage
            if info:
                self.info.update(info)
            return None
        if usage is not None:
            message.usage_metadata = usage
        if self.metadata:
            message.response_metadata = self.metadata
            self.metadata = {}
        return ChatGenerationChunk(message=message, generation_info=info)

    def last(self) -> ChatGenerationChunk:
        message = AIMessageChunk(
            content="",
            usage_metadata=self.usage,
            response_metadata=self.metadata,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message, generation_info=self.info or None)

    @staticmethod
    def token_kwargs(chunk: ChatGenerationChunk) -> dict[str, Any]:
        """What ``on_llm_new_token`` gets beside the chunk: its logprobs."""
        info = chunk.generation_info
        return _NO_LOGPROBS if not info else {"logprobs": info.get("logprobs")}


class TextChunks:
    """Stream events to ``GenerationChunk``s.

    Text goes out as it arrives, the first chunk carrying Portkey's metadata (chunks'
    generation info is merged by concatenating strings, so it goes once). Events with
    no text (finish reason, usage) are folded into one closing chunk.
    """

    __slots__ = ("info", "metadata")

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        self.info: dict[str, Any] = {}

    @classmethod
    def of(cls, info: ResponseInfo, prompt_ref: PromptRef) -> TextChunks:
        """The converter of a stream with these headers, of this prompt."""
        metadata = portkey_metadata(info, prompt_ref)
        del metadata["model_provider"]  # a chat message's field, not an LLM's
        return cls(metadata)

    def __call__(self, event: CompletionChunk) -> GenerationChunk | None:
        if event.__pydantic_extra__:
            self.metadata.update(hook_results_dict(event.__pydantic_extra__))
        text = ""
        info: dict[str, Any] = {}
        if event.choices:
            choice = event.choices[0]
            text = choice.content
            if choice.finish_reason is not None:
                info["finish_reason"] = choice.finish_reason
                info["model_name"] = event.model
            if choice.logprobs is not None:
                info["logprobs"] = choice.logprobs
        if event.usage is not None:
            info["token_usage"] = event.usage.model_dump(exclude_none=True)
        if not text:
            self.info.update(info)
            return None
        if self.metadata:
            info.update(self.metadata)
            self.metadata = {}
        return GenerationChunk(text=text, generation_info=info or None)

    def last(self) -> GenerationChunk | None:
        info = {**self.info, **self.metadata}
        return GenerationChunk(text="", generation_info=info) if info else None

    @staticmethod
    def token_kwargs(chunk: GenerationChunk) -> dict[str, Any]:
        """What ``on_llm_new_token`` gets beside the chunk: nothing."""
        return {}
