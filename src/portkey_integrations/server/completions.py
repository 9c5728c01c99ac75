"""The completion routes: chat and text completions, and prompt completions and renders.

Each handler runs after the pipeline (:mod:`.pipeline`) let the request through; it
answers from the offline model (:mod:`.model`), or from the upstream in upstream mode.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp

from .._templates.mustache import RenderBudget
from . import model
from .pipeline import Incoming, Target
from .prompting import ServerError, build_prompt_request
from .responses import EventStream, encode_event, json_out
from .state import raw_path
from .validation import ModelError, validate

__all__ = [
    "CHAT",
    "PROMPT_VERSION_HEADER",
    "TEXT",
    "chat_completions",
    "complete",
    "prompt_route",
    "prompt_target",
    "text_completions",
]

CHAT = Target(route="chat_completions")
TEXT = Target(route="completions")


async def complete(incoming: Incoming, body: dict[str, Any], *, chat: bool) -> ASGIApp:
    """Answer a chat (``chat``) or text completion request ``body``."""
    state, headers, fault = incoming.state, incoming.reply_headers, incoming.fault
    if state.upstream is not None:
        path = "/chat/completions" if chat else "/completions"
        return await state.upstream.forward(path, body, incoming.headers, headers, fault)
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


async def chat_completions(incoming: Incoming) -> ASGIApp:
    """``POST /v1/chat/completions``."""
    return await complete(incoming, incoming.body, chat=True)


async def text_completions(incoming: Incoming) -> ASGIApp:
    """``POST /v1/completions``."""
    return await complete(incoming, incoming.body, chat=False)


def prompt_target(request: Request) -> Target | None:
    """The route and prompt reference of ``/v1/prompts/{id}/completions`` or ``/render``
    (``None``: not such a path)."""
    # The id is one percent-encoded segment; the decoded path would split on %2F.
    parts = raw_path(request).split("/")
    if len(parts) != 5 or parts[4] not in ("completions", "render") or not parts[3]:
        return None
    prompt_id = unquote_to_bytes(parts[3]).decode("utf-8", "replace")
    route = "prompt_completions" if parts[4] == "completions" else "prompt_render"
    return Target(route=route, prompt_id=prompt_id)


PROMPT_VERSION_HEADER = "x-portkey-prompt-version"
"""The response header naming the version number that ran (the local server's own)."""


async def prompt_route(incoming: Incoming) -> ASGIApp:
    """``POST /v1/prompts/{id}/completions`` and ``/render``: render, then complete.

    The render runs in a worker thread under the server's render budget, so a
    runaway template neither blocks other requests nor runs for ever.
    """
    target, headers, state = incoming.target, incoming.reply_headers, incoming.state
    assert target.prompt_id is not None
    budget = RenderBudget(state.render_seconds, state.render_chars)
    build = partial(build_prompt_request, state.store, target.prompt_id, incoming.body, budget)
    try:
        version, built = await anyio.to_thread.run_sync(build)
    except ServerError as exc:
        return json_out(exc.status, exc.body(), headers)
    headers = [*headers, (PROMPT_VERSION_HEADER.encode(), str(version.version).encode())]
    if target.route == "prompt_render":
        return json_out(200, {"success": True, "data": built}, headers, incoming.fault)
    ran = replace(incoming, reply_headers=headers)
    return await complete(ran, built, chat=version.kind == "chat")
