"""The building blocks of admin operations: steps, paths, parsers and scopes.

An operation is a generator: it yields a :class:`Step` (a built request, how to parse
its response, and the operation's name for error messages), receives the parsed
result, and returns the operation's value; ``_faces.py`` sends the steps, sync or async.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any, NamedTuple, TypeVar

import httpx
from pydantic import BaseModel

from .._base_client import BaseClient, parse_model
from .._errors import PortkeyConfigError
from .._request import quote_segment

__all__ = [
    "SCOPES",
    "Step",
    "Steps",
    "admin_path",
    "clean",
    "fetch_json",
    "parse_ref",
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
) -> Step:
    """Build one step through the client's shared request builder (headers, timeouts)."""
    request = client._request(method, path, body, None, False, query)
    return Step(request, _ignore if model is None else fetch_json(model), operation, subject)


def clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given (``None`` means not given)."""
    return {k: v for k, v in fields.items() if v is not None}


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``pp-x@sel`` into ``("pp-x", "sel")`` (``""`` for a bare id)."""
    if not isinstance(ref, str) or not ref.partition("@")[0].strip():
        raise PortkeyConfigError(f"a prompt reference must be 'id' or 'id@version', not {ref!r}")
    prompt_id, _, selector = ref.partition("@")
    if "@" in ref and not selector:
        raise PortkeyConfigError(f"prompt reference {ref!r} has an empty version after '@'")
    return prompt_id, selector
