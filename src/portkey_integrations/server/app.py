"""The Starlette application: the route table. Every route but `/health` is an
:class:`~.pipeline.Endpoint`: the one request pipeline, then the route's handler."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from .admin_routes import ADMIN_ROUTES
from .batches import batch_control, batches_endpoint
from .completions import CHAT, TEXT, chat_completions, prompt_route, prompt_target, text_completions
from .control import control
from .embeddings import EMBEDDINGS, embeddings_endpoint
from .feedback import feedback_control, feedback_endpoint
from .files import file_content, retrieve_file, upload_file
from .pipeline import (
    ADMIN,
    BATCH_API,
    CONTROL,
    FEEDBACK,
    FEEDBACK_BULK,
    GATEWAY,
    PLAIN,
    PROMPT,
    UPLOAD,
    Endpoint,
    Handler,
    Locate,
    Policy,
    Target,
    foreign,
)
from .state import ReceivedRequest, ServerState, headers_of
from .store import PromptStore, bundled_prompts_dir

__all__ = ["ReceivedRequest", "ServerState", "create_app", "get_state"]


def get_state(app: Starlette) -> ServerState:
    """The :class:`ServerState` of an app made by :func:`create_app`."""
    state: ServerState = app.state.portkey_local
    return state


async def _health(request: Request) -> Response:
    refused = foreign(get_state(request.app), headers_of(request))
    if refused is not None:
        return JSONResponse({"status": "failure", "message": refused}, status_code=403)
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
    allowed_hosts: Iterable[str] = (),
) -> Starlette:
    """The Portkey-compatible ASGI app.

    ``store`` is used as given (a new one otherwise, holding the bundled prompts
    when ``include_bundled``); prompt files of ``prompts_dir`` are added to it.
    With ``api_key``, requests must carry it. With ``upstream`` (an
    OpenAI-compatible base URL), completions go there instead of the offline model.
    Requests must name the server in ``Host`` as ``127.0.0.1``, ``localhost`` or
    ``[::1]``, or one of ``allowed_hosts`` (DNS rebinding: see
    ``docs/errors-and-guarantees.md``).
    """
    if store is None:
        store = PromptStore()
        if include_bundled:
            store.load_dir(bundled_prompts_dir())
    if prompts_dir is not None:
        store.load_dir(prompts_dir)
    state = ServerState(store, api_key=api_key, upstream=upstream)
    state.allowed_hosts.update(allowed_hosts)

    def route(
        path: str,
        methods: list[str],
        policy: Policy,
        handler: Handler,
        target: Target | Locate = PLAIN,
    ) -> Route:
        endpoint: ASGIApp = Endpoint(state, policy, handler, target)
        return Route(path, endpoint, methods=methods)

    app = Starlette(
        routes=[
            route("/v1/chat/completions", ["POST"], GATEWAY, chat_completions, CHAT),
            route("/v1/completions", ["POST"], GATEWAY, text_completions, TEXT),
            route("/v1/embeddings", ["POST"], GATEWAY, embeddings_endpoint, EMBEDDINGS),
            *(
                route(path, methods, ADMIN, admin.handle, admin.target)
                for path, admin, methods in ADMIN_ROUTES
            ),
            route("/v1/prompts/{rest:any}", ["POST"], PROMPT, prompt_route, prompt_target),
            route("/v1/feedback", ["POST"], FEEDBACK_BULK, feedback_endpoint),
            route("/v1/feedback/{feedback_id}", ["PUT", "POST"], FEEDBACK, feedback_endpoint),
            route("/_local/feedback", ["GET", "DELETE"], CONTROL, feedback_control),
            route("/v1/files", ["POST"], UPLOAD, upload_file),
            route("/v1/files/{file_id}", ["GET"], BATCH_API, retrieve_file),
            route("/v1/files/{file_id}/content", ["GET"], BATCH_API, file_content),
            route("/v1/batches", ["GET", "POST"], BATCH_API, batches_endpoint),
            route("/v1/batches/{batch_id}", ["GET"], BATCH_API, batches_endpoint),
            route("/v1/batches/{batch_id}/cancel", ["POST"], BATCH_API, batches_endpoint),
            route("/v1/batches/{batch_id}/output", ["GET"], BATCH_API, batches_endpoint),
            route("/_local/batches", ["GET", "POST", "DELETE"], CONTROL, batch_control),
            Route("/health", _health, methods=["GET"]),
            route("/_local/faults", ["GET", "POST", "DELETE"], CONTROL, control),
            route("/_local/requests", ["GET", "DELETE"], CONTROL, control),
            route("/_local/prompts", ["POST"], CONTROL, control),
            route("/_local/reset", ["POST"], CONTROL, control),
            route("/_local/api-keys", ["POST", "DELETE"], CONTROL, control),
        ],
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.portkey_local = state
    return app
