"""What the server holds (prompt store, faults, request log) and what it reads from a request."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from starlette.requests import Request

from .batch_store import BatchStore, FileStore
from .faults import Fault, FaultRegistry
from .guard import bad_json, redact_body, redact_headers
from .responses import Headers, JSONOut, json_out
from .store import PromptStore
from .upstream import Upstream

__all__ = [
    "FORBIDDEN",
    "INVALID_KEY",
    "BodyTimeout",
    "BodyTooLarge",
    "FeedbackStore",
    "ReceivedRequest",
    "ServerState",
    "decode_body",
    "failure",
    "headers_of",
    "raw_path",
    "read_body",
    "read_raw",
]

INVALID_KEY = "Portkey Error: Invalid API Key. Error Code: 03"
FORBIDDEN = "Forbidden!"

ApiKeys = Mapping[str, Iterable[str]]
"""API key -> the scopes it has (``{"pk-read": {"prompts.read"}}``)."""


@dataclass(frozen=True)
class ReceivedRequest:
    """A request the server received: ``path`` as sent (still percent-encoded),
    ``headers`` with lower-case names, ``body`` as decoded JSON (or text), and
    the decoded ``prompt_id`` (``pp-x@2``) on prompt routes."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    prompt_id: str | None = None
    body_bytes: int = 0
    """The body's size on the wire."""
    body_dropped: bool = False
    """The body was too large to keep (``body`` is then ``None``): the log is bounded."""

    def __repr__(self) -> str:
        # A failing test prints this: keep the keys out of it.
        shown = redact_headers(self.headers)
        return f"ReceivedRequest({self.method} {self.path}, headers={shown!r}, body=...)"

    def shown(self) -> dict[str, Any]:
        """The entry as ``GET /_local/requests`` shows it: every secret redacted."""
        data = asdict(self)
        data["headers"] = redact_headers(self.headers)
        data["body"] = redact_body(self.body)
        return data

    @property
    def variables(self) -> Any:
        """The body's ``variables`` (``None`` when absent)."""
        return self.body.get("variables") if isinstance(self.body, dict) else None


class FeedbackStore:
    """The feedback one server received, by id, in arrival order."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(self, item: dict[str, Any]) -> str:
        """Store one feedback; returns its new id."""
        feedback_id = str(uuid.uuid4())
        with self._lock:
            self._items[feedback_id] = {"id": feedback_id, **item}
        return feedback_id

    def update(self, feedback_id: str, changes: dict[str, Any]) -> bool:
        """Change a stored feedback; ``False`` when no feedback has this id."""
        with self._lock:
            if feedback_id not in self._items:
                return False
            self._items[feedback_id].update(changes)
            return True

    def list(self) -> list[dict[str, Any]]:
        """The stored feedback, oldest first."""
        with self._lock:
            return [dict(item) for item in self._items.values()]

    def clear(self) -> None:
        """Forget every feedback."""
        with self._lock:
            self._items.clear()


class ServerState:
    """What one app holds: the prompt store, faults, feedback, the request logs and settings."""

    def __init__(
        self,
        store: PromptStore,
        api_key: str | None = None,
        upstream: str | None = None,
        record_limit: int | None = 10_000,
        api_keys: ApiKeys | None = None,
        log_bytes: int = 64 * 2**20,
        log_body_bytes: int = 2**20,
    ) -> None:
        self.store = store
        self.api_key = api_key
        self._scopes: dict[str, frozenset[str]] = {}
        self.set_api_keys(api_keys or {})
        self.upstream = Upstream(upstream) if upstream else None
        self.faults = FaultRegistry()
        self.feedback = FeedbackStore()
        self.files = FileStore()
        """Uploaded files and batches' output files (bounded: see :class:`FileStore`)."""
        self.batches = BatchStore()
        """Batch jobs, their worker's knobs (faults, hold)."""
        self.require_routing = True
        """Refuse unrouted ``/chat/completions`` and ``/completions`` calls as Portkey
        does; ``False`` when the server stands in for a provider behind a gateway."""
        self.log_bytes = log_bytes
        """The bodies both logs keep, in bytes at most: the oldest entries go first."""
        self.log_body_bytes = log_body_bytes
        """A larger body is not kept (the entry says ``body_dropped``)."""
        self.render_seconds = 5.0
        self.render_chars = 16 * 2**20
        """The render budget of one prompt request: seconds of work, characters out."""
        self.body_timeout = 30.0
        """Seconds a request body may take to arrive (then 408)."""
        self.allowed_hosts: set[str] = set()
        """``Host`` names accepted besides loopback ones (the address the server is bound to)."""
        self._requests: deque[ReceivedRequest] = deque(maxlen=record_limit)
        self._admin_requests: deque[ReceivedRequest] = deque(maxlen=record_limit)
        self._logged_bytes = 0
        # Arrival numbers beside each log (same length), so the byte bound drops the
        # oldest entry of either log first.
        self._arrivals: dict[bool, deque[int]] = {
            False: deque(maxlen=record_limit),
            True: deque(maxlen=record_limit),
        }
        self._arrived = 0
        self._lock = threading.Lock()

    @property
    def requests(self) -> list[ReceivedRequest]:
        """The requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def admin_requests(self) -> list[ReceivedRequest]:
        """The prompt admin API requests (prompts, versions, partials, labels) so far."""
        with self._lock:
            return list(self._admin_requests)

    def record(self, received: ReceivedRequest, *, admin: bool = False) -> None:
        """Add a request to the log (``admin``: to the admin API's own log, so a client's
        template lookups do not mix with the completions a test counts)."""
        if received.body_bytes > self.log_body_bytes:
            received = replace(received, body=None, body_dropped=True)
        with self._lock:
            log = self._log(admin)
            if log.maxlen is not None and len(log) == log.maxlen:
                self._logged_bytes -= _kept(log[0])
            log.append(received)
            self._arrived += 1
            self._arrivals[admin].append(self._arrived)
            self._logged_bytes += _kept(received)
            while self._logged_bytes > self.log_bytes and (self._requests or self._admin_requests):
                first = {k: a[0] for k, a in self._arrivals.items() if a}
                oldest = min(first, key=first.__getitem__)
                self._arrivals[oldest].popleft()
                self._logged_bytes -= _kept(self._log(oldest).popleft())

    def _log(self, admin: bool) -> deque[ReceivedRequest]:
        return self._admin_requests if admin else self._requests

    def clear_requests(self) -> None:
        """Empty both request logs."""
        with self._lock:
            self._requests.clear()
            self._admin_requests.clear()
            for arrivals in self._arrivals.values():
                arrivals.clear()
            self._logged_bytes = 0

    def add_fault(self, fault: Fault) -> Fault:
        """Register a fault (see :class:`Fault`)."""
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every registered fault."""
        self.faults.clear()

    def reset(self) -> None:
        """Clear faults, the request logs, stored feedback, files and batches (running
        ones stop); prompts stay."""
        self.clear_faults()
        self.clear_requests()
        self.feedback.clear()
        self.batches.clear()
        self.files.clear()

    def set_api_keys(self, api_keys: ApiKeys) -> None:
        """Replace the scoped keys: each is accepted and may do only what its scopes allow."""
        scopes = {}
        for key, granted in api_keys.items():
            if not isinstance(key, str) or not key or isinstance(granted, str):
                raise ValueError("api_keys maps each key (a string) to a collection of scopes")
            scopes[key] = frozenset(granted)
        self._scopes = scopes

    def authorized(self, headers: dict[str, str]) -> bool:
        """Whether a request carries the API key (always, when none was set) or a scoped key."""
        key = self.api_key
        return (
            key is None
            or headers.get("x-portkey-api-key") == key
            or headers.get("authorization") == f"Bearer {key}"
            or _key_of(headers) in self._scopes
        )

    def is_admin(self, headers: dict[str, str]) -> bool:
        """Whether the request carries the server's own key (not a scoped one)."""
        key = _key_of(headers)
        return self.api_key is not None and key == self.api_key and key not in self._scopes

    def is_scoped(self, headers: dict[str, str]) -> bool:
        """Whether the request carries one of the scoped keys."""
        return (_key_of(headers) or "") in self._scopes

    def allows(self, headers: dict[str, str], scope: str) -> bool:
        """Whether the request's key has ``scope``; keys without scopes set may do anything."""
        granted = self._scopes.get(_key_of(headers) or "")
        return granted is None or scope in granted


