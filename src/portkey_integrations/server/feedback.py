"""Portkey's feedback routes on the local server, and ``/_local/feedback`` to read them.

``POST /v1/feedback`` takes one feedback object or a list, ``PUT /v1/feedback/{id}``
changes one; values are checked as Portkey documents them (an integer value from -10 to
10, a weight from 0 to 1). ``GET /_local/feedback`` lists what was stored,
``DELETE /_local/feedback`` forgets it; :func:`feedback_of` reads it from Python.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp

from .state import INVALID_KEY, ServerState, failure, headers_of, read_body

__all__ = ["FeedbackStore", "feedback_control", "feedback_endpoint", "feedback_of"]


class FeedbackStore:
    """The feedback one server received, by id, in arrival order."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(self, item: dict[str, Any]) -> str:
        feedback_id = str(uuid.uuid4())
        with self._lock:
            self._items[feedback_id] = {"id": feedback_id, **item}
        return feedback_id

    def update(self, feedback_id: str, changes: dict[str, Any]) -> bool:
        with self._lock:
            if feedback_id not in self._items:
                return False
            self._items[feedback_id].update(changes)
            return True

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(item) for item in self._items.values()]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_STORES: weakref.WeakKeyDictionary[ServerState, FeedbackStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def feedback_of(state: ServerState) -> FeedbackStore:
    """The feedback store of a server's state."""
    with _STORES_LOCK:
        store = _STORES.get(state)
        if store is None:
            store = _STORES[state] = FeedbackStore()
        return store


def _invalid(item: Any, *, update: bool) -> str | None:
    if not isinstance(item, dict):
        return "each feedback must be a JSON object"
    if not update and not isinstance(item.get("trace_id"), str):
        return "trace_id is required and must be a string"
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or not -10 <= value <= 10:
        return "value must be an integer between -10 and 10"
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        return "weight must be a number between 0 and 1"
    if "metadata" in item and not isinstance(item["metadata"], dict):
        return "metadata must be an object"
    return None


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("trace_id", "value", "weight", "metadata")
    out = {k: item[k] for k in keep if k in item}
    out.setdefault("weight", 1.0)
    return out


async def feedback_endpoint(state: ServerState, request: Request) -> ASGIApp:
    """``POST /v1/feedback`` (one or a list) and ``PUT /v1/feedback/{id}``."""
    headers = headers_of(request)
    if not state.authorized(headers):
        return failure(401, INVALID_KEY, [])
    body, error = await read_body(request)
    feedback_id = request.path_params.get("feedback_id")
    if feedback_id is not None:  # PUT, as the reference says; POST, as its curl sample
        problem = error or _invalid(body, update=True)
        if problem is not None:
            return failure(400, problem, [])
        if not feedback_of(state).update(feedback_id, _fields(body)):
            return failure(404, f"feedback {feedback_id!r} not found", [])
        return _saved([feedback_id], "updated")
    items = body if isinstance(body, list) else [body]
    # read_body flags a list body as an error; a list is what the bulk form sends.
    problem = None if isinstance(body, list) else error
    problem = problem or next(
        (p for p in (_invalid(i, update=False) for i in items) if p is not None), None
    )
    if problem is not None:
        return failure(400, problem, [])
    store = feedback_of(state)
    return _saved([store.add(_fields(item)) for item in items], "saved")


def _saved(ids: list[str], what: str) -> JSONResponse:
    return JSONResponse(
        {"status": "success", "message": f"feedback {what} successfully", "feedback_ids": ids}
    )


async def feedback_control(state: ServerState, request: Request) -> ASGIApp:
    """``GET /_local/feedback`` lists the stored feedback, ``DELETE`` forgets it."""
    if not state.authorized(headers_of(request)):
        return failure(401, INVALID_KEY, [])
    store = feedback_of(state)
    if request.method == "DELETE":
        store.clear()
        return JSONResponse({"ok": True})
    return JSONResponse({"feedback": store.list()})
