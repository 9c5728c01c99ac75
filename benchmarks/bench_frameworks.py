"""The adapters against the floor models and the frameworks' own OpenAI integrations.

Each case times three candidates in interleaved rounds against one local server (in its
own process): our adapter, the floor model of :mod:`._floors` making the same single
call, and, on ``/chat/completions``, LangChain's ``ChatOpenAI`` or llama-index's
``OpenAI``. Target: 1.05x the floor. Run alone: ``python -m benchmarks.bench_frameworks``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ._harness import TOPIC, Row, Server, Settings, compare, has_module, serve, timed_row

Candidates = dict[str, Callable[[], object]]
AsyncCall = Callable[[], Awaitable[object]]
# Portkey answers /chat/completions only when told where to route it.
ROUTE = {"x-portkey-provider": "openai"}


def _rows(
    section: str, name: str, candidates: Candidates, settings: Settings, calls: int
) -> list[Row]:
    times = compare(
        candidates, calls=settings.pick(calls, 10), rounds=settings.pick(21, 3), warmup=10
    )
    rows = [timed_row(section, name, times, "ours", "floor", target=1.05)]
    peers = [name for name in candidates if name not in ("ours", "floor")]
    rows += [timed_row(section, name, times, "ours", peer) for peer in peers]
    return rows


def _async_rows(
    section: str, cases: dict[str, dict[str, AsyncCall]], settings: Settings
) -> list[Row]:
    """Async cases, one call at a time on one event loop (the concurrency rows run 200
    at once)."""
    loop = asyncio.new_event_loop()

    def on_loop(call: AsyncCall) -> Callable[[], object]:
        return lambda: loop.run_until_complete(call())

    try:
        rows: list[Row] = []
        for name, candidates in cases.items():
            on = {side: on_loop(call) for side, call in candidates.items()}
            rows += _rows(section, name, on, settings, 80)
        return rows
    finally:
        loop.close()


def _achat(model: Any, messages: Any) -> AsyncCall:
    return lambda: model.achat(messages)


def _astream_chat(model: Any, messages: Any) -> AsyncCall:
    async def run() -> object:
        return [response async for response in await model.astream_chat(messages)]

    return run


def _ainvoke(model: Any, text: str) -> AsyncCall:
    return lambda: model.ainvoke(text)


def _astream(model: Any, text: str) -> AsyncCall:
    async def run() -> object:
        return [chunk async for chunk in model.astream(text)]

    return run


def langchain_rows(server: Server, settings: Settings, peers: bool) -> list[Row]:
    """Chat invoke and stream, the prompt route, and the LLM class."""
    from langchain_core.messages import HumanMessage

    from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM

    from ._floors import FloorChatModel, FloorLLM

    url, key = server.base_url, "pk-bench"
    messages = [HumanMessage(TOPIC)]
    chat = PortkeyChatModel(
        model="portkey-local", provider="openai", base_url=url, api_key=key, max_retries=0
    )
    floor = FloorChatModel(base_url=url)
    openai: Any = None
    if peers:
        from langchain_openai import ChatOpenAI

        openai = ChatOpenAI(
            model="portkey-local",
            base_url=url,
            api_key="sk-x",
            max_retries=0,
            default_headers=ROUTE,
        )
        assert TOPIC in openai.invoke(messages).text
    assert chat.invoke(messages).text == floor.invoke(messages).text

    def with_peer(candidates: Candidates, peer: Callable[[], object]) -> Candidates:
        return {**candidates, "ChatOpenAI": peer} if peers else candidates

    rows = _rows(
        "langchain",
        "chat invoke",
        with_peer(
            {"ours": lambda: chat.invoke(messages), "floor": lambda: floor.invoke(messages)},
            lambda: openai.invoke(messages),
        ),
        settings,
        100,
    )
    if settings.quick:
        return rows  # a smoke run stops at the first case
    rows += _rows(
        "langchain",
        "chat stream",
        with_peer(
            {
                "ours": lambda: list(chat.stream(messages)),
                "floor": lambda: list(floor.stream(messages)),
            },
            lambda: list(openai.stream(messages)),
        ),
        settings,
        80,
    )
    prompt = PortkeyChatModel(prompt_id="pp-bench", base_url=url, api_key=key, max_retries=0)
    prompt_floor = FloorChatModel(base_url=url, prompt_id="pp-bench")
    assert prompt.invoke(TOPIC).text == prompt_floor.invoke(TOPIC).text
    rows += _rows(
        "langchain",
        "prompt route invoke",
        {"ours": lambda: prompt.invoke(TOPIC), "floor": lambda: prompt_floor.invoke(TOPIC)},
        settings,
        100,
    )
    llm = PortkeyPromptLLM(prompt_id="pp-bench-text", base_url=url, api_key=key, max_retries=0)
    llm_floor = FloorLLM(base_url=url, prompt_id="pp-bench-text")
    assert llm.invoke(TOPIC) == llm_floor.invoke(TOPIC)
    rows += _rows(
        "langchain",
        "LLM invoke (prompt route)",
        {"ours": lambda: llm.invoke(TOPIC), "floor": lambda: llm_floor.invoke(TOPIC)},
        settings,
        100,
    )
    if settings.quick:
        return rows
    both = {"ours": prompt, "floor": prompt_floor}
    rows += _async_rows(
        "langchain",
        {
            "prompt route ainvoke": {k: _ainvoke(m, TOPIC) for k, m in both.items()},
            "prompt route astream": {k: _astream(m, TOPIC) for k, m in both.items()},
        },
        settings,
    )
    return rows


def llama_index_rows(server: Server, settings: Settings, peers: bool) -> list[Row]:
    """chat, stream_chat and complete on ``/chat/completions``; chat, stream_chat and
    their async twins on a prompt id."""
    from llama_index.core.llms import ChatMessage

    from portkey_integrations.llama_index import PortkeyChatModel

    from ._floors import FloorLlamaLLM

    url = server.base_url
    messages = [ChatMessage(role="user", content=TOPIC)]
    ours = PortkeyChatModel(
        model="portkey-local", provider="openai", base_url=url, api_key="pk-x", max_retries=0
    )
    floor = FloorLlamaLLM(base_url=url)
    openai: Any = None
    if peers:
        from llama_index.llms.openai import OpenAI

        openai = OpenAI(
            model="gpt-4o-mini",
            api_base=url,
            api_key="sk-x",
            max_retries=0,
            default_headers=ROUTE,
        )
        assert TOPIC in (openai.chat(messages).message.content or "")
    assert ours.chat(messages).message.content == floor.chat(messages).message.content

    def cases(method: str) -> Candidates:
        def call(model: Any) -> Callable[[], object]:
            if method == "stream_chat":
                return lambda: list(model.stream_chat(messages))
            if method == "complete":
                return lambda: model.complete(TOPIC)
            return lambda: model.chat(messages)

        candidates = {"ours": call(ours), "floor": call(floor)}
        return {**candidates, "OpenAI": call(openai)} if peers else candidates

    rows = []
    methods = [("chat", 100), ("stream_chat", 80), ("complete", 100)]
    for method, calls in methods[: 1 if settings.quick else 3]:
        rows += _rows("llama-index", method, cases(method), settings, calls)
    if settings.quick:
        return rows
    # The prompt route: what the package is for, with its planning and checks.
    prompt = PortkeyChatModel(prompt_id="pp-bench", base_url=url, api_key="pk-bench", max_retries=0)
    prompt_floor = FloorLlamaLLM(base_url=url, prompt_id="pp-bench")
    assert prompt.chat(messages).message.content == prompt_floor.chat(messages).message.content
    pair = {"ours": prompt, "floor": prompt_floor}

    def chat(model: Any) -> Callable[[], object]:
        return lambda: model.chat(messages)

    def stream(model: Any) -> Callable[[], object]:
        return lambda: list(model.stream_chat(messages))

    rows += _rows(
        "llama-index", "prompt route chat", {k: chat(m) for k, m in pair.items()}, settings, 100
    )
    rows += _rows(
        "llama-index",
        "prompt route stream_chat",
        {k: stream(m) for k, m in pair.items()},
        settings,
        80,
    )
    rows += _async_rows(
        "llama-index",
        {
            "prompt route achat": {k: _achat(m, messages) for k, m in pair.items()},
            "prompt route astream_chat": {k: _astream_chat(m, messages) for k, m in pair.items()},
        },
        settings,
    )
    return rows


def run(settings: Settings, *, only_floor: bool = False) -> list[Row]:
    """Every adapter row; peers only when their packages are installed."""
    rows: list[Row] = []
    with serve() as server:
        peers = has_module("langchain_openai") and not only_floor
        rows += langchain_rows(server, settings, peers)
        peers = has_module("llama_index.llms.openai") and not only_floor
        rows += llama_index_rows(server, settings, peers)
    return rows


if __name__ == "__main__":
    from ._harness import table_lines

    print("\n".join(table_lines(run(Settings()))))
