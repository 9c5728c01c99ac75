"""Portkey's feedback routes on the local server, and ``/_local/feedback`` to read them.

``POST /v1/feedback`` takes one feedback object or a list, ``PUT /v1/feedback/{id}``
changes one; values are checked as Portkey documents them (an integer value from -10 to
10, a weight from 0 to 1). ``GET /_local/feedback`` lists what was stored,
``DELETE /_local/feedback`` forgets it; ``server.state.feedback`` reads it from
Python. The ``/v1`` routes are logged in the request log, as every API route is.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from .pipeline import Incoming
from .responses import SafeJSONResponse
from .state import failure

__all__ = ["feedback_control", "feedback_endpoint"]


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


async def feedback_endpoint(incoming: Incoming) -> ASGIApp:
    """``POST /v1/feedback`` (one or a list) and ``PUT /v1/feedback/{id}``."""
    body = incoming.body
    store = incoming.state.feedback
    feedback_id = incoming.request.path_params.get("feedback_id")
    if feedback_id is not None:  # PUT, as the reference says; POST, as its curl sample
        problem = _invalid(body, update=True)
        if problem is not None:
            return failure(400, problem, [])
        if not store.update(feedback_id, _fields(body)):
            return failure(404, f"feedback {feedback_id!r} not found", [])
        return _saved([feedback_id], "updated")
    items = body if isinstance(body, list) else [body]
    problem = next((p for p in (_invalid(i, update=False) for i in items) if p is not None), None)
    if problem is not None:
        return failure(400, problem, [])
    return _saved([store.add(_fields(item)) for item in items], "saved")


def _saved(ids: list[str], what: str) -> SafeJSONResponse:
    return SafeJSONResponse(
        {"status": "success", "message": f"feedback {what} successfully", "feedback_ids": ids}
    )


async def feedback_control(incoming: Incoming) -> ASGIApp:
    """``GET /_local/feedback`` lists the stored feedback, ``DELETE`` forgets it."""
    store = incoming.state.feedback
    if incoming.request.method == "DELETE":
        store.clear()
        return SafeJSONResponse({"ok": True})
    return SafeJSONResponse({"feedback": store.list()})
