"""Minimal ASGI responses (JSON and server-sent events) that can carry a fault."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from .faults import HTML_BODY, MID_STREAM, Fault

__all__ = [
    "DONE",
    "AbortConnection",
    "EventStream",
    "Headers",
    "JSONOut",
    "SafeJSONResponse",
    "encode_event",
    "encode_json",
    "html_error",
    "json_out",
    "sleep_or_disconnect",
]

DONE = b"data: [DONE]\n\n"
_MALFORMED = b'data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": \n\n'
Headers = list[tuple[bytes, bytes]]


class AbortConnection(Exception):
    """Raised mid-body so the HTTP server drops the connection (the ``abort`` fault)."""


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


_ASCII_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def encode_json(obj: Any) -> bytes:
    """Compact JSON bytes (one shared encoder: building one per call costs more than encoding).

    A lone surrogate (a ``\\ud800`` escape in a prompt file) cannot be UTF-8: such a
    value goes out ``\\u``-escaped, which is still valid JSON, instead of failing.
    """
    text = _ENCODER.encode(obj)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(obj).encode()


class SafeJSONResponse(JSONResponse):
    """Starlette's JSON response, encoded by :func:`encode_json` (never fails on a surrogate)."""

    def render(self, content: Any) -> bytes:
        return encode_json(content)


def encode_event(obj: Any) -> bytes:
    """One ``data:`` event."""
    return b"data: " + encode_json(obj) + b"\n\n"


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


async def sleep_or_disconnect(receive: Receive, delay: float) -> bool:
    """Sleep ``delay`` seconds; True if the client went away first."""
    if delay <= 0:
        return False
    listener = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        done, _ = await asyncio.wait({listener}, timeout=delay)
        return listener in done
    finally:
        listener.cancel()


class JSONOut:
    """A complete response body, sent in one piece unless a fault says otherwise."""

    def __init__(
        self, status: int, body: bytes, headers: Headers, fault: Fault | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = [*headers, (b"content-length", str(len(body)).encode())]
        self.fault = fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.fault
        kind = fault.kind if fault is not None else None
        if (
            fault is not None
            and kind == "slow"
            and await sleep_or_disconnect(receive, fault.effective_delay)
        ):
            return
        if fault is not None and kind == "stall":
            headers = [h for h in self.headers if h[0] != b"content-length"]
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            if await sleep_or_disconnect(receive, fault.effective_delay):
                return
            await send({"type": "http.response.body", "body": self.body, "more_body": False})
            return
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        if kind in ("disconnect", "abort"):
            await send(
                {
                    "type": "http.response.body",
                    "body": self.body[: len(self.body) // 2],
                    "more_body": True,
                }
            )
            raise AbortConnection
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def json_out(status: int, obj: Any, headers: Headers, fault: Fault | None = None) -> JSONOut:
    """A JSON response."""
    body = encode_json(obj)
    return JSONOut(status, body, [*headers, (b"content-type", b"application/json")], fault)


def html_error(fault: Fault, headers: Headers) -> JSONOut:
    """The ``non_json`` fault: an HTML error page where JSON was expected."""
    text = (
        fault.body
        if isinstance(fault.body, str)
        else HTML_BODY.format(status=fault.effective_status)
    )
    return JSONOut(
        fault.effective_status, text.encode(), [*headers, (b"content-type", b"text/html")]
    )


async def _aiter(events: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(events, AsyncIterable):
        async for event in events:
            yield event
    else:
        for event in events:
            yield event


class EventStream:
    """A ``text/event-stream`` response of encoded events, ending in ``[DONE]``.

    ``done=False`` passes through a ``[DONE]`` found among the events instead
    of always adding one (upstream streams).
    """

    def __init__(
        self,
        events: Iterable[bytes] | AsyncIterable[bytes],
        headers: Headers,
        fault: Fault | None = None,
        *,
        done: bool = True,
        status: int = 200,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.events = events
        self.headers = [
            *headers,
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
        ]
        self.fault = fault
        self.done = done
        self.status = status
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._run(receive, send)
        finally:
            if self.on_close is not None:
                await self.on_close()

    async def _run(self, receive: Receive, send: Send) -> None:
        fault = self.fault
        kind = fault.kind if fault is not None else None
        delay = fault.effective_delay if fault is not None else 0.0
        # Index of the event before which a mid-stream fault strikes (-1: none).
        strike_at = -1
        if fault is not None and (kind in MID_STREAM or kind == "stall"):
            strike_at = fault.chunks_before
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})

        async def emit(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        async def end() -> None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def strike() -> bool:
            """Apply the fault; True when the stream must end here."""
            assert fault is not None
            if kind == "stall":
                return await sleep_or_disconnect(receive, delay)
            if kind == "abort":
                raise AbortConnection
            if kind == "error_event":
                await emit(b"event: error\n" + encode_event(fault.stream_error()))
            elif kind == "error_data":
                await emit(encode_event(fault.stream_error()))
            elif kind == "malformed_sse":
                await emit(_MALFORMED)
                return False
            return True

        if fault is not None and kind == "hook_results":
            await emit(encode_event({"hook_results": fault.hook_results()}))
        sent = 0
        saw_done = False
        async for event in _aiter(self.events):
            if event.startswith(b"data: [DONE]"):
                saw_done = True
                break
            if sent == strike_at:
                strike_at = -1
                if await strike():
                    await end()
                    return
            if kind == "slow" and await sleep_or_disconnect(receive, delay):
                return
            await emit(event)
            sent += 1
        # A fault set beyond the stream's length strikes just before [DONE].
        if strike_at >= 0 and await strike():
            await end()
            return
        if self.done or saw_done:
            await emit(DONE)
        await end()
