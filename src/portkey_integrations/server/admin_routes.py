"""The admin routes and the scope each method needs (one of them, where several are listed).

| scopes | allow |
|---|---|
| ``prompts.list`` or ``prompts.read`` | ``GET /prompts`` |
| ``prompts.read`` | ``GET /prompts/{id}``, its versions and each version |
| ``prompts.create`` | ``POST /prompts`` |
| ``prompts.update`` | ``PUT /prompts/{id}``, ``PUT /prompts/{id}/versions/{versionId}`` |
| ``prompts.delete`` | ``DELETE /prompts/{id}`` |
| ``prompts.publish`` | ``PUT /prompts/{id}/makeDefault`` |
| ``partials.*`` | the same for ``/prompts/partials`` |
| ``labels.list`` or ``labels.read``; ``labels.create``, ``.update``, ``.delete`` | ``/labels`` |
"""

from __future__ import annotations

from .admin import AdminRoute, Operation, Scopes
from .admin_labels import create_label, delete_label, get_label, list_labels, update_label
from .admin_partials import (
    create_partial,
    delete_partial,
    get_partial,
    list_partial_versions,
    list_partials,
    publish_partial,
    update_partial,
)
from .admin_prompts import (
    create_prompt,
    delete_prompt,
    get_prompt,
    get_version,
    list_prompts,
    list_versions,
    publish_prompt,
    update_prompt,
    update_version,
)

__all__ = ["ADMIN_ROUTES"]


Actions = tuple[str, ...]


def _routes() -> list[tuple[str, AdminRoute, list[str]]]:
    # Per method: the actions whose scope (``<resource>.<action>``) is enough, and the operation.
    table: list[tuple[str, dict[str, tuple[Actions, Operation]]]] = [
        (
            "/v1/prompts",
            {
                "GET": (("list", "read"), list_prompts),
                "POST": (("create",), create_prompt),
            },
        ),
        (
            "/v1/prompts/partials",
            {
                "GET": (("list", "read"), list_partials),
                "POST": (("create",), create_partial),
            },
        ),
        (
            "/v1/prompts/partials/{partial_id}",
            {
                "GET": (("read",), get_partial),
                "PUT": (("update",), update_partial),
                "DELETE": (("delete",), delete_partial),
            },
        ),
        (
            "/v1/prompts/partials/{partial_id}/versions",
            {"GET": (("read",), list_partial_versions)},
        ),
        (
            "/v1/prompts/partials/{partial_id}/makeDefault",
            {"PUT": (("publish",), publish_partial)},
        ),
        (
            "/v1/prompts/{prompt_id}",
            {
                "GET": (("read",), get_prompt),
                "PUT": (("update",), update_prompt),
                "DELETE": (("delete",), delete_prompt),
            },
        ),
        ("/v1/prompts/{prompt_id}/versions", {"GET": (("read",), list_versions)}),
        (
            "/v1/prompts/{prompt_id}/versions/{version_id}",
            {
                "GET": (("read",), get_version),
                "PUT": (("update",), update_version),
            },
        ),
        (
            "/v1/prompts/{prompt_id}/makeDefault",
            {"PUT": (("publish",), publish_prompt)},
        ),
        (
            "/v1/labels",
            {
                "GET": (("list", "read"), list_labels),
                "POST": (("create",), create_label),
            },
        ),
        (
            "/v1/labels/{label_id}",
            {
                "GET": (("read",), get_label),
                "PUT": (("update",), update_label),
                "DELETE": (("delete",), delete_label),
            },
        ),
    ]
    routes = []
    for path, methods in table:
        resource = (
            path.split("/")[3] if path.startswith("/v1/prompts/partials") else path.split("/")[2]
        )
        scoped: dict[str, tuple[Scopes, Operation]] = {
            method: (tuple(f"{resource}.{a}" for a in actions), operation)
            for method, (actions, operation) in methods.items()
        }
        routes.append((path, AdminRoute(scoped), list(methods)))
    return routes


ADMIN_ROUTES = _routes()
"""``(path, route, methods)`` of every admin route, to go before the prompt catch-all."""
