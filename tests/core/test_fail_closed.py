"""The local server is used only when asked for; without a key or a URL calls fail."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient, PortkeyConfigError


def test_no_key_no_url_fails_on_first_call_naming_the_ways_out() -> None:
    client = PortkeyClient()  # construction stays lazy: models can be built in config
    with pytest.raises(PortkeyConfigError) as info:
        client.complete(prompt_id="pp-joke", variables={"topic": "owls"})
    message = str(info.value)
    for hint in ("PORTKEY_API_KEY", "PORTKEY_BASE_URL", 'base_url="local"'):
        assert hint in message


def test_routing_without_a_key_still_fails_closed() -> None:
    # A virtual key or config does not make the offline model a stand-in for Portkey.
    client = PortkeyClient(virtual_key="vk-1", config="pc-1", provider="openai")
    with pytest.raises(PortkeyConfigError):
        client.complete(prompt_id="pp-joke", variables={"topic": "owls"})


async def test_async_client_fails_closed_too() -> None:
    with pytest.raises(PortkeyConfigError):
        await AsyncPortkeyClient().complete(prompt_id="pp-joke", variables={})


def test_base_url_local_uses_the_embedded_server() -> None:
    client = PortkeyClient(base_url="local")
    result = client.complete(prompt_id="pp-joke", variables={"topic": "owls"})
    assert "owls" in result.content
    assert client.base_url.startswith("http://127.0.0.1:")


def test_portkey_base_url_local_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTKEY_BASE_URL", "local")
    client = AsyncPortkeyClient()
    result = asyncio.run(client.complete(prompt_id="pp-joke", variables={"topic": "kites"}))
    assert "kites" in result.content


def test_key_without_url_goes_to_portkey() -> None:
    assert PortkeyClient(api_key="k").base_url == "https://api.portkey.ai/v1"


def test_local_without_the_server_extra_names_the_extra() -> None:
    # A subprocess whose import system refuses starlette: the [server] extra is missing.
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('starlette', 'uvicorn'):
            raise ImportError('No module named ' + repr(name))
sys.meta_path.insert(0, Block())
from portkey_integrations import PortkeyClient, PortkeyConfigError
try:
    PortkeyClient(base_url='local').complete(prompt_id='pp-joke', variables={})
except PortkeyConfigError as exc:
    print(exc)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "portkey-integrations[server]" in out.stdout
