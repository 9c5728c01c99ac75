"""A streamed response's ``raw``: the chunk's JSON as it arrived, read on demand."""

from __future__ import annotations

import copy
import gc
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks.token_counting import get_tokens_from_response

from portkey_integrations import CompletionChunk
from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.types import RawChunk

EVENT = (
    '{"id":"c1","object":"chat.completion.chunk","model":"m",'
    '"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],'
    '"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}'
)


def test_holds_only_the_text_until_read() -> None:
    raw = RawChunk(EVENT)
    # One object for the collector to track, not the nine of a parsed chunk.
    held = [o for o in gc.get_referents(raw) if gc.is_tracked(o) and o is not RawChunk]
    assert held == []
    assert raw.json == EVENT and "RawChunk('{" in repr(raw)


def test_reads_as_the_json_mapping() -> None:
    raw = RawChunk(EVENT)
    assert raw["choices"][0]["delta"]["content"] == "hi"
    assert dict(raw) == json.loads(EVENT) and raw == json.loads(EVENT)
    assert raw.get("system_fingerprint") is None and len(raw) == 5
    assert raw.chunk == CompletionChunk.model_validate_json(EVENT)


def test_copies_pickles_and_serializes_as_its_json() -> None:
    raw = RawChunk(EVENT)
    assert pickle.loads(pickle.dumps(raw)) == raw
    assert copy.deepcopy(raw).json == EVENT
    response = ChatResponse(message=ChatMessage(role="assistant", content="hi"), raw=raw)
    assert response.model_dump()["raw"] == json.loads(EVENT)
    assert json.loads(response.model_dump_json())["raw"] == json.loads(EVENT)


def test_llama_index_token_counter_reads_its_usage() -> None:
    response = ChatResponse(message=ChatMessage(role="assistant"), raw=RawChunk(EVENT))
    assert get_tokens_from_response(response) == (3, 1)


@pytest.mark.parametrize("run", ["sync", "async"])
async def test_each_streamed_response_carries_its_own_event(
    run: str, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    llm = chat_model(prompt_id="pp-assistant")
    messages = [ChatMessage(role="user", content="one two three")]
    responses: list[Any]
    if run == "sync":
        responses = list(llm.stream_chat(messages))
    else:
        responses = [r async for r in await llm.astream_chat(messages)]
    texts = [r for r in responses if r.delta]
    assert len(texts) > 1
    for response in texts:
        assert isinstance(response.raw, RawChunk)
        assert response.raw["choices"][0]["delta"]["content"] == response.delta
    assert (
        responses[-1].raw["usage"]["total_tokens"]
        == responses[-1].additional_kwargs["total_tokens"]
    )
