"""Sync and async are one behaviour: every public pair sends the same requests and
gives the same outputs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

Run = Callable[[Any], Any]


def sent(server: LocalPortkeyServer) -> list[tuple[str, Any, str | None]]:
    return [(r.path, r.body, r.headers.get("accept")) for r in server.requests]


async def collect(agen: Any) -> list[Any]:
    return [item async for item in agen]


def text(value: Any) -> Any:
    """The comparable output of any call: text for messages, responses and chunks."""
    if isinstance(value, list):
        return [text(v) for v in value]
    for attr in ("content", "text", "message", "delta"):
        inner = getattr(value, attr, None)
        if inner is not None and attr != "message":
            return inner
        if attr == "message" and inner is not None:
            return inner.content
    return value


LC_INPUT = {"topic": "owls", "adjective": "dry"}
LC_BATCH = [{"topic": topic, "adjective": "dry"} for topic in ("a", "b", "c")]
LI_MESSAGES = [ChatMessage(role="user", content="tell me about owls")]

# (name, model factory kwargs, sync call, async call)
PAIRS: list[tuple[str, type, dict[str, Any], Run, Run]] = [
    ("lc-chat invoke", LCChat, {}, lambda m: m.invoke(LC_INPUT), lambda m: m.ainvoke(LC_INPUT)),
    (
        "lc-chat stream",
        LCChat,
        {},
        lambda m: list(m.stream(LC_INPUT)),
        lambda m: collect(m.astream(LC_INPUT)),
    ),
    (
        "lc-chat batch",
        LCChat,
        {},
        lambda m: m.batch([LC_INPUT, {"topic": "kites", "adjective": "wet"}]),
        lambda m: m.abatch([LC_INPUT, {"topic": "kites", "adjective": "wet"}]),
    ),
    (
        "lc-chat streaming invoke",
        LCChat,
        {"streaming": True},
        lambda m: m.invoke(LC_INPUT),
        lambda m: m.ainvoke(LC_INPUT),
    ),
    ("lc-llm invoke", LCLLM, {}, lambda m: m.invoke(LC_INPUT), lambda m: m.ainvoke(LC_INPUT)),
    (
        "lc-llm streaming invoke",
        LCLLM,
        {"streaming": True},
        lambda m: m.invoke(LC_INPUT),
        lambda m: m.ainvoke(LC_INPUT),
    ),
    (
        "lc-llm stream",
        LCLLM,
        {},
        lambda m: list(m.stream(LC_INPUT)),
        lambda m: collect(m.astream(LC_INPUT)),
    ),
    (
        "lc-llm batch",
        LCLLM,
        {},
        lambda m: m.batch(LC_BATCH, max_concurrency=2),
        lambda m: m.abatch(LC_BATCH, max_concurrency=2),
    ),
    ("li-chat chat", LIChat, {}, lambda m: m.chat(LI_MESSAGES), lambda m: m.achat(LI_MESSAGES)),
    (
        "li-chat stream_chat",
        LIChat,
        {},
        lambda m: list(m.stream_chat(LI_MESSAGES)),
        lambda m: _astream(m.astream_chat(LI_MESSAGES)),
    ),
    ("li-chat complete", LIChat, {}, lambda m: m.complete("owls"), lambda m: m.acomplete("owls")),
    (
        "li-chat stream_complete",
        LIChat,
        {},
        lambda m: list(m.stream_complete("owls")),
        lambda m: _astream(m.astream_complete("owls")),
    ),
    ("li-llm complete", LILLM, {}, lambda m: m.complete("owls"), lambda m: m.acomplete("owls")),
    (
        "li-llm stream_complete",
        LILLM,
        {},
        lambda m: list(m.stream_complete("owls")),
        lambda m: _astream(m.astream_complete("owls")),
    ),
    ("li-llm chat", LILLM, {}, lambda m: m.chat(LI_MESSAGES), lambda m: m.achat(LI_MESSAGES)),
]


async def _astream(coro: Any) -> list[Any]:
    return await collect(await coro)


def order_free(requests: list[Any]) -> list[Any]:
    # batch sends its requests concurrently: compare them as a multiset.
    return sorted(requests, key=repr)


@pytest.mark.parametrize(
    ("name", "cls", "kwargs", "sync", "async_"), PAIRS, ids=[p[0] for p in PAIRS]
)
def test_sync_and_async_send_and_return_the_same(
    name: str,
    cls: type,
    kwargs: dict[str, Any],
    sync: Run,
    async_: Run,
    server: LocalPortkeyServer,
) -> None:
    prompt = "pp-joke" if cls in (LCChat, LCLLM) else "pp-assistant"
    model = cls(prompt_id=prompt, base_url=server.base_url, seed=7, **kwargs)
    sync_out = text(sync(model))
    sync_sent = sent(server)
    server.clear_requests()
    async_out = text(asyncio.run(async_(model)))
    async_sent = sent(server)
    assert sync_sent, "the sync call sent nothing"
    assert order_free(async_sent) == order_free(sync_sent)
    assert async_out == sync_out
    if "stream" in name:
        assert all(accept == "text/event-stream" for _, _, accept in sync_sent)
