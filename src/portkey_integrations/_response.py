"""Wire models: completions, stream chunks, usage, render results and Portkey headers;
and the typed error an error response or an error event stands for.

The models accept both the chat (``chat.completion``, ``message``) and the text
(``text_completion``, ``text``) shapes and keep unknown fields (``content_blocks``,
``hook_results``, provider-native values), because the gateway adds fields freely.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, PrivateAttr

from ._errors import (
    APIStatusError,
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

__all__ = [
    "Choice",
    "ChunkChoice",
    "Completion",
    "CompletionChunk",
    "Delta",
    "DeltaToolCall",
    "FunctionCall",
    "Message",
    "RenderedPrompt",
    "ResponseInfo",
    "ToolCall",
    "Usage",
    "make_status_error",
    "make_stream_error",
    "parse_error_body",
    "status_error_class",
]


class _Wire(BaseModel):
    # defer_build: validators are built at first use, not at import.
    model_config = ConfigDict(extra="allow", protected_namespaces=(), defer_build=True)


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What Portkey's response headers say about a request."""

    status_code: int = 200
    trace_id: str | None = None
    cache_status: str | None = None
    retry_attempt_count: int | None = None
    provider: str | None = None
    last_used_option_index: int | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """The ``x-portkey-*`` and ``x-ratelimit-*`` response headers."""
    prompt_version: int | None = None
    """The version number of the prompt that ran (``x-portkey-prompt-version``, which
    the local server sends on prompt completions, renders and streams; ``None`` when
    the response does not say)."""

    @classmethod
    def from_headers(cls, status_code: int, headers: Mapping[str, str]) -> ResponseInfo:
        # Runs once per response, on the hot path: one pass over the headers, then dict
        # lookups (httpx's own lookups rescan every header each time).
        items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
        picked = {k: v for k, v in items if k.startswith(("x-portkey", "x-ratelimit"))}

        def get(name: str) -> str | None:
            # A proxy in front (a self-hosted gateway) may fold its value and the
            # upstream's into one "a, b" header: the last hop, nearest to us, wins.
            value = picked.get(name)
            if value is not None and "," in value:
                parts = [part.strip() for part in value.split(",") if part.strip()]
                value = parts[-1] if parts else None
            return value

        return cls(
            status_code,
            get("x-portkey-trace-id"),
            get("x-portkey-cache-status"),
            _int_or_none(get("x-portkey-retry-attempt-count")),
            get("x-portkey-provider"),
            _int_or_none(get("x-portkey-last-used-option-index")),
            picked,
            _int_or_none(get("x-portkey-prompt-version")),
        )

    def metadata(self, prefix: str = "") -> dict[str, Any]:
        """Trace id, cache status, retry count and provider, those that are set, under
        ``prefix`` + their names: what adapters add to a response's metadata."""
        values = (
            ("trace_id", self.trace_id),
            ("cache_status", self.cache_status),
            ("retry_attempt_count", self.retry_attempt_count),
            ("provider", self.provider),
        )
        return {prefix + name: value for name, value in values if value is not None}


class FunctionCall(_Wire):
    name: str | None = None
    arguments: str | None = None


class ToolCall(_Wire):
    id: str | None = None
    type: str = "function"
    function: FunctionCall = FunctionCall()


class Message(_Wire):
    role: str = "assistant"
    content: str | list[Any] | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None
    refusal: str | None = None


class PromptTokensDetails(_Wire):
    cached_tokens: int | None = None
    audio_tokens: int | None = None


class CompletionTokensDetails(_Wire):
    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


class Usage(_Wire):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class Choice(_Wire):
    index: int = 0
    message: Message | None = None
    text: str | None = None
    finish_reason: str | None = None
    logprobs: Any = None

    @property
    def content(self) -> str:
        """The choice's text, from ``message.content`` or ``text``."""
        if self.message is not None:
            content = self.message.content
            if isinstance(content, list):
                return "".join(
                    str(part.get("text", "")) for part in content if isinstance(part, dict)
                )
            return content or ""
        return self.text or ""


class _WithInfo(_Wire):
    _info: ResponseInfo | None = PrivateAttr(default=None)

    @property
    def portkey(self) -> ResponseInfo:
        """Portkey's response headers (trace id, cache status, retries, provider)."""
        return self._info or ResponseInfo()


class Completion(_WithInfo):
    """A ``chat.completion`` or ``text_completion`` object."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[Choice] = []
    usage: Usage | None = None
    system_fingerprint: str | None = None

    @property
    def content(self) -> str:
        """The first choice's text (``""`` when there is none)."""
        return self.choices[0].content if self.choices else ""


class DeltaToolCall(_Wire):
    index: int = 0
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class Delta(_Wire):
    role: str | None = None
    content: str | None = None
    tool_calls: list[DeltaToolCall] | None = None
    function_call: FunctionCall | None = None
    refusal: str | None = None


class ChunkChoice(_Wire):
    index: int = 0
    delta: Delta | None = None
    text: str | None = None
    finish_reason: str | None = None
    logprobs: Any = None

    @property
    def content(self) -> str:
        """The increment of text in this chunk, chat or text shape."""
        if self.delta is not None:
            return self.delta.content or ""
        return self.text or ""


class CompletionChunk(_Wire):
    """A ``chat.completion.chunk`` or streamed ``text_completion`` event."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChunkChoice] = []
    usage: Usage | None = None
    system_fingerprint: str | None = None


class RenderedPrompt(_WithInfo):
    """What ``/prompts/{id}/render`` returns: the request Portkey would send."""

    success: bool = True
    data: dict[str, Any] = {}

    @property
    def messages(self) -> list[dict[str, Any]] | None:
        messages = self.data.get("messages")
        return messages if isinstance(messages, list) else None

    @property
    def prompt(self) -> str | None:
        prompt = self.data.get("prompt")
        return prompt if isinstance(prompt, str) else None

    @property
    def params(self) -> dict[str, Any]:
        """The saved parameters merged with the overrides, without messages or prompt."""
        return {k: v for k, v in self.data.items() if k not in ("messages", "prompt")}


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# --- errors from error responses and error events ------------------------------------

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
