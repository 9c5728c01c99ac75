"""The exceptions of portkey-integrations.

Every error the package raises is a :class:`PortkeyError`::

    PortkeyError
    ├── PortkeyConfigError          bad input caught before any request (also a ValueError)
    │   ├── VariableEncodingError   a prompt variable that cannot be sent as JSON
    │   └── PromptRenderError       a template that cannot be rendered offline
    ├── PromptMappingError          framework content with no place in the prompt (no ValueError)
    ├── APIConnectionError          the server could not be reached
    │   └── APITimeoutError         connect or read timeout
    ├── APIResponseValidationError  a 2xx response whose body is not what the route returns
    ├── APIStatusError              the server answered with an error status
    │   ├── BadRequestError                 400 (and 422)
    │   │   ├── MissingVariableError        400 "Missing variable partials: ...", or no
    │   │   │                               status: the variables check, before sending
    │   │   └── TemplateError               400 template and partial errors
    │   ├── AuthenticationError             401
    │   ├── PermissionDeniedError           403
    │   ├── NotFoundError                   404
    │   │   └── PromptNotFoundError         404 on a prompt route (or naming a prompt)
    │   ├── RequestTimeoutError             408
    │   ├── ConflictError                   409
    │   ├── BudgetExceededError             412
    │   ├── RateLimitError                  429
    │   ├── GuardrailError                  446
    │   └── InternalServerError             5xx
    │       └── TemplateRenderError         500: a prompt rendered to invalid JSON, or no
    │                                       status: the variables check, before sending
    ├── StreamError                 an error event inside a stream
    │   └── TruncatedStreamError    the stream ended without ``data: [DONE]``
    ├── BatchError                  a batch job ended failed, expired or cancelled, or
    │                               its output was asked for before it finished
    └── BatchLineError              one line of a batch failed (the others may not have)

An error raised before anything is sent carries no HTTP status: configuration errors
have none, and a :class:`MissingVariableError` from the client's own variables check has
``status_code=None`` (the server's has 400), so one ``except`` catches both.

Status errors are built (``_error_mapping.make_status_error``) from both of Portkey's error shapes,
``{"status": "failure", "message": ...}`` and ``{"error": {"message": ..., "code": ...}}``,
and from bodies that are not JSON at all (an HTML page from a proxy). The status code
picks the class; the message may only refine it to a subclass of that class.

Every error pickles and deep-copies with its class and all its attributes, so it can
cross a process boundary (``multiprocessing``, ``ProcessPoolExecutor``). ``headers`` holds
response headers only, without credentials or cookies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ._secrets import without_secret_headers

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchError",
    "BatchLineError",
    "BudgetExceededError",
    "ConflictError",
    "GuardrailError",
    "InternalServerError",
    "MissingVariableError",
    "NotFoundError",
    "PermissionDeniedError",
    "PortkeyConfigError",
    "PortkeyError",
    "PromptMappingError",
    "PromptNotFoundError",
    "PromptRenderError",
    "RateLimitError",
    "RequestTimeoutError",
    "StreamError",
    "TemplateError",
    "TemplateRenderError",
    "TruncatedStreamError",
    "VariableEncodingError",
]


class PortkeyError(Exception):
    """Base class of every error raised by portkey-integrations."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduction calls cls(*args), which fails for the subclasses'
        # keyword-only or differently named arguments; rebuild without __init__ instead.
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[PortkeyError], args: tuple[Any, ...]) -> PortkeyError:
    error = cls.__new__(cls, *args)
    error.args = args
    return error


class PortkeyConfigError(PortkeyError, ValueError):
    """Invalid configuration or input, detected before any request is sent."""


