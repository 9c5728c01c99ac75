"""Reading a request times out: a connection that never finishes its headers is closed.

uvicorn's keep-alive timeout only runs between requests, and any byte received stops
it, so a client sending half a request line would hold its connection for ever (and,
300 of them, the server's file descriptors). The protocol here gives every request
``header_timeout`` seconds from the connection (or the previous response) to its
complete headers. The body has its own limit in the pipeline (``body_timeout``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT", "KEEP_ALIVE_TIMEOUT", "MAX_HEADER_BYTES", "timed_protocol"]

HEADER_TIMEOUT = 10.0
"""Seconds a client has to send a request's headers."""
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle keep-alive connection stays open."""
MAX_HEADER_BYTES = 64 * 1024
"""The request line and headers, at most (h11's incomplete-event limit): else 400."""


class _TimedH11(H11Protocol):
    header_timeout = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire, self.cycle)

    def _expire(self, cycle: Any) -> None:
        # Still the cycle seen when armed, and done: no request has started since.
        idle = self.cycle is cycle and (cycle is None or cycle.response_complete)
        if idle and not self.transport.is_closing():
            self.transport.close()


def timed_protocol(header_timeout: float = HEADER_TIMEOUT) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a ``header_timeout`` (seconds) on reading headers."""
    return type("TimedH11Protocol", (_TimedH11,), {"header_timeout": header_timeout})
