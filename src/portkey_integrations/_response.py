"""Wire models: completions, stream chunks, usage, render results and Portkey headers.

The models accept both the chat (``chat.completion``, ``message``) and the text
(``text_completion``, ``text``) shapes and keep unknown fields (``content_blocks``,
``hook_results``, provider-native values), because the gateway adds fields freely.
:func:`parse_result` reads a completion or render from a response; a body that does not
fit raises :class:`~portkey_integrations.APIResponseValidationError`. The errors an error
response or event stands for are built in ``_error_mapping.py``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, PrivateAttr

from ._errors import APIResponseValidationError

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
    "build_plain",
    "invalid_response",
    "parse_model",
    "parse_plain",
    "parse_result",
    "plain_key",
]

_M = TypeVar("_M", bound=BaseModel)


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


class _SharedFields(set[str]):
    """The fields-set of every plain chunk (or choice, or delta) of one shape: one set,
    not one per object, since each set is one more object the garbage collector tracks
    and a long stream's responses keep their chunks. A model copies it before its first
    assignment (:class:`_Streamed`), so no chunk sees another's changes."""

    __slots__ = ()


_SHARED: dict[tuple[str, ...], _SharedFields] = {}


def _shared_fields(keys: dict[str, Any]) -> _SharedFields:
    # Keys are subsets of a few names (parse_plain checks): the cache stays small.
    shape = tuple(keys)
    fields = _SHARED.get(shape)
    if fields is None:
        fields = _SHARED[shape] = _SharedFields(shape)
    return fields


class _Streamed(_Wire):
    """A stream chunk model: plain ones share their fields-set (:class:`_SharedFields`)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if type(self.__pydantic_fields_set__) is _SharedFields:
            _set(self, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if type(self.__pydantic_fields_set__) is _SharedFields:
            _set(self, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        super().__delattr__(name)


class DeltaToolCall(_Wire):
    index: int = 0
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class Delta(_Streamed):
    role: str | None = None
    content: str | None = None
    tool_calls: list[DeltaToolCall] | None = None
    function_call: FunctionCall | None = None
    refusal: str | None = None


class ChunkChoice(_Streamed):
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


class CompletionChunk(_Streamed):
    """A ``chat.completion.chunk`` or streamed ``text_completion`` event."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChunkChoice] = []
    usage: Usage | None = None
    system_fingerprint: str | None = None


# --- the plain stream chunk --------------------------------------------------------------
# Nearly every streamed event is {"id", "object", "created", "model", "choices": [{"index",
# "delta": {"content"}, "finish_reason"}]}. Such an event is read with json.loads and built
# without a validator run: the checks below accept only what validation would accept
# unchanged, so the chunk is the one validation builds (fields set included).

_TOP = frozenset(("id", "object", "created", "model", "choices", "usage", "system_fingerprint"))
_CHOICE = frozenset(("index", "delta", "finish_reason", "logprobs"))
_DELTA = frozenset(("role", "content", "refusal"))
# pydantic's JSON reader refuses a lone surrogate escape that json.loads accepts.
_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_new = object.__new__
_set = object.__setattr__
_MISSING: Any = object()


def parse_plain(data: str) -> dict[str, Any] | None:
    """The JSON of a plain content event, or ``None`` for any other event (which is
    then validated in full, with the errors validation gives)."""
    if "\\u" in data and _SURROGATE.search(data):
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    if type(obj) is not dict or not obj.keys() <= _TOP:
        return None
    choices = obj.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if type(choice) is not dict or not choice.keys() <= _CHOICE:
        return None
    delta = choice.get("delta")
    if type(delta) is not dict or not delta.keys() <= _DELTA:
        return None
    if type(choice.get("index", 0)) is not int or choice.get("logprobs") is not None:
        return None
    if obj.get("usage") is not None:  # with include_usage, every event has "usage": null
        return None
    created = obj.get("created")
    if created is not None and type(created) is not int:
        return None
    for value in (
        delta.get("content"),
        obj.get("id"),
        obj.get("model"),
        obj.get("object"),
        choice.get("finish_reason"),
        delta.get("role"),
        delta.get("refusal"),
        obj.get("system_fingerprint"),
    ):
        if value is not None and type(value) is not str:
            return None
    return obj


def plain_key(obj: dict[str, Any]) -> tuple[Any, ...]:
    """What plain events that differ only in their content have in common."""
    choice = obj["choices"][0]
    delta = choice["delta"]
    return (
        tuple(obj),
        obj.get("id"),
        obj.get("object"),
        obj.get("created"),
        obj.get("model"),
        obj.get("system_fingerprint"),
        tuple(choice),
        choice.get("index", 0),
        choice.get("finish_reason"),
        tuple(delta),
        delta.get("role"),
        delta.get("refusal"),
    )


def _built(cls: type[_M], values: dict[str, Any], fields: _SharedFields) -> _M:
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", fields)
    _set(model, "__pydantic_extra__", {})
    _set(model, "__pydantic_private__", None)
    return model


def build_plain(obj: dict[str, Any], content: str = _MISSING) -> CompletionChunk:
    """The chunk of a plain event's JSON (:func:`parse_plain`), with ``content`` in
    place of its own when given."""
    choice = obj["choices"][0]
    delta = choice["delta"]
    if content is _MISSING:
        content = delta.get("content")
    delta_model = _built(
        Delta,
        {
            "role": delta.get("role"),
            "content": content,
            "tool_calls": None,
            "function_call": None,
            "refusal": delta.get("refusal"),
        },
        _shared_fields(delta),
    )
    choice_model = _built(
        ChunkChoice,
        {
            "index": choice.get("index", 0),
            "delta": delta_model,
            "text": None,
            "finish_reason": choice.get("finish_reason"),
            "logprobs": None,
        },
        _shared_fields(choice),
    )
    return _built(
        CompletionChunk,
        {
            "id": obj.get("id"),
            "object": obj.get("object"),
            "created": obj.get("created"),
            "model": obj.get("model"),
            "choices": [choice_model],
            "usage": None,
            "system_fingerprint": obj.get("system_fingerprint"),
        },
        _shared_fields(obj),
    )


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


# --- reading a response ---------------------------------------------------------------


def parse_model(response: httpx.Response, model: type[_M]) -> _M:
    """Validate a JSON response body as ``model``; a body that does not fit raises
    :class:`APIResponseValidationError` (never a bare ``ValidationError``)."""
    try:
        return model.model_validate_json(response.content)
    except ValueError as exc:
        what = f"response body is not a valid {model.__name__}: {exc}"
        raise invalid_response(response, what) from None


def invalid_response(response: httpx.Response, message: str) -> APIResponseValidationError:
    """The error for a successful response whose body does not parse."""
    return APIResponseValidationError(
        message,
        status_code=response.status_code,
        body=response.text,
        trace_id=response.headers.get("x-portkey-trace-id"),
        headers=response.headers,
    )


def parse_result(response: httpx.Response, model: type[Completion] | type[RenderedPrompt]) -> Any:
    """A completion or render result, with the response's Portkey headers attached."""
    result = parse_model(response, model)
    extra = result.model_extra
    if isinstance(result, Completion) and not result.choices and extra and "body" in extra:
        # The OpenAPI file documents a {status, headers, body} envelope; tolerate it.
        try:
            result = model.model_validate(extra["body"])
        except ValueError as exc:
            what = f"response envelope's body is not a valid {model.__name__}: {exc}"
            raise invalid_response(response, what) from None
    result._info = ResponseInfo.from_headers(response.status_code, response.headers)
    return result
