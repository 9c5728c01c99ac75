"""The one request pipeline every route goes through.

In order: read the body (a file upload's with a cap: 413 past it), record the request
in the log, authorise (the API key, then
the key's scope), refuse a body that is not JSON, check routing (gateway routes), pick
a fault (routes faults know) and answer the faults that replace the whole answer.
Only then does the route's handler run, with an :class:`Incoming` holding what the
pipeline found. A route says how the pipeline treats it with a :class:`Policy`, and
what it is with a :class:`Target`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .faults import Fault, parse_fault_header
from .guard import host_allowed, is_loopback_address, origin_allowed
from .responses import Headers, html_error, json_out
from .state import (
    FORBIDDEN,
    INVALID_KEY,
    BodyTimeout,
    BodyTooLarge,
    ReceivedRequest,
    ServerState,
    decode_body,
    failure,
    headers_of,
    raw_path,
    read_raw,
)

__all__ = [
    "ADMIN",
    "BATCH_API",
    "CONTROL",
    "FEEDBACK",
    "FEEDBACK_BULK",
    "GATEWAY",
    "PLAIN",
    "PROMPT",
    "UNROUTED",
    "UPLOAD",
    "Endpoint",
    "Handler",
    "Incoming",
    "Locate",
    "Policy",
    "Target",
    "foreign",
    "portkey_headers",
    "routed",
    "serve",
]

UNROUTED = "Either x-portkey-config or x-portkey-provider header is required"
"""Portkey's answer (status 400) to a gateway call that says nowhere to go."""


@dataclass(frozen=True)
class Policy:
    """How the pipeline treats a kind of route."""

    log: Literal["requests", "admin"] | None
    """The log the request goes to (``None``: the ``/_local`` control routes, which
    read and clear the logs, stay out of them)."""
    gateway: bool = False
    """Answer with Portkey's ``x-portkey-*`` headers, as the completion routes do."""
    check_routing: bool = False
    """Refuse a call that names no target (provider, config, virtual key, ``@model``)."""
    list_body: bool = False
    """Accept a JSON array as the body (the bulk feedback form)."""
    control: bool = False
    """A ``/_local`` route: only the server's own key, or (no key set) only loopback."""
    json_only: bool = False
    """A body must say ``Content-Type: application/json`` (no cross-origin simple request)."""
    form: bool = False
    """The body is ``multipart/form-data`` (a file upload) that the handler parses: it
    reaches the handler as bytes, only its size is logged, and one over the file store's
    limit is refused with 413 without being held whole."""


GATEWAY = Policy("requests", gateway=True, check_routing=True)
"""``/chat/completions``, ``/completions``, ``/embeddings``."""
PROMPT = Policy("requests", gateway=True)
"""``/prompts/{id}/completions`` and ``/render``: the prompt names the target."""
ADMIN = Policy("admin", json_only=True)
"""The admin API (prompts, partials, labels): its own log, so a client's template
lookups do not mix with the completions a test counts."""
FEEDBACK_BULK = Policy("requests", list_body=True)
"""``POST /feedback``: one feedback object or a list."""
FEEDBACK = Policy("requests")
"""``PUT /feedback/{id}``."""
UPLOAD = Policy("requests", form=True)
"""``POST /files``: a multipart upload."""
BATCH_API = Policy("requests", json_only=True)
"""The rest of the files and batches API."""
CONTROL = Policy(None, control=True, json_only=True)
"""The ``/_local/...`` routes that drive the server."""


@dataclass(frozen=True)
class Target:
    """What a request is to the pipeline, found from its method and path."""

    route: str | None = None
    """The name faults know the route by (:data:`~.faults.ROUTES`); ``None``: no faults."""
    prompt_id: str | None = None
    """The decoded prompt reference on prompt routes (``pp-x@2``)."""
    scopes: tuple[str, ...] = ()
    """The key needs one of these scopes (none listed: any accepted key will do)."""


PLAIN = Target()
"""A route faults do not know, open to any accepted key."""


