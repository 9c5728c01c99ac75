"""Error mapping: the typed error that an error response, an error event or a transport
failure stands for.

Error responses come in both of Portkey's shapes (``{"error": {...}}`` and
``{"message": ...}``), as HTML from a proxy, or as plain text: :func:`make_status_error`
reads them all and picks the class of the status, narrowed by the route and the message
(:func:`status_error_class`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    GuardrailError,
    InternalServerError,
    MissingVariableError,
    NotFoundError,
    PermissionDeniedError,
    PromptNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    StreamError,
    TemplateError,
    TemplateRenderError,
)
from ._secrets import scrub_transport_error

__all__ = [
    "connection_error",
    "make_status_error",
    "make_stream_error",
    "parse_error_body",
    "requested_prompt_id",
    "status_error",
    "status_error_class",
]

# --- failures ---------------------------------------------------------------------


def status_error(response: httpx.Response) -> APIStatusError:
    """The typed error of an error response (its body read), naming the prompt a
    prompt route asked for."""
    return make_status_error(
        response.status_code,
        response.text,
        response.headers,
        prompt_id=requested_prompt_id(response.request.url),
    )


def requested_prompt_id(url: httpx.URL) -> str | None:
    """The prompt id a ``/prompts/{id}/completions`` (or ``/render``) URL asked for."""
    parts = url.raw_path.decode("ascii", "replace").split("?", 1)[0].split("/")
    if len(parts) >= 3 and parts[-3] == "prompts" and parts[-1] in ("completions", "render"):
        return unquote(parts[-2])
    return None


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """The package's error for a transport failure, naming the URL it tried.

    Callers chain it ``from exc``: the cause keeps its text and type, but its
    ``request`` is swapped for a copy with the credentials masked, so a traceback or an
    error reporter walking ``__cause__`` never finds a key.
    """
    scrub_transport_error(exc)
    try:
        url: str | None = str(exc.request.url.copy_with(userinfo=b""))
    except RuntimeError:
        url = None
    where = f" to {url}" if url else ""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request{where} timed out ({type(exc).__name__})", url=url)
    return APIConnectionError(f"connection error{where} ({type(exc).__name__}: {exc})", url=url)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    412: BudgetExceededError,
    422: BadRequestError,
    429: RateLimitError,
    446: GuardrailError,
}

# The JSON parsers' messages: JavaScript's on Portkey ("Unexpected token ] in JSON at
# position 40", "Unexpected end of JSON input", "... is not valid JSON") and Python's on
# the local server ("Expecting value: line 1 column 2 (char 1)").
_JSON_PARSE_ERROR = re.compile(
    r"in JSON at position \d|end of JSON input|is not valid JSON|line \d+ column \d+ \(char \d+\)"
)
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def parse_error_body(text: str) -> tuple[Any, str | None, dict[str, Any]]:
    """Return ``(body, message, details)`` from an error body in any of the known shapes.

    ``details`` holds ``code``, ``type`` and ``param`` when the body names them.
    """
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        readable = _SPACES.sub(" ", _HTML_TAG.sub(" ", text)).strip()
        return text, (readable[:300] or None), {}
    details: dict[str, Any] = {}
    message: str | None = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = _str_or_none(error.get("message"))
            for key in ("code", "type", "param"):
                if error.get(key) is not None:
                    details[key] = str(error[key])
        elif isinstance(error, str):
            message = error
        if body.get("message") is not None:
            message = message or str(body["message"])
        message = message or _str_or_none(body.get("html-message") or body.get("detail"))
    elif isinstance(body, str):
        message = body
    return body, message, details


def make_status_error(
    status_code: int,
    text: str,
    headers: Mapping[str, str] | None = None,
    *,
    prompt_id: str | None = None,
) -> APIStatusError:
    """Build the typed error for an error response.

    ``headers`` are the response's. ``prompt_id`` is the id a prompt route asked for: a
    404 there is a :class:`PromptNotFoundError` naming it, and every error keeps it.
    """
    body, message, details = parse_error_body(text)
    message = message or f"HTTP {status_code}"
    cls = status_error_class(status_code, message, prompt_id=prompt_id)
    if cls is PromptNotFoundError and prompt_id is not None:
        message = f"prompt {prompt_id!r} not found: {message}"
    trace_id = headers.get("x-portkey-trace-id") if headers is not None else None
    return cls(
        message,
        status_code=status_code,
        body=body,
        trace_id=trace_id,
        headers=headers,
        prompt_id=prompt_id,
        **details,
    )


def status_error_class(
    status_code: int, message: str, *, prompt_id: str | None = None
) -> type[APIStatusError]:
    """The class for an error status: the status's class, or a subclass of it that the
    route (``prompt_id``) or the message narrows it to. The message never changes the
    branch of the tree: a 500 stays an :class:`InternalServerError` whatever it says."""
    cls = _STATUS_CLASSES.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIStatusError
    lowered = message.lower()
    if cls is NotFoundError:
        # Off prompt routes (admin routes, older callers) the message is all there is.
        if prompt_id is not None or "prompt" in lowered:
            return PromptNotFoundError
    elif cls is BadRequestError:
        if lowered.startswith("missing variable"):
            return MissingVariableError
        if "template" in lowered or "partial" in lowered:
            return TemplateError
    elif status_code == 500 and prompt_id is not None and _JSON_PARSE_ERROR.search(message):
        return TemplateRenderError
    return cls


def make_stream_error(data: Any, trace_id: str | None, chunks: list[Any]) -> StreamError:
    """Build the error for an ``event: error`` or ``data: {"error": ...}`` stream event."""
    message: str | None = None
    code: str | None = None
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            message = _str_or_none(error.get("message"))
            code = _str_or_none(error.get("code"))
        elif error is not None:
            message = str(error)
        message = message or _str_or_none(data.get("message"))
    elif data:
        message = str(data)
    return StreamError(
        f"error event in stream: {message or 'unknown error'}",
        body=data,
        code=code,
        trace_id=trace_id,
        chunks=chunks,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
