"""What Portkey does with a prompt request before any model sees it.

Resolve the prompt, check its partials, render the template with the
request's ``variables``, then merge: saved parameters, overridden by every
other root key of the body, with the rendered ``messages`` (chat) or
``prompt`` (text) replacing whatever the body sent under that name.
"""

from __future__ import annotations

import json
from typing import Any

from .._templates import mustache
from .._templates.jsvalues import js_stringify, js_to_string
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


def _partials(
    store: PromptStore,
    version: StoredVersion,
    variables: dict[str, Any],
    budget: mustache.RenderBudget | None,
) -> dict[str, str]:
    names: list[Any] = list(version.partials)
    missing_variable = []
    for name in version.variable_partials:
        if name in variables:
            if variables[name] not in names:
                names.append(variables[name])
        else:
            missing_variable.append(name)
    if missing_variable:
        raise ServerError(400, f"Missing variable partials: {', '.join(missing_variable)}")
    found: dict[str, str] = {}
    missing = []
    for name in names:
        partial = store.resolve(name) if isinstance(name, str) else None
        if partial is None:
            missing.append(js_to_string(name))
        else:
            found[name] = partial.template
    if missing:
        raise ServerError(400, f"Missing prompt partials: {', '.join(missing)}")
    # Partials are pre-rendered without partials of their own, then escaped to
    # sit inside a JSON string, as Portkey does.
    return {
        name: js_stringify(mustache.render(template, variables, {}, budget=budget))[1:-1]
        for name, template in found.items()
    }


def build_prompt_request(
    store: PromptStore,
    prompt_ref: str,
    body: dict[str, Any],
    budget: mustache.RenderBudget | None = None,
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
        partials = _partials(store, version, variables, budget)
        rendered = mustache.render(version.template, variables, partials, budget=budget)
    except mustache.RenderLimitError as exc:
        raise ServerError(
            422, f"Template render stopped by the local server's render budget: {exc}"
        ) from None
    except mustache.MustacheError as exc:
        raise ServerError(400, f"Error in parsing prompt template: {exc}") from None
    request = version.parameters_object()
    request.pop("stream", None)
    request.update(body)
    request.pop("variables", None)
    request.pop("hyperparameters", None)
    if version.kind == "chat":
        try:
            # strict=False keeps raw newlines and tabs of string variables inside
            # JSON strings, so a variable reaches the model exactly as it was sent.
            request["messages"] = json.loads(rendered, strict=False)
        except json.JSONDecodeError as exc:
            raise ServerError(500, str(exc)) from None
    else:
        request["prompt"] = rendered
    return version, request
