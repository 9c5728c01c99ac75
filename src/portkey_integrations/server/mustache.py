"""The server's Mustache renderer: the core's port of Portkey's fork, re-exported."""

from __future__ import annotations

from .._templates.mustache import MustacheError, render, template_details

__all__ = ["MustacheError", "render", "template_details"]
