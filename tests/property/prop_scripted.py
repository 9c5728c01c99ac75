"""The type of the ``scripted`` fixture (``tests/property/conftest.py``), for the tests
that use it: ``conftest`` itself is not importable by name from a test module."""

from __future__ import annotations

from typing import Protocol


class ScriptedServer(Protocol):
    """The ``scripted`` fixture: a server that answers each request with pushed bytes."""

    base_url: str

    def push(
        self,
        pieces: tuple[bytes, ...],
        status: int = ...,
        content_type: str = ...,
        headers: tuple[tuple[str, str], ...] = ...,
    ) -> None: ...
