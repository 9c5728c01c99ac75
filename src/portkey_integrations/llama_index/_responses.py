"""From the wire back to LlamaIndex: a completion or a stream of chunks as responses.

Incoming completions and chunks become ``ChatMessage`` objects shaped the way
``llama_index.llms.openai`` shapes them: text blocks, tool calls as ``ToolCallBlock``
and as OpenAI dicts in ``additional_kwargs["tool_calls"]``, reasoning as a
``ThinkingBlock``. Every response carries the usage, Portkey's trace id and provider,
the prompt that ran (``prompt_id`` / ``prompt_version``, and ``prompt_version_number``,
the number that ran) and the guardrail results in ``additional_kwargs``; ``raw`` is the
completion (its ``portkey.prompt_version`` too) or the chunk.

Streams are sent on first iteration, as ``llama_index.llms.openai`` does; each response
is yielded as its chunk arrives, so a failure mid-stream raises only after everything
received before it. One :class:`ChatStream` / :class:`CompletionStream` per stream
holds what came so far; the sync and async loops only feed it, and share its text with
the core stream, which then keeps only each chunk's length for an error's ``chunks``
instead of a second copy of the answer.

A streamed response's ``raw`` is its chunk as it arrived, a :class:`RawChunk`: the JSON
text, read as a mapping on first use (LlamaIndex's token counter reads
``raw["usage"]``), whose ``chunk`` is the typed :class:`CompletionChunk`. The parsed
chunk kept there before cost a consumer that keeps every response nine collector-tracked
objects per chunk, twice what the response itself holds: most of what 200 concurrent
``astream_chat`` calls spent above the floor model.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from .._adapters.convert import ToolCallAccumulator
from .._adapters.tracing import hook_results_dict
from .._response import Choice, Completion, CompletionChunk, RawChunk, ResponseInfo, Usage

if TYPE_CHECKING:
    from .._call import Call
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "ChatStream",
    "CompletionStream",
    "aiter_stream",
    "chat_message_from_choice",
    "chat_response",
    "completion_response",
    "iter_stream",
    "logprobs_from_choice",
    "response_kwargs",
    "usage_kwargs",
]

_ASSISTANT = MessageRole.ASSISTANT


# -- one completion ------------------------------------------------------------------


def chat_response(completion: Completion, call: Call) -> ChatResponse:
    """The ``ChatResponse`` of a completion."""
    choice = completion.choices[0] if completion.choices else None
    return ChatResponse(
        message=chat_message_from_choice(choice),
        raw=completion,
        logprobs=logprobs_from_choice(choice),
        additional_kwargs=_completion_kwargs(completion, call),
    )


def completion_response(completion: Completion, call: Call) -> CompletionResponse:
    """The ``CompletionResponse`` of a completion."""
    choice = completion.choices[0] if completion.choices else None
    return CompletionResponse(
        text=completion.content,
        raw=completion,
        logprobs=logprobs_from_choice(choice),
        additional_kwargs=_completion_kwargs(completion, call),
    )


def _completion_kwargs(completion: Completion, call: Call) -> dict[str, Any]:
    out = response_kwargs(completion.usage, completion.portkey, call.prompt_ref)
    extra = completion.model_extra
    if extra:
        out.update(hook_results_dict(extra))
    return out


def chat_message_from_choice(choice: Choice | None) -> ChatMessage:
    """The assistant ``ChatMessage`` of a chat or text completion choice."""
    if choice is None:
        return ChatMessage(role=_ASSISTANT, blocks=[TextBlock(text="")])
    message = choice.message
    blocks: list[Any] = []
    extra: dict[str, Any] = {}
    role: str = _ASSISTANT.value
    tool_calls: list[dict[str, Any]] = []
    if message is not None:
        role = message.role or role
        reasoning = _reasoning(message.model_extra)
        if reasoning:
            blocks.append(ThinkingBlock(content=reasoning))
        if message.tool_calls:
            tool_calls = [tc.model_dump(exclude_none=True) for tc in message.tool_calls]
        if message.refusal:
            extra["refusal"] = message.refusal
    text = choice.content
    if text or not tool_calls:
        blocks.append(TextBlock(text=text))
    if tool_calls:
        blocks.extend(_tool_blocks(tool_calls))
        extra["tool_calls"] = tool_calls
    return ChatMessage(role=role, blocks=blocks, additional_kwargs=extra)


def _role(value: str) -> MessageRole | str:
    # The enum, so that each response's model need not look it up again; an unknown
    # role stays text for the model to refuse.
    try:
        return MessageRole(value)
    except ValueError:
        return value


def _reasoning(extra: Mapping[str, Any] | None) -> str:
    # Several OpenAI-compatible providers add the reasoning trace under one of these.
    if not extra:
        return ""
    for key in ("reasoning_content", "reasoning"):
        value = extra.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _tool_blocks(tool_calls: Sequence[Mapping[str, Any]]) -> list[ToolCallBlock]:
    # Arguments stay the raw JSON string, as llama_index.llms.openai keeps them, so a
    # partial stream and a malformed answer survive the round trip unchanged.
    return [
        ToolCallBlock(
            tool_call_id=call.get("id"),
            tool_name=call["function"].get("name") or "",
            tool_kwargs=call["function"].get("arguments") or {},
        )
        for call in tool_calls
        if call.get("function")
    ]


def logprobs_from_choice(choice: Any) -> list[list[LogProb]] | None:
    """Token log probabilities in LlamaIndex's shape (top candidates per token)."""
    raw = getattr(choice, "logprobs", None)
    if not isinstance(raw, Mapping):
        return None
    result: list[list[LogProb]] = []
    if isinstance(raw.get("content"), list):  # chat shape
        for token in raw["content"]:
            tops = token.get("top_logprobs") or []
            if tops:
                result.append(
                    [
                        LogProb(token=t["token"], logprob=t["logprob"], bytes=t.get("bytes") or [])
                        for t in tops
                    ]
                )
    elif isinstance(raw.get("top_logprobs"), list):  # text-completion shape
        for tops in raw["top_logprobs"]:
            if isinstance(tops, Mapping):
                result.append([LogProb(token=k, logprob=v, bytes=[]) for k, v in tops.items()])
    return result or None


