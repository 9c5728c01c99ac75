"""Transport details of the clients: how our own pools send, and when they must not."""

from __future__ import annotations

import http.cookiejar
import urllib.request
from typing import Any

import httpx

__all__ = ["NoCookieJar", "aread", "proxies_configured", "read"]


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
