"""Portkey's open-source gateway (``@portkey-ai/gateway``, Node) in front of the local server.

``npm ci --prefix tests/gateway/node`` installs it; without Node or that install the
tests here skip. The gateway is the real Portkey routing layer (configs, retries,
fallbacks, timeouts); the local server is its OpenAI-compatible upstream, reached through
``x-portkey-provider: openai`` and ``x-portkey-custom-host``. It listens on every
interface, but the tests only ever talk to it on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

NODE_DIR = Path(__file__).parent / "node"
START_SCRIPT = NODE_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
_START_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with status {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the gateway did not answer on {url} within {_START_TIMEOUT} s")


@pytest.fixture(scope="session")
def gateway_url() -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT/v1``) of a gateway running for the session."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the gateway tests need Node.js 20+")
    if not START_SCRIPT.is_file():
        pytest.skip("@portkey-ai/gateway is not installed (npm ci --prefix tests/gateway/node)")
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [node, str(START_SCRIPT), f"--port={port}", "--headless"],
            cwd=NODE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                _wait_until_up(process, f"http://127.0.0.1:{port}/")
            except RuntimeError as exc:
                log.seek(0)
                output = log.read().decode("utf-8", "replace")
                raise RuntimeError(f"{exc}; its output:\n{output}") from None
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture(scope="session")
def server_options() -> Mapping[str, Any]:
    # A provider behind the gateway gets no Portkey routing headers: it must not ask.
    return {"require_routing": False}


@pytest.fixture
def upstream(server: LocalPortkeyServer) -> LocalPortkeyServer:
    """A reset local server standing in for the gateway's upstream provider."""
    return server


@pytest.fixture
def via_gateway(gateway_url: str, upstream: LocalPortkeyServer) -> dict[str, Any]:
    """Keyword arguments routing a client or model through the gateway to the local server."""
    return {
        "base_url": gateway_url,
        "api_key": "pk-gateway-test",
        "provider": "openai",
        "provider_api_key": "sk-upstream-test",
        "custom_host": upstream.base_url,
        "max_retries": 0,
    }


@pytest.fixture
def closed_url() -> str:
    """An OpenAI-compatible base URL on a loopback port nobody listens on."""
    return f"http://127.0.0.1:{free_port()}/v1"