def response_kwargs(
    usage: Usage | None, info: ResponseInfo, prompt: tuple[str, str | None] | None
) -> dict[str, Any]:
    """The response-level ``additional_kwargs``: token counts under OpenAI's names, then
    Portkey's trace id, cache status, provider, retries, and the prompt id and version
    (``prompt_version``: the version or label asked for; ``prompt_version_number``: the
    number that ran, when the response names it)."""
    out = usage_kwargs(usage)
    out.update(info.metadata())
    if prompt is not None:
        out["prompt_id"], out["prompt_version"] = prompt
        if info.prompt_version is not None:
            out["prompt_version_number"] = info.prompt_version
    return out


def usage_kwargs(usage: Usage | None) -> dict[str, Any]:
    """Token counts under the names ``llama_index.llms.openai`` uses."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


# -- streams -------------------------------------------------------------------------


class _StreamState:
    """What every response of one stream carries: the stream-level ``additional_kwargs``
    (with the guardrail results of its first event, once seen)."""

    __slots__ = ("_base",)

    def __init__(self, info: ResponseInfo, prompt: tuple[str, str | None] | None) -> None:
        self._base = response_kwargs(None, info, prompt)

    def _kwargs(self, chunk: CompletionChunk) -> dict[str, Any]:
        """The ``additional_kwargs`` of ``chunk``'s response. Shared, not copied: the
        response model copies the dict it is given."""
        extra = chunk.__pydantic_extra__  # not the property: once per event
        if extra and "hook_results" in extra:
            # Events may yield no response: the results stay for the next ones.
            self._base = {**self._base, **hook_results_dict(extra)}
        if chunk.usage is None:
            return self._base
        return {**usage_kwargs(chunk.usage), **self._base}

    def feed(self, chunk: CompletionChunk, raw: str) -> Any:
        """The response for ``chunk``, whose JSON text is ``raw``."""
        raise NotImplementedError

    def answer(self) -> str:
        """The first choices' text of every chunk fed so far: the stream reads its
        chunks' content from it on an error, instead of keeping a second copy."""
        raise NotImplementedError

    def finish(self, chunk: CompletionChunk | None, last_json: str) -> Any:
        """A last response once the stream ended (``None``: nothing to add)."""
        return None


class CompletionStream(_StreamState):
    """Turns chunks into ``CompletionResponse`` objects carrying the text so far, with
    ``delta`` holding the increment."""

    __slots__ = ("text",)

    def __init__(self, info: ResponseInfo, prompt: tuple[str, str | None] | None) -> None:
        super().__init__(info, prompt)
        self.text = ""

    def answer(self) -> str:
        return self.text

    def feed(self, chunk: CompletionChunk, raw: str) -> CompletionResponse:
        """The response of one chunk (every chunk has one)."""
        delta = chunk.choices[0].content if chunk.choices else ""
        self.text += delta
        return CompletionResponse(
            text=self.text,
            delta=delta,
            raw=RawChunk(raw),
            additional_kwargs=self._kwargs(chunk),
        )


