"""Server-sent events to typed chunks, with ``[DONE]`` and truncation handled.

:class:`Stream` and :class:`AsyncStream` own the HTTP response and release it when
iteration ends, when they are closed, or when an abandoned iterator is collected, so
sequential streams reuse pooled connections.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

from ._error_mapping import make_stream_error
from ._errors import APITimeoutError, StreamError, TruncatedStreamError
from ._response import CompletionChunk, ResponseInfo
from ._secrets import scrub_transport_error

__all__ = ["AsyncStream", "Stream"]


class _Decoder:
    """Turns events into chunks; the one place sync and async streams share."""

    __slots__ = ("done", "info", "raw")

    def __init__(self, info: ResponseInfo) -> None:
        self.info = info
        self.done = False
        # Each delivered chunk's event text, kept so that an error can hand back every
        # chunk received: text is about an eighth of a parsed chunk's memory.
        self.raw: list[str] = []

    @property
    def chunks(self) -> list[CompletionChunk]:
        """The chunks delivered so far, parsed again (errors only)."""
        return [CompletionChunk.model_validate_json(data) for data in self.raw]

    def decode(self, sse: ServerSentEvent) -> CompletionChunk | None:
        data = sse.data
        if data == "[DONE]" or self.done:
            # Anything after [DONE] is ignored; the server ends the response there.
            self.done = True
            return None
        if not data:
            return None
        if sse.event == "error" or data.startswith('{"error"'):
            raise make_stream_error(_loads_or_text(data), self.info.trace_id, self.chunks)
        try:
            chunk = CompletionChunk.model_validate_json(data)
        except ValueError as exc:
            raise StreamError(
                f"malformed stream event: {data[:200]!r}",
                body=data,
                trace_id=self.info.trace_id,
                chunks=self.chunks,
            ) from exc
        extra = chunk.model_extra
        if extra and "error" in extra and not chunk.choices:
            raise make_stream_error(extra, self.info.trace_id, self.chunks)
        self.raw.append(data)
        return chunk

    def __enter__(self) -> _Decoder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        """Map transport failures to stream errors, and a clean end without [DONE] to
        :class:`TruncatedStreamError`, after every chunk that arrived was delivered."""
        if isinstance(exc, httpx.TransportError):
            raise self.broken(exc) from scrub_transport_error(exc)
        if kind is None and not self.done:
            raise TruncatedStreamError(
                f"stream ended without [DONE] after {len(self.raw)} chunks",
                trace_id=self.info.trace_id,
                chunks=self.chunks,
            )

    def broken(self, exc: httpx.TransportError) -> Exception:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"stream stalled: {type(exc).__name__}")
        return TruncatedStreamError(
            f"stream broken after {len(self.raw)} chunks: {type(exc).__name__}",
            trace_id=self.info.trace_id,
            chunks=self.chunks,
        )


class Stream:
    """An iterator of :class:`CompletionChunk` over one streaming response.

    Raises :class:`TruncatedStreamError` after the last chunk that arrived when the
    server closes without ``[DONE]``, and :class:`StreamError` on an error event.
    """

    def __init__(self, response: httpx.Response, info: ResponseInfo) -> None:
        self.response = response
        self.portkey = info
        # A function, not a method: the generator must not hold the stream, so that an
        # abandoned stream is freed (and its connection released) without waiting for gc.
        self._iterator = _iterate(response, info)

    def __iter__(self) -> Generator[CompletionChunk, None, None]:
        return self._iterator

    def __next__(self) -> CompletionChunk:
        return next(self._iterator)

    def close(self) -> None:
        """Release the connection; safe to call more than once."""
        self._iterator.close()
        self.response.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream:
    """The async twin of :class:`Stream`."""

    def __init__(self, response: httpx.Response, info: ResponseInfo) -> None:
        self.response = response
        self.portkey = info
        self._iterator = _aiterate(response, info)

    def __aiter__(self) -> AsyncGenerator[CompletionChunk, None]:
        return self._iterator

    async def __anext__(self) -> CompletionChunk:
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Release the connection; safe to call more than once."""
        await self._iterator.aclose()
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _iterate(
    response: httpx.Response, info: ResponseInfo
) -> Generator[CompletionChunk, None, None]:
    try:
        with _Decoder(info) as decoder:
            for sse in EventSource(response).iter_sse():
                if (chunk := decoder.decode(sse)) is not None:
                    yield chunk
    finally:
        response.close()


async def _aiterate(
    response: httpx.Response, info: ResponseInfo
) -> AsyncGenerator[CompletionChunk, None]:
    try:
        with _Decoder(info) as decoder:
            async for sse in EventSource(response).aiter_sse():
                if (chunk := decoder.decode(sse)) is not None:
                    yield chunk
    finally:
        await response.aclose()


def _loads_or_text(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data
