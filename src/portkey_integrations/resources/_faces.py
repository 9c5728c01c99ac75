"""Portkey's prompt admin API on the clients: ``client.prompts``, ``client.partials`` and
``client.labels``.

Each operation is written once (``prompts.py``, ``partials.py``) as steps of
built requests and parsers; :class:`Prompts` and :class:`AsyncPrompts` (and the
partial and label twins) differ only in how a step is sent: ``client._fetch``, which
gives the admin routes the same retries, timeouts and typed errors as completions.
A 403 names the API key scope the operation needs (:data:`SCOPES`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .._base_client import BaseClient
from .._errors import APIStatusError, NotFoundError, PermissionDeniedError, PromptNotFoundError
from . import partials as pops
from . import prompts as ops
from ._models import (
    Label,
    LabelList,
    Prompt,
    PromptPartial,
    PromptPartialList,
    PromptPartialVersionList,
    PromptVersion,
    PromptVersionList,
)
from .prompts import SCOPES, Step, Steps, resolve_version

if TYPE_CHECKING:
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "SCOPES",
    "AsyncLabels",
    "AsyncPartials",
    "AsyncPrompts",
    "Label",
    "LabelList",
    "Labels",
    "Partials",
    "Prompt",
    "PromptPartial",
    "PromptPartialList",
    "PromptPartialVersionList",
    "PromptVersion",
    "PromptVersionList",
    "Prompts",
    "explain_error",
    "resolve_version",
    "run_async",
    "run_sync",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")


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


class _Resource:
    """A group of admin operations bound to one client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"


def _describe(method: Any, build: Callable[..., Any], name: str, returns: Any) -> None:
    params = list(inspect.signature(build).parameters.values())[1:]
    method.__signature__ = inspect.Signature(params, return_annotation=returns)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = build.__doc__


def _returns(build: Callable[..., Any]) -> Any:
    # "Steps[Prompt]" -> "Prompt": what the method returns is what the steps return.
    text = str(inspect.signature(build).return_annotation)
    return text[6:-1] if text.startswith("Steps[") else text


def sync_op(
    build: Callable[Concatenate[BaseClient, _P], Steps[_T]], name: str
) -> Callable[Concatenate[_Resource, _P], _T]:
    """A sync resource method sending the steps of ``build``."""

    def method(self: _Resource, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return run_sync(self._client, build(self._client, *args, **kwargs))

    _describe(method, build, name, _returns(build))
    return method


def async_op(
    build: Callable[Concatenate[BaseClient, _P], Steps[_T]], name: str
) -> Callable[Concatenate[_Resource, _P], Coroutine[Any, Any, _T]]:
    """An async resource method (a coroutine function) sending the steps of ``build``."""

    async def method(self: _Resource, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await run_async(self._client, build(self._client, *args, **kwargs))

    _describe(method, build, name, _returns(build))
    return method


class Prompts(_Resource):
    """``client.prompts``: list, read, version, publish and delete prompts."""

    retrieve = sync_op(ops.retrieve_prompt, "retrieve")
    versions = sync_op(ops.prompt_versions, "versions")
    retrieve_version = sync_op(ops.retrieve_version, "retrieve_version")
    resolve = sync_op(ops.resolve_prompt, "resolve")
    create = sync_op(ops.create_prompt, "create")
    update = sync_op(ops.update_prompt, "update")
    publish = sync_op(ops.publish_prompt, "publish")
    delete = sync_op(ops.delete_prompt, "delete")
    update_version = sync_op(ops.update_version, "update_version")
    set_label = sync_op(ops.set_label, "set_label")
    list = sync_op(ops.list_prompts, "list")


class AsyncPrompts(_Resource):
    """``async_client.prompts``: the coroutine twin of :class:`Prompts`."""

    retrieve = async_op(ops.retrieve_prompt, "retrieve")
    versions = async_op(ops.prompt_versions, "versions")
    retrieve_version = async_op(ops.retrieve_version, "retrieve_version")
    resolve = async_op(ops.resolve_prompt, "resolve")
    create = async_op(ops.create_prompt, "create")
    update = async_op(ops.update_prompt, "update")
    publish = async_op(ops.publish_prompt, "publish")
    delete = async_op(ops.delete_prompt, "delete")
    update_version = async_op(ops.update_version, "update_version")
    set_label = async_op(ops.set_label, "set_label")
    list = async_op(ops.list_prompts, "list")


class Partials(_Resource):
    """``client.partials``: prompt partials (``{{>pp-part}}``) and their versions."""

    retrieve = sync_op(pops.retrieve_partial, "retrieve")
    versions = sync_op(pops.partial_versions, "versions")
    create = sync_op(pops.create_partial, "create")
    update = sync_op(pops.update_partial, "update")
    publish = sync_op(pops.publish_partial, "publish")
    delete = sync_op(pops.delete_partial, "delete")
    list = sync_op(pops.list_partials, "list")


class AsyncPartials(_Resource):
    """``async_client.partials``: the coroutine twin of :class:`Partials`."""

    retrieve = async_op(pops.retrieve_partial, "retrieve")
    versions = async_op(pops.partial_versions, "versions")
    create = async_op(pops.create_partial, "create")
    update = async_op(pops.update_partial, "update")
    publish = async_op(pops.publish_partial, "publish")
    delete = async_op(pops.delete_partial, "delete")
    list = async_op(pops.list_partials, "list")


class Labels(_Resource):
    """``client.labels``: the labels versions can carry."""

    retrieve = sync_op(pops.retrieve_label, "retrieve")
    create = sync_op(pops.create_label, "create")
    update = sync_op(pops.update_label, "update")
    delete = sync_op(pops.delete_label, "delete")
    list = sync_op(ops.list_labels, "list")


class AsyncLabels(_Resource):
    """``async_client.labels``: the coroutine twin of :class:`Labels`."""

    retrieve = async_op(pops.retrieve_label, "retrieve")
    create = async_op(pops.create_label, "create")
    update = async_op(pops.update_label, "update")
    delete = async_op(pops.delete_label, "delete")
    list = async_op(ops.list_labels, "list")
