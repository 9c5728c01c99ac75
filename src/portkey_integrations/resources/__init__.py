"""Portkey's resource APIs on the clients, each operation written once for both faces.

- ``prompts.py``: ``client.prompts`` (:class:`Prompts` / :class:`AsyncPrompts`), whose
  operations on prompts and versions sit in ``_prompt_ops.py`` (together they pass
  400 lines);
- ``partials.py``, ``labels.py``, ``feedback.py``: ``client.partials``,
  ``client.labels`` and ``client.feedback``, operations and classes together;
- ``embeddings.py``: ``POST /embeddings`` (``client.embed``) and the batching both
  framework adapters share;
- ``_models.py``: the wire models; ``_steps.py``: how an operation is written as steps
  and run by either client.

Every returned object is importable from :mod:`portkey_integrations.types`.
"""
