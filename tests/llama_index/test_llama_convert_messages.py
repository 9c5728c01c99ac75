"""ChatMessage <-> OpenAI dicts, stream assembly, tool selections: pure functions."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from portkey_integrations import Completion, CompletionChunk, ResponseInfo, ToolCall, Usage
from portkey_integrations.llama_index._messages import (
    to_openai_message,
    to_openai_messages,
    tool_selections,
)
from portkey_integrations.llama_index._responses import (
    ChatStream,
    CompletionStream,
    chat_message_from_choice,
    logprobs_from_choice,
    response_kwargs,
)

CALL = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (ChatMessage(role="user", content="hi"), {"role": "user", "content": "hi"}),
        (ChatMessage(role="system", content="be brief"), {"role": "system", "content": "be brief"}),
        (
            ChatMessage(role="user", blocks=[TextBlock(text="a"), TextBlock(text="b")]),
            {"role": "user", "content": "ab"},
        ),
        (
            ChatMessage(
                role="assistant",
                blocks=[ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 1})],
            ),
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
        ),
        (
            ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [CALL]}),
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
        ),
        (
            ChatMessage(
                role="assistant", content="", additional_kwargs={"tool_calls": [ToolCall(**CALL)]}
            ),
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
        ),
        (
            ChatMessage(role="tool", content="2", additional_kwargs={"tool_call_id": "c1"}),
            {"role": "tool", "content": "2", "tool_call_id": "c1"},
        ),
        (
            ChatMessage(
                role="assistant",
                blocks=[ThinkingBlock(content="hmm"), TextBlock(text="done")],
            ),
            {"role": "assistant", "content": "done"},
        ),
    ],
)
def test_to_openai_message(message: ChatMessage, expected: dict[str, Any]) -> None:
    assert to_openai_message(message) == expected


def test_tool_call_block_arguments_string_is_kept_verbatim() -> None:
    block = ToolCallBlock(tool_call_id="c9", tool_name="f", tool_kwargs='{"x": [1, 2]}')
    out = to_openai_message(ChatMessage(role="assistant", blocks=[TextBlock(text="ok"), block]))
    assert out["content"] == "ok"
    assert out["tool_calls"][0]["function"]["arguments"] == '{"x": [1, 2]}'


def test_user_image_becomes_content_parts() -> None:
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="what is this?"), ImageBlock(url="https://x.test/a.png")],
    )
    assert to_openai_message(message) == {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        ],
    }


def test_inline_image_becomes_data_url() -> None:
    message = ChatMessage(
        role="user", blocks=[ImageBlock(image=b"\x89PNG....", image_mimetype="image/png")]
    )
    part = to_openai_message(message)["content"][0]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")


def test_to_openai_messages_keeps_order() -> None:
    out = to_openai_messages(
        [ChatMessage(role=MessageRole.SYSTEM, content="s"), ChatMessage(role="user", content="u")]
    )
    assert [m["role"] for m in out] == ["system", "user"]


def _completion(message: dict[str, Any], **extra: Any) -> Completion:
    return Completion.model_validate(
        {"object": "chat.completion", "choices": [{"index": 0, "message": message}], **extra}
    )


def test_chat_message_from_text_choice() -> None:
    msg = chat_message_from_choice(_completion({"role": "assistant", "content": "hi"}).choices[0])
    assert msg.role == MessageRole.ASSISTANT
    assert msg.content == "hi"
    assert msg.additional_kwargs == {}


def test_chat_message_from_tool_call_choice() -> None:
    completion = _completion({"role": "assistant", "content": None, "tool_calls": [CALL]})
    msg = chat_message_from_choice(completion.choices[0])
    blocks = [b for b in msg.blocks if isinstance(b, ToolCallBlock)]
    assert [(b.tool_call_id, b.tool_name, b.tool_kwargs) for b in blocks] == [
        ("c1", "add", '{"a": 1}')
    ]
    assert msg.additional_kwargs["tool_calls"] == [CALL]
    assert msg.content is None
    # Round trip: the assistant turn goes back out exactly as it came in.
    assert to_openai_message(msg) == {"role": "assistant", "content": None, "tool_calls": [CALL]}


def test_chat_message_keeps_reasoning_and_refusal() -> None:
    completion = _completion(
        {"role": "assistant", "content": "4", "reasoning_content": "2+2", "refusal": "no"}
    )
    msg = chat_message_from_choice(completion.choices[0])
    assert isinstance(msg.blocks[0], ThinkingBlock)
    assert msg.blocks[0].content == "2+2"
    assert msg.content == "4"
    assert msg.additional_kwargs["refusal"] == "no"


def test_chat_message_from_text_completion_choice_and_none() -> None:
    completion = Completion.model_validate(
        {"object": "text_completion", "choices": [{"index": 0, "text": "abc"}]}
    )
    assert chat_message_from_choice(completion.choices[0]).content == "abc"
    assert chat_message_from_choice(None).content == ""


def test_logprobs_chat_and_text_shapes() -> None:
    chat = _completion({"role": "assistant", "content": "a"})
    chat.choices[0].logprobs = {
        "content": [
            {
                "token": "a",
                "logprob": -0.1,
                "top_logprobs": [{"token": "a", "logprob": -0.1}, {"token": "b", "logprob": -2}],
            }
        ]
    }
    result = logprobs_from_choice(chat.choices[0])
    assert result is not None
    assert [[(p.token, p.logprob) for p in row] for row in result] == [[("a", -0.1), ("b", -2)]]
    chat.choices[0].logprobs = {"top_logprobs": [{"x": -0.5}]}
    text = logprobs_from_choice(chat.choices[0])
    assert text is not None and text[0][0].token == "x"
    chat.choices[0].logprobs = None
    assert logprobs_from_choice(chat.choices[0]) is None


def test_response_kwargs_has_usage_and_portkey_headers() -> None:
    info = ResponseInfo.from_headers(
        200,
        {
            "x-portkey-trace-id": "t-1",
            "x-portkey-cache-status": "HIT",
            "x-portkey-provider": "openai",
            "x-portkey-retry-attempt-count": "1",
        },
    )
    out = response_kwargs(
        Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7), info, ("pp-a", "2")
    )
    assert out == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "trace_id": "t-1",
        "cache_status": "HIT",
        "provider": "openai",
        "retry_attempt_count": 1,
        "prompt_id": "pp-a",
        "prompt_version": "2",
    }
    assert response_kwargs(None, ResponseInfo(), None) == {}


def _chunk(delta: dict[str, Any] | None = None, **extra: Any) -> CompletionChunk:
    choices = [] if delta is None else [{"index": 0, "delta": delta}]
    return CompletionChunk.model_validate({"choices": choices, **extra})


def test_stream_assembler_yields_cumulative_messages_with_deltas() -> None:
    assembler = ChatStream(ResponseInfo(trace_id="t"), ("pp-a", None))
    chunks = [
        _chunk({"role": "assistant", "content": "Let "}),
        _chunk({"content": "me."}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "add", "arguments": ""},
                    }
                ]
            }
        ),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "mul", "arguments": "{}"},
                    }
                ]
            }
        ),
        _chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}),
    ]
    responses = [_feed(assembler, c) for c in chunks]
    assert [r.delta for r in responses] == ["Let ", "me.", "", "", "", "", ""]
    assert responses[1].message.content == "Let me."
    partial = responses[3]
    assert partial.message.additional_kwargs["tool_calls"][0]["function"]["arguments"] == '{"a": '
    last = responses[-1]
    assert last.message.content == "Let me."
    assert [c["function"]["name"] for c in last.message.additional_kwargs["tool_calls"]] == [
        "add",
        "mul",
    ]
    assert [b.tool_name for b in last.message.blocks if isinstance(b, ToolCallBlock)] == [
        "add",
        "mul",
    ]
    assert last.additional_kwargs["total_tokens"] == 11
    assert last.additional_kwargs["trace_id"] == "t"
    assert last.additional_kwargs["prompt_id"] == "pp-a"
    assert "total_tokens" not in responses[0].additional_kwargs
    # Earlier responses are snapshots: later chunks never change them.
    assert len(responses[2].message.additional_kwargs["tool_calls"]) == 1
    assert responses[2].message.additional_kwargs["tool_calls"][0]["function"]["arguments"] == ""


def test_stream_assembler_reasoning_deltas() -> None:
    assembler = ChatStream(ResponseInfo(), None)
    first = _feed(assembler, _chunk({"reasoning_content": "think "}))
    second = _feed(assembler, _chunk({"reasoning_content": "more", "content": "ok"}))
    assert first.additional_kwargs["thinking_delta"] == "think "
    assert isinstance(second.message.blocks[0], ThinkingBlock)
    assert second.message.blocks[0].content == "think more"
    assert (second.delta, second.message.content) == ("ok", "ok")


def test_stream_assembler_text_completion_chunks() -> None:
    assembler = ChatStream(ResponseInfo(), None)
    first = CompletionChunk.model_validate({"choices": [{"index": 0, "text": "ab"}]})
    response = _feed(assembler, first)
    assert (response.delta, response.message.content) == ("ab", "ab")
    # raw is the chunk's JSON as sent, and types back into the chunk.
    assert response.raw == {"choices": [{"index": 0, "text": "ab"}]}
    assert response.raw.chunk == first


def _feed(assembler: Any, chunk: CompletionChunk) -> Any:
    return assembler.feed(chunk, chunk.model_dump_json(exclude_unset=True))


def _response(blocks: list[Any], **extra: Any) -> ChatResponse:
    return ChatResponse(
        message=ChatMessage(role="assistant", blocks=blocks, additional_kwargs=extra)
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ({"a": 2}, {"a": 2}),
        ('{"a": 1, "b": [2', {"a": 1, "b": [2]}),  # partial JSON, as a stream leaves it
        ("not json at all", {}),
        ("[1, 2]", {}),
        ("", {}),
    ],
)
def test_tool_selections_parse_arguments_leniently(
    arguments: Any, expected: dict[str, Any]
) -> None:
    block = ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs=arguments)
    [selection] = tool_selections(_response([block]))
    assert (selection.tool_id, selection.tool_name, selection.tool_kwargs) == (
        "c1",
        "add",
        expected,
    )


def test_tool_selections_fall_back_to_additional_kwargs() -> None:
    response = _response([TextBlock(text="")], tool_calls=[CALL, ToolCall(**{**CALL, "id": "c2"})])
    assert [(s.tool_id, s.tool_kwargs) for s in tool_selections(response)] == [
        ("c1", {"a": 1}),
        ("c2", {"a": 1}),
    ]


def test_tool_selections_without_calls() -> None:
    response = _response([TextBlock(text="plain")])
    assert tool_selections(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="at least one tool call"):
        tool_selections(response)
    bad = _response([], tool_calls=[{"id": "x", "type": "retrieval"}])
    with pytest.raises(ValueError, match="unsupported tool call type"):
        tool_selections(bad)


@pytest.mark.parametrize(
    ("block", "mimetype"),
    [
        (DocumentBlock(data=b"%PDF-1.4 tiny", title="r.pdf"), "application/pdf"),
        (DocumentBlock(data=b"plain words", document_mimetype="text/plain"), "text/plain"),
    ],
)
def test_documents_become_file_parts(block: DocumentBlock, mimetype: str) -> None:
    raw = block.resolve_document().read()
    [part] = to_openai_message(ChatMessage(role="user", blocks=[block]))["content"]
    assert part == {
        "type": "file",
        "file": {
            "filename": block.title,
            "file_data": f"data:{mimetype};base64,{base64.b64encode(raw).decode()}",
        },
    }


@pytest.mark.parametrize("kind", [ChatStream, CompletionStream])
def test_stream_responses_carry_the_first_events_guardrail_results(kind: Any) -> None:
    hooks = {"before_request_hooks": [{"id": "g1", "verdict": True}]}
    stream = kind(ResponseInfo(trace_id="t"), ("pp-a", None))
    chunks = [
        _chunk({"role": "assistant"}, hook_results=hooks),  # a role-only event: no response
        _chunk({"content": "a"}),
        _chunk({"content": "b"}),
        _chunk(None, usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    ]
    responses = [r for c in chunks if (r := _feed(stream, c)) is not None]
    assert [r.delta for r in responses][-3:] == ["a", "b", ""]
    for response in responses:
        assert response.additional_kwargs["hook_results"] == hooks
        assert response.additional_kwargs["trace_id"] == "t"
        assert response.additional_kwargs["prompt_id"] == "pp-a"
    # Each response owns its dict: the stream's shared one is never handed out.
    responses[-2].additional_kwargs["x"] = 1
    assert "x" not in responses[-1].additional_kwargs
    assert responses[-1].additional_kwargs["total_tokens"] == 3
    assert "total_tokens" not in responses[-2].additional_kwargs
