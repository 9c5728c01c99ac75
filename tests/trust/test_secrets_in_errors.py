"""A chained transport error keeps its text, never the keys of the request it failed on.

The package's connection and timeout errors chain from httpx's (``__cause__``), whose
``request`` used to be the request itself, every key in its headers. Walked over the
whole chain, as an error reporter would.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from llama_index.core.llms import ChatMessage

from portkey_integrations import (
    APIConnectionError,
    APITimeoutError,
    AsyncPortkeyClient,
    PortkeyClient,
    TruncatedStreamError,
)
from portkey_integrations._secrets import MASK
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.server import Fault, LocalPortkeyServer

API_KEY = "pk-secret-chain-0001"
PROVIDER_KEY = "sk-secret-chain-0002"
CONFIG_KEY = "sk-secret-chain-0003"
AUTH = "secret-chain-header-0004"
SECRETS = (API_KEY, PROVIDER_KEY, CONFIG_KEY, AUTH)
KEYS = {
    "api_key": API_KEY,
    "provider_api_key": PROVIDER_KEY,
    "config": {"targets": [{"api_key": CONFIG_KEY}]},
    "default_headers": {"x-custom-api-key": AUTH},
}


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # closed again: connecting is refused


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def assert_chain_clean(exc: BaseException) -> httpx.TransportError:
    """No exception of the chain holds a key; returns the httpx cause."""
    causes = [e for e in chain(exc) if isinstance(e, httpx.TransportError)]
    assert causes, "the httpx cause is gone"
    for link in chain(exc):
        request = getattr(link, "_request", None)
        shown = repr(vars(link)) + str(link)
        if isinstance(request, httpx.Request):
            shown += repr(dict(request.headers)) + str(request.url)
        leaked = [s for s in SECRETS if s in shown]
        assert not leaked, f"{type(link).__name__} holds {leaked}"
    return causes[0]


def test_a_closed_port_keeps_the_cause_text_but_no_key() -> None:
    client = PortkeyClient(base_url=closed_port_url(), max_retries=1, **KEYS)  # type: ignore[arg-type]
    with pytest.raises(APIConnectionError) as info:
        client.complete(prompt_id="pp-assistant", variables={})
    cause = assert_chain_clean(info.value)
    assert info.value.__cause__ is cause and isinstance(cause, httpx.ConnectError)
    assert str(cause) and type(cause).__name__ in str(info.value)
    headers = cause.request.headers
    assert headers["x-portkey-api-key"] == MASK and headers["authorization"] == MASK
    assert headers["x-custom-api-key"] == MASK
    assert "/prompts/pp-assistant/completions" in str(cause.request.url)


async def test_a_closed_port_async() -> None:
    client = AsyncPortkeyClient(base_url=closed_port_url(), max_retries=0, **KEYS)  # type: ignore[arg-type]
    with pytest.raises(APIConnectionError) as info:
        await client.complete(prompt_id="pp-assistant", variables={})
    assert isinstance(assert_chain_clean(info.value), httpx.ConnectError)


def test_a_timeout_keeps_no_key(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="stall", delay=5, times=10))
    client = PortkeyClient(base_url=server.base_url, timeout=0.2, max_retries=0, **KEYS)  # type: ignore[arg-type]
    with pytest.raises(APITimeoutError) as info:
        client.complete(prompt_id="pp-assistant", variables={})
    assert isinstance(assert_chain_clean(info.value), httpx.TimeoutException)
    assert server.requests[-1].headers["x-portkey-api-key"] == API_KEY  # it was sent


async def test_an_async_stream_timeout_keeps_no_key(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="stall", delay=5, times=10))
    client = AsyncPortkeyClient(base_url=server.base_url, timeout=0.2, max_retries=0, **KEYS)  # type: ignore[arg-type]
    with pytest.raises(APITimeoutError) as info:
        async for _ in await client.stream(prompt_id="pp-assistant", variables={}):
            pass
    assert_chain_clean(info.value)


def test_a_stream_broken_midway_keeps_no_key(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="abort", times=10))
    client = PortkeyClient(base_url=server.base_url, max_retries=0, **KEYS)  # type: ignore[arg-type]
    with pytest.raises((TruncatedStreamError, APIConnectionError)) as info:
        for _ in client.stream(prompt_id="pp-assistant", variables={"input": "a long answer"}):
            pass
    _assert_masked_request(assert_chain_clean(info.value))


async def test_an_async_stream_broken_midway_keeps_no_key(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="abort", times=10))
    client = AsyncPortkeyClient(base_url=server.base_url, max_retries=0, **KEYS)  # type: ignore[arg-type]
    with pytest.raises((TruncatedStreamError, APIConnectionError)) as info:
        stream = await client.stream(prompt_id="pp-assistant", variables={"input": "a long answer"})
        async for _ in stream:
            pass
    _assert_masked_request(assert_chain_clean(info.value))


def _assert_masked_request(cause: httpx.TransportError) -> None:
    # The cause names the request it broke, as httpx names it, with its keys masked.
    assert "/prompts/pp-assistant/completions" in str(cause.request.url)
    assert cause.request.headers["x-portkey-api-key"] == MASK


def test_model_errors_keep_no_key_in_either_framework(server: LocalPortkeyServer) -> None:
    url = closed_port_url()
    lc = LCChat(prompt_id="pp-assistant", base_url=url, max_retries=0, **KEYS)
    with pytest.raises(Exception) as info:
        lc.invoke("hello")
    assert_chain_clean(info.value)
    li = LIChat(prompt_id="pp-assistant", base_url=url, max_retries=0, **KEYS)
    with pytest.raises(Exception) as info:
        li.chat([ChatMessage(role="user", content="hello")])
    assert_chain_clean(info.value)
