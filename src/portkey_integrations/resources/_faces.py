"""The old home of the resource classes, kept only so that modules outside
``resources/`` (``_client.py``'s type imports, ``prompts_cli.py``,
``_templates/cache.py``) keep importing until they switch to the new modules.

Delete once nothing imports it: the classes live in ``prompts.py``,
``partials.py`` and ``labels.py``, the runners in ``_steps.py``.
"""

from __future__ import annotations

from ._steps import SCOPES, run_async, run_sync
from .labels import AsyncLabels, Labels
from .partials import AsyncPartials, Partials
from .prompts import AsyncPrompts, Prompts

__all__ = [
    "SCOPES",
    "AsyncLabels",
    "AsyncPartials",
    "AsyncPrompts",
    "Labels",
    "Partials",
    "Prompts",
    "run_async",
    "run_sync",
]
