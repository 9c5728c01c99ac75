"""Faults on demand: every failure a client must survive, from Python, HTTP and a header."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from portkey_integrations.server import Fault, LocalPortkeyServer

from .helpers import chat, chunks, sse_events

SHORT_READ = httpx.Timeout(5.0, read=0.1)
PROMPT = "/prompts/pp-joke/completions"
VARIABLES = {"variables": {"adjective": "a", "topic": "b"}}


def streamed(
    client: httpx.Client, body: dict[str, Any] | None = None, **kwargs: Any
) -> httpx.Response:
    return client.post(
        "/chat/completions", json={**(body or chat("a b c d")), "stream": True}, **kwargs
    )


def test_status_fault_with_retry_after_and_times(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="status", status=503, retry_after=2, times=2))
    for _ in range(2):
        r = client.post("/chat/completions", json=chat("x"))
        assert r.status_code == 503
        assert r.headers["retry-after"] == "2"
        assert r.json()["error"]["type"] == "server_error"
        assert r.headers["x-portkey-trace-id"]
    assert client.post("/chat/completions", json=chat("x")).status_code == 200


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, {"status": "failure", "message": "Portkey Error: Invalid API Key. Error Code: 03"}),
        (429, {"type": "rate_limit_error"}),
        (408, {"type": "timeout_error"}),
        (400, {"type": "invalid_request_error"}),
    ],
)
def test_status_fault_bodies(
    server: LocalPortkeyServer, client: httpx.Client, status: int, expected: dict[str, Any]
) -> None:
    server.add_fault(Fault(kind="status", status=status))
    r = client.post(PROMPT, json=VARIABLES)
    assert r.status_code == status
    body = r.json()
    assert body == expected if "status" in expected else body["error"]["type"] == expected["type"]


def test_status_fault_custom_body_and_stream_requests(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(
        Fault(kind="status", status=500, body={"status": "failure", "message": "boom"})
    )
    r = streamed(client)
    assert (r.status_code, r.json()) == (500, {"status": "failure", "message": "boom"})


def test_faults_match_prompt_and_route(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="status", status=502, prompt_id="pp-joke", times=None))
    server.add_fault(Fault(kind="status", status=504, route="completions"))
    assert (
        client.post("/prompts/pp-assistant/completions", json={"variables": {}}).status_code == 200
    )
    assert client.post("/chat/completions", json=chat("x")).status_code == 200
    assert client.post(PROMPT, json=VARIABLES).status_code == 502
    assert client.post("/prompts/pp-joke@2/render", json=VARIABLES).status_code == 502
    assert client.post("/completions", json={"prompt": "x"}).status_code == 504
    assert client.post("/completions", json={"prompt": "x"}).status_code == 200
    server.clear_faults()
    assert client.post(PROMPT, json=VARIABLES).status_code == 200


def test_prompt_fault_with_a_version_matches_only_that_version(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="status", status=503, prompt_id="pp-joke@2"))
    assert client.post(PROMPT, json=VARIABLES).status_code == 200
    assert client.post("/prompts/pp-joke@2/completions", json=VARIABLES).status_code == 503


def test_slow_answers_after_the_delay(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="slow", delay=5))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/chat/completions", json=chat("x"), timeout=SHORT_READ)
    server.add_fault(Fault(kind="slow", delay=0.001))
    parts = chunks(streamed(client))
    assert len(parts) == 7


def test_slow_stream_times_out_between_chunks(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="slow", delay=5))
    with pytest.raises(httpx.ReadTimeout):
        streamed(client, timeout=SHORT_READ)


@pytest.mark.parametrize("stream", [True, False])
def test_stall_sends_headers_then_nothing(
    server: LocalPortkeyServer, client: httpx.Client, stream: bool
) -> None:
    server.add_fault(Fault(kind="stall", delay=5))
    body = {**chat("x"), "stream": stream}
    with client.stream("POST", "/chat/completions", json=body, timeout=SHORT_READ) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            r.read()


def test_stall_mid_stream(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="stall", delay=5, after_chunks=2))
    lines = []
    with (
        client.stream(
            "POST", "/chat/completions", json=chat("a b", stream=True), timeout=SHORT_READ
        ) as r,
        pytest.raises(httpx.ReadTimeout),
    ):
        for line in r.iter_lines():
            lines.append(line)
    assert len([line for line in lines if line.startswith("data: ")]) == 2


def test_stall_then_continues(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="stall", delay=0.001))
    assert (
        client.post("/chat/completions", json=chat("x")).json()["choices"][0]["message"]["content"]
        == "Echo: x"
    )


def test_disconnect_ends_the_stream_without_done(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=2))
    events = sse_events(streamed(client))
    assert len(events) == 2 and "[DONE]" not in events
    assert json.loads(events[1])["choices"][0]["delta"] == {"content": "Echo:"}


def test_disconnect_non_stream_cuts_the_body(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="disconnect"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/chat/completions", json=chat("x"))


@pytest.mark.parametrize("stream", [True, False])
def test_abort_drops_the_connection(
    server: LocalPortkeyServer, client: httpx.Client, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    server.add_fault(Fault(kind="abort", after_chunks=2))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/chat/completions", json={**chat("a b c"), "stream": stream})
    assert client.post("/chat/completions", json=chat("x")).status_code == 200
    # A deliberate abort is not logged as an application error.
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


def test_error_event(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="error_event", after_chunks=1))
    r = streamed(client)
    blocks = [b for b in r.text.split("\n\n") if b]
    assert len(blocks) == 2 and "[DONE]" not in r.text
    event, data = blocks[1].split("\n")
    assert event == "event: error"
    assert json.loads(data.removeprefix("data: "))["error"]["type"] == "server_error"


def test_error_data(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(
        Fault(kind="error_data", after_chunks=3, body={"error": {"message": "quota", "code": "x"}})
    )
    events = sse_events(streamed(client))
    assert len(events) == 4
    assert json.loads(events[-1]) == {"error": {"message": "quota", "code": "x"}}


def test_mid_stream_fault_beyond_the_end_strikes_before_done(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="error_data", after_chunks=100))
    events = sse_events(streamed(client, chat("x")))
    assert "[DONE]" not in events and "error" in json.loads(events[-1])
    assert len(events) == 4 + 1


def test_malformed_sse_then_the_rest(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="malformed_sse", after_chunks=1))
    events = sse_events(streamed(client))
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[1])
    assert events[-1] == "[DONE]"
    assert len(events) == 1 + 1 + 7


def test_stream_only_faults_wait_for_a_stream(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="error_data"))
    assert client.post("/chat/completions", json=chat("x")).status_code == 200
    assert len(server.state.faults.list()) == 1
    assert "error" in sse_events(streamed(client))[-1]
    assert server.state.faults.list() == []


def test_non_json_error_page(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="non_json"))
    r = client.post(PROMPT, json=VARIABLES)
    assert r.status_code == 502
    assert r.headers["content-type"] == "text/html"
    assert r.text.startswith("<html>")
    server.add_fault(Fault(kind="non_json", status=500, body="<h1>oops</h1>"))
    r = streamed(client)
    assert (r.status_code, r.text) == (500, "<h1>oops</h1>")


def test_hook_results(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.add_fault(Fault(kind="hook_results", times=2))
    first, *rest = chunks(streamed(client))
    assert set(first) == {"hook_results"}
    assert first["hook_results"]["before_request_hooks"][0]["verdict"] is False
    assert rest[0]["choices"][0]["delta"]["role"] == "assistant"
    r = client.post(PROMPT, json=VARIABLES)
    assert r.status_code == 246
    body = r.json()
    assert body["choices"][0]["message"]["content"].startswith("Echo:") and "hook_results" in body


def test_fault_header(client: httpx.Client) -> None:
    r = client.post(
        "/chat/completions",
        json=chat("x"),
        headers={"x-portkey-local-fault": "status;status=429;retry_after=1.5"},
    )
    assert (r.status_code, r.headers["retry-after"]) == (429, "1.5")
    r = streamed(client, headers={"x-portkey-local-fault": "disconnect; after_chunks=1"})
    assert len(sse_events(r)) == 1
    r = client.post("/chat/completions", json=chat("x"), headers={"x-portkey-local-fault": "bogus"})
    assert r.status_code == 400 and "bogus" in r.json()["message"]
    r = client.post(
        "/chat/completions", json=chat("x"), headers={"x-portkey-local-fault": "slow;colour=red"}
    )
    assert r.status_code == 400


def test_faults_over_http(server: LocalPortkeyServer, client: httpx.Client) -> None:
    r = client.post(
        f"{server.url}/_local/faults",
        json={"kind": "status", "status": 503, "times": 1, "route": "chat_completions"},
    )
    assert r.status_code == 201 and r.json()["fault"]["status"] == 503
    assert client.get(f"{server.url}/_local/faults").json()["faults"][0]["kind"] == "status"
    assert client.post("/chat/completions", json=chat("x")).status_code == 503
    client.post(f"{server.url}/_local/faults", json={"kind": "status", "times": None})
    assert client.delete(f"{server.url}/_local/faults").json() == {"ok": True}
    assert client.post("/chat/completions", json=chat("x")).status_code == 200
    for bad in (
        {"kind": "nope"},
        {"kind": "status", "colour": 1},
        {"status": 500},
        {"kind": "status", "route": "x"},
    ):
        r = client.post(f"{server.url}/_local/faults", json=bad)
        assert r.status_code == 400, bad


def test_requests_and_prompts_over_http(server: LocalPortkeyServer, client: httpx.Client) -> None:
    client.post("/chat/completions", json=chat("x"))
    logged = client.get(f"{server.url}/_local/requests").json()["requests"]
    assert (
        logged[0]["path"] == "/v1/chat/completions"
        and logged[0]["body"]["messages"][0]["content"] == "x"
    )
    assert client.delete(f"{server.url}/_local/requests").status_code == 200
    assert server.requests == []
    r = client.post(
        f"{server.url}/_local/prompts",
        json={"id": "pp-http", "template": '[{"role": "user", "content": "{{a}}"}]'},
    )
    assert r.json() == {"id": "pp-http", "version": 1}
    r = client.post(
        f"{server.url}/_local/prompts",
        json={"id": "pp-http2", "versions": [{"template": "t"}, {"template": "u"}]},
    )
    assert r.json() == {"id": "pp-http2", "versions": [1, 2]}
    assert (
        client.post("/prompts/pp-http/completions", json={"variables": {"a": "hey"}}).json()[
            "choices"
        ][0]["message"]["content"]
        == "Echo: hey"
    )
    assert client.post(f"{server.url}/_local/prompts", json={"id": "pp-x"}).status_code == 400
    server.add_fault(Fault(kind="slow"))
    assert client.post(f"{server.url}/_local/reset").status_code == 200
    assert server.state.faults.list() == [] and server.requests == []


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(kind="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown route"):
        Fault(kind="status", route="chat")
    with pytest.raises(ValueError, match="times"):
        Fault(kind="status", times=0)
