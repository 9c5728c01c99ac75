"""Server-sent events to typed chunks, with ``[DONE]`` and truncation handled.

:class:`Stream` and :class:`AsyncStream` own the HTTP response and release it when
iteration ends, when they are closed, or when an abandoned iterator is collected, so
sequential streams reuse pooled connections.

The events are read here, not by an SSE library: Portkey sends ``data:`` lines, ``event:
error`` and comments, and reading lines ourselves (split on ``\\n``, ``\\r\\n`` and ``\\r``
only, as the SSE spec says) costs a fraction of a general decoder; the body is read raw,
straight from the transport (through httpx's decompression when it is compressed), and
decoded here as httpx's ``iter_text`` would: no httpx generator layer per event. Each event is
validated by pydantic straight from its JSON text: that is faster than ``json.loads``
followed by building the models in Python, even for the plain content-only event.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncGenerator, Callable, Generator
from functools import cache
from typing import Any

import httpx

from ._chunk_record import ChunkRecord
from ._error_mapping import make_stream_error
from ._errors import APITimeoutError, StreamError, TruncatedStreamError
from ._response import CompletionChunk, ResponseInfo
from ._secrets import scrub_transport_error
from ._transport import araw_body, raw_body

__all__ = ["AsyncStream", "Stream"]

_EVENT_STREAM = "text/event-stream"


@cache
def _chunk_parser() -> Callable[[str], CompletionChunk]:
    """pydantic's validator of a chunk's JSON text, built on first use (the models defer
    their build, for import time) and called without ``model_validate_json``'s Python
    frame: once per event."""
    CompletionChunk.model_rebuild()
    parse: Callable[[str], CompletionChunk] = CompletionChunk.__pydantic_validator__.validate_json
    return parse


class _Decoder:
    """Text to chunks: lines, events, chunks; the one place sync and async share.

    :meth:`feed` returns the chunks completed by a piece of text; an error event found
    after some of them is kept in :attr:`failure`, raised once those were delivered.
    """

    __slots__ = (
        *("data", "done", "event", "failure", "info", "json", "jsons", "parse", "partial"),
        *("record", "skip_lf"),
    )

    def __init__(self, info: ResponseInfo) -> None:
        self.info = info
        self.done = False
        self.failure: StreamError | None = None
        self.record = ChunkRecord()
        self.partial: list[str] = []  # the start of a line not yet ended
        self.skip_lf = False  # the last piece ended with "\r": a leading "\n" is its pair
        self.event = ""
        self.data: list[str] = []
        # The JSON text of each chunk :meth:`feed` returned; ``None`` when it returned
        # at most one chunk of one whole event, and set :attr:`json` itself.
        self.jsons: list[str] | None = None
        self.json = ""  # the JSON text of the chunk last delivered
        self.parse = _chunk_parser()

    def check(self, response: httpx.Response) -> None:
        kind = response.headers.get("content-type", "").partition(";")[0]
        if _EVENT_STREAM not in kind:
            raise TruncatedStreamError(
                f"stream broken after 0 chunks: not an event stream ({kind!r})",
                trace_id=self.info.trace_id,
                chunks=[],
            )

    def feed(self, text: str) -> list[CompletionChunk]:
        if (
            text.endswith("\n\n")
            and text.startswith("data: ")
            and text.find("\n") == len(text) - 2
            and "\r" not in text
            and not (self.partial or self.data or self.event or self.skip_lf or self.done)
        ):
            # Nearly every piece of text is one whole event of one data line: its chunk
            # is delivered as soon as this returns, so its text is the last delivered.
            self.jsons = None
            try:
                chunk = self.decode(data := text[6:-2])
            except StreamError as exc:
                self.failure = exc
                self.done = True
                return []
            if chunk is None:
                return []
            self.json = data
            return [chunk]
        if self.skip_lf:
            self.skip_lf = False
            if text.startswith("\n"):
                text = text[1:]
        if "\r" in text:
            if text.endswith("\r"):
                self.skip_lf = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self.partial.append(text)
            return []
        lines = text.split("\n")
        if self.partial:
            self.partial.append(lines[0])
            lines[0] = "".join(self.partial)
            self.partial = []
        last = lines.pop()
        if last:
            self.partial.append(last)
        out: list[CompletionChunk] = []
        self.jsons = []
        for line in lines:
            if line.startswith("data:"):
                value = line[5:]
                self.data.append(value[1:] if value.startswith(" ") else value)
            elif not line:
                if self.data and not self.done:
                    data = self.data[0] if len(self.data) == 1 else "\n".join(self.data)
                    try:
                        chunk = self.decode(data)
                    except StreamError as exc:
                        self.failure = exc
                        self.done = True  # nothing after an error is read
                        return out
                    if chunk is not None:
                        out.append(chunk)
                        self.jsons.append(data)
                self.event = ""
                self.data = []
            elif line.startswith("event:"):
                value = line[6:]
                self.event = value[1:] if value.startswith(" ") else value
            # Comments (":"), id, retry and unknown fields change nothing we read.
        return out

    def deliver(self, chunks: list[CompletionChunk]) -> Generator[CompletionChunk, None, None]:
        """The chunks :meth:`feed` returned, each with its JSON text in :attr:`json` as it
        is delivered; then the error event found after them, if any."""
        if self.jsons is None:
            yield from chunks[:1]
        else:
            # jsons may end with a text that made no chunk ([DONE]): zip stops first.
            for chunk, json_text in zip(chunks, self.jsons, strict=False):
                self.json = json_text
                yield chunk
        if self.failure is not None:
            raise self.failed()

    def decode(self, data: str) -> CompletionChunk | None:
        if data == "[DONE]":
            # Anything after [DONE] is ignored; the server ends the response there.
            self.done = True
            return None
        if not data:
            return None
        # An error's chunks are filled in when it is raised (:meth:`failed`), once the
        # chunks read before it in the same piece of text were delivered.
        if self.event == "error" or data.startswith('{"error"'):
            raise make_stream_error(_loads_or_text(data), self.info.trace_id, [])
        try:
            chunk = self.parse(data)
        except ValueError as exc:
            raise StreamError(
                f"malformed stream event: {data[:200]!r}",
                body=data,
                trace_id=self.info.trace_id,
            ) from exc
        # The attribute, not the model_extra property: once per event.
        extra = chunk.__pydantic_extra__
        if extra and "error" in extra and not chunk.choices:
            raise make_stream_error(extra, self.info.trace_id, [])
        # What ChunkRecord keeps (see there), written here: once per event.
        record = self.record
        record.texts.append(data)
        if record.text is not None:
            record.held += len(data)
            if record.held > record.FOLD_AT:
                record.fold()
        return chunk

    @property
    def chunks(self) -> list[CompletionChunk]:
        """The chunks delivered so far, built again (errors only)."""
        return self.record.chunks()

    def failed(self) -> StreamError:
        """The error event read, with the chunks delivered before it: raise it once the
        chunks that preceded it were delivered."""
        assert self.failure is not None
        self.failure.chunks = self.chunks
        return self.failure

    def finish(self) -> None:
        """The end of the body: a clean end without [DONE] is a truncated stream."""
        if self.failure is not None:
            raise self.failed()
        if not self.done:
            raise TruncatedStreamError(
                f"stream ended without [DONE] after {self.record.count} chunks",
                trace_id=self.info.trace_id,
                chunks=self.chunks,
            )

    def broken(self, exc: httpx.TransportError, response: httpx.Response) -> Exception:
        """The stream's error for a transport failure mid-stream; ``exc`` names the
        request, as httpx's ``iter_raw`` would have it (the body is read past it), for
        the cause's credentials to be masked."""
        if getattr(exc, "_request", None) is None:
            exc.request = response.request
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"stream stalled: {type(exc).__name__}")
        return TruncatedStreamError(
            f"stream broken after {self.record.count} chunks: {type(exc).__name__}",
            trace_id=self.info.trace_id,
            chunks=self.chunks,
        )


