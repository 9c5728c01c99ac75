"""Run the app over real HTTP on a loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from .app import ReceivedRequest, ServerState, create_app, get_state
from .batch_store import BatchKnobs
from .faults import Fault
from .responses import AbortConnection
from .state import ApiKeys
from .store import PromptStore
from .timeouts import HEADER_TIMEOUT, KEEP_ALIVE_TIMEOUT, MAX_HEADER_BYTES, timed_protocol

__all__ = ["LocalPortkeyServer", "bind_socket", "quiet_aborts", "uvicorn_server"]

_START_TIMEOUT = 10.0
# Bound to every interface: the Host a client uses is not known in advance.
_WILDCARDS = ("0.0.0.0", "::", "")


class _DropAborts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], AbortConnection))


class _DropClosedWrites(logging.Filter):
    # A client that closes a stream early (as it may) leaves the server writing the
    # rest of the events to a closed socket; asyncio warns once per write.
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "socket.send() raised exception."


def quiet_aborts() -> None:
    """Keep deliberate aborts and clients' early closes out of the logs."""
    for name, cls in (("uvicorn.error", _DropAborts), ("asyncio", _DropClosedWrites)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, cls) for f in logger.filters):
            logger.addFilter(cls())


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted
    # sockets that say so, and without it every response waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def uvicorn_server(
    app: Any,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    header_timeout: float = HEADER_TIMEOUT,
) -> uvicorn.Server:
    """A uvicorn server for ``app`` that leaves the process's logging set-up alone.

    Reads time out: headers after ``header_timeout`` seconds, idle keep-alive
    connections after :data:`~.timeouts.KEEP_ALIVE_TIMEOUT`, headers over
    :data:`~.timeouts.MAX_HEADER_BYTES` get a 400.
    """
    quiet_aborts()
    config = uvicorn.Config(
        app,
        http=timed_protocol(header_timeout),
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_config=None,
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


class LocalPortkeyServer:
    """The Portkey-compatible server on ``http://127.0.0.1:<port>/v1``.

    Use as a context manager or call :meth:`start` / :meth:`stop`. Arguments as
    :func:`~portkey_integrations.server.create_app`; ``port=0`` picks a free port.
    ``api_keys`` maps keys to their admin scopes (``{"pk-read": {"prompts.read"}}``);
    with ``writable=True`` admin changes are written back to ``prompts_dir``;
    ``require_routing=False`` lets it stand in for a provider behind a gateway, answering
    ``/chat/completions`` without Portkey routing headers. Reads time out after
    ``header_timeout`` (headers) and ``body_timeout`` (body) seconds; the request log
    keeps at most ``log_bytes`` of bodies, and no body over ``log_body_bytes``.
    """

    def __init__(
        self,
        *,
        store: PromptStore | None = None,
        prompts_dir: str | Path | None = None,
        api_key: str | None = None,
        upstream: str | None = None,
        include_bundled: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        access_log: bool = False,
        api_keys: ApiKeys | None = None,
        writable: bool = False,
        require_routing: bool = True,
        allowed_hosts: Iterable[str] = (),
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = 30.0,
        log_bytes: int = 64 * 2**20,
        log_body_bytes: int = 2**20,
    ) -> None:
        if writable and prompts_dir is None:
            raise ValueError("writable=True needs prompts_dir: the folder to write to")
        self.app = create_app(
            store=store,
            prompts_dir=prompts_dir,
            api_key=api_key,
            upstream=upstream,
            include_bundled=include_bundled,
            allowed_hosts=[*allowed_hosts, *([] if host in _WILDCARDS else [host])],
        )
        self.state: ServerState = get_state(self.app)
        self.state.body_timeout = body_timeout
        self.state.log_bytes = log_bytes
        self.state.log_body_bytes = log_body_bytes
        self._header_timeout = header_timeout
        # False: act as a plain OpenAI-compatible provider (an upstream behind a gateway),
        # which needs no Portkey routing headers.
        self.state.require_routing = require_routing
        if api_keys:
            self.state.set_api_keys(api_keys)
        if writable:
            assert prompts_dir is not None
            self.state.store.write_to(prompts_dir)
        self.host = host
        self.port = port
        self._log_level = log_level
        self._access_log = access_log
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> LocalPortkeyServer:
        """Start serving (no-op if already running) and wait until it accepts connections."""
        with self._lock:
            if self.running:
                return self
            sock = bind_socket(self.host, self.port)
            self.port = sock.getsockname()[1]
            server = uvicorn_server(
                self.app,
                log_level=self._log_level,
                access_log=self._access_log,
                header_timeout=self._header_timeout,
            )
            thread = threading.Thread(
                target=self._serve,
                args=(server, sock),
                name=f"portkey-local:{self.port}",
                daemon=True,
            )
            thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    sock.close()
                    raise RuntimeError(
                        f"the local Portkey server did not start on {self.host}:{self.port}"
                    )
                time.sleep(0.002)
            self._server, self._thread = server, thread
            return self

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        asyncio.run(main())

    def stop(self) -> None:
        """Stop serving; open streams are cut."""
        with self._lock:
            server, thread, loop = self._server, self._thread, self._loop
            self._server = self._thread = self._loop = None
        if server is None or thread is None:
            return
        upstream = self.state.upstream
        if upstream is not None and loop is not None and loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(upstream.aclose(), loop)
            with contextlib.suppress(Exception):
                closing.result(timeout=2)
        # force_exit: do not wait for open streams (a stalled one would hold us).
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=5)

    def __enter__(self) -> LocalPortkeyServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` (no path)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Portkey base URL: ``http://host:port/v1``."""
        return f"{self.url}/v1"

    # --- state ---------------------------------------------------------------

    @property
    def store(self) -> PromptStore:
        """The prompt store served (register prompts here, even while running)."""
        return self.state.store

    @property
    def requests(self) -> list[ReceivedRequest]:
        """The requests received so far, oldest first."""
        return self.state.requests

    @property
    def admin_requests(self) -> list[ReceivedRequest]:
        """The prompt admin API requests received so far, oldest first (kept apart from
        :attr:`requests`, which holds completions, render and the OpenAI routes)."""
        return self.state.admin_requests

    @property
    def last_request(self) -> ReceivedRequest | None:
        """The most recent request received, if any."""
        requests = self.state.requests
        return requests[-1] if requests else None

    def add_fault(self, fault: Fault) -> Fault:
        """Register a fault for the next matching requests."""
        return self.state.add_fault(fault)

    def clear_faults(self) -> None:
        """Remove every registered fault."""
        self.state.clear_faults()

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.state.clear_requests()

    def reset(self) -> None:
        """Clear faults, the request log, files and batches (and their knobs); registered
        prompts stay."""
        self.state.reset()

    def batch_faults(
        self,
        *,
        fail_lines: Iterable[str] = (),
        fail_status: int = 500,
        expire: bool = False,
        expire_after: int = 0,
    ) -> None:
        """Make the next batches misbehave: the lines with these custom ids answer
        ``fail_status``; with ``expire`` a batch expires after ``expire_after`` lines.
        Replaces the previous knobs; :meth:`reset` clears them."""
        if isinstance(fail_lines, str):
            raise TypeError("fail_lines is a collection of custom ids, not one string")
        self.state.batches.knobs = BatchKnobs(
            frozenset(fail_lines), fail_status, expire, expire_after
        )

    def hold_batches(self) -> None:
        """Hold the batch worker: batches that have not started their lines wait
        ``in_progress`` until :meth:`release_batches` (or until cancelled)."""
        self.state.batches.hold()

    def release_batches(self) -> None:
        """Let held batches run."""
        self.state.batches.release()

    def set_api_keys(self, api_keys: ApiKeys) -> None:
        """Replace the scoped API keys (key -> scopes); other keys keep every scope."""
        self.state.set_api_keys(api_keys)

    def register(self, prompt_id: str, template: str | list[Any], **options: Any) -> int:
        """Shortcut for ``server.store.register(...)``."""
        return self.store.register(prompt_id, template, **options)
