"""The server's limits, over real HTTP: render budget, read timeouts, template size,
linear parsing, deep templates, and the version number a prompt request ran."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from portkey_integrations._templates import mustache
from portkey_integrations.server import LocalPortkeyServer
from portkey_integrations.server.admin_files import MAX_TEMPLATE_CHARS

from .conftest import ROUTING

CUBE = "{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}"
ITEMS = {"a": list(range(150))}


@pytest.fixture
def budgeted(server: LocalPortkeyServer) -> Iterator[LocalPortkeyServer]:
    state = server.state
    seconds, chars = state.render_seconds, state.render_chars
    server.register("pp-cube", CUBE)
    yield server
    state.render_seconds, state.render_chars = seconds, chars
    server.store.remove("pp-cube")


def test_a_runaway_template_is_stopped_without_blocking_health(
    budgeted: LocalPortkeyServer,
) -> None:
    budgeted.state.render_seconds = 1.5
    result: dict[str, httpx.Response] = {}

    def render() -> None:
        result["r"] = httpx.post(
            f"{budgeted.base_url}/prompts/pp-cube/render", json={"variables": ITEMS}, timeout=30
        )

    worker = threading.Thread(target=render)
    worker.start()
    time.sleep(0.3)
    waits = []
    with httpx.Client(base_url=budgeted.url) as http:
        while worker.is_alive():
            started = time.monotonic()
            assert http.get("/health").status_code == 200
            waits.append(time.monotonic() - started)
            time.sleep(0.05)
    worker.join()
    r = result["r"]
    assert r.status_code == 422, r.text
    assert "render budget" in r.json()["message"] and "took over 1.5 s" in r.json()["message"]
    assert waits and max(waits) < 1.0


def test_the_render_budget_bounds_output_size(budgeted: LocalPortkeyServer) -> None:
    budgeted.state.render_chars = 100_000
    r = httpx.post(
        f"{budgeted.base_url}/prompts/pp-cube/completions",
        json={"variables": ITEMS},
        headers=ROUTING,
        timeout=30,
    )
    assert r.status_code == 422
    assert "exceeds 100000 characters" in r.json()["message"]


def test_half_sent_requests_time_out_and_health_keeps_answering() -> None:
    with LocalPortkeyServer(header_timeout=1.0, body_timeout=1.0) as server:
        held = []
        try:
            for _ in range(300):
                sock = socket.create_connection(("127.0.0.1", server.port))
                sock.sendall(b"POST /v1/prompts/pp-joke/render HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                held.append(sock)
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
            time.sleep(2.5)
            for sock in held[:20]:
                sock.settimeout(2)
                assert sock.recv(1024) == b""  # closed by the server
            # A body that never arrives: 408, in Portkey's error shape.
            sock = socket.create_connection(("127.0.0.1", server.port))
            held.append(sock)
            sock.sendall(
                b"POST /v1/prompts/pp-joke/render HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 408")
        finally:
            for sock in held:
                sock.close()


def test_templates_over_the_size_limit_are_refused(server: LocalPortkeyServer) -> None:
    big = "x" * (MAX_TEMPLATE_CHARS + 1)
    r = httpx.post(f"{server.url}/_local/prompts", json={"id": "pp-huge", "template": big})
    assert r.status_code == 400 and f"at most {MAX_TEMPLATE_CHARS}" in r.json()["message"]
    assert "pp-huge" not in server.store


def _prose(lines: int) -> str:
    line = "Some ordinary prose of a prompt, written for a model to read, about {{topic}}. "
    return (line * 3 + "{{#items}}- {{name}}{{/items}}\n") * lines


def test_a_2_mb_template_parses_in_well_under_a_second(server: LocalPortkeyServer) -> None:
    template = _prose(8_000)
    assert len(template) > 2_000_000
    # CPU time of this thread: the machine running the tests may be busy.
    started = time.thread_time()
    details = mustache.template_details(template)
    assert time.thread_time() - started < 1.0
    assert details["variables"] == ["topic", "name"]
    r = httpx.post(
        f"{server.url}/_local/prompts", json={"id": "pp-2mb", "template": template}, timeout=30
    )
    try:
        assert r.status_code == 201
        assert server.store.resolve("pp-2mb") is not None
    finally:
        server.store.remove("pp-2mb")


def test_parsing_is_linear() -> None:
    def cost(size: int) -> float:
        text = "".join(f"{{{{v{i}}}}} text\n" for i in range(size))
        started = time.thread_time()
        mustache.template_details(text)
        return time.thread_time() - started

    small, large = cost(10_000), cost(40_000)
    assert large < small * 8  # 4x the template: quadratic would be 16x


def test_a_5000_level_section_template_gets_a_4xx_and_the_connection_survives(
    server: LocalPortkeyServer,
) -> None:
    deep = "{{#a}}" * 5_000 + "x" + "{{/a}}" * 5_000
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/_local/prompts", json={"id": "pp-deep", "template": deep})
        assert r.status_code == 201
        try:
            r = http.post("/v1/prompts/pp-deep/render", json={"variables": {"a": True}})
            assert r.status_code == 400 and r.json()["status"] == "failure"
            assert http.get("/health").status_code == 200
        finally:
            server.store.remove("pp-deep")


@pytest.mark.parametrize(
    ("ref", "number"), [("pp-joke", "1"), ("pp-joke@2", "2"), ("pp-joke@production", "2")]
)
@pytest.mark.parametrize("route", ["render", "completions", "stream"])
def test_the_version_number_that_ran_is_a_response_header(
    client: httpx.Client, ref: str, number: str, route: str
) -> None:
    path = "render" if route == "render" else "completions"
    body = {"variables": {}, "stream": route == "stream"}
    r = client.post(f"/prompts/{ref}/{path}", json=body)
    assert r.status_code == 200
    assert r.headers["x-portkey-prompt-version"] == number