class _StreamBase:
    """What both stream faces hold: the response, its Portkey headers and the decoder."""

    def __init__(self, response: httpx.Response, info: ResponseInfo) -> None:
        self.response = response
        self.portkey = info
        self._decoder = _Decoder(info)

    @property
    def last_json(self) -> str:
        """The JSON text of the chunk last delivered, as it arrived."""
        return self._decoder.json

    def share_text(self, text: Callable[[], str]) -> None:
        """Promise that ``text()`` returns the first choices' content of every chunk
        delivered so far, concatenated (a consumer that accumulates the answer anyway):
        the stream then keeps, for :attr:`StreamError.chunks`, each run of events that
        differ only in their content as the text around it and each chunk's length, not
        a second copy of the answer (past the first 16 KiB of event text, which it holds
        as it arrived). Call it before iterating."""
        self._decoder.record.share_text(text)


class Stream(_StreamBase):
    """An iterator of :class:`CompletionChunk` over one streaming response.

    Raises :class:`TruncatedStreamError` after the last chunk that arrived when the
    server closes without ``[DONE]``, and :class:`StreamError` on an error event.
    """

    def __init__(self, response: httpx.Response, info: ResponseInfo) -> None:
        super().__init__(response, info)
        # A function, not a method: the generator must not hold the stream, so that an
        # abandoned stream is freed (and its connection released) without waiting for gc.
        self._iterator = _iterate(response, self._decoder)

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


