"""LlamaIndex messages to OpenAI dicts, and a response's tool calls back.

Pure functions. Outgoing messages become the OpenAI dicts that both the chat route and
the prompt variables (``chat_history``, ``agent_scratchpad``) carry; :func:`tool_selections`
reads the tool calls of a response (:mod:`._responses` builds the responses).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from .._errors import PromptMappingError

__all__ = ["to_openai_message", "to_openai_messages", "tool_selections"]


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


# -- tool calls of a response ----------------------------------------------------


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
