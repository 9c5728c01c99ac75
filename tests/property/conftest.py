"""A scripted raw HTTP server on 127.0.0.1 for byte-level stream and parsing properties.

The local Portkey server always frames its events the same way; these properties need
any bytes, split anywhere. :class:`ScriptedServer` answers each request with the next
queued reply: a status, headers, and body pieces written one by one with a flush (and a
yield to the loop) between them, then the connection is closed.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import threading
from collections.abc import Iterator

import pytest


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer: body ``pieces`` are sent as separate writes."""

    pieces: tuple[bytes, ...]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: tuple[tuple[str, str], ...] = ()


class ScriptedServer:
    """A raw asyncio HTTP/1.1 server in a background thread; one reply per request."""

    def __init__(self) -> None:
        self._replies: collections.deque[Reply] = collections.deque()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="scripted-http", daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(
        self,
        pieces: tuple[bytes, ...],
        status: int = 200,
        content_type: str = "text/event-stream",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Queue a reply for the next request (``headers``: more response headers)."""
        self._replies.append(Reply(pieces, status, content_type, headers))

    def start(self) -> ScriptedServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the scripted server did not start")
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None:
            loop.call_soon_threadsafe(server.close)
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            reply = self._replies.popleft()
            more = "".join(f"{name}: {value}\r\n" for name, value in reply.headers)
            writer.write(
                f"HTTP/1.1 {reply.status} X\r\ncontent-type: {reply.content_type}\r\n"
                f"{more}connection: close\r\n\r\n".encode("ascii")
            )
            await writer.drain()
            for piece in reply.pieces:
                writer.write(piece)
                await writer.drain()
                # Give the client a chance to read each piece on its own.
                await asyncio.sleep(0)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture(scope="session")
def scripted() -> Iterator[ScriptedServer]:
    """The session's scripted server."""
    server = ScriptedServer().start()
    yield server
    server.stop()
