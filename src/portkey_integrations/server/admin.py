"""Portkey's admin API for prompts, partials and labels: the shared plumbing.

The request pipeline logs each request (in the admin log), checks the API key (401),
the key's scope (403 ``Forbidden!``) and the JSON body (400); the operation then
answers Portkey's shapes; errors are Portkey's
``{"status": "failure", "message": ...}``. The operations live in
``admin_prompts``, ``admin_partials`` and ``admin_labels``; the route table in
``admin_routes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.types import ASGIApp

from .admin_files import FileRefused
from .pipeline import Incoming, Target
from .responses import SafeJSONResponse
from .state import ServerState, failure

__all__ = [
    "AdminCall",
    "AdminError",
    "AdminRoute",
    "Operation",
    "Scopes",
    "check",
    "found",
    "matches",
    "page",
    "require",
    "version_number",
]


class AdminError(Exception):
    """An admin request Portkey would refuse: its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_T = TypeVar("_T")


def found(value: _T | None, message: str) -> _T:
    """``value``, or a 404 with ``message`` when there is none."""
    if value is None:
        raise AdminError(404, message)
    return value


@dataclass(frozen=True)
class AdminCall:
    """What an admin operation gets: path parameters, query parameters and JSON body."""

    params: Mapping[str, str]
    query: Mapping[str, str]
    body: dict[str, Any]

    def param(self, name: str) -> str:
        """A path parameter."""
        return self.params[name]


Operation = Callable[[ServerState, AdminCall], Any]
"""An admin operation: returns the JSON answer or raises :class:`AdminError`."""

Scopes = tuple[str, ...]


class AdminRoute:
    """One admin path: per HTTP method, an operation and the scopes (one of them) it needs.

    The pipeline checks the key and the scope; :meth:`handle` runs the operation.
    """

    def __init__(self, methods: Mapping[str, tuple[Scopes, Operation]]) -> None:
        self.methods = dict(methods)

    def _method(self, request: Request) -> tuple[Scopes, Operation]:
        # Starlette answers HEAD on GET routes.
        return self.methods["GET" if request.method == "HEAD" else request.method]

    def target(self, request: Request) -> Target:
        """The pipeline's view of a request: no faults, the scopes its method needs."""
        return Target(scopes=self._method(request)[0])

    async def handle(self, incoming: Incoming) -> ASGIApp:
        """Run the method's operation; errors are Portkey's failure bodies."""
        request = incoming.request
        operation = self._method(request)[1]
        call = AdminCall(dict(request.path_params), dict(request.query_params), incoming.body)
        store = incoming.state.store
        writes = request.method not in ("GET", "HEAD")
        try:
            # One writer at a time: operations read, change and swap whole prompts.
            with store.lock:
                saved = store.snapshot() if writes and store.files is not None else None
                try:
                    if writes:
                        store.check_files()
                    result = operation(incoming.state, call)
                except FileRefused:
                    if saved is not None:
                        store.restore(saved)
                    raise
        except AdminError as exc:
            return failure(exc.status, exc.message, [])
        except FileRefused as exc:
            return failure(exc.status, exc.message, [])
        return SafeJSONResponse(result)


# --- request checks shared by the operations -----------------------------------


def require(body: Mapping[str, Any], *names: str) -> None:
    """400 naming every one of ``names`` missing from the body."""
    missing = [name for name in names if body.get(name) is None]
    if missing:
        raise AdminError(400, f"Missing required fields: {', '.join(missing)}")


_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"),
    "object": ((dict,), "an object"),
    "list": ((list,), "an array"),
    "bool": ((bool,), "a boolean"),
}


def check(body: Mapping[str, Any], name: str, kind: str) -> Any:
    """The body's ``name`` (``None`` if absent), 400 naming it when not of ``kind``."""
    value = body.get(name)
    if value is None:
        return None
    types, what = _TYPES[kind]
    # bool is an int in Python, never a valid string/object/array here.
    valid = isinstance(value, bool) if kind == "bool" else isinstance(value, types)
    if not valid:
        raise AdminError(400, f"Invalid value for '{name}': must be {what}")
    return value


def version_number(body: Mapping[str, Any]) -> int:
    """The ``version`` of a makeDefault body: a positive whole number."""
    require(body, "version")
    value = body["version"]
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        raise AdminError(400, "Invalid value for 'version': must be a version number")
    return int(value)


def page(items: list[Any], query: Mapping[str, str]) -> list[Any]:
    """``items`` cut to ``current_page`` (from 0) of ``page_size`` items, when given."""
    size = _int_query(query, "page_size", 1)
    if size is None:
        return items
    number = _int_query(query, "current_page", 0) or 0
    return items[number * size : (number + 1) * size]


def _int_query(query: Mapping[str, str], name: str, minimum: int) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise AdminError(400, f"Invalid value for '{name}': must be an integer >= {minimum}")
    return int(raw)


def matches(search: str | None, *texts: str) -> bool:
    """Whether any of ``texts`` contains ``search`` (case-insensitive; no search matches all)."""
    if not search:
        return True
    needle = search.lower()
    return any(needle in text.lower() for text in texts)