class AsyncStream(_StreamBase):
    """The async twin of :class:`Stream`."""

    def __init__(self, response: httpx.Response, info: ResponseInfo) -> None:
        super().__init__(response, info)
        self._iterator = _aiterate(response, self._decoder)

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


def _compressed(response: httpx.Response) -> bool:
    """Whether the body must go through httpx's decompression (``iter_bytes``); else
    the raw pieces are read (``iter_raw``), two generator layers fewer per event."""
    return "content-encoding" in response.headers


# The content types of event streams that name their charset as UTF-8, or none: httpx
# finds a charset with the email package's header parser, a few per cent of a stream.
_UTF8_STREAMS = frozenset(
    f"text/event-stream{charset}"
    for charset in ("", "; charset=utf-8", "; charset=UTF-8", ";charset=utf-8", ";charset=UTF-8")
)


def _text_decoder(response: httpx.Response) -> Callable[[bytes], str]:
    """Pieces of the body to text, as httpx's ``iter_text`` decodes them: the content
    type's charset, else UTF-8, bad bytes replaced. Its flush is never needed: whatever
    it could give at the end is a line that no event ends."""
    if response.headers.get("content-type") in _UTF8_STREAMS:
        encoding = "utf-8"
    else:
        encoding = response.encoding or "utf-8"
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode


# The two loops differ only in the transport: text pieces in, the decoder's chunks out,
# its failure raised once the chunks before it were delivered. Nearly every piece is one
# whole event, delivered inline: a generator layer per event costs what the rest of the
# loop does.


def _iterate(response: httpx.Response, decoder: _Decoder) -> Generator[CompletionChunk, None, None]:
    try:
        decoder.check(response)
        try:
            body = response.iter_bytes() if _compressed(response) else raw_body(response)
            for text in map(_text_decoder(response), body):
                chunks = decoder.feed(text)
                if decoder.jsons is None and decoder.failure is None:
                    if chunks:  # one whole event: feed set decoder.json
                        yield chunks[0]
                else:
                    yield from decoder.deliver(chunks)
        except httpx.TransportError as exc:
            raise decoder.broken(exc, response) from scrub_transport_error(exc)
        decoder.finish()
    finally:
        response.close()


async def _aiterate(
    response: httpx.Response, decoder: _Decoder
) -> AsyncGenerator[CompletionChunk, None]:
    try:
        decoder.check(response)
        try:
            decode = _text_decoder(response)
            head, body = (
                (b"", response.aiter_bytes()) if _compressed(response) else araw_body(response)
            )
            if head:  # read ahead up to the first event (see _transport.send_stream_once)
                for chunk in decoder.deliver(decoder.feed(decode(head))):
                    yield chunk
            async for piece in body:
                chunks = decoder.feed(decode(piece))
                if decoder.jsons is None and decoder.failure is None:
                    if chunks:  # one whole event: feed set decoder.json
                        yield chunks[0]
                else:
                    for chunk in decoder.deliver(chunks):
                        yield chunk
        except httpx.TransportError as exc:
            raise decoder.broken(exc, response) from scrub_transport_error(exc)
        decoder.finish()
    finally:
        await response.aclose()


def _loads_or_text(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data
