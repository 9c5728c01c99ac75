"""How a resource operation is written once and run by either client.

An operation is a generator: it yields a :class:`Step` (a built request, how to parse
its response, and the operation's name for error messages), receives the parsed
result, and returns the operation's value. :func:`run_sync` and :func:`run_async` send
the steps through ``client._fetch`` (the same retries, timeouts and typed errors as
completions); :class:`SyncResource` and :class:`AsyncResource` are the bases of the
``client.prompts``-style classes, whose methods differ only in ``self._run`` vs
``await self._run``. A 403 names the API key scope the operation needs (:data:`SCOPES`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import httpx
from pydantic import BaseModel

from .._base_client import BaseClient, parse_model
from .._errors import (
    APIStatusError,
    NotFoundError,
    PermissionDeniedError,
    PortkeyConfigError,
    PromptNotFoundError,
)
from .._options import RequestOptions
from .._request import parse_prompt_ref, quote_segment

if TYPE_CHECKING:
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "SCOPES",
    "AsyncResource",
    "Step",
    "Steps",
    "SyncResource",
    "admin_path",
    "check_version",
    "clean",
    "explain_error",
    "fetch_json",
    "parse_ref",
    "run_async",
    "run_sync",
    "step",
]

_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)

SCOPES: dict[str, tuple[str, ...]] = {
    "prompts.list": ("prompts.list", "prompts.read"),
    "prompts.retrieve": ("prompts.read",),
    "prompts.versions": ("prompts.read",),
    "prompts.retrieve_version": ("prompts.read",),
    "prompts.create": ("prompts.create",),
    "prompts.update": ("prompts.update",),
    "prompts.update_version": ("prompts.update",),
    "prompts.publish": ("prompts.publish",),
    "prompts.delete": ("prompts.delete",),
    "partials.list": ("partials.list", "partials.read"),
    "partials.retrieve": ("partials.read",),
    "partials.versions": ("partials.read",),
    "partials.create": ("partials.create",),
    "partials.update": ("partials.update",),
    "partials.publish": ("partials.publish",),
    "partials.delete": ("partials.delete",),
    "labels.list": ("labels.list", "labels.read"),
    "labels.retrieve": ("labels.read",),
    "labels.create": ("labels.create",),
    "labels.update": ("labels.update",),
    "labels.delete": ("labels.delete",),
}
"""Admin operation -> the API key scopes that allow it (any one will do; a 403 names them)."""


class Step(NamedTuple):
    """One request of an operation, how to read its answer, and what it was for."""

    request: httpx.Request
    parse: Callable[[httpx.Response], Any]
    operation: str
    subject: str | None = None
    """What the request is about (``prompt 'pp-x'``), named in a 404's message."""


Steps = Generator[Step, Any, _T]
"""An operation: yields steps, is sent each step's parsed result, returns the value."""


def admin_path(*segments: str) -> str:
    """``/seg/seg/...`` with every caller-supplied segment percent-encoded as one segment."""
    parts = []
    for segment in segments:
        if not isinstance(segment, str) or not segment.strip():
            raise PortkeyConfigError(
                f"an id in an admin route must be a non-empty string, not {segment!r}"
            )
        parts.append(quote_segment(segment, "an id in an admin route"))
    return "/" + "/".join(parts)


def _ignore(response: httpx.Response) -> None:
    """The body of a write that answers ``{}`` (or nothing) carries no information."""


def fetch_json(model: type[_M]) -> Callable[[httpx.Response], _M]:
    """A parser validating the response body as ``model``."""

    def parse(response: httpx.Response) -> _M:
        return parse_model(response, model)

    return parse


def step(
    client: BaseClient,
    method: str,
    path: str,
    operation: str,
    model: type[BaseModel] | None = None,
    *,
    body: Any = None,
    query: Mapping[str, Any] | None = None,
    subject: str | None = None,
    options: RequestOptions | None = None,
) -> Step:
    """Build one step through the client's shared request builder (headers, timeouts);
    ``options`` override the client's routing headers for this request."""
    request = client._request(method, path, body, options, False, query)
    return Step(request, _ignore if model is None else fetch_json(model), operation, subject)


def clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given (``None`` means not given)."""
    return {k: v for k, v in fields.items() if v is not None}


def parse_ref(ref: str) -> tuple[str, str]:
    """:func:`~.._request.parse_prompt_ref`, with ``""`` for a bare id's selector (the
    admin steps compare selectors as strings)."""
    prompt_id, selector = parse_prompt_ref(ref)
    return prompt_id, selector or ""


def check_version(version: int) -> int:
    """A version number as publish routes take it: a positive int."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PortkeyConfigError(f"version must be a positive int, not {version!r}")
    return version


# --- running the steps ------------------------------------------------------------


def explain_error(exc: APIStatusError, step: Step) -> APIStatusError:
    """The error to raise for a failed step: a 403 names the scope, a 404 the subject."""
    message = exc.message
    cls: type[APIStatusError] = type(exc)
    if isinstance(exc, PermissionDeniedError):
        scopes = SCOPES.get(step.operation, (step.operation,))
        scope = repr(scopes[0]) + "".join(f" (or {s!r})" for s in scopes[1:])
        message = f"{message}: {step.operation} needs an API key with the {scope} scope"
    elif isinstance(exc, NotFoundError) and step.subject is not None:
        message = f"{step.subject} not found: {message}"
        if step.subject.startswith(("prompt", "version", "partial")):
            cls = PromptNotFoundError
    else:
        return exc
    explained = cls(
        message,
        status_code=exc.status_code,
        body=exc.body,
        code=exc.code,
        type=exc.type,
        param=exc.param,
        trace_id=exc.trace_id,
        headers=exc.headers,
    )
    explained.__suppress_context__ = True
    return explained


def run_sync(client: PortkeyClient, steps: Steps[_T]) -> _T:
    """Send an operation's steps with a sync client and return its value."""
    try:
        current = next(steps)
        while True:
            try:
                result = client._fetch(current.request, current.parse)
            except APIStatusError as exc:
                current = steps.throw(explain_error(exc, current))
            else:
                current = steps.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(client: AsyncPortkeyClient, steps: Steps[_T]) -> _T:
    """Send an operation's steps with an async client and return its value."""
    try:
        current = next(steps)
        while True:
            try:
                result = await client._fetch(current.request, current.parse)
            except APIStatusError as exc:
                current = steps.throw(explain_error(exc, current))
            else:
                current = steps.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class SyncResource:
    """A group of operations bound to a :class:`~portkey_integrations.PortkeyClient`."""

    def __init__(self, client: PortkeyClient) -> None:
        self._client = client

    def _run(self, steps: Steps[_T]) -> _T:
        return run_sync(self._client, steps)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"


class AsyncResource:
    """A group of operations bound to an :class:`~portkey_integrations.AsyncPortkeyClient`."""

    def __init__(self, client: AsyncPortkeyClient) -> None:
        self._client = client

    async def _run(self, steps: Steps[_T]) -> _T:
        return await run_async(self._client, steps)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"
