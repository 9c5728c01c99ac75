"""Starting the server: a background thread, in-process ASGI, the embedded server, the plugin."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portkey_integrations.server import (
    Fault,
    LocalPortkeyServer,
    PromptStore,
    create_app,
    embedded,
    embedded_base_url,
    get_state,
)
from portkey_integrations.server.runner import bind_socket

from .conftest import SSL_CONTEXT
from .helpers import chunks, content_of


def test_listening_socket_is_tcp_so_responses_are_not_delayed() -> None:
    # asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP.
    sock = bind_socket("127.0.0.1", 0)
    with sock:
        assert sock.proto == socket.IPPROTO_TCP


def test_start_stop_and_addresses() -> None:
    server = LocalPortkeyServer(include_bundled=False)
    assert not server.running
    server.start()
    try:
        assert server.running
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
        assert server.url == server.base_url.removesuffix("/v1") and server.port > 0
        port = server.port
        assert server.start() is server and server.port == port
        r = httpx.get(f"{server.url}/health", verify=SSL_CONTEXT)
        assert r.json() == {"status": "ok"}
        assert server.store.ids() == []
    finally:
        server.stop()
    assert not server.running
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/health", verify=SSL_CONTEXT)


async def test_in_process_app_through_asgi_transport(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(
        json.dumps({"id": "pp-dir", "template": "dir {{x}}"}), encoding="utf-8"
    )
    store = PromptStore()
    store.register("pp-own", [{"role": "user", "content": "own {{x}}"}])
    # The Host it will be called by is not a loopback name: the app must be told.
    app = create_app(store=store, prompts_dir=tmp_path, allowed_hosts=["portkey.local"])
    assert get_state(app).store is store and store.ids() == ["pp-dir", "pp-own"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portkey.local/v1") as client:
        r = await client.post("/prompts/pp-own/completions", json={"variables": {"x": 1}})
        assert r.json()["choices"][0]["message"]["content"] == "Echo: own 1"
        r = await client.post(
            "/prompts/pp-dir/completions", json={"variables": {"x": 2}, "stream": True}
        )
        assert "".join(c["choices"][0]["text"] for c in chunks(r)) == "Echo: dir 2"
        r = await client.post("/prompts/pp-joke/completions", json={"variables": {}})
        assert r.status_code == 404
    assert [q.prompt_id for q in get_state(app).requests] == ["pp-own", "pp-dir", "pp-joke"]


def test_new_app_holds_the_bundled_prompts_unless_told_not_to() -> None:
    assert "pp-assistant" in get_state(create_app()).store
    assert get_state(create_app(include_bundled=False)).store.ids() == []


@pytest.fixture
def fresh_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The embedded server as if never started, reading prompts from a temporary folder."""
    (tmp_path / "e.json").write_text(
        json.dumps({"id": "pp-embedded", "template": "e {{x}}"}), encoding="utf-8"
    )
    monkeypatch.setattr(embedded, "_server", None)
    monkeypatch.setenv(embedded.PROMPTS_ENV, str(tmp_path))
    yield tmp_path
    started = embedded._server
    if started is not None:
        started.stop()


def test_embedded_server_starts_once(fresh_embedded: Path) -> None:
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(embedded_base_url())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(urls)) == 1 and len(urls) == 8
    assert embedded_base_url() == urls[0]
    with httpx.Client(base_url=urls[0], verify=SSL_CONTEXT) as client:
        r = client.post("/prompts/pp-embedded/completions", json={"variables": {"x": "1"}})
        assert r.json()["choices"][0]["text"] == "Echo: e 1"
        r = client.post(
            "/prompts/pp-assistant/completions", json={"variables": {"input": "hi"}, "stream": True}
        )
        assert content_of(chunks(r)) == "Echo: hi"


def test_fixtures_reset_between_tests_part_one(portkey_local: LocalPortkeyServer) -> None:
    portkey_local.register("pp-kept", "kept")
    fault = portkey_local.add_fault(Fault("slow"))
    assert fault in portkey_local.state.faults.list()
    httpx.post(f"{portkey_local.base_url}/completions", json={"prompt": "x"}, verify=SSL_CONTEXT)


def test_fixtures_reset_between_tests_part_two(portkey_local: LocalPortkeyServer) -> None:
    assert portkey_local.state.faults.list() == [] and portkey_local.requests == []
    assert "pp-kept" in portkey_local.store


@pytest.mark.slow  # a nested pytest run
def test_pytest_plugin_in_a_users_project(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["portkey_integrations.testing"]\n', encoding="utf-8"
    )
    (tmp_path / "test_user.py").write_text(
        """
import os, sys, httpx

def test_it(portkey_local, portkey_base_url, portkey_env):
    roots = {m.split(".")[0] for m in sys.modules}
    assert not roots & {"langchain", "langchain_core", "llama_index"}
    assert portkey_base_url == portkey_local.base_url == os.environ["PORTKEY_BASE_URL"]
    assert os.environ["PORTKEY_API_KEY"]
    portkey_local.register("pp-user", "user {{who}}")
    url = portkey_base_url + "/prompts/pp-user/completions"
    r = httpx.post(url, json={"variables": {"who": "me"}})
    assert r.json()["choices"][0]["text"] == "Echo: user me"
    assert portkey_local.last_request.variables == {"who": "me"}
""",
        encoding="utf-8",
    )
    # Only the plugin under test: other installed plugins would slow this down
    # and could import frameworks themselves.
    # PYTEST_ADDOPTS may name other plugins' options (CI passes -n 2 to pytest-xdist).
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
