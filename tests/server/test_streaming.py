"""Streams: OpenAI's chunk format, usage chunk, tool-call deltas, text completion streams."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .helpers import chat, chunks, content_of, sse_events
from .test_tools import TIME, WEATHER


def stream(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    r = client.post(path, json={**body, "stream": True})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return r


def test_chat_stream_format(client: httpx.Client) -> None:
    parts = chunks(stream(client, "/chat/completions", chat("one two  three")))
    assert len({p["id"] for p in parts}) == 1
    assert {p["object"] for p in parts} == {"chat.completion.chunk"}
    assert all("usage" not in p for p in parts)
    first, *middle, last = parts
    assert first["choices"] == [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": "", "refusal": None},
            "logprobs": None,
            "finish_reason": None,
        }
    ]
    assert [p["choices"][0]["delta"] for p in middle] == [
        {"content": "Echo:"},
        {"content": " one"},
        {"content": " two"},
        {"content": "  three"},
    ]
    assert last["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]


def test_stream_matches_the_non_stream_content(client: httpx.Client) -> None:
    body = chat("text with\nnew lines and trailing space ", stop="space")
    whole = client.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert content_of(chunks(stream(client, "/chat/completions", body))) == whole


def test_usage_chunk(client: httpx.Client) -> None:
    parts = chunks(
        stream(client, "/chat/completions", chat("a b", stream_options={"include_usage": True}))
    )
    *rest, usage = parts
    assert usage["choices"] == []
    assert usage["usage"]["prompt_tokens"] == 2 and usage["usage"]["completion_tokens"] == 3
    assert usage["usage"]["total_tokens"] == 5
    assert usage["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    assert all(p["usage"] is None for p in rest)
    no_usage = chunks(
        stream(client, "/chat/completions", chat("a b", stream_options={"include_usage": False}))
    )
    assert all(p["choices"] for p in no_usage)


def test_stream_max_tokens_and_n(client: httpx.Client) -> None:
    parts = chunks(
        stream(client, "/chat/completions", chat("a b c d", n=2, max_completion_tokens=2))
    )
    for index in (0, 1):
        assert content_of(parts, index) == "Echo: a"
        finishes = [
            p["choices"][0]["finish_reason"] for p in parts if p["choices"][0]["index"] == index
        ]
        assert finishes[-1] == "length"


def test_stream_logprobs(client: httpx.Client) -> None:
    parts = chunks(stream(client, "/chat/completions", chat("x y", logprobs=True, top_logprobs=2)))
    for part in parts[1:-1]:
        (entry,) = part["choices"][0]["logprobs"]["content"]
        assert entry["token"] == part["choices"][0]["delta"]["content"]
        assert len(entry["top_logprobs"]) == 2


def tool_deltas(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for p in parts for d in p["choices"][0]["delta"].get("tool_calls") or []]


def test_tool_call_deltas_like_openai(client: httpx.Client) -> None:
    body = chat("long question about the weather in Oslo today", tools=[WEATHER])
    whole = client.post("/chat/completions", json=body).json()["choices"][0]["message"][
        "tool_calls"
    ][0]
    parts = chunks(stream(client, "/chat/completions", body))
    assert parts[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    first, *fragments = tool_deltas(parts)
    assert first == {
        "index": 0,
        "id": whole["id"],
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert len(fragments) > 1
    for fragment in fragments:
        assert set(fragment) == {"index", "function"} and set(fragment["function"]) == {"arguments"}
    assert "".join(f["function"]["arguments"] for f in fragments) == whole["function"]["arguments"]
    assert parts[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }


def test_parallel_tool_call_deltas(client: httpx.Client) -> None:
    body = chat("get_weather and get_time", tools=[WEATHER, TIME], parallel_tool_calls=True)
    deltas = tool_deltas(chunks(stream(client, "/chat/completions", body)))
    starts = [d for d in deltas if "id" in d]
    assert [(d["index"], d["function"]["name"]) for d in starts] == [
        (0, "get_weather"),
        (1, "get_time"),
    ]
    for index in (0, 1):
        args = "".join(d["function"]["arguments"] for d in deltas if d["index"] == index)
        assert json.loads(args) == {"city": "get_weather and get_time"}


def test_text_completion_stream(client: httpx.Client) -> None:
    body = {"prompt": "once upon", "stream_options": {"include_usage": True}}
    *parts, usage = chunks(stream(client, "/completions", body))
    assert {p["object"] for p in parts} == {"text_completion"}
    assert "".join(p["choices"][0]["text"] for p in parts) == "Echo: once upon"
    assert parts[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(p["choices"][0]["finish_reason"] is None for p in parts[:-1])
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 3


def test_prompt_completion_streams(client: httpx.Client) -> None:
    r = stream(
        client,
        "/prompts/pp-joke@production/completions",
        {"variables": {"adjective": "a", "topic": "b"}},
    )
    assert content_of(chunks(r)) == "Echo: Tell me a a joke about b, please."
    r = stream(client, "/prompts/pp-text-complete/completions", {"variables": {"input": "go"}})
    assert "".join(p["choices"][0]["text"] for p in chunks(r)) == "Echo: go"


async def test_async_client_reads_the_stream_incrementally(aclient: httpx.AsyncClient) -> None:
    received = []
    async with aclient.stream("POST", "/chat/completions", json=chat("a b c", stream=True)) as r:
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                received.append(line[6:])
    assert received[-1] == "[DONE]"
    assert content_of([json.loads(e) for e in received[:-1]]) == "Echo: a b c"


@pytest.mark.parametrize("path", ["/chat/completions", "/completions"])
def test_every_event_is_a_data_line(client: httpx.Client, path: str) -> None:
    r = stream(client, path, {**chat("x"), "prompt": "x"})
    blocks = [b for b in r.text.split("\n\n") if b]
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks)
    assert sse_events(r)[-1] == "[DONE]"


def test_text_stream_logprobs_match_the_non_stream_ones(client: httpx.Client) -> None:
    body = {"prompt": "a b c", "logprobs": 2}
    whole = client.post("/completions", json=body).json()["choices"][0]["logprobs"]
    parts = chunks(stream(client, "/completions", body))[:-1]
    streamed = [lp for p in parts for lp in p["choices"][0]["logprobs"]["token_logprobs"]]
    assert streamed == whole["token_logprobs"]
    assert [p["choices"][0]["logprobs"]["text_offset"][0] for p in parts] == whole["text_offset"]
