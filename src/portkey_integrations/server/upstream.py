"""Upstream mode: send the rendered request to an OpenAI-compatible base URL.

Statuses, error bodies and streams come back as the upstream sent them; the
request's ``Authorization`` header is passed on.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp

from .faults import Fault
from .responses import EventStream, Headers, JSONOut, json_out

__all__ = ["Upstream"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


async def _events(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Regroup a byte stream into whole SSE events, so faults can count them."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while True:
            at = buffer.find(b"\n\n")
            if at < 0:
                break
            yield buffer[: at + 2]
            buffer = buffer[at + 2 :]
    if buffer:
        yield buffer


class Upstream:
    """Forwards completions to ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``)."""

    def __init__(self, base_url: str, timeout: float = 300.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        host = urlsplit(self.base_url).hostname or ""
        # Proxy settings from the environment must not capture loopback traffic.
        self._trust_env = host not in _LOOPBACK
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> httpx.AsyncClient:
        # One client per event loop: a client's connections belong to its loop.
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            timeout = httpx.Timeout(self.timeout, connect=10.0)
            client = httpx.AsyncClient(timeout=timeout, trust_env=self._trust_env)
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the client of the running loop."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def forward(
        self,
        path: str,
        body: dict[str, Any],
        request_headers: Mapping[str, str],
        headers: Headers,
        fault: Fault | None,
    ) -> ASGIApp:
        """Send ``body`` to ``base_url + path``; the response to answer with."""
        out_headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        }
        for name in ("authorization", "x-portkey-provider", "x-portkey-config"):
            # Routing goes along: an upstream that is a Portkey gateway needs it too.
            if name in request_headers:
                out_headers[name] = request_headers[name]
        client = self._client()
        request = client.build_request("POST", self.base_url + path, json=body, headers=out_headers)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            message = f"Upstream {self.base_url} could not be reached: {exc!r}"
            return json_out(502, {"status": "failure", "message": message}, headers, fault)
        content_type = response.headers.get("content-type", "application/json")
        if response.status_code < 400 and content_type.startswith("text/event-stream"):
            passthrough = [h for h in headers if h[0] != b"content-type"]
            return EventStream(
                _events(response.aiter_raw()),
                passthrough,
                fault,
                done=False,
                status=response.status_code,
                on_close=response.aclose,
            )
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return JSONOut(
            response.status_code,
            content,
            [*headers, (b"content-type", content_type.encode())],
            fault,
        )
