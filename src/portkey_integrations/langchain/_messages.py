"""LangChain messages to and from OpenAI-format dicts, inputs as prompt variables,
usage and response metadata.

Module-level converters in the style of langchain-openai's ``_convert_message_to_dict``
and ``_convert_delta_to_message_chunk``: pure functions the models call once per
message or event. String content (the common case) takes a direct path; list content
(images, Anthropic-style blocks, v1 content blocks) goes through langchain-core's own
OpenAI converter.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from langchain_core.exceptions import ModelAPIError
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    InvalidToolCall,
    ToolCall,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from .._adapters.convert import parse_tool_arguments
from .._adapters.tracing import hook_results_dict
from .._response import (
    Completion,
    Message,
    ResponseInfo,
    Usage,
)

if TYPE_CHECKING:
    from .._adapters.mapping import Piece

__all__ = [
    "VARIABLES_KEY",
    "MappedInput",
    "ai_message",
    "chat_result",
    "combine_llm_outputs",
    "dict_input",
    "marked_variables",
    "message_lists",
    "message_to_dict",
    "messages_to_dicts",
    "openai_variables",
    "portkey_metadata",
    "prompt_variables",
    "usage_metadata",
]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def _openai_content(message: BaseMessage) -> Any:
    # Lazy: only list content (multimodal or block-style) needs the full converter.
    from langchain_core.messages import convert_to_openai_messages

    converted = convert_to_openai_messages(message)
    assert isinstance(converted, dict)
    return converted.get("content", "")


def _ai_text(content: Any) -> str:
    # An assistant turn goes back as text: tool_use / reasoning / tool_call blocks are
    # carried by ``tool_calls`` (or are not replayable at all).
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, Mapping) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


_CHUNK_KINDS = {
    "AIMessageChunk": "ai",
    "HumanMessageChunk": "human",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
    "ChatMessageChunk": "chat",
    "FunctionMessageChunk": "function",
}
"""A streamed turn kept in a history is a chunk; it is sent as the message it merges to."""


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """One LangChain message as an OpenAI chat message dict."""
    kind = _CHUNK_KINDS.get(message.type, message.type)
    content = message.content
    if kind == "ai":
        assert isinstance(message, AIMessage)
        out: dict[str, Any] = {"role": "assistant", "content": _ai_text(content)}
        calls = [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
            }
            for call in message.tool_calls
        ]
        calls += [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": call.get("name") or "", "arguments": call.get("args") or ""},
            }
            for call in message.invalid_tool_calls
        ]
        if not calls and "tool_calls" in message.additional_kwargs:
            calls = [
                {k: v for k, v in call.items() if k in ("id", "type", "function")}
                for call in message.additional_kwargs["tool_calls"]
            ]
        if calls:
            out["tool_calls"] = calls
            out["content"] = out["content"] or None
        elif "function_call" in message.additional_kwargs:
            out["function_call"] = message.additional_kwargs["function_call"]
    elif kind == "tool":
        tool_call_id = getattr(message, "tool_call_id", None)
        text = content if isinstance(content, str) else _openai_content(message)
        return {"role": "tool", "content": text, "tool_call_id": tool_call_id}
    else:
        role = _ROLES.get(kind)
        if kind == "system":
            role = message.additional_kwargs.get("__openai_role__", "system")
        elif role is None:
            role = getattr(message, "role", None) or kind  # ChatMessage, FunctionMessage
        out = {
            "role": role,
            "content": content if isinstance(content, str) else _openai_content(message),
        }
    if message.name is not None and kind != "tool":
        out["name"] = message.name
    return out


def messages_to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as OpenAI chat message dicts."""
    return [message_to_dict(m) for m in messages]


# -- inputs as prompt variables ---------------------------------------------------------

VARIABLES_KEY = "portkey_variables"
"""``additional_kwargs`` key of the marker message that carries a dict input."""


@dataclasses.dataclass(frozen=True, slots=True)
class MappedInput:
    """An input mapped onto prompt variables, with the pieces of content it carries
    (what the mapping rule checks against the saved template before sending)."""

    variables: dict[str, Any]
    pieces: list[Piece]

    @property
    def mapped(self) -> frozenset[str]:
        """The variables carrying the pieces: the mapping rule judges them, so the
        core's variables check does not warn about them again."""
        pieces = self.pieces
        if not pieces:
            return frozenset()
        if len(pieces) == 1:
            return pieces[0].names
        return frozenset().union(*(piece.names for piece in pieces))


def dict_input(variables: Mapping[str, Any]) -> MappedInput:
    """A dict input: the caller's variables, message lists as OpenAI message dicts.

    Lists of messages are pieces the template must read (a framework such as
    ``RunnableWithMessageHistory`` put them there); the other keys are the caller's
    own, checked by the core's variables check (a warning when the template never
    reads one).
    """
    # The mapping rule loads with the first call that maps an input (import budget).
    from .._adapters.mapping import message_list_pieces

    converted = openai_variables(variables)
    return MappedInput(converted, message_list_pieces(converted, message_lists(variables)))


def marked_variables(messages: Sequence[BaseMessage]) -> dict[str, Any] | None:
    """The variables of a dict input, if ``messages`` is its marker message."""
    if len(messages) == 1:
        variables = messages[0].additional_kwargs.get(VARIABLES_KEY)
        if isinstance(variables, dict):
            return variables
    return None


def prompt_variables(prompt: str) -> dict[str, Any] | None:
    """The variables of a dict input, if ``prompt`` is its marker string."""
    return getattr(prompt, "variables", None)


