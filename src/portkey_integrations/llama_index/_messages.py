"""LlamaIndex messages to OpenAI dicts and Portkey responses back to LlamaIndex objects.

Pure functions and one small stream assembler. Outgoing messages become the OpenAI
dicts that both the chat route and the prompt variables (``chat_history``,
``agent_scratchpad``) carry; incoming completions and chunks become ``ChatMessage``
objects shaped the way ``llama_index.llms.openai`` shapes them: text blocks, tool calls
as ``ToolCallBlock`` and as OpenAI dicts in ``additional_kwargs["tool_calls"]``, usage
and Portkey's response headers in the response's ``additional_kwargs``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    DocumentBlock,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from .._adapters.convert import ToolCallAccumulator
from .._errors import PromptMappingError
from .._response import Choice, CompletionChunk, ResponseInfo, Usage

__all__ = [
    "ChatStreamAssembler",
    "CompletionStreamAssembler",
    "chat_message_from_choice",
    "logprobs_from_choice",
    "response_kwargs",
    "to_openai_message",
    "to_openai_messages",
    "tool_selections",
    "usage_kwargs",
]

_ASSISTANT = MessageRole.ASSISTANT


# -- outgoing ------------------------------------------------------------------------


def to_openai_messages(messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """Convert LlamaIndex chat messages to OpenAI chat-completions message dicts."""
    return [to_openai_message(m) for m in messages]


def to_openai_message(message: ChatMessage) -> dict[str, Any]:
    """Convert one ``ChatMessage`` to an OpenAI message dict.

    Text blocks are concatenated (as ``llama_index.llms.openai`` does); a user message
    with images, audio or documents keeps a list of content parts; tool calls come from
    ``ToolCallBlock`` blocks, else from ``additional_kwargs["tool_calls"]``; a tool
    result carries its ``tool_call_id``.
    """
    role = message.role.value
    extra = message.additional_kwargs
    texts: list[str] = []
    parts: list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            if parts is not None:
                parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolCallBlock):
            tool_calls.append(_tool_call_from_block(block))
        elif isinstance(block, (ThinkingBlock, CachePoint)):
            # Reasoning and cache hints are not chat-completions input.
            continue
        elif isinstance(block, (ImageBlock, AudioBlock, DocumentBlock)):
            if parts is None:
                parts = [{"type": "text", "text": t} for t in texts]
            parts.append(_media_part(block))
        else:
            # Not a ValueError: Refine and the programs would swallow it and answer
            # without this message's content.
            kind = type(block).__name__
            fix = "send it as text, or as an image, audio or document block"
            raise PromptMappingError(
                f"a {kind} content block cannot be sent to the model. Fix: {fix}",
                piece=f"{kind} content block",
                fix=fix,
            )
    text = "".join(texts)
    out: dict[str, Any] = {
        "role": role,
        # Only user messages may carry a list of parts on most providers.
        "content": parts if parts is not None and role == "user" else text,
    }
    if not tool_calls and extra.get("tool_calls"):
        tool_calls = [_tool_call_dict(tc) for tc in extra["tool_calls"]]
    if tool_calls:
        out["tool_calls"] = tool_calls
    elif extra.get("function_call"):
        out["function_call"] = _plain(extra["function_call"])
    if (tool_calls or "function_call" in out) and text == "":
        out["content"] = None
    if role == "tool" and "tool_call_id" in extra:
        out["tool_call_id"] = extra["tool_call_id"]
    elif role == "tool" and "call_id" in extra:
        out["tool_call_id"] = extra["call_id"]
    if "name" in extra and role in ("user", "assistant", "tool", "function"):
        out["name"] = extra["name"]
    return out


def _tool_call_from_block(block: ToolCallBlock) -> dict[str, Any]:
    arguments = block.tool_kwargs
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return {
        "id": block.tool_call_id,
        "type": "function",
        "function": {"name": block.tool_name, "arguments": arguments},
    }


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else value


def _tool_call_dict(tool_call: Any) -> dict[str, Any]:
    """An OpenAI tool call dict from a dict or an OpenAI / Portkey tool-call object."""
    call = _plain(tool_call)
    if not isinstance(call, Mapping):
        raise ValueError(f"unsupported tool call: {tool_call!r}")
    out = dict(call)
    out.setdefault("type", "function")
    return out


def _media_part(block: ImageBlock | AudioBlock | DocumentBlock) -> dict[str, Any]:
    if isinstance(block, ImageBlock):
        if block.url is not None:
            url = str(block.url)
        else:
            data = block.resolve_image(as_base64=True).read().decode("utf-8")
            url = f"data:{block.image_mimetype or 'image/png'};base64,{data}"
        image: dict[str, Any] = {"url": url}
        if block.detail:
            image["detail"] = block.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(block, AudioBlock):
        data = block.resolve_audio(as_base64=True).read().decode("utf-8")
        return {"type": "input_audio", "input_audio": {"data": data, "format": block.format}}
    # Public API only: LlamaIndex guesses the type when the block is built, and
    # inline_url() is the document as a base64 data URL.
    mimetype = block.document_mimetype or "application/pdf"
    b64 = block.inline_url().partition(";base64,")[2]
    return {
        "type": "file",
        "file": {"filename": block.title, "file_data": f"data:{mimetype};base64,{b64}"},
    }


# -- incoming ------------------------------------------------------------------------


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


class CompletionStreamAssembler:
    """Turns chunks into ``CompletionResponse`` objects carrying the text so far, with
    ``delta`` holding the increment."""

    __slots__ = ("base", "text")

    def __init__(self, info: ResponseInfo, prompt: tuple[str, str | None] | None) -> None:
        self.base = response_kwargs(None, info, prompt)
        self.text = ""

    def __call__(self, chunk: CompletionChunk) -> CompletionResponse:
        delta = chunk.choices[0].content if chunk.choices else ""
        self.text += delta
        return CompletionResponse(
            text=self.text,
            delta=delta,
            raw=chunk,
            additional_kwargs={**usage_kwargs(chunk.usage), **self.base},
        )


class ChatStreamAssembler:
    """Turns chunks into ``ChatResponse`` objects carrying the cumulative message.

    ``FunctionAgent`` keeps the last streamed response as the whole turn, so every
    response holds all text and tool calls so far; ``delta`` holds the new text only.
    """

    __slots__ = ("_base", "_reasoning", "_role", "_text", "_tools", "yielded")

    def __init__(self, info: ResponseInfo, prompt: tuple[str, str | None] | None) -> None:
        self.yielded = False
        self._text = ""
        self._reasoning = ""
        self._role = _ASSISTANT.value
        self._tools = ToolCallAccumulator()
        self._base = response_kwargs(None, info, prompt)

    @property
    def text(self) -> str:
        """The text received so far."""
        return self._text

    def add(self, chunk: CompletionChunk) -> ChatResponse | None:
        """The response for this chunk, or ``None`` when it adds nothing (a role-only or
        finish-only event): each response costs the framework its own events."""
        delta_text = thinking = ""
        tools = False
        if chunk.choices:
            choice = chunk.choices[0]
            delta = choice.delta
            if delta is not None:
                if delta.role:
                    self._role = delta.role
                delta_text = delta.content or ""
                if delta.tool_calls:
                    self._tools.add(delta.tool_calls)
                    tools = True
                thinking = _reasoning(delta.model_extra)
                self._reasoning += thinking
            elif choice.text:
                delta_text = choice.text
        if not (delta_text or thinking or tools or chunk.usage is not None):
            return None
        self._text += delta_text
        return self._response(chunk, delta_text, thinking)

    def last(self, chunk: CompletionChunk | None) -> ChatResponse | None:
        """A response for a stream that yielded none (an empty answer), else ``None``."""
        if self.yielded:
            return None
        return self._response(chunk or CompletionChunk.model_construct(choices=[]), "", "")

    def _response(self, chunk: CompletionChunk, delta_text: str, thinking: str) -> ChatResponse:
        self.yielded = True
        extra: dict[str, Any] = {}
        blocks: list[Any] = []
        if self._reasoning:
            blocks.append(ThinkingBlock(content=self._reasoning))
        if self._text or not self._tools:
            blocks.append(TextBlock(text=self._text))
        if self._tools:
            calls = self._tools.tool_calls
            extra["tool_calls"] = calls
            blocks.extend(_tool_blocks(calls))
        kwargs = {**usage_kwargs(chunk.usage), **self._base}
        if thinking:
            kwargs["thinking_delta"] = thinking  # FunctionAgent streams it as AgentStream
        return ChatResponse(
            message=ChatMessage(role=self._role, blocks=blocks, additional_kwargs=extra),
            delta=delta_text,
            raw=chunk,
            additional_kwargs=kwargs,
        )


def tool_selections(
    response: ChatResponse, *, error_on_no_tool_call: bool = True
) -> list[ToolSelection]:
    """The tool calls of a response as ``ToolSelection`` objects.

    Reads ``ToolCallBlock`` blocks, else ``additional_kwargs["tool_calls"]``. Arguments
    that are not valid JSON are parsed as partial JSON, and as ``{}`` when even that
    fails, as ``llama_index.llms.openai`` does.
    """
    message = response.message
    found: list[tuple[str, str, Any]] = [
        (b.tool_call_id or "", b.tool_name, b.tool_kwargs)
        for b in message.blocks
        if isinstance(b, ToolCallBlock)
    ]
    if not found:
        for call in message.additional_kwargs.get("tool_calls") or []:
            data = _tool_call_dict(call)
            if data.get("type", "function") != "function":
                raise ValueError(f"unsupported tool call type: {data.get('type')!r}")
            fn = data.get("function") or {}
            found.append((data.get("id") or "", fn.get("name") or "", fn.get("arguments")))
    if not found:
        if error_on_no_tool_call:
            raise ValueError("Expected at least one tool call, but got 0 tool calls.")
        return []
    return [
        ToolSelection(tool_id=tool_id, tool_name=name, tool_kwargs=_arguments(args))
        for tool_id, name, args in found
    ]


def _arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except (TypeError, ValueError):
        try:
            value = parse_partial_json(arguments)
        except (TypeError, ValueError):
            return {}
    return value if isinstance(value, dict) else {}