class ChatStream(_StreamState):
    """Turns chunks into ``ChatResponse`` objects carrying the cumulative message.

    ``FunctionAgent`` keeps the last streamed response as the whole turn, so every
    response holds all text and tool calls so far; ``delta`` holds the new text only.
    """

    __slots__ = ("_calls", "_reasoning", "_role", "_tools", "text", "yielded")

    def __init__(self, info: ResponseInfo, prompt: tuple[str, str | None] | None) -> None:
        super().__init__(info, prompt)
        self.yielded = False
        self.text = ""
        self._reasoning = ""
        self._role: MessageRole | str = _ASSISTANT
        self._tools = ToolCallAccumulator()
        self._calls = False  # any tool call seen (cheaper than asking the accumulator)

    def answer(self) -> str:
        return self.text

    def feed(self, chunk: CompletionChunk, raw: str) -> ChatResponse | None:
        """The response for this chunk, or ``None`` when it adds nothing (a role-only or
        finish-only event): each response costs the framework its own events."""
        choices = chunk.choices
        if choices and not (self._calls or self._reasoning or chunk.__pydantic_extra__):
            # Nearly every event: text only, in an answer of text only.
            delta = choices[0].delta
            if (
                delta is not None
                and delta.content
                and not (delta.role or delta.tool_calls or delta.__pydantic_extra__)
                and chunk.usage is None
            ):
                self.text += delta.content
                self.yielded = True
                return ChatResponse(
                    message=ChatMessage(role=self._role, blocks=[TextBlock(text=self.text)]),
                    delta=delta.content,
                    raw=RawChunk(raw),
                    additional_kwargs=self._base,
                )
        return self.feed_any(chunk, raw)

    def feed_any(self, chunk: CompletionChunk, raw: str) -> ChatResponse | None:
        """:meth:`feed` for any chunk (tool calls, reasoning, usage, guardrail results):
        the same response :meth:`feed` gives, which a test holds them to."""
        text = thinking = ""
        tools = False
        if chunk.choices:
            choice = chunk.choices[0]
            delta = choice.delta
            if delta is not None:
                if delta.role:
                    self._role = _role(delta.role)
                text = delta.content or ""
                if delta.tool_calls:
                    self._tools.add(delta.tool_calls)
                    self._calls = tools = True
                if delta.__pydantic_extra__:
                    thinking = _reasoning(delta.__pydantic_extra__)
                    self._reasoning += thinking
            elif choice.text:
                text = choice.text
        if not (text or thinking or tools or chunk.usage is not None):
            if chunk.__pydantic_extra__:
                self._kwargs(chunk)  # keep its guardrail results for the next responses
            return None
        if text:
            self.text += text
        return self._response(chunk, RawChunk(raw), text, thinking)

    def finish(self, chunk: CompletionChunk | None, last_json: str) -> ChatResponse | None:
        """A response for a stream that yielded none (an empty answer), else ``None``."""
        if self.yielded:
            return None
        if chunk is None:
            return self._response(CompletionChunk.model_construct(choices=[]), None, "", "")
        return self._response(chunk, RawChunk(last_json), "", "")

    def _response(
        self, chunk: CompletionChunk, raw: RawChunk | None, delta: str, thinking: str
    ) -> ChatResponse:
        self.yielded = True
        blocks: list[Any] = []
        if self._reasoning:
            blocks.append(ThinkingBlock(content=self._reasoning))
        if self.text or not self._calls:
            blocks.append(TextBlock(text=self.text))
        if self._calls:
            calls = self._tools.tool_calls
            blocks.extend(_tool_blocks(calls))
            message = ChatMessage(
                role=self._role, blocks=blocks, additional_kwargs={"tool_calls": calls}
            )
        else:
            message = ChatMessage(role=self._role, blocks=blocks)
        # self._kwargs(chunk), inline: once per response.
        kwargs = self._base
        if chunk.__pydantic_extra__ or chunk.usage is not None:
            kwargs = self._kwargs(chunk)
        if thinking:
            # FunctionAgent streams it as AgentStream.
            kwargs = {**kwargs, "thinking_delta": thinking}
        return ChatResponse(message=message, delta=delta, raw=raw, additional_kwargs=kwargs)


# The two loops differ only in the transport: each feeds every chunk to ``kind``.


def iter_stream(
    client: PortkeyClient, call: Call, kind: type[_StreamState]
) -> Generator[Any, None, None]:
    """Stream ``call`` as ``kind``'s responses (chat or completion responses)."""
    with client.stream_call(call) as stream:
        state, chunk = kind(stream.portkey, call.prompt_ref), None
        stream.share_text(state.answer)
        for chunk in stream:
            if (response := state.feed(chunk, stream.last_json)) is not None:
                yield response
        if (response := state.finish(chunk, stream.last_json)) is not None:
            yield response


async def aiter_stream(
    client: AsyncPortkeyClient, call: Call, kind: type[_StreamState]
) -> AsyncGenerator[Any, None]:
    """Async :func:`iter_stream`."""
    async with await client.stream_call(call) as stream:
        state, chunk = kind(stream.portkey, call.prompt_ref), None
        stream.share_text(state.answer)
        async for chunk in stream:
            if (response := state.feed(chunk, stream.last_json)) is not None:
                yield response
        if (response := state.finish(chunk, stream.last_json)) is not None:
            yield response
