"""The Starlette application: the route table. Every route but `/health` is an
:class:`~.pipeline.Endpoint`: the one request pipeline, then the route's handler."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from .admin_routes import ADMIN_ROUTES
from .completions import CHAT, TEXT, chat_completions, prompt_route, prompt_target, text_completions
from .control import control
from .embeddings import ROUTE as EMBEDDINGS
from .embeddings import embeddings_endpoint
from .feedback import feedback_control, feedback_endpoint
from .pipeline import (
    ADMIN,
    CONTROL,
    FEEDBACK,
    FEEDBACK_BULK,
    GATEWAY,
    PROMPT,
    Endpoint,
    Handler,
    Locate,
    Policy,
    Target,
)
from .state import ReceivedRequest, ServerState
from .store import PromptStore, bundled_prompts_dir

__all__ = ["ReceivedRequest", "ServerState", "create_app", "get_state"]


def get_state(app: Starlette) -> ServerState:
    """The :class:`ServerState` of an app made by :func:`create_app`."""
    state: ServerState = app.state.portkey_local
    return state


async def _health(request: Request) -> Response:
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

    def route(
        path: str, policy: Policy, handler: Handler, methods: list[str], target: Target | Locate
    ) -> Route:
        endpoint: ASGIApp = Endpoint(state, policy, handler, target)
        return Route(path, endpoint, methods=methods)

    anything = Target()
    app = Starlette(
        routes=[
            route("/v1/chat/completions", GATEWAY, chat_completions, ["POST"], CHAT),
            route("/v1/completions", GATEWAY, text_completions, ["POST"], TEXT),
            route(
                "/v1/embeddings", GATEWAY, embeddings_endpoint, ["POST"], Target(route=EMBEDDINGS)
            ),
            *(
                route(path, ADMIN, admin.handle, methods, admin.target)
                for path, admin, methods in ADMIN_ROUTES
            ),
            route("/v1/prompts/{rest:any}", PROMPT, prompt_route, ["POST"], prompt_target),
            route("/v1/feedback", FEEDBACK_BULK, feedback_endpoint, ["POST"], anything),
            route(
                "/v1/feedback/{feedback_id}", FEEDBACK, feedback_endpoint, ["PUT", "POST"], anything
            ),
            route("/_local/feedback", CONTROL, feedback_control, ["GET", "DELETE"], anything),
            Route("/health", _health, methods=["GET"]),
            route("/_local/faults", CONTROL, control, ["GET", "POST", "DELETE"], anything),
            route("/_local/requests", CONTROL, control, ["GET", "DELETE"], anything),
            route("/_local/prompts", CONTROL, control, ["POST"], anything),
            route("/_local/reset", CONTROL, control, ["POST"], anything),
            route("/_local/api-keys", CONTROL, control, ["POST", "DELETE"], anything),
        ],
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.portkey_local = state
    return app
