"""Soak: many mixed calls with faults now and then, and no resource growth.

Sync and async, streamed and not, the core clients and both frameworks, prompt and
gateway routes, against the local server. Only the package's typed errors (or their
framework-classified twins) may surface, every chunk the server sent before a failure
is delivered, and file descriptors and memory stay flat after warm-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import random
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from portkey_integrations import (
    APIConnectionError,
    APIStatusError,
    AsyncPortkeyClient,
    PortkeyClient,
    PortkeyError,
    StreamError,
)
from portkey_integrations import langchain as lc
from portkey_integrations import llama_index as li
from portkey_integrations.server import Fault, LocalPortkeyServer

pytestmark = pytest.mark.slow  # thousands of calls, by design

PROMPT = "pp-soak"
# A dict input is the prompt's variables; LangChain's input type does not list dicts.
VARIABLES: Any = {"topic": "owls"}
MESSAGES = [{"role": "user", "content": "chat about soak tests"}]
LI_MESSAGES = [ChatMessage(role="user", content="chat about soak tests")]
TEXT = "say soak words"
CALLS = 480
MID_STREAM = ("disconnect", "abort", "error_event", "error_data", "malformed_sse")
FD_SLACK = 12
RSS_SLACK = 64 * 1024 * 1024

Outcome = tuple[str, BaseException | None]


def open_fds() -> int:
    """Descriptors open in this process: the clients' sockets and the server's."""
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def single(call: Callable[[], str]) -> Outcome:
    try:
        return call(), None
    except PortkeyError as exc:
        return "", exc


def drain(parts: Callable[[], Iterable[str]]) -> Outcome:
    delivered: list[str] = []
    try:
        for part in parts():
            delivered.append(part)
    except PortkeyError as exc:
        return "".join(delivered), exc
    return "".join(delivered), None


def adrain(parts: Callable[[], AsyncIterator[str]]) -> Outcome:
    async def main() -> Outcome:
        delivered: list[str] = []
        try:
            async for part in parts():
                delivered.append(part)
        except PortkeyError as exc:
            return "".join(delivered), exc
        return "".join(delivered), None

    return asyncio.run(main())


def asingle(call: Callable[[], Any]) -> Outcome:
    async def main() -> str:
        return str(await call())

    return single(lambda: asyncio.run(main()))


def chunk_text(chunk: Any) -> str:
    return chunk.choices[0].content if chunk.choices else ""


@dataclasses.dataclass(frozen=True)
class Op:
    name: str
    route: str  # "prompt", "chat" or "text": which reference events apply
    stream: bool
    retries: int
    run: Callable[[], Outcome]


@dataclasses.dataclass
class Soak:
    """Everything one soak run uses: clients, models, operations, reference events."""

    server: LocalPortkeyServer
    ops: list[Op]
    events: dict[str, list[str]]
    lc_chat: lc.PortkeyChatModel


def build(server: LocalPortkeyServer) -> Soak:
    common: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": "pk-soak",
        "provider": "openai",
    }
    core = PortkeyClient(**common, max_retries=1)
    acore = AsyncPortkeyClient(**common, max_retries=0)
    lc_chat = lc.PortkeyChatModel(prompt_id=PROMPT, **common, max_retries=0)
    lc_llm = lc.PortkeyPromptLLM(model="portkey-local", **common, max_retries=0)
    li_chat = li.PortkeyChatModel(model="portkey-local", **common, max_retries=0)

    async def core_astream() -> AsyncIterator[str]:
        async for chunk in await acore.stream(prompt=TEXT, model="portkey-local"):
            yield chunk_text(chunk)

    async def li_astream() -> AsyncIterator[str]:
        async for response in await li_chat.astream_chat(LI_MESSAGES):
            yield response.delta or ""

    async def lc_astream() -> AsyncIterator[str]:
        async for chunk in lc_chat.astream(VARIABLES):
            yield str(chunk.content)

    ops = [
        Op("core.complete", "prompt", False, 1, lambda: single(
            lambda: core.complete(prompt_id=PROMPT, variables=VARIABLES).content)),
        Op("core.stream", "prompt", True, 1, lambda: drain(
            lambda: map(chunk_text, core.stream(prompt_id=PROMPT, variables=VARIABLES)))),
        Op("core.acomplete", "chat", False, 0, lambda: asingle(
            lambda: _content(acore.complete(messages=MESSAGES, model="portkey-local")))),
        Op("core.astream", "text", True, 0, lambda: adrain(core_astream)),
        Op("lc.invoke", "prompt", False, 0, lambda: single(
            lambda: str(lc_chat.invoke(VARIABLES).content))),
        Op("lc.stream", "prompt", True, 0, lambda: drain(
            lambda: (str(c.content) for c in lc_chat.stream(VARIABLES)))),
        Op("lc.ainvoke", "prompt", False, 0, lambda: asingle(
            lambda: _content(lc_chat.ainvoke(VARIABLES), attr="content"))),
        Op("lc.astream", "prompt", True, 0, lambda: adrain(lc_astream)),
        Op("lc.llm.invoke", "text", False, 0, lambda: single(lambda: lc_llm.invoke(TEXT))),
        Op("lc.llm.stream", "text", True, 0, lambda: drain(lambda: lc_llm.stream(TEXT))),
        Op("li.chat", "chat", False, 0, lambda: single(
            lambda: str(li_chat.chat(LI_MESSAGES).message.content))),
        Op("li.stream_chat", "chat", True, 0, lambda: drain(
            lambda: (r.delta or "" for r in li_chat.stream_chat(LI_MESSAGES)))),
        Op("li.astream_chat", "chat", True, 0, lambda: adrain(li_astream)),
    ]  # fmt: skip
    events = {
        "prompt": [chunk_text(c) for c in core.stream(prompt_id=PROMPT, variables=VARIABLES)],
        "chat": [chunk_text(c) for c in core.stream(messages=MESSAGES, model="portkey-local")],
        "text": [chunk_text(c) for c in core.stream(prompt=TEXT, model="portkey-local")],
    }
    return Soak(server, ops, events, lc_chat)


async def _content(call: Any, attr: str = "content") -> str:
    return str(getattr(await call, attr))


def pick_fault(rng: random.Random, op: Op, events: list[str]) -> Fault | None:
    if rng.random() > 0.3:
        return None
    kinds = ["status", "status", "non_json", "slow", "hook_results"]
    if op.stream:
        kinds += list(MID_STREAM)
    kind = rng.choice(kinds)
    if kind == "status":
        return Fault(kind="status", status=rng.choice([429, 500, 502, 503]))
    if kind == "slow":
        return Fault(kind="slow", delay=0.002)
    if kind in MID_STREAM:
        return Fault(kind=kind, after_chunks=rng.randrange(len(events)))  # type: ignore[arg-type]
    return Fault(kind=kind)  # type: ignore[arg-type]


def check(op: Op, fault: Fault | None, outcome: Outcome, events: list[str]) -> None:
    text, error = outcome
    full = "".join(events)
    failing = fault is not None and fault.kind in ("status", "non_json")
    broken = fault is not None and fault.kind in MID_STREAM
    if not broken and (not failing or op.retries > 0):
        assert error is None, f"{op.name} with {fault}: {error!r}"
        assert text == full, op.name
        return
    if fault is not None and fault.kind == "abort" and not fault.after_chunks:
        # A reset before the first chunk delivered nothing: it is a failed connection,
        # retried when the call may retry.
        if op.retries > 0:
            assert error is None and text == full, f"{op.name} with {fault}: {error!r}"
        else:
            assert isinstance(error, APIConnectionError) and text == "", f"{op.name}: {error!r}"
        return
    assert error is not None, f"{op.name} with {fault} did not fail"
    if failing:
        assert isinstance(error, APIStatusError)
        assert error.status_code == fault.effective_status  # type: ignore[union-attr]
        return
    k = fault.after_chunks or 0  # type: ignore[union-attr]
    assert isinstance(error, StreamError), f"{op.name}: {error!r}"
    # Every event the server sent before the failure was delivered, nothing more.
    assert len(error.chunks) == k, op.name
    assert text == "".join(events[:k]), op.name


def test_mixed_calls_with_faults(server: LocalPortkeyServer) -> None:
    soak = build(server)
    rng = random.Random(20261202)
    for op in soak.ops:  # warm-up: every path once, without faults
        check(op, None, op.run(), soak.events[op.route])
    gc.collect()
    fds, rss = open_fds(), rss_bytes()
    seen: set[str] = set()
    for _ in range(CALLS):
        op = rng.choice(soak.ops)
        fault = pick_fault(rng, op, soak.events[op.route])
        if fault is not None:
            server.add_fault(fault)
            seen.add(fault.kind)
        check(op, fault, op.run(), soak.events[op.route])
        server.clear_faults()
    gc.collect()
    assert seen >= {"status", "disconnect", "abort", "error_event", "malformed_sse"}
    assert open_fds() <= fds + FD_SLACK
    assert rss_bytes() <= rss + RSS_SLACK


def test_repeated_asyncio_run_does_not_leak(server: LocalPortkeyServer) -> None:
    soak = build(server)
    model, expected = soak.lc_chat, "".join(soak.events["prompt"])

    def once() -> None:
        assert asyncio.run(model.ainvoke(VARIABLES)).content == expected

    for _ in range(20):
        once()
    gc.collect()
    fds, rss = open_fds(), rss_bytes()
    with warnings.catch_warnings(record=True) as caught:
        # A pool dropped unclosed frees its sockets on collection, with a warning.
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(180):
            once()
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert open_fds() <= fds + FD_SLACK
    assert rss_bytes() <= rss + RSS_SLACK


def test_short_lived_models_leave_nothing_behind(server: LocalPortkeyServer) -> None:
    expected = "".join(build(server).events["prompt"])
    common: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": "pk-soak",
        "provider": "openai",
    }
    gc.collect()
    fds = open_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for i in range(20):
            if i % 2:
                model: Any = lc.PortkeyChatModel(prompt_id=PROMPT, **common)
                assert model.invoke(VARIABLES).content == expected
                assert "".join(str(c.content) for c in model.stream(VARIABLES)) == expected
                assert asyncio.run(model.ainvoke(VARIABLES)).content == expected
            else:
                model = li.PortkeyChatModel(model="portkey-local", **common)
                assert model.chat(LI_MESSAGES).message.content.startswith("Echo:")
                assert "".join(r.delta or "" for r in model.stream_chat(LI_MESSAGES))
                assert asyncio.run(model.achat(LI_MESSAGES)).message.content
            del model
        gc.collect()  # once: a dropped model's unclosed pool warns when collected
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
    assert open_fds() <= fds + FD_SLACK


def test_threads_share_one_model(server: LocalPortkeyServer) -> None:
    soak = build(server)
    model, expected = soak.lc_chat, "".join(soak.events["prompt"])
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def work(n: int) -> None:
        start.wait()
        for i in range(10):
            try:
                if (n + i) % 2:
                    text = str(model.invoke(VARIABLES).content)
                else:
                    text = "".join(str(c.content) for c in model.stream(VARIABLES))
            except BaseException as exc:  # any failure, typed or not, fails the test
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.append(text)

    gc.collect()
    fds = open_fds()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert results == [expected] * 160
    gc.collect()
    # Up to 16 parallel connections may stay pooled (client and server side).
    assert open_fds() <= fds + 2 * 16 + FD_SLACK
