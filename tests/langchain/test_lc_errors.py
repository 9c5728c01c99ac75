"""Errors surface as langchain-core model errors, chained from the core's."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessageChunk

import portkey_integrations as pk
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import Fault, LocalPortkeyServer

TOPIC = "pp-lc-topic"


def model(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyChatModel:
    kwargs.setdefault("max_retries", 0)
    return PortkeyChatModel(base_url=server.base_url, api_key="pk-test", **kwargs)


@pytest.mark.parametrize(
    ("status", "lc_error", "core_error"),
    [
        (429, ModelRateLimitError, pk.RateLimitError),
        (401, ModelAuthenticationError, pk.AuthenticationError),
        (400, ModelInvalidRequestError, pk.BadRequestError),
        (503, ModelAPIError, pk.InternalServerError),
        (408, ModelTimeoutError, pk.RequestTimeoutError),
    ],
)
def test_status_errors(
    server: LocalPortkeyServer, status: int, lc_error: type, core_error: type
) -> None:
    server.add_fault(Fault(kind="status", status=status))
    with pytest.raises(lc_error) as info:
        model(server, prompt_id=TOPIC).invoke({"topic": "x"})
    error = info.value
    assert isinstance(error, core_error)
    assert isinstance(error.__cause__, core_error)
    assert error.status_code == status
    assert error.trace_id


def test_unknown_prompt_is_model_not_found(server: LocalPortkeyServer) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        model(server, prompt_id="pp-does-not-exist").invoke("hi")
    assert isinstance(info.value, pk.PromptNotFoundError)


async def test_async_errors_too(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=429))
    with pytest.raises(ModelRateLimitError):
        await model(server, prompt_id=TOPIC).ainvoke({"topic": "x"})


def test_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens there any more.
    llm = PortkeyChatModel(model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key="k",
                           max_retries=0)
    with pytest.raises(ModelConnectionError) as info:
        llm.invoke("hi")
    assert isinstance(info.value.__cause__, pk.APIConnectionError)


def test_timeout_error(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="slow", delay=2.0))
    with pytest.raises(ModelTimeoutError):
        model(server, prompt_id=TOPIC, timeout=0.2).invoke({"topic": "x"})


def test_with_retry_recovers(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=429, times=2))
    retrying = model(server, prompt_id=TOPIC).with_retry(
        retry_if_exception_type=(ModelRateLimitError,),
        stop_after_attempt=3,
        wait_exponential_jitter=False,
    )
    assert "Talk about x." in retrying.invoke({"topic": "x"}).text
    assert len(server.requests) == 3


def test_with_fallbacks(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=503, prompt_id=TOPIC))
    primary = model(server, prompt_id=TOPIC)
    backup = model(server, prompt_id="pp-joke")
    result = primary.with_fallbacks([backup]).invoke({"topic": "x", "adjective": "y"})
    assert result.text == "Echo: Tell me a y joke about x."


def test_core_retries_are_reported(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=503))
    result = model(server, prompt_id=TOPIC, max_retries=2).invoke({"topic": "x"})
    assert len(server.requests) == 2
    assert "Talk about x." in result.text


@pytest.mark.parametrize("kind", ["disconnect", "error_event", "error_data"])
def test_mid_stream_error_keeps_the_chunks_already_yielded(
    server: LocalPortkeyServer, kind: Any
) -> None:
    server.add_fault(Fault(kind=kind, after_chunks=3))
    received: list[AIMessageChunk] = []
    with pytest.raises(ModelAPIError) as info:
        for chunk in model(server, prompt_id=TOPIC).stream({"topic": "a long topic"}):
            received.append(chunk)
    texts = "".join(c.text for c in received)
    assert texts  # what arrived before the failure was delivered
    assert texts != "Echo: Talk about a long topic."
    assert isinstance(info.value, pk.StreamError)
    assert info.value.chunks  # and the core kept it too


async def test_mid_stream_error_async(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=3))
    received = []
    with pytest.raises(ModelAPIError):
        async for chunk in model(server, prompt_id=TOPIC).astream({"topic": "t"}):
            received.append(chunk)
    assert "".join(c.text for c in received)


def test_stream_error_before_start(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=401))
    with pytest.raises(ModelAuthenticationError):
        list(model(server, prompt_id=TOPIC).stream({"topic": "x"}))


def test_missing_prompt_id_for_render(server: LocalPortkeyServer) -> None:
    with pytest.raises(pk.PortkeyConfigError):
        model(server, model="m").render("hi")
