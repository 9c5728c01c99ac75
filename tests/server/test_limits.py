"""The server's limits, over real HTTP: render budget, read timeouts, template size,
linear parsing, deep templates, and the version number a prompt request ran.

Nothing here times the machine: linearity is the parser's own work counted (characters
its patterns examine), and the runaway render's budget runs on a clock the test moves.
Parse speed is measured in ``benchmarks/bench_templates.py``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from portkey_integrations._templates import mustache, tokens
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


class _HeldClock:
    """``time`` for the renderer: the real clock until :meth:`expire` jumps it past
    any budget, so the render's end is ordered by the test, not by the machine's speed."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.budget_made = threading.Event()

    def monotonic(self) -> float:
        self.budget_made.set()  # the first reading is the budget's start: the render runs
        return time.monotonic() + self.offset

    def expire(self) -> None:
        self.offset = 1e9


def test_a_runaway_template_is_stopped_without_blocking_health(
    budgeted: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _HeldClock()
    monkeypatch.setattr(mustache, "time", clock)
    budgeted.state.render_seconds = 1.5
    result: dict[str, httpx.Response] = {}
    # 10⁴ items cubed: no machine renders 10¹² steps, so only the budget ends it.
    runaway = {"a": list(range(10_000))}

    def render() -> None:
        result["r"] = httpx.post(
            f"{budgeted.base_url}/prompts/pp-cube/render", json={"variables": runaway}, timeout=60
        )

    worker = threading.Thread(target=render)
    worker.start()
    try:
        assert clock.budget_made.wait(30)  # a hang guard, not a timing assertion
        with httpx.Client(base_url=budgeted.url) as http:
            assert http.get("/health").status_code == 200
        # /health answered while the render was still in flight.
        assert worker.is_alive() and "r" not in result
    finally:
        clock.expire()
        worker.join(60)
    r = result["r"]
    assert r.status_code == 422, r.text
    assert "render budget" in r.json()["message"] and "took over 1.5 s" in r.json()["message"]


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


@pytest.mark.slow  # 300 held connections and a server-side timeout to wait out
def test_half_sent_requests_time_out_and_health_keeps_answering() -> None:
    with LocalPortkeyServer(header_timeout=0.5, body_timeout=0.5) as server:
        held = []
        try:
            for _ in range(300):
                sock = socket.create_connection(("127.0.0.1", server.port))
                sock.sendall(b"POST /v1/prompts/pp-joke/render HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                held.append(sock)
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
            for sock in held[:20]:
                sock.settimeout(5)  # no sleep: recv returns when the server closes it
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


def test_a_2_mb_template_parses_and_is_stored(server: LocalPortkeyServer) -> None:
    template = _prose(8_000)
    assert len(template) > 2_000_000
    assert mustache.template_details(template)["variables"] == ["topic", "name"]
    r = httpx.post(
        f"{server.url}/_local/prompts", json={"id": "pp-2mb", "template": template}, timeout=30
    )
    try:
        assert r.status_code == 201
        assert server.store.resolve("pp-2mb") is not None
    finally:
        server.store.remove("pp-2mb")


class _Counted:
    """A compiled pattern that adds to ``work`` the characters each call examines."""

    def __init__(self, pattern: re.Pattern[str], work: list[int]) -> None:
        self.pattern, self.work = pattern, work

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        found = self.pattern.search(text, pos)  # a miss reads to the end
        self.work[0] += (len(text) if found is None else found.end()) - pos + 1
        return found

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        found = self.pattern.match(text, pos)  # a miss reads about one character
        self.work[0] += (pos if found is None else found.end()) - pos + 1
        return found

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        self.work[0] += len(text) + 1
        return self.pattern.finditer(text)

    def sub(self, repl: str, text: str) -> str:
        self.work[0] += len(text) + 1
        return self.pattern.sub(repl, text)

    def split(self, text: str) -> list[str]:
        self.work[0] += len(text) + 1
        return self.pattern.split(text)


@pytest.fixture
def parse_work(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], int]:
    """The parser with every pattern counted: template -> characters examined."""
    work = [0]
    for name, value in vars(tokens).copy().items():
        if isinstance(value, re.Pattern):
            monkeypatch.setattr(tokens, name, _Counted(value, work))
    compile_tags = tokens._compile_tags

    def counted_tags(spec: Any) -> tuple[_Counted, ...]:
        return tuple(_Counted(p, work) for p in compile_tags(spec))

    monkeypatch.setattr(tokens, "_compile_tags", counted_tags)

    def measure(template: str) -> int:
        work[0] = 0
        tokens._parse(template)  # uncached
        return work[0]

    return measure


LINEAR_CASES = {
    "variables and text": lambda n: "".join(f"{{{{v{i}}}}} text\n" for i in range(n)),
    "prose": lambda n: _prose(n // 50),
    "tag-dense": lambda n: "{{#s}}{{a}}{{{b}}}{{/s}}{{> p}}{{! c}}" * n,
    "unclosed tags": lambda n: "{{a " * n,
    "unclosed sections": lambda n: "{{#a x " * n,
    "custom delimiters": lambda n: "{{=<% %>=}}" + "<%a%> <%#s%>x<%/s%> " * n,
}


@pytest.mark.parametrize("make", LINEAR_CASES.values(), ids=LINEAR_CASES)
def test_parsing_is_linear(parse_work: Callable[[str], int], make: Callable[[int], str]) -> None:
    small_text, large_text = make(1_000), make(4_000)
    small, large = parse_work(small_text), parse_work(large_text)
    # Work per character of template stays the same at 4x the size (quadratic: 4x more).
    assert large / len(large_text) < 1.25 * small / len(small_text), (small, large)


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