def openai_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Variables with lists of LangChain messages turned into OpenAI message dicts,
    so a dict input can carry ``chat_history`` as messages."""
    out = dict(variables)
    for name in message_lists(variables):
        out[name] = messages_to_dicts(variables[name])
    return out


def message_lists(variables: Mapping[str, Any]) -> list[str]:
    """The names of a dict input's values that are lists of LangChain messages (what
    ``RunnableWithMessageHistory`` puts there): content for the model, not settings."""
    return [
        name
        for name, value in variables.items()
        if isinstance(value, list)
        and value
        and all(isinstance(item, BaseMessage) for item in value)
    ]


# -- completions as LangChain results ---------------------------------------------------


def usage_metadata(usage: Usage) -> UsageMetadata:
    """OpenAI ``usage`` as LangChain ``UsageMetadata`` (cache reads, reasoning tokens)."""
    input_tokens = usage.prompt_tokens or 0
    output_tokens = usage.completion_tokens or 0
    # cast: some langchain-core releases declare the detail keys required.
    result = cast(
        "UsageMetadata",
        {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": usage.total_tokens or input_tokens + output_tokens,
        },
    )
    prompt_details = usage.prompt_tokens_details
    input_details = InputTokenDetails()
    if prompt_details is not None:
        if prompt_details.cached_tokens is not None:
            input_details["cache_read"] = prompt_details.cached_tokens
        if prompt_details.audio_tokens is not None:
            input_details["audio"] = prompt_details.audio_tokens
    completion_details = usage.completion_tokens_details
    output_details = OutputTokenDetails()
    if completion_details is not None:
        if completion_details.reasoning_tokens is not None:
            output_details["reasoning"] = completion_details.reasoning_tokens
        if completion_details.audio_tokens is not None:
            output_details["audio"] = completion_details.audio_tokens
    if input_details:
        result["input_token_details"] = input_details
    if output_details:
        result["output_token_details"] = output_details
    return result


def portkey_metadata(
    info: ResponseInfo, prompt_ref: tuple[str, str | None] | None
) -> dict[str, Any]:
    """What Portkey's headers and the prompt id add to ``response_metadata``:
    ``prompt_version`` is the version or label asked for, ``prompt_version_number`` the
    number that ran (when the response names it)."""
    meta: dict[str, Any] = {"model_provider": "portkey", **info.metadata("portkey_")}
    if prompt_ref is not None:
        meta["prompt_id"], meta["prompt_version"] = prompt_ref
        if info.prompt_version is not None:
            meta["prompt_version_number"] = info.prompt_version
    return meta


def _tool_calls(message: Message) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in message.tool_calls or ():
        fn = raw.function
        try:
            args = parse_tool_arguments(fn.arguments)
        except ValueError as exc:
            invalid.append(
                cast(
                    "InvalidToolCall",
                    {
                        "type": "invalid_tool_call",
                        "name": fn.name,
                        "args": fn.arguments,
                        "id": raw.id,
                        "error": f"invalid JSON arguments: {exc}",
                    },
                )
            )
        else:
            calls.append(ToolCall(type="tool_call", name=fn.name or "", args=args, id=raw.id))
    return calls, invalid


def ai_message(
    completion: Completion, index: int, base_metadata: Mapping[str, Any]
) -> tuple[AIMessage, dict[str, Any]]:
    """Choice ``index`` of a completion as an ``AIMessage`` plus its generation info."""
    choice = completion.choices[index]
    message = choice.message or Message(content=choice.text)
    content = message.content
    if content is None:
        content = ""
    additional: dict[str, Any] = {}
    if message.function_call is not None:
        additional["function_call"] = message.function_call.model_dump(exclude_none=True)
    if message.refusal is not None:
        additional["refusal"] = message.refusal
    tool_calls, invalid = _tool_calls(message) if message.tool_calls else ([], [])
    metadata = dict(base_metadata)
    metadata["model_name"] = completion.model
    if completion.id is not None:
        metadata["id"] = completion.id
    if completion.system_fingerprint is not None:
        metadata["system_fingerprint"] = completion.system_fingerprint
    info: dict[str, Any] = {"finish_reason": choice.finish_reason}
    if choice.logprobs is not None:
        info["logprobs"] = choice.logprobs
    result = AIMessage(
        content=content,
        additional_kwargs=additional,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        response_metadata=metadata,
        usage_metadata=usage_metadata(completion.usage) if completion.usage else None,
    )
    return result, info


def chat_result(completion: Completion, prompt_ref: tuple[str, str | None] | None) -> ChatResult:
    """A completion as LangChain's ``ChatResult``: one generation per choice, with the
    Portkey metadata, and the usage as ``llm_output``."""
    if not completion.choices:
        raise ModelAPIError(
            f"Portkey returned a completion without choices (trace id "
            f"{completion.portkey.trace_id})"
        )
    base = portkey_metadata(completion.portkey, prompt_ref)
    base.update(hook_results_dict(completion.model_extra))
    generations = []
    for index in range(len(completion.choices)):
        message, info = ai_message(completion, index, base)
        generations.append(ChatGeneration(message=message, generation_info=info))
    usage = completion.usage
    llm_output = {
        "token_usage": usage.model_dump(exclude_none=True) if usage is not None else {},
        "model_name": completion.model,
        "system_fingerprint": completion.system_fingerprint,
    }
    return ChatResult(generations=generations, llm_output=llm_output)


def combine_llm_outputs(outputs: list[dict[str, Any] | None], model: str | None) -> dict[str, Any]:
    """The ``llm_output`` of a batch: token usage summed, the first model name seen."""
    totals: dict[str, int] = {}
    model_name = None
    for output in outputs:
        if not output:
            continue
        model_name = model_name or output.get("model_name")
        for key, value in (output.get("token_usage") or {}).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return {"token_usage": totals, "model_name": model_name or model}
