"""Re-raising the core's exceptions as their LangChain twins (``errors.py``)."""

from __future__ import annotations

from typing import Any, NoReturn

from langchain_core.exceptions import ModelError

from .. import _errors as core
from . import errors

__all__ = ["raise_langchain_error", "to_langchain_error"]

# Each twin's first base is the core class it stands for.
_TWINS: dict[type[core.PortkeyError], type[core.PortkeyError]] = {
    twin.__bases__[0]: twin for twin in (getattr(errors, name) for name in errors.__all__)
}


def langchain_error_class(core_cls: type[core.PortkeyError]) -> type[core.PortkeyError] | None:
    """The twin of a core class, or of its nearest base that has one (``None`` for
    configuration errors and the bare :class:`~portkey_integrations.PortkeyError`)."""
    for base in core_cls.__mro__:
        twin = _TWINS.get(base)
        if twin is not None:
            return twin
    return None


def to_langchain_error(exc: core.PortkeyError) -> Exception:
    """The LangChain-classified twin of a core error, with the same attributes.

    Configuration errors (``PortkeyConfigError``, a ``ValueError``) and errors that are
    already LangChain model errors come back as they are.
    """
    cls = None if isinstance(exc, ModelError) else langchain_error_class(type(exc))
    if cls is None:
        return exc
    # Copy instead of re-running __init__: the core classes take different arguments,
    # and every attribute (status_code, trace_id, body, chunks, ...) must survive.
    twin: Any = cls.__new__(cls, *exc.args)
    twin.__dict__.update(exc.__dict__)
    twin.args = exc.args
    return twin  # type: ignore[no-any-return]


def raise_langchain_error(exc: core.PortkeyError) -> NoReturn:
    """Raise the LangChain twin of ``exc``, chained from it."""
    twin = to_langchain_error(exc)
    if twin is exc:
        raise exc
    raise twin from exc