@dataclass(frozen=True)
class Incoming:
    """A request that passed the pipeline: what a route handler works with."""

    state: ServerState
    request: Request
    target: Target
    headers: dict[str, str]
    """The request's headers, lower-case names."""
    body: Any
    """The decoded JSON body: an object (a list too, where the policy allows it); the
    raw bytes on a ``form`` route."""
    reply_headers: Headers
    """The headers every answer carries (Portkey's, on gateway routes)."""
    fault: Fault | None


Handler = Callable[[Incoming], Awaitable[ASGIApp]]
Locate = Callable[[Request], "Target | None"]


def _trace_id(headers: dict[str, str]) -> str:
    trace = headers.get("x-portkey-trace-id")
    if trace:
        return trace
    parent = headers.get("traceparent", "").split("-")
    if len(parent) == 4 and len(parent[1]) == 32:
        return parent[1]
    return str(uuid.uuid4())


def portkey_headers(headers: dict[str, str], provider: str) -> Headers:
    """The ``x-portkey-*`` headers Portkey answers a gateway call with."""
    cache = "DISABLED"
    config = headers.get("x-portkey-config", "")
    parsed: Any = None
    if config.startswith("{"):
        try:
            parsed = json.loads(config)
        except ValueError:
            parsed = None
    if headers.get("x-portkey-cache-force-refresh", "").lower() == "true":
        cache = "REFRESH"
    elif "x-portkey-cache-namespace" in headers or (isinstance(parsed, dict) and "cache" in parsed):
        cache = "MISS"
    out = [
        (b"x-portkey-trace-id", _trace_id(headers).encode()),
        (b"x-portkey-retry-attempt-count", b"0"),
        (b"x-portkey-cache-status", cache.encode()),
        (b"x-portkey-provider", provider.encode()),
    ]
    if config:
        index = (
            "config.targets[0]" if isinstance(parsed, dict) and parsed.get("targets") else "config"
        )
        out.append((b"x-portkey-last-used-option-index", index.encode()))
    return out


def routed(headers: dict[str, str], body: dict[str, Any]) -> bool:
    """Whether a gateway call names its target: a provider, a config, a virtual key or a
    model string with an ``@integration/`` prefix."""
    if any(
        headers.get(name)
        for name in ("x-portkey-provider", "x-portkey-config", "x-portkey-virtual-key")
    ):
        return True
    model = body.get("model")
    return isinstance(model, str) and model.startswith("@") and "/" in model


def _fault_for(
    state: ServerState, headers: dict[str, str], target: Target, body: dict[str, Any]
) -> Fault | None:
    spec = headers.get("x-portkey-local-fault")
    if spec:
        return parse_fault_header(spec)
    assert target.route is not None
    return state.faults.take(target.route, target.prompt_id, body.get("stream") is True)


def _early_fault(fault: Fault, headers: Headers) -> ASGIApp | None:
    """A response replacing the whole answer, for faults that strike before any work."""
    if fault.kind == "status":
        extra = (
            [(b"retry-after", f"{fault.retry_after:g}".encode())]
            if fault.retry_after is not None
            else []
        )
        body = fault.error_body()
        if isinstance(body, str):
            return html_error(fault, [*headers, *extra])
        return json_out(fault.effective_status, body, [*headers, *extra])
    if fault.kind == "non_json":
        return html_error(fault, headers)
    return None


def _reply_headers(state: ServerState, policy: Policy, headers: dict[str, str]) -> Headers:
    if not policy.gateway:
        return []
    provider = "portkey-local"
    if state.upstream is not None:
        provider = headers.get("x-portkey-provider") or "openai"
    return portkey_headers(headers, provider)


