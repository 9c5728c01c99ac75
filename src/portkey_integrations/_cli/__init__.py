"""The ``portkey-prompts`` command, split by concern: exit codes and errors, safe file
names and writes, the remote snapshot and resumable writes, checks, and the commands.

The entry point stays :func:`portkey_integrations.prompts_cli.main`; :mod:`.local` is
the ``portkey-local`` entry point.
"""
