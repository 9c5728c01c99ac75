"""Planning one call from a model's settings now lives in the core (:mod:`.._call`),
beside the :class:`~.._call.Call` it builds; these names stay importable from here
until the adapters import them from there."""

from __future__ import annotations

from .._call import direct_call, prompt_call, prompt_variables

__all__ = ["direct_call", "prompt_call", "prompt_variables"]
