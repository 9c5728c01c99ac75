"""The core clients through Portkey's open-source gateway, the local server upstream.

Gateway mode only (no ``prompt_id``): the open-source gateway has no prompt routes. Each
test checks both what the client returned and what reached the upstream.
"""

from __future__ import annotations

from typing import Any

import pytest

from portkey_integrations import (
    AsyncPortkeyClient,
    InternalServerError,
    PortkeyClient,
    RequestTimeoutError,
    TruncatedStreamError,
)
from portkey_integrations.server import Fault, LocalPortkeyServer

pytestmark = pytest.mark.slow  # a Node gateway process, and its own retry backoff

QUESTION = [{"role": "user", "content": "how are the owls"}]
ANSWER = "Echo: how are the owls"
RETRY_503 = {"retry": {"attempts": 1, "on_status_codes": [503]}}


def upstream_bodies(server: LocalPortkeyServer, path: str) -> list[Any]:
    return [r.body for r in server.requests if r.path == path]


def test_chat_completion(via_gateway: dict[str, Any], upstream: LocalPortkeyServer) -> None:
    with PortkeyClient(**via_gateway) as client:
        reply = client.complete(messages=QUESTION, model="portkey-local", temperature=0)
    assert reply.content == ANSWER
    assert reply.usage is not None and reply.usage.total_tokens > 0
    (received,) = upstream.requests
    assert received.path == "/v1/chat/completions"
    assert received.body["messages"] == QUESTION
    assert received.body["temperature"] == 0
    assert received.headers["authorization"] == "Bearer sk-upstream-test"
    assert "x-portkey-api-key" not in received.headers


def test_text_completion_keeps_max_tokens(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    with PortkeyClient(**via_gateway) as client:
        reply = client.complete(prompt="say hello", model="portkey-local", max_tokens=20)
    assert reply.content == "Echo: say hello"
    (body,) = upstream_bodies(upstream, "/v1/completions")
    assert body["prompt"] == "say hello" and body["max_tokens"] == 20


def test_streamed_chat(via_gateway: dict[str, Any], upstream: LocalPortkeyServer) -> None:
    with PortkeyClient(**via_gateway) as client:
        stream = client.stream(messages=QUESTION, model="portkey-local")
        text = "".join(c.choices[0].content for c in stream if c.choices)
    assert text == ANSWER
    (body,) = upstream_bodies(upstream, "/v1/chat/completions")
    assert body["stream"] is True


async def test_async_streamed_text(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    async with AsyncPortkeyClient(**via_gateway) as client:
        stream = await client.stream(prompt="stream me", model="portkey-local")
        text = "".join([c.choices[0].content async for c in stream if c.choices])
    assert text == "Echo: stream me"
    (body,) = upstream_bodies(upstream, "/v1/completions")
    assert body["stream"] is True


def test_config_retry_answers_after_a_503(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="status", status=503, route="chat_completions"))
    with PortkeyClient(**via_gateway, config=RETRY_503) as client:
        reply = client.complete(messages=QUESTION, model="portkey-local")
    assert reply.content == ANSWER
    # The upstream saw the failed attempt and the retry; the client itself did not retry.
    assert len(upstream_bodies(upstream, "/v1/chat/completions")) == 2
    assert reply.portkey.headers["x-portkey-retry-attempt-count"].endswith("1")


def test_config_retry_count_is_in_the_response_info(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="status", status=503, route="chat_completions"))
    with PortkeyClient(**via_gateway, config=RETRY_503) as client:
        reply = client.complete(messages=QUESTION, model="portkey-local")
    assert reply.portkey.retry_attempt_count == 1


def test_without_a_retry_config_the_503_is_typed(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="status", status=503, route="chat_completions"))
    with PortkeyClient(**via_gateway) as client, pytest.raises(InternalServerError) as info:
        client.complete(messages=QUESTION, model="portkey-local")
    assert info.value.status_code == 503
    assert info.value.message.startswith("openai error: ")


def test_fallback_to_the_second_target(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer, closed_url: str
) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "sk-first", "custom_host": closed_url},
            {"provider": "openai", "api_key": "sk-second", "custom_host": upstream.base_url},
        ],
    }
    options = {k: v for k, v in via_gateway.items() if k not in ("provider", "custom_host")}
    with PortkeyClient(**options, config=config) as client:
        reply = client.complete(messages=QUESTION, model="portkey-local")
    assert reply.content == ANSWER
    assert reply.portkey.last_used_option_index is None  # "config.targets[1]" is no int
    assert reply.portkey.headers["x-portkey-last-used-option-index"] == "config.targets[1]"
    (received,) = upstream.requests
    assert received.headers["authorization"] == "Bearer sk-second"


def test_config_request_timeout_is_a_typed_408(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    # "slow" holds the answer back; a "stall" sends its headers at once, and the
    # gateway's timeout only covers the wait for the upstream's headers.
    upstream.add_fault(Fault(kind="slow", delay=3))
    with (
        PortkeyClient(**via_gateway, config={"request_timeout": 200}) as client,
        pytest.raises(RequestTimeoutError) as info,
    ):
        client.complete(messages=QUESTION, model="portkey-local")
    assert info.value.status_code == 408
    assert info.value.type == "timeout_error"
    assert "200ms" in info.value.message


async def test_gateway_timeout_option_is_a_typed_408(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="slow", delay=3))
    async with AsyncPortkeyClient(**via_gateway, gateway_timeout_ms=200) as client:
        with pytest.raises(RequestTimeoutError) as info:
            await client.complete(messages=QUESTION, model="portkey-local")
    assert info.value.status_code == 408
    (received,) = upstream.requests
    assert received.path == "/v1/chat/completions"


def test_trace_id_is_echoed(via_gateway: dict[str, Any], upstream: LocalPortkeyServer) -> None:
    with PortkeyClient(**via_gateway, trace_id="trace-gw-1") as client:
        reply = client.complete(messages=QUESTION, model="portkey-local")
        stream = client.stream(messages=QUESTION, model="portkey-local")
        list(stream)
    for info in (reply.portkey, stream.portkey):
        assert info.headers["x-portkey-trace-id"].endswith("trace-gw-1")


def test_trace_id_is_in_the_response_info(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    with PortkeyClient(**via_gateway, trace_id="trace-gw-1") as client:
        reply = client.complete(messages=QUESTION, model="portkey-local")
    assert reply.portkey.trace_id == "trace-gw-1"


@pytest.mark.parametrize("kind", ["disconnect", "abort"])
def test_a_mid_stream_upstream_failure_is_a_truncated_stream(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer, kind: str
) -> None:
    upstream.add_fault(Fault(kind=kind, after_chunks=3))  # type: ignore[arg-type]
    delivered = []
    with PortkeyClient(**via_gateway) as client:
        stream = client.stream(messages=QUESTION, model="portkey-local")
        with pytest.raises(TruncatedStreamError) as info:
            for chunk in stream:
                delivered.append(chunk)
    # Role, "Echo:" and " how" arrived and were handed over before the error.
    assert "".join(c.choices[0].content for c in delivered) == "Echo: how"
    assert info.value.chunks == delivered
