"""The ``/_local/...`` routes: drive a running server (faults, requests, prompts, keys)."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from .faults import Fault
from .pipeline import Incoming
from .responses import SafeJSONResponse
from .state import failure
from .store import PromptStore

__all__ = ["control"]

_REGISTER_KEYS = frozenset(
    {
        "template",
        "model",
        "parameters",
        "tools",
        "response_format",
        "kind",
        "version",
        "publish",
        "labels",
        "description",
    }
)


async def control(incoming: Incoming) -> ASGIApp:
    """The ``/_local/...`` routes that drive a server from another process."""
    state, request, body = incoming.state, incoming.request, incoming.body
    what = request.url.path.rsplit("/", 1)[-1]
    method = request.method
    if what == "api-keys":
        return _api_keys(incoming)
    if method == "DELETE" or what == "reset":
        if what in ("faults", "reset"):
            state.clear_faults()
        if what in ("requests", "reset"):
            state.clear_requests()
        return SafeJSONResponse({"ok": True})
    if method == "GET":
        if what == "faults":
            return SafeJSONResponse({"faults": [f.to_dict() for f in state.faults.list()]})
        return SafeJSONResponse(
            {
                # Redacted: anyone who may read the log must not learn the keys from it.
                "requests": [r.shown() for r in state.requests],
                "admin_requests": [r.shown() for r in state.admin_requests],
            }
        )
    try:
        if what == "faults":
            fault = state.add_fault(Fault.from_dict(body))
            return SafeJSONResponse({"fault": fault.to_dict()}, status_code=201)
        return SafeJSONResponse(_register(state.store, body), status_code=201)
    except (TypeError, ValueError) as exc:
        return failure(400, str(exc), [])


def _api_keys(incoming: Incoming) -> ASGIApp:
    # POST {"keys": {"pk-read": ["prompts.read"], ...}} replaces the scoped keys;
    # DELETE removes them. Never answers with the keys themselves.
    state = incoming.state
    if incoming.request.method == "DELETE":
        state.set_api_keys({})
        return SafeJSONResponse({"ok": True})
    keys = incoming.body.get("keys")
    if not isinstance(keys, dict) or not all(isinstance(v, list) for v in keys.values()):
        return failure(400, 'expected {"keys": {key: [scope, ...]}}', [])
    try:
        state.set_api_keys(keys)
    except ValueError as exc:
        return failure(400, str(exc), [])
    return SafeJSONResponse({"ok": True, "keys": len(keys)})


def _register(store: PromptStore, body: dict[str, Any]) -> dict[str, Any]:
    if "versions" in body:
        prompt = store.load_data(body, source="POST /_local/prompts")
        return {"id": prompt.id, "versions": sorted(prompt.versions)}
    prompt_id = body.get("id")
    unknown = set(body) - _REGISTER_KEYS - {"id"}
    if not isinstance(prompt_id, str) or "template" not in body or unknown:
        raise ValueError(
            "expected 'id', 'template' and register() options"
            + (f"; unknown: {sorted(unknown)}" if unknown else "")
        )
    options = {k: v for k, v in body.items() if k in _REGISTER_KEYS}
    version = store.register(prompt_id, **options)
    return {"id": prompt_id, "version": version}
