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
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, PrivateAttr
from pydantic_core import SchemaSerializer, core_schema

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
    "RawChunk",
    "RenderedPrompt",
    "ResponseInfo",
    "ToolCall",
    "Usage",
    "invalid_response",
    "parse_model",
    "parse_result",
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


class RawChunk(Mapping[str, Any]):
    """A streamed chunk as it arrived: its JSON text, read as a mapping on first use.

    LlamaIndex's streamed responses carry one as ``raw``, where other LlamaIndex
    integrations keep the provider's JSON (the framework's token counter reads
    ``raw["usage"]``). Until it is read it holds only the text, so a consumer that keeps
    every response keeps one collector-tracked object per chunk where a parsed
    :class:`CompletionChunk` is nine. :attr:`chunk` parses it into one. It serializes
    (``model_dump``, ``model_dump_json``, pickle) as the JSON it holds.
    """

    __slots__ = ("_data", "json")

    _data: dict[str, Any]  # set on first read: one store per chunk until then

    def __init__(self, json_text: str) -> None:
        self.json = json_text
        """The chunk's JSON text."""

    def _read(self) -> dict[str, Any]:
        try:
            return self._data
        except AttributeError:
            data: dict[str, Any] = json.loads(self.json)
            self._data = data
            return data

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return f"RawChunk({self.json!r})"

    @property
    def chunk(self) -> CompletionChunk:
        """This chunk as a :class:`CompletionChunk` (parsed on each read)."""
        return CompletionChunk.model_validate_json(self.json)


# pydantic serializes an ``Any`` field by the value's ``__pydantic_serializer__`` when it
# has one: ChatResponse.model_dump_json() writes the JSON, not "unknown type".
RawChunk.__pydantic_serializer__ = SchemaSerializer(  # type: ignore[attr-defined]
    core_schema.any_schema(
        serialization=core_schema.plain_serializer_function_ser_schema(RawChunk._read)
    )
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
