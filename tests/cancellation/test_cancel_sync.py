"""Leaving a sync stream early keeps the pool usable.

Breaking out of the loop, or a ``KeyboardInterrupt`` raised in its body, releases the
stream's connection: the next call works and our open connections do not pile up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portkey_integrations import PortkeyClient
from portkey_integrations import langchain as lc
from portkey_integrations import llama_index as li
from portkey_integrations.server import LocalPortkeyServer

ROUNDS = 5
MESSAGES = [{"role": "user", "content": "one two three four five"}]
ANSWER = "Echo: one two three four five"


@pytest.fixture
def client(server: LocalPortkeyServer) -> Iterator[PortkeyClient]:
    with PortkeyClient(
        base_url=server.base_url, api_key="pk-cancel", provider="openai", max_retries=0
    ) as c:
        yield c


def streams(server: LocalPortkeyServer, client: PortkeyClient) -> dict[str, Callable[[], Any]]:
    common: dict[str, Any] = {"model": "portkey-local", "base_url": server.base_url}
    chat = lc.PortkeyChatModel(**common, api_key="pk-c", provider="openai")
    llm = li.PortkeyPromptLLM(**common, api_key="pk-c", provider="openai")
    return {
        "core": lambda: client.stream(messages=MESSAGES, model="portkey-local"),
        "langchain": lambda: chat.stream("one two three four five"),
        "llama_index": lambda: llm.stream_complete("one two three four five"),
    }


def works(client: PortkeyClient) -> bool:
    return client.complete(messages=MESSAGES, model="portkey-local").content == ANSWER


@pytest.mark.parametrize("kind", ["core", "langchain", "llama_index"])
def test_breaking_out_of_a_stream(
    server: LocalPortkeyServer,
    client: PortkeyClient,
    open_sockets: Callable[[], int],
    kind: str,
) -> None:
    make = streams(server, client)[kind]
    assert works(client)
    baseline = open_sockets()
    for _ in range(ROUNDS):
        seen = 0
        for _chunk in make():
            seen += 1
            if seen == 2:
                break
        assert seen == 2
        assert works(client)
    assert open_sockets() <= baseline + 1


@pytest.mark.parametrize("kind", ["core", "langchain", "llama_index"])
def test_keyboard_interrupt_inside_the_loop(
    server: LocalPortkeyServer,
    client: PortkeyClient,
    open_sockets: Callable[[], int],
    kind: str,
) -> None:
    make = streams(server, client)[kind]
    assert works(client)
    baseline = open_sockets()
    for _ in range(ROUNDS):
        with pytest.raises(KeyboardInterrupt):
            for _chunk in make():
                raise KeyboardInterrupt
        assert works(client)
    assert open_sockets() <= baseline + 1


def test_keyboard_interrupt_inside_a_with_block(
    client: PortkeyClient, open_sockets: Callable[[], int]
) -> None:
    # The documented form: the stream is closed by ``with`` even while the traceback
    # (kept by pytest.raises) still refers to it.
    assert works(client)
    baseline = open_sockets()
    kept = []
    for _ in range(ROUNDS):
        with (
            pytest.raises(KeyboardInterrupt),
            client.stream(messages=MESSAGES, model="portkey-local") as stream,
        ):
            kept.append(stream)
            for _chunk in stream:
                raise KeyboardInterrupt
        assert works(client)
    assert open_sockets() <= baseline + 1
    assert all(s.response.is_closed for s in kept)
