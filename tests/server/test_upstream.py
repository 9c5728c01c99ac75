"""Upstream mode: the rendered request goes to an OpenAI-compatible server and comes back as sent.

The upstream here is the session's local server itself (its offline model).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from portkey_integrations.server import Fault, LocalPortkeyServer

from .conftest import ROUTING, SSL_CONTEXT
from .helpers import chat, chunks, content_of, sse_events


@pytest.fixture(scope="module")
def gateway(
    portkey_server: LocalPortkeyServer, server_factory: Callable[..., LocalPortkeyServer]
) -> LocalPortkeyServer:
    return server_factory(upstream=portkey_server.base_url)


@pytest.fixture
def http(gateway: LocalPortkeyServer, server: LocalPortkeyServer) -> Iterator[httpx.Client]:
    gateway.reset()
    with httpx.Client(
        base_url=gateway.base_url, timeout=5.0, verify=SSL_CONTEXT, headers=ROUTING
    ) as client:
        yield client


def test_prompt_completion_is_forwarded_rendered(
    server: LocalPortkeyServer, http: httpx.Client
) -> None:
    r = http.post(
        "/prompts/pp-joke@production/completions",
        json={"variables": {"adjective": "dry", "topic": "tea"}, "temperature": 0.5},
        headers={"authorization": "Bearer sk-upstream", "x-portkey-provider": "openai"},
    )
    assert r.status_code == 200
    assert (
        r.json()["choices"][0]["message"]["content"]
        == "Echo: Tell me a dry joke about tea, please."
    )
    assert r.headers["x-portkey-provider"] == "openai"
    (upstream,) = server.requests
    assert upstream.path == "/v1/chat/completions"
    assert upstream.headers["authorization"] == "Bearer sk-upstream"
    assert upstream.body == {
        "model": "portkey-local",
        "temperature": 0.5,
        "max_completion_tokens": 256,
        "messages": [
            {"role": "system", "content": "You are a comedian. Keep it short."},
            {"role": "user", "content": "Tell me a dry joke about tea, please."},
        ],
    }


def test_text_prompt_goes_to_completions(server: LocalPortkeyServer, http: httpx.Client) -> None:
    r = http.post(
        "/prompts/pp-text-complete/completions",
        json={"variables": {"input": "hi"}, "max_tokens": 5},
    )
    assert r.json()["choices"][0]["text"] == "Echo: hi"
    assert server.requests[0].path == "/v1/completions"
    assert server.requests[0].body == {"model": "portkey-local", "max_tokens": 5, "prompt": "hi"}


def test_streams_are_piped(http: httpx.Client) -> None:
    body = {
        "variables": {"input": "a b"},
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = http.post("/prompts/pp-assistant/completions", json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    parts = chunks(r)
    assert content_of(parts[:-1]) == "Echo: a b"
    assert parts[-1]["usage"]["completion_tokens"] == 3


def test_openai_routes_are_forwarded(server: LocalPortkeyServer, http: httpx.Client) -> None:
    out = http.post("/chat/completions", json=chat("direct", model="gpt-x")).json()
    assert out["model"] == "gpt-x" and out["choices"][0]["message"]["content"] == "Echo: direct"
    assert server.requests[0].body["messages"] == [{"role": "user", "content": "direct"}]


def test_upstream_errors_pass_through(server: LocalPortkeyServer, http: httpx.Client) -> None:
    server.add_fault(Fault(kind="status", status=429, retry_after=3))
    r = http.post("/chat/completions", json=chat("x"))
    assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"
    r = http.post("/chat/completions", json=chat("x", temperature=7))
    assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"
    server.add_fault(Fault(kind="non_json"))
    r = http.post("/chat/completions", json=chat("x", stream=True))
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"


def test_upstream_truncated_stream_stays_truncated(
    server: LocalPortkeyServer, http: httpx.Client
) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=2))
    events = sse_events(http.post("/chat/completions", json=chat("a b c", stream=True)))
    assert len(events) == 2 and "[DONE]" not in events


def test_gateway_faults_apply_to_upstream_streams(
    gateway: LocalPortkeyServer, http: httpx.Client
) -> None:
    gateway.add_fault(Fault(kind="error_data", after_chunks=1))
    events = sse_events(http.post("/chat/completions", json=chat("a b c", stream=True)))
    assert len(events) == 2 and "error" in json.loads(events[1])


def test_unreachable_upstream() -> None:
    with LocalPortkeyServer(upstream="http://127.0.0.1:9/v1") as lonely:
        r = httpx.post(
            f"{lonely.base_url}/chat/completions",
            json=chat("x"),
            timeout=5.0,
            verify=SSL_CONTEXT,
            headers=ROUTING,
        )
    assert r.status_code == 502
    assert r.json()["status"] == "failure" and "could not be reached" in r.json()["message"]
