"""The Starlette application: Portkey's routes over the prompt store and the offline model."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import model
from .admin_routes import ADMIN_ROUTES
from .control import control
from .embeddings import embeddings_endpoint
from .faults import Fault, parse_fault_header
from .feedback import feedback_control, feedback_endpoint
from .prompting import PortkeyError, build_prompt_request
from .responses import EventStream, Headers, encode_event, html_error, json_out
from .state import (
    INVALID_KEY,
    ReceivedRequest,
    ServerState,
    failure,
    headers_of,
    raw_path,
    read_body,
)
from .store import PromptStore, bundled_prompts_dir
from .validation import ModelError, validate

__all__ = ["ReceivedRequest", "ServerState", "create_app", "get_state"]

Handler = Callable[[ServerState, Request], Awaitable[ASGIApp]]


def get_state(app: Starlette) -> ServerState:
    """The :class:`ServerState` of an app made by :func:`create_app`."""
    state: ServerState = app.state.portkey_local
    return state


class _Endpoint:
    """An ASGI endpoint calling ``handler(state, request)`` for a response."""

    def __init__(self, state: ServerState, handler: Handler) -> None:
        self.state = state
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(self.state, Request(scope, receive))
        await response(scope, receive, send)


# --- helpers ---------------------------------------------------------------------


def _trace_id(headers: dict[str, str]) -> str:
    trace = headers.get("x-portkey-trace-id")
    if trace:
        return trace
    parent = headers.get("traceparent", "").split("-")
    if len(parent) == 4 and len(parent[1]) == 32:
        return parent[1]
    return str(uuid.uuid4())


def _portkey_headers(headers: dict[str, str], provider: str) -> Headers:
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


UNROUTED = "Either x-portkey-config or x-portkey-provider header is required"
"""Portkey's answer (status 400) to a gateway call that says nowhere to go."""


def _routed(headers: dict[str, str], body: dict[str, Any]) -> bool:
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
    state: ServerState, headers: dict[str, str], route: str, prompt_id: str | None, stream: bool
) -> Fault | None:
    spec = headers.get("x-portkey-local-fault")
    if spec:
        return parse_fault_header(spec)
    return state.faults.take(route, prompt_id, stream)


def _early_fault(fault: Fault | None, headers: Headers) -> ASGIApp | None:
    """A response replacing the whole answer, for faults that strike before any work."""
    if fault is None:
        return None
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


async def _complete(
    state: ServerState,
    chat: bool,
    body: dict[str, Any],
    request_headers: dict[str, str],
    headers: Headers,
    fault: Fault | None,
) -> ASGIApp:
    if state.upstream is not None:
        path = "/chat/completions" if chat else "/completions"
        return await state.upstream.forward(path, body, request_headers, headers, fault)
    try:
        validate(body, chat=chat)
    except ModelError as exc:
        return json_out(exc.status, exc.body(), headers)
    if body.get("stream") is True:
        chunks = model.chat_chunks(body) if chat else model.text_chunks(body)
        return EventStream(map(encode_event, chunks), headers, fault)
    result = model.chat_completion(body) if chat else model.text_completion(body)
    status = 200
    if fault is not None and fault.kind == "hook_results":
        result["hook_results"] = fault.hook_results()
        status = fault.effective_status
    return json_out(status, result, headers, fault)


