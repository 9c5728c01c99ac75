"""Pure conversions: LangChain messages to OpenAI dicts, completions and chunks back."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from portkey_integrations import Completion, CompletionChunk, ResponseInfo, Usage
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.langchain._chunks import ChatChunks, TextChunks, chunk_message
from portkey_integrations.langchain._messages import (
    ai_message,
    message_to_dict,
    portkey_metadata,
    usage_metadata,
)

CALL = {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}
OPENAI_CALL = {
    "id": "c1",
    "type": "function",
    "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (SystemMessage("be brief"), {"role": "system", "content": "be brief"}),
        (
            SystemMessage("dev", additional_kwargs={"__openai_role__": "developer"}),
            {"role": "developer", "content": "dev"},
        ),
        (HumanMessage("hi", name="bob"), {"role": "user", "content": "hi", "name": "bob"}),
        (AIMessage("hello"), {"role": "assistant", "content": "hello"}),
        (
            AIMessage("", tool_calls=[CALL]),
            {"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]},
        ),
        (
            # Anthropic-style blocks: the text survives, tool_use travels as tool_calls.
            AIMessage(
                [
                    {"type": "text", "text": "some text"},
                    {"type": "tool_use", "id": "c1", "name": "add", "input": {"a": 1, "b": 2}},
                ],
                tool_calls=[CALL],
            ),
            {"role": "assistant", "content": "some text", "tool_calls": [OPENAI_CALL]},
        ),
        (
            AIMessage(
                "",
                invalid_tool_calls=[
                    {
                        "type": "invalid_tool_call",
                        "name": "add",
                        "args": "{bad",
                        "id": "c2",
                        "error": None,
                    }
                ],
            ),
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "add", "arguments": "{bad"},
                    }
                ],
            },
        ),
        (
            ToolMessage("3", tool_call_id="c1", name="add", status="error"),
            {"role": "tool", "content": "3", "tool_call_id": "c1"},
        ),
        (ChatMessage("x", role="critic"), {"role": "critic", "content": "x"}),
        (
            HumanMessage(
                [
                    {"type": "text", "text": "look"},
                    {"type": "image", "url": "https://example.com/a.png"},
                ]
            ),
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
        ),
    ],
)
def test_message_to_dict(message: BaseMessage, expected: dict[str, Any]) -> None:
    assert message_to_dict(message) == expected


def test_usage_metadata_details() -> None:
    usage = Usage.model_validate(
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
    )
    assert usage_metadata(usage) == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 2},
    }


def test_usage_metadata_fills_total() -> None:
    got = usage_metadata(Usage(prompt_tokens=3, completion_tokens=4, total_tokens=0))
    assert got == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"prompt_id": "pp-a"}, ("pp-a", None)),
        ({"prompt_id": "pp-a@12"}, ("pp-a", "12")),
        ({"prompt_id": "pp-a", "prompt_version": "production"}, ("pp-a", "production")),
        ({"model": "m"}, None),
    ],
)
def test_prompt_ref(fields: dict[str, Any], expected: tuple[str, str | None] | None) -> None:
    assert PortkeyChatModel(api_key="k", **fields).prompt_ref == expected


def test_portkey_metadata() -> None:
    info = ResponseInfo(
        trace_id="t-1", cache_status="HIT", retry_attempt_count=1, provider="openai"
    )
    assert portkey_metadata(info, ("pp-a", "3")) == {
        "model_provider": "portkey",
        "portkey_trace_id": "t-1",
        "portkey_cache_status": "HIT",
        "portkey_retry_attempt_count": 1,
        "portkey_provider": "openai",
        "prompt_id": "pp-a",
        "prompt_version": "3",
    }
    assert portkey_metadata(ResponseInfo(), None) == {"model_provider": "portkey"}


def _completion(message: dict[str, Any], **extra: Any) -> Completion:
    return Completion.model_validate(
        {
            "id": "cmpl-1",
            "model": "m",
            "system_fingerprint": "fp",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", **extra}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
        }
    )


def test_ai_message_tool_calls_valid_and_invalid() -> None:
    completion = _completion(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{oops"}},
                {"id": "c", "type": "function", "function": {"name": "h", "arguments": "[1]"}},
            ],
        }
    )
    message, info = ai_message(completion, 0, {"model_provider": "portkey"})
    assert message.content == ""
    assert message.tool_calls == [{"name": "f", "args": {"x": 1}, "id": "a", "type": "tool_call"}]
    assert [c["id"] for c in message.invalid_tool_calls] == ["b", "c"]
    assert message.invalid_tool_calls[0]["args"] == "{oops"
    assert info == {"finish_reason": "stop"}
    assert message.response_metadata == {
        "model_provider": "portkey",
        "model_name": "m",
        "id": "cmpl-1",
        "system_fingerprint": "fp",
    }
    assert message.usage_metadata == {"input_tokens": 2, "output_tokens": 1, "total_tokens": 3}


def test_ai_message_logprobs_and_refusal() -> None:
    completion = _completion(
        {"role": "assistant", "content": "hi", "refusal": "no"}, logprobs={"content": []}
    )
    message, info = ai_message(completion, 0, {})
    assert info["logprobs"] == {"content": []}
    assert message.additional_kwargs == {"refusal": "no"}


def test_chunk_message_text_tool_calls_and_usage() -> None:
    text = CompletionChunk.model_validate(
        {"model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}
    )
    message, usage, info = chunk_message(text)
    assert message is not None and message.content == "Hel"
    assert usage is None and info is None

    call = CompletionChunk.model_validate(
        {
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 1, "id": "c1", "function": {"name": "f", "arguments": "{"}}
                        ]
                    },
                    "finish_reason": "tool_calls",
                }
            ],
        }
    )
    message, usage, info = chunk_message(call)
    assert message is not None
    assert message.tool_call_chunks == [
        {"type": "tool_call_chunk", "name": "f", "args": "{", "id": "c1", "index": 1}
    ]
    assert info == {"finish_reason": "tool_calls", "model_name": "m"}


@pytest.mark.parametrize(
    "event",
    [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "model": "m"},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
        {"hook_results": {}},
    ],
)
def test_events_without_content_give_no_message(event: dict[str, Any]) -> None:
    message, usage, info = chunk_message(CompletionChunk.model_validate(event))
    assert message is None
    if "usage" in event:
        assert usage == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    if event.get("model"):
        assert info == {"finish_reason": "stop", "model_name": "m"}


EVENTS = [
    {"model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}, "text": None}]},
    {"model": "m", "choices": [{"index": 0, "delta": {"content": " there"}}]},
    {"model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        "model": "m",
        "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    },
]


def test_chat_chunks_fold_contentless_events_into_the_last_chunk() -> None:
    convert = ChatChunks({"portkey_trace_id": "t"})
    chunks = [c for e in EVENTS if (c := convert(CompletionChunk.model_validate(e)))]
    chunks.append(convert.last())
    assert [c.text for c in chunks] == ["Hi", " there", ""]
    assert chunks[0].message.response_metadata == {"portkey_trace_id": "t"}
    assert chunks[1].message.response_metadata == {}
    last = chunks[-1]
    assert last.message.chunk_position == "last"  # type: ignore[attr-defined]
    assert last.message.usage_metadata == {  # type: ignore[attr-defined]
        "input_tokens": 1,
        "output_tokens": 2,
        "total_tokens": 3,
    }
    assert last.generation_info == {"finish_reason": "stop", "model_name": "m"}
    merged = chunks[0] + chunks[1] + chunks[2]
    assert merged.message.response_metadata["portkey_trace_id"] == "t"


def test_text_chunks() -> None:
    convert = TextChunks({"prompt_id": "pp"})
    chunks = [c for e in EVENTS if (c := convert(CompletionChunk.model_validate(e)))]
    last = convert.last()
    assert [c.text for c in chunks] == ["Hi", " there"]
    assert chunks[0].generation_info == {"prompt_id": "pp"}
    assert last is not None and last.generation_info == {
        "finish_reason": "stop",
        "model_name": "m",
        "token_usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
