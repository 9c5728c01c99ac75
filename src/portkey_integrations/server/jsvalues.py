"""JavaScript's view of JSON values: the core's helpers, re-exported for the server."""

from __future__ import annotations

from .._templates.jsvalues import (
    has_property,
    is_index,
    js_get,
    js_number,
    js_stringify,
    js_to_string,
    primitive_has_own,
    truthy,
)

__all__ = [
    "has_property",
    "is_index",
    "js_get",
    "js_number",
    "js_stringify",
    "js_to_string",
    "primitive_has_own",
    "truthy",
]