async def _serve(
    state: ServerState, request: Request, route: str, prompt_id: str | None = None
) -> ASGIApp:
    request_headers = headers_of(request)
    body, body_error = await read_body(request)
    state.record(
        ReceivedRequest(request.method, raw_path(request), request_headers, body, prompt_id)
    )
    provider = "portkey-local"
    if state.upstream is not None:
        provider = request_headers.get("x-portkey-provider") or "openai"
    headers = _portkey_headers(request_headers, provider)
    if not state.authorized(request_headers):
        return failure(401, INVALID_KEY, headers)
    if body_error is not None:
        return failure(400, body_error, headers)
    if prompt_id is None and state.require_routing and not _routed(request_headers, body):
        return failure(400, UNROUTED, headers)
    stream = body.get("stream") is True
    try:
        fault = _fault_for(state, request_headers, route, prompt_id, stream)
    except ValueError as exc:
        return failure(400, f"Invalid x-portkey-local-fault header: {exc}", headers)
    early = _early_fault(fault, headers)
    if early is not None:
        return early
    if prompt_id is None:
        return await _complete(
            state, route == "chat_completions", body, request_headers, headers, fault
        )
    try:
        version, built = build_prompt_request(state.store, prompt_id, body)
    except PortkeyError as exc:
        return json_out(exc.status, exc.body(), headers)
    if route == "prompt_render":
        return json_out(200, {"success": True, "data": built}, headers, fault)
    return await _complete(state, version.kind == "chat", built, request_headers, headers, fault)


# --- routes ----------------------------------------------------------------------


async def _chat(state: ServerState, request: Request) -> ASGIApp:
    return await _serve(state, request, "chat_completions")


async def _text(state: ServerState, request: Request) -> ASGIApp:
    return await _serve(state, request, "completions")


async def _prompt(state: ServerState, request: Request) -> ASGIApp:
    # The id is one percent-encoded segment; the decoded path would split on %2F.
    parts = raw_path(request).split("/")
    if len(parts) != 5 or parts[4] not in ("completions", "render") or not parts[3]:
        return failure(404, "Not Found", _portkey_headers(headers_of(request), "portkey-local"))
    prompt_id = unquote_to_bytes(parts[3]).decode("utf-8", "replace")
    route = "prompt_completions" if parts[4] == "completions" else "prompt_render"
    return await _serve(state, request, route, prompt_id)


async def _health(state: ServerState, request: Request) -> ASGIApp:
    return JSONResponse({"status": "ok"})


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    message = "Not Found" if status == 404 else "Method Not Allowed"
    return JSONResponse({"status": "failure", "message": message}, status_code=status)


class _AnyPath(Convertor[str]):
    """Starlette's ``path`` convertor, newlines included: routes match the decoded path,
    and ``.*`` would stop at a prompt id's ``%0A``."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("any", _AnyPath())


def create_app(
    *,
    store: PromptStore | None = None,
    prompts_dir: str | Path | None = None,
    api_key: str | None = None,
    upstream: str | None = None,
    include_bundled: bool = True,
) -> Starlette:
    """The Portkey-compatible ASGI app.

    ``store`` is used as given (a new one otherwise, holding the bundled prompts
    when ``include_bundled``); prompt files of ``prompts_dir`` are added to it.
    With ``api_key``, requests must carry it. With ``upstream`` (an
    OpenAI-compatible base URL), completions go there instead of the offline model.
    """
    if store is None:
        store = PromptStore()
        if include_bundled:
            store.load_dir(bundled_prompts_dir())
    if prompts_dir is not None:
        store.load_dir(prompts_dir)
    state = ServerState(store, api_key=api_key, upstream=upstream)

    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, _Endpoint(state, handler), methods=methods)

    app = Starlette(
        routes=[
            route("/v1/chat/completions", _chat, ["POST"]),
            route("/v1/completions", _text, ["POST"]),
            route("/v1/embeddings", embeddings_endpoint, ["POST"]),
            *(route(path, handler, methods) for path, handler, methods in ADMIN_ROUTES),
            route("/v1/prompts/{rest:any}", _prompt, ["POST"]),
            route("/v1/feedback", feedback_endpoint, ["POST"]),
            route("/v1/feedback/{feedback_id}", feedback_endpoint, ["PUT", "POST"]),
            route("/_local/feedback", feedback_control, ["GET", "DELETE"]),
            route("/health", _health, ["GET"]),
            route("/_local/faults", control, ["GET", "POST", "DELETE"]),
            route("/_local/requests", control, ["GET", "DELETE"]),
            route("/_local/prompts", control, ["POST"]),
            route("/_local/reset", control, ["POST"]),
            route("/_local/api-keys", control, ["POST", "DELETE"]),
        ],
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.portkey_local = state
    return app