def foreign(state: ServerState, headers: dict[str, str]) -> str | None:
    """Why a request may come from a web page rather than a local program, else ``None``.

    Every route checks it: a page that rebinds its name to 127.0.0.1 still sends its
    own ``Host``, and a cross-origin page sends its ``Origin``.
    """
    if not host_allowed(headers.get("host"), state.allowed_hosts):
        return "Forbidden: the Host header does not name this server (127.0.0.1, localhost, [::1])"
    if not origin_allowed(headers.get("origin"), state.allowed_hosts):
        return "Forbidden: cross-origin requests are refused"
    if headers.get("sec-fetch-site") == "cross-site":
        return "Forbidden: cross-site requests are refused"
    return None


def _control_refusal(
    state: ServerState, request: Request, headers: dict[str, str]
) -> ASGIApp | None:
    # With a key, only that key drives the server; without one, only this machine
    # does. A scoped key never does: it would grant itself more (api-keys, prompts).
    if state.is_scoped(headers):
        return failure(403, FORBIDDEN, [])
    if state.api_key is not None:
        return None if state.is_admin(headers) else failure(401, INVALID_KEY, [])
    client = request.scope.get("client")
    if not is_loopback_address(client[0] if client else None):
        return failure(403, "Forbidden: /_local routes answer only on loopback", [])
    return None


async def serve(
    state: ServerState, request: Request, policy: Policy, target: Target, handler: Handler
) -> ASGIApp:
    """Run the pipeline for one request, then ``handler`` if the request got through."""
    headers = headers_of(request)
    refused = foreign(state, headers)
    if refused is not None:
        return failure(403, refused, [])
    limit = state.files.upload_limit if policy.form else None
    declared = headers.get("content-length", "")
    if limit is not None and declared.isdigit() and int(declared) > limit:
        return failure(413, state.files.too_big, [])
    try:
        raw = await read_raw(request, state.body_timeout, limit)
    except BodyTimeout:
        return failure(408, "Timed out reading the request body", [])
    except BodyTooLarge:
        return failure(413, state.files.too_big, [])
    body: Any
    body, body_error = (raw, None) if policy.form else decode_body(raw)
    if policy.list_body and isinstance(body, list):
        body_error = None
    if policy.log is not None:
        kept = None if policy.form else body
        received = ReceivedRequest(
            request.method, raw_path(request), headers, kept, target.prompt_id, len(raw)
        )
        state.record(received, admin=policy.log == "admin")
    reply = _reply_headers(state, policy, headers)
    if not state.authorized(headers):
        return failure(401, INVALID_KEY, reply)
    if policy.control:
        refusal = _control_refusal(state, request, headers)
        if refusal is not None:
            return refusal
    if target.scopes and not any(state.allows(headers, scope) for scope in target.scopes):
        return failure(403, FORBIDDEN, reply)
    if policy.json_only and raw and not _is_json(headers):
        return failure(415, "Content-Type must be application/json", reply)
    if body_error is not None:
        return failure(400, body_error, reply)
    if policy.check_routing and state.require_routing and not routed(headers, body):
        return failure(400, UNROUTED, reply)
    fault = None
    if target.route is not None:
        try:
            fault = _fault_for(state, headers, target, body)
        except ValueError as exc:
            return failure(400, f"Invalid x-portkey-local-fault header: {exc}", reply)
        early = None if fault is None else _early_fault(fault, reply)
        if early is not None:
            return early
    return await handler(Incoming(state, request, target, headers, body, reply, fault))


def _is_json(headers: dict[str, str]) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


class Endpoint:
    """An ASGI endpoint: the pipeline with ``policy``, then ``handler``.

    ``target`` is the route's :class:`Target`, or a function finding it from the
    request (``None`` from it: answer 404 without logging).
    """

    def __init__(
        self, state: ServerState, policy: Policy, handler: Handler, target: Target | Locate
    ) -> None:
        self.state = state
        self.policy = policy
        self.handler = handler
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        target = self.target if isinstance(self.target, Target) else self.target(request)
        if target is None:
            reply = portkey_headers(headers_of(request), "portkey-local")
            response: ASGIApp = failure(404, "Not Found", reply)
        else:
            response = await serve(self.state, request, self.policy, target, self.handler)
        await response(scope, receive, send)
