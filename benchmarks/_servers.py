"""The HTTP servers the benchmarks talk to, each run in a process of its own.

``python -m benchmarks._servers KIND [options]`` prints ``listening on <base URL>`` and
serves until SIGTERM. Kinds:

- ``portkey``: the package's Portkey-compatible app (``create_app``), with ``--prompts``;
- ``bare``: a bare Starlette route answering every POST with fixed bytes (``--body`` for
  JSON requests, ``--stream`` for ``"stream": true`` ones), the throughput baseline;
- ``big``: every POST streams ``--mb`` megabytes of content as OpenAI chat chunks.

Every kind counts the TCP connections it accepts (uvicorn's protocol objects, one per
connection); ``GET /_bench/connections`` returns the count and ``POST /_bench/reset``
zeroes it. ``--profile FILE`` runs the server under cProfile and writes the stats on exit.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http import h11_impl

CHUNK_CHARS = 1000
_accepted = [0]


def _count_connections() -> None:
    original = h11_impl.H11Protocol.connection_made

    def connection_made(self: Any, transport: Any) -> None:
        _accepted[0] += 1
        original(self, transport)

    h11_impl.H11Protocol.connection_made = connection_made  # type: ignore[method-assign]


class _Counter:
    """Serves ``/_bench/*`` and passes everything else to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/_bench/"):
            if path == "/_bench/reset":
                _accepted[0] = 0
            body = json.dumps({"accepted": _accepted[0]}).encode()
            await Response(body, media_type="application/json")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _bare_app(body_file: str, stream_file: str | None) -> Starlette:
    body = Path(body_file).read_bytes()
    events = Path(stream_file).read_bytes().split(b"\n\n")[:-1] if stream_file else []
    events = [event + b"\n\n" for event in events]

    async def answer(request: Request) -> Response:
        payload = json.loads(await request.body())
        if payload.get("stream") is True:

            async def chunks() -> AsyncIterator[bytes]:
                for event in events:
                    yield event

            return StreamingResponse(chunks(), media_type="text/event-stream")
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/{rest:path}", answer, methods=["POST"])])


def big_chunks(megabytes: float) -> list[bytes]:
    """The SSE events of a ``megabytes`` MB answer, in OpenAI chat chunk format."""
    count = max(1, int(megabytes * 1_000_000) // CHUNK_CHARS)
    text = ("lorem ipsum " * (CHUNK_CHARS // 12 + 1))[:CHUNK_CHARS]

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {
            "id": "chatcmpl-big",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "big",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    body = event({"content": text})
    return [
        event({"role": "assistant", "content": ""}),
        *([body] * count),
        event({}, "stop"),
        b"data: [DONE]\n\n",
    ]


def _big_app(megabytes: float) -> Starlette:
    events = big_chunks(megabytes)

    async def answer(request: Request) -> Response:
        await request.body()

        async def chunks() -> AsyncIterator[bytes]:
            for event in events:
                yield event

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return Starlette(routes=[Route("/{rest:path}", answer, methods=["POST"])])


def _listen() -> socket.socket:
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so (as the
    # package's own runner does); without it small responses wait on Nagle.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def main(argv: list[str] | None = None) -> int:
    """Serve one kind until terminated."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._servers")
    parser.add_argument("kind", choices=["portkey", "bare", "big"])
    parser.add_argument("--prompts", help="folder of prompt files (portkey)")
    parser.add_argument("--body", help="file with the JSON answer (bare)")
    parser.add_argument("--stream", help="file with the SSE answer (bare)")
    parser.add_argument("--mb", type=float, default=5.0, help="answer size (big)")
    parser.add_argument("--profile", help="write cProfile stats here on exit")
    args = parser.parse_args(argv)
    app: ASGIApp
    if args.kind == "portkey":
        from portkey_integrations.server import create_app

        app = create_app(prompts_dir=args.prompts)
    elif args.kind == "bare":
        app = _bare_app(args.body, args.stream)
    else:
        app = _big_app(args.mb)
    _count_connections()
    config = uvicorn.Config(
        _Counter(app),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
        # Rounds of one side leave the other side's pooled connections idle for
        # seconds; uvicorn's 5 s default would close them under the client's feet.
        timeout_keep_alive=120,
    )
    server = uvicorn.Server(config)
    sock = _listen()
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with a handler of
    # our own that returns, the profile below is still written.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    try:
        server.run(sockets=[sock])
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
