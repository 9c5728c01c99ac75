"""What Portkey does with a prompt request before any model sees it.

Resolve the prompt, render it with the request's ``variables`` (partials and all) by the
client's own :func:`~.._templates.template.render_prompt`, then merge: saved parameters,
overridden by every other root key of the body, with the rendered ``messages`` (chat) or
``prompt`` (text) replacing whatever the body sent under that name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._errors import PromptRenderError
from .._templates.mustache import RenderBudget, RenderLimitError
from .._templates.template import render_prompt
from .store import PromptStore, StoredVersion

__all__ = ["ServerError", "build_prompt_request"]


class ServerError(Exception):
    """An error Portkey itself answers with: ``{"status": "failure", "message": ...}``.

    The server's own: the client's errors are :class:`portkey_integrations.PortkeyError`.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body Portkey sends."""
        return {"status": "failure", "message": self.message}


def _variables(body: dict[str, Any]) -> dict[str, Any]:
    variables = body.get("variables")
    if variables is None:
        # Portkey runs Object.keys(body.variables) and crashes on a missing one.
        raise ServerError(500, "Cannot convert undefined or null to object")
    if isinstance(variables, dict):
        return variables
    if isinstance(variables, (list, str)):
        return {str(i): v for i, v in enumerate(variables)}
    return {}


class _StorePartials(Mapping[str, str]):
    """The store's partials by reference (``pl-x``, ``pl-x@2``, a label), read as the
    shared renderer asks for them."""

    def __init__(self, store: PromptStore) -> None:
        self.store = store

    def __getitem__(self, ref: str) -> str:
        found = self.store.resolve(ref)
        if found is None:
            raise KeyError(ref)
        return found.template

    def __iter__(self) -> Iterator[str]:
        return (partial.id for partial in self.store.partials())

    def __len__(self) -> int:
        return len(self.store.partials())


def build_prompt_request(
    store: PromptStore,
    prompt_ref: str,
    body: dict[str, Any],
    budget: RenderBudget | None = None,
) -> tuple[StoredVersion, dict[str, Any]]:
    """The prompt version and the completion request Portkey would send for it.

    Raises :class:`ServerError` with Portkey's status and message; a render past
    ``budget`` is a 422 that says which limit it hit.
    """
    version = store.resolve(prompt_ref)
    if version is None:
        raise ServerError(404, "Invalid prompt id")
    variables = _variables(body)
    try:
        rendered = render_prompt(
            version.template, version.kind, variables, _StorePartials(store), budget=budget
        )
    except RenderLimitError as exc:
        raise ServerError(
            422, f"Template render stopped by the local server's render budget: {exc}"
        ) from None
    except PromptRenderError as exc:
        # Portkey answers a chat template that renders to invalid JSON with a 500.
        raise ServerError(500 if exc.failure == "json" else 400, str(exc)) from None
    request = version.parameters_object()
    request.pop("stream", None)
    request.update(body)
    request.pop("variables", None)
    request.pop("hyperparameters", None)
    request["messages" if version.kind == "chat" else "prompt"] = rendered
    return version, request
