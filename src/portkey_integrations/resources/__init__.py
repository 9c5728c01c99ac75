"""Portkey's resource APIs on the clients, each operation written once for both faces.

- ``prompts.py``: ``client.prompts`` (:class:`Prompts` / :class:`AsyncPrompts`), whose
  operations on prompts and versions sit in ``_prompt_ops.py`` (together they pass
  400 lines);
- ``partials.py``, ``labels.py``, ``feedback.py``: ``client.partials``,
  ``client.labels`` and ``client.feedback``, operations and classes together;
- ``embeddings.py``: ``POST /embeddings`` (``client.embed``) and the batching both
  framework adapters share;
- ``files.py``, ``batches.py``: ``client.files`` and ``client.batches``, Portkey's
  batch API (upload a JSONL of requests, run it as one provider job, read the results);
- ``_models.py``: the admin API's wire models; ``_batch_models.py``: the files and
  batches ones; ``_steps.py``: how an operation is written as steps and run by either
  client.

Every returned object is importable from :mod:`portkey_integrations.types`.
"""