def _kept(received: ReceivedRequest) -> int:
    return 0 if received.body_dropped else received.body_bytes


def _key_of(headers: dict[str, str]) -> str | None:
    key = headers.get("x-portkey-api-key")
    if key:
        return key
    auth = headers.get("authorization", "")
    return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None


def raw_path(request: Request) -> str:
    """The path as sent, percent-encoding kept."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else str(request.scope["path"])


def headers_of(request: Request) -> dict[str, str]:
    """Request headers by lower-case name (repeated ones joined with ", ")."""
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class BodyTimeout(Exception):
    """The request body did not arrive in time."""


class BodyTooLarge(Exception):
    """The request body grew past the limit it was read with."""


async def read_raw(request: Request, timeout: float, limit: int | None = None) -> bytes:
    """The request body, or :class:`BodyTimeout` after ``timeout`` seconds; with
    ``limit``, :class:`BodyTooLarge` as soon as more bytes arrived (never held whole)."""

    async def capped(limit: int) -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        body = request.body() if limit is None else capped(limit)
        return await asyncio.wait_for(body, timeout)
    except asyncio.TimeoutError:
        raise BodyTimeout from None


def decode_body(raw: bytes) -> tuple[Any, str | None]:
    """The decoded JSON body (``{}`` when empty) and an error message if it is not an object.

    Bad UTF-8, a lone surrogate or nesting too deep is an error too: the body is then
    kept as text with the bad parts replaced, so the log stays printable.
    """
    if not raw:
        return {}, None
    try:
        body = json.loads(raw)
    except RecursionError:
        return _text(raw), "Invalid JSON body: nested too deeply"
    except ValueError as exc:
        return _text(raw), f"Invalid JSON body: {exc}"
    problem = bad_json(body)
    if problem is not None:
        return _text(raw), problem
    if not isinstance(body, dict):
        return body, "The request body must be a JSON object"
    return body, None


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    # An escaped lone surrogate (\ud800) stays escaped: it is ASCII in the text.
    return text[:4096]


async def read_body(request: Request) -> tuple[Any, str | None]:
    """The decoded JSON body (``{}`` when empty) and an error message if it is not one."""
    return decode_body(await request.body())


def failure(status: int, message: str, headers: Headers) -> JSONOut:
    """Portkey's own error response: ``{"status": "failure", "message": ...}``."""
    return json_out(status, {"status": "failure", "message": message}, headers)
