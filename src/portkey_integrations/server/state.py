"""What the server holds (prompt store, faults, request log) and what it reads from a request."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .faults import Fault, FaultRegistry
from .responses import Headers, JSONOut, json_out
from .store import PromptStore
from .upstream import Upstream

__all__ = [
    "FORBIDDEN",
    "INVALID_KEY",
    "FeedbackStore",
    "ReceivedRequest",
    "ServerState",
    "failure",
    "headers_of",
    "raw_path",
    "read_body",
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
    ) -> None:
        self.store = store
        self.api_key = api_key
        self._scopes: dict[str, frozenset[str]] = {}
        self.set_api_keys(api_keys or {})
        self.upstream = Upstream(upstream) if upstream else None
        self.faults = FaultRegistry()
        self.feedback = FeedbackStore()
        self.require_routing = True
        """Refuse unrouted ``/chat/completions`` and ``/completions`` calls as Portkey
        does; ``False`` when the server stands in for a provider behind a gateway."""
        self._requests: deque[ReceivedRequest] = deque(maxlen=record_limit)
        self._admin_requests: deque[ReceivedRequest] = deque(maxlen=record_limit)
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
        with self._lock:
            (self._admin_requests if admin else self._requests).append(received)

    def clear_requests(self) -> None:
        """Empty both request logs."""
        with self._lock:
            self._requests.clear()
            self._admin_requests.clear()

    def add_fault(self, fault: Fault) -> Fault:
        """Register a fault (see :class:`Fault`)."""
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every registered fault."""
        self.faults.clear()

    def reset(self) -> None:
        """Clear faults, the request logs and stored feedback; prompts stay."""
        self.clear_faults()
        self.clear_requests()
        self.feedback.clear()

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

    def allows(self, headers: dict[str, str], scope: str) -> bool:
        """Whether the request's key has ``scope``; keys without scopes set may do anything."""
        granted = self._scopes.get(_key_of(headers) or "")
        return granted is None or scope in granted


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


async def read_body(request: Request) -> tuple[Any, str | None]:
    """The decoded JSON body (``{}`` when empty) and an error message if it is not an object."""
    raw = await request.body()
    if not raw:
        return {}, None
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return raw.decode("utf-8", "replace"), f"Invalid JSON body: {exc}"
    if not isinstance(body, dict):
        return body, "The request body must be a JSON object"
    return body, None


def failure(status: int, message: str, headers: Headers) -> JSONOut:
    """Portkey's own error response: ``{"status": "failure", "message": ...}``."""
    return json_out(status, {"status": "failure", "message": message}, headers)