class VariableEncodingError(PortkeyConfigError, TypeError):
    """A prompt variable's value cannot be serialized to JSON."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"prompt variable {name!r} cannot be sent: {reason}")
        self.variable = name


RenderFailure = Literal["partials", "template", "json"]


class PromptRenderError(PortkeyConfigError):
    """A template that cannot be rendered offline, found before anything is sent; the
    message is Portkey's own.

    ``failure`` says which step failed: ``partials`` (a partial is missing; Portkey
    answers 400), ``template`` (the renderer rejects the template; 400) or ``json`` (a
    chat template rendered to invalid JSON; 500).
    """

    def __init__(self, message: str, failure: RenderFailure = "template") -> None:
        super().__init__(message)
        self.failure = failure


class PromptMappingError(PortkeyError):
    """What the framework handed the model has no place in the prompt: a message, an
    image, tool results or a built-in template's instructions would be lost.

    Raised before sending. Deliberately neither a ``ValueError`` nor a ``TypeError``:
    LlamaIndex's refine, structured and program paths catch those and carry on with
    what they had, so a dropped piece would turn into a silently worse answer.
    Attributes: ``prompt_id``, ``piece`` (what would be lost) and ``fix`` (how to keep it).
    """

    def __init__(
        self, message: str, *, prompt_id: str | None = None, piece: str = "", fix: str = ""
    ) -> None:
        super().__init__(message)
        self.prompt_id = prompt_id
        self.piece = piece
        self.fix = fix


class APIConnectionError(PortkeyError):
    """The request never got an answer: DNS, refused connection, reset, protocol error."""

    def __init__(self, message: str = "Connection error.", *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class APITimeoutError(APIConnectionError):
    """The connect or read timeout expired."""


class APIResponseValidationError(PortkeyError):
    """A successful (2xx) response whose body is not what the route returns: not JSON,
    or JSON of another shape (a proxy's page, a gateway bug).

    Attributes: ``status_code`` (the 2xx status), ``message``, ``body`` (the raw text),
    ``trace_id`` (``x-portkey-trace-id``) and ``headers`` (the response's, names
    lowercased, credentials and cookies left out).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.trace_id = trace_id
        self.headers: dict[str, str] = without_secret_headers(headers)

    def __str__(self) -> str:
        suffix = f" (trace id {self.trace_id})" if self.trace_id else ""
        return f"Invalid response (status {self.status_code}) - {self.message}{suffix}"


class APIStatusError(PortkeyError):
    """The server answered with an error status.

    Attributes: ``status_code`` (``None`` only for an error raised before sending),
    ``message``, ``code`` (Portkey or provider error code),
    ``type``, ``param``, ``trace_id`` (``x-portkey-trace-id``), ``body`` (the parsed
    JSON body, or the raw text when it was not JSON), ``headers`` (the response's, names
    lowercased, credentials and cookies left out) and ``prompt_id`` (the prompt id a
    prompt route asked for, as requested: ``"pp-joke@2"``; ``None`` on other routes).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        body: Any = None,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        prompt_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.code = code
        self.type = type
        self.param = param
        self.trace_id = trace_id
        self.headers: dict[str, str] = without_secret_headers(headers)
        self.prompt_id = prompt_id

    def __str__(self) -> str:
        suffix = f" (trace id {self.trace_id})" if self.trace_id else ""
        if self.status_code is None:
            return f"{self.message}{suffix}"
        return f"Error code: {self.status_code} - {self.message}{suffix}"


class BadRequestError(APIStatusError):
    """400 or 422: the request was malformed or a hyperparameter was rejected."""


class MissingVariableError(BadRequestError):
    """A variable or partial the prompt template needs was not supplied.

    ``status_code`` is 400 when the server said so, ``None`` when the client's variables
    check (``check_variables="error"``) caught it before sending.
    """


class TemplateError(BadRequestError):
    """The prompt template could not be rendered, or rendered to invalid JSON."""


class AuthenticationError(APIStatusError):
    """401: missing or invalid API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks the scope for this request."""


class NotFoundError(APIStatusError):
    """404: the route, model or resource does not exist."""


class PromptNotFoundError(NotFoundError):
    """404 on a prompt route: the prompt id, version or label is unknown.

    ``prompt_id`` is the id as requested (``"pp-joke@999"``), also named in the message.
    """


class RequestTimeoutError(APIStatusError):
    """408: the gateway or the provider timed out."""


class ConflictError(APIStatusError):
    """409: a conflicting request is in flight."""


class BudgetExceededError(APIStatusError):
    """412: the budget or usage limit of the key is exhausted."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class GuardrailError(APIStatusError):
    """446: a guardrail denied the request."""

    @property
    def hook_results(self) -> Any:
        """The guardrail verdicts of the denied request (``body["hook_results"]``)."""
        return self.body.get("hook_results") if isinstance(self.body, dict) else None


class InternalServerError(APIStatusError):
    """5xx: the gateway or the provider failed."""


class TemplateRenderError(InternalServerError):
    """500 on a prompt route: the rendered chat template is not valid JSON.

    Portkey parses a chat template's text after filling in the variables; a variable
    that breaks the JSON (an empty list spliced into an array, an unescaped quote in a
    raw value) makes that parse fail. Retrying the same variables fails the same way.
    ``status_code`` is ``None`` when the client's variables check saw it coming (a list
    or object read inside a JSON string) and refused the call before sending.
    """


class StreamError(PortkeyError):
    """An error arrived inside an event stream, after the response had started.

    ``chunks`` holds every chunk that was delivered before the error.
    """

    def __init__(
        self,
        message: str,
        *,
        body: Any = None,
        code: str | None = None,
        trace_id: str | None = None,
        chunks: list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.body = body
        self.code = code
        self.trace_id = trace_id
        self.chunks: list[Any] = chunks if chunks is not None else []

    def __str__(self) -> str:
        suffix = f" (trace id {self.trace_id})" if self.trace_id else ""
        return f"{self.message}{suffix}"


class TruncatedStreamError(StreamError):
    """The stream ended before ``data: [DONE]``; the chunks received are in ``chunks``."""


class BatchError(PortkeyError):
    """A batch job that ended ``failed``, ``expired`` or ``cancelled``, or whose output
    was asked for before it finished.

    Attributes: ``batch_id``, ``status`` (the batch's status) and ``errors`` (its
    validation errors: dicts with ``code``, ``line``, ``message``).
    """

    def __init__(
        self,
        message: str,
        *,
        batch_id: str,
        status: str,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.batch_id = batch_id
        self.status = status
        self.errors: list[dict[str, Any]] = errors if errors is not None else []


class BatchLineError(PortkeyError):
    """One line of a batch failed: it answered an error status, or never ran (the batch
    expired or was cancelled first).

    Attributes: ``custom_id`` (the line's), ``code`` (the provider's error code, the
    status as text, or ``batch_expired``-style codes for a line that never ran) and
    ``status_code`` (``None`` for a line that never ran).
    """

    def __init__(
        self,
        message: str,
        *,
        custom_id: str,
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.custom_id = custom_id
        self.code = code
        self.status_code = status_code
