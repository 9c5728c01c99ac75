"""The core's exceptions as langchain-core model errors.

Each error the core raises is re-raised as a class that inherits from both the core
class (so ``except portkey_integrations.RateLimitError`` still works) and the matching
``langchain_core.exceptions.Model*Error`` (so ``with_retry``, ``with_fallbacks`` and
agent middleware can classify it), chained from the original with ``raise ... from``.
"""

from __future__ import annotations

import functools
from typing import Any, NoReturn

from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from .. import _errors as core

__all__ = ["raise_langchain_error", "to_langchain_error"]

# Most specific first: the first base the core class derives from wins.
_MAPPING: tuple[tuple[type[core.PortkeyError], type[ModelError]], ...] = (
    (core.APITimeoutError, ModelTimeoutError),
    (core.APIConnectionError, ModelConnectionError),
    (core.RequestTimeoutError, ModelTimeoutError),
    (core.AuthenticationError, ModelAuthenticationError),
    (core.PermissionDeniedError, ModelPermissionDeniedError),
    (core.NotFoundError, ModelNotFoundError),
    (core.RateLimitError, ModelRateLimitError),
    (core.BadRequestError, ModelInvalidRequestError),
    # A guardrail denial is about the content of the request: retrying won't help.
    (core.GuardrailError, ModelInvalidRequestError),
    # An exhausted budget needs someone to raise it, not a retry.
    (core.BudgetExceededError, ModelPermissionDeniedError),
    (core.ConflictError, ModelAPIError),
    (core.InternalServerError, ModelAPIError),
    # A stream that broke or carried an error event is a server-side failure.
    (core.StreamError, ModelAPIError),
    (core.APIStatusError, ModelError),
)


@functools.cache
def _error_class(core_cls: type[Any]) -> type[Exception] | None:
    for core_base, model_base in _MAPPING:
        if issubclass(core_cls, core_base):
            name = core_cls.__name__
            doc = f"{name} from the Portkey core, classified as {model_base.__name__}."
            return type(name, (core_cls, model_base), {"__module__": __name__, "__doc__": doc})
    return None


def to_langchain_error(exc: core.PortkeyError) -> Exception:
    """The LangChain-classified twin of a core error, with the same attributes.

    Configuration errors (``PortkeyConfigError``, a ``ValueError``) come back as they
    are: they are bugs in the call, not model failures.
    """
    cls = _error_class(type(exc))  # type: ignore[arg-type]
    if cls is None:
        return exc
    # Copy instead of re-running __init__: the core classes take different arguments,
    # and every attribute (status_code, trace_id, body, chunks, ...) must survive.
    twin: Any = cls.__new__(cls)
    twin.__dict__.update(exc.__dict__)
    twin.args = exc.args
    return twin  # type: ignore[no-any-return]


def raise_langchain_error(exc: core.PortkeyError) -> NoReturn:
    """Raise the LangChain twin of ``exc``, chained from it."""
    twin = to_langchain_error(exc)
    if twin is exc:
        raise exc
    raise twin from exc
