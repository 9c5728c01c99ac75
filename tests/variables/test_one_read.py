"""A prompt call reads its saved template from the prompt cache once: the adapter reads
it for the mapping rule and hands it to the core in the call, whose variables check
then reads it no more (both frameworks, sync, async and streamed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations._call import Call
from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

MODELS = [LCChat, LCLLM, LIChat, LILLM]
PROMPT = "pp-text-complete"
TEXT = "once upon a time"


def run(model: Any, face: str) -> None:
    langchain = isinstance(model, (LCChat, LCLLM))
    if face == "sync":
        model.invoke(TEXT) if langchain else model.complete(TEXT)
    elif face == "stream":
        list(model.stream(TEXT) if langchain else model.stream_complete(TEXT))
    else:
        asyncio.run(model.ainvoke(TEXT) if langchain else model.acomplete(TEXT))


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, seen: list[Any]) -> None:
    """Record the second argument of every ``owner.name(...)`` call, then run it."""
    original: Callable[..., Any] = getattr(owner, name)

    def spy(first: Any, second: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(second)
        return original(first, second, *args, **kwargs)

    monkeypatch.setattr(owner, name, spy)


@pytest.mark.parametrize("face", ["sync", "stream", "async"])
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_a_prompt_call_reads_its_saved_template_once(
    cls: type, face: str, server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = cls(prompt_id=PROMPT, base_url=server.base_url)
    run(model, face)  # the first call fetches the template
    reads: list[Any] = []
    calls: list[Call] = []
    counting(monkeypatch, prompt_cache, "get", reads)
    counting(monkeypatch, prompt_cache, "aget", reads)
    for face_class in (PortkeyClient, AsyncPortkeyClient):
        counting(monkeypatch, face_class, "send_call", calls)
        counting(monkeypatch, face_class, "stream_call", calls)
    run(model, face)
    assert reads == [PROMPT]  # the adapter's read; the core's check reads no more
    saved = prompt_cache.peek(model.client, PROMPT)
    assert saved is not None and calls[-1].template is saved
    assert server.requests[-1].variables["input"] == TEXT
    assert len(server.admin_requests) == 1  # one fetch for the process


def test_with_checks_off_nothing_is_read_or_carried(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cls in MODELS:
        model = cls(prompt_id=PROMPT, base_url=server.base_url, check_variables="off")
        reads: list[Any] = []
        calls: list[Call] = []
        with monkeypatch.context() as patch:
            counting(patch, prompt_cache, "get", reads)
            counting(patch, PortkeyClient, "send_call", calls)
            run(model, "sync")
        assert reads == [] and calls[-1].template is None, cls
    assert server.admin_requests == []
