"""Transport details of the clients: one attempt at sending, how our own pools send, and
when they must not."""

from __future__ import annotations

import http.cookiejar
import urllib.request
from typing import Any

import httpx

__all__ = ["NoCookieJar", "aread", "asend_once", "proxies_configured", "read", "send_once"]


class NoCookieJar(http.cookiejar.CookieJar):
    """Portkey sets no cookies; not parsing responses for them saves ~0.1 ms a call."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def proxies_configured() -> bool:
    """Our own pools skip httpx.Client's per-request layers (auth, redirects, cookies,
    event hooks), none of which a Portkey call uses, and hand requests to the transport.
    With proxies in the environment they go through the client, which applies them."""
    return bool(urllib.request.getproxies())


def read(response: httpx.Response) -> None:
    """Read a response's body; release the connection if reading fails."""
    try:
        response.read()
    except BaseException:
        response.close()
        raise


async def aread(response: httpx.Response) -> None:
    """Async :func:`read`."""
    try:
        await response.aread()
    except BaseException:
        await response.aclose()
        raise


def send_once(
    sender: httpx.BaseTransport | httpx.Client, request: httpx.Request, *, stream: bool
) -> httpx.Response | httpx.TransportError:
    """One attempt: the response (its body read unless ``stream``), or the transport
    error it failed with; the client's retry decision takes either."""
    try:
        if isinstance(sender, httpx.Client):
            return sender.send(request, stream=stream)
        response = sender.handle_request(request)
        response.request = request
        if not stream:
            read(response)
        return response
    except httpx.TransportError as exc:
        exc.request = request  # transports raise without it; the error names the URL
        return exc


async def asend_once(
    sender: httpx.AsyncBaseTransport | httpx.AsyncClient, request: httpx.Request, *, stream: bool
) -> httpx.Response | httpx.TransportError:
    """Async :func:`send_once`."""
    try:
        if isinstance(sender, httpx.AsyncClient):
            return await sender.send(request, stream=stream)
        response = await sender.handle_async_request(request)
        response.request = request
        if not stream:
            await aread(response)
        return response
    except httpx.TransportError as exc:
        exc.request = request
        return exc
