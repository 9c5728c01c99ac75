"""Dict inputs and bound variables: how prompt variables travel through LangChain.

LangChain's language models accept a string, a list of messages or a ``PromptValue``
and turn it into messages (chat models) or a string (LLMs) before any callback fires.
A dict input is the prompt's variables, so :class:`VariablesPromptValue` wraps it in a
``PromptValue`` whose messages and string still carry the dict: one ``HumanMessage``
with the variables in ``additional_kwargs`` for chat models, a ``str`` subclass with a
``variables`` attribute for LLMs. Callbacks, tracing and caching see an ordinary
message or prompt (the variables as JSON text), and ``_generate`` / ``_stream``
recognise the marker (``_messages.marked_variables`` / ``prompt_variables``) and send
the dict as it is.

``RunnableBinding`` merges kwargs shallowly, so ``.bind(variables=...)`` followed by
``invoke(..., variables=...)`` would drop the bound ones. The models' ``bind`` stores
bound variables under :data:`BOUND_VARIABLES` instead, and their binding classes
(``PortkeyChatBinding`` here, ``PortkeyLLMBinding`` in ``llms.py``) merge repeated
``bind(variables=...)`` calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableBinding
from pydantic import ConfigDict

from .._request import encode_variables
from ._messages import VARIABLES_KEY

__all__ = [
    "BOUND_VARIABLES",
    "PortkeyChatBinding",
    "VariablesPromptValue",
    "callable_identity",
    "rename_bound_variables",
    "variables_key",
]

BOUND_VARIABLES = "bound_variables"
"""The kwarg under which ``bind(variables=...)`` stores its variables."""


def _as_text(variables: Mapping[str, Any]) -> str:
    try:
        return json.dumps(variables, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        # LangChain asks for this text before the model runs: a value the core could not
        # send either (a huge int, a cycle, deep nesting) gets the core's typed error.
        encode_variables(variables)
        raise


class _VariablesText(str):
    """A prompt string that remembers the variables it stands for (LLM path)."""

    variables: dict[str, Any]


class VariablesPromptValue(PromptValue):
    """A dict input: prompt variables, shown to callbacks as JSON text."""

    model_config = ConfigDict(defer_build=True)

    variables: dict[str, Any]

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return False

    @classmethod
    def of(cls, variables: Mapping[str, Any]) -> VariablesPromptValue:
        # model_construct: the dict is the caller's, no need to validate or copy it.
        return cls.model_construct(variables=dict(variables))

    def to_string(self) -> str:
        text = _VariablesText(_as_text(self.variables))
        text.variables = self.variables
        return text

    def to_messages(self) -> list[BaseMessage]:
        return [
            HumanMessage(
                content=_as_text(self.variables),
                additional_kwargs={VARIABLES_KEY: self.variables},
            )
        ]


def rename_bound_variables(
    kwargs: dict[str, Any], already_bound: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Move ``variables`` to :data:`BOUND_VARIABLES`, merged over those already bound."""
    if "variables" not in kwargs:
        return kwargs
    kwargs = dict(kwargs)
    variables = kwargs.pop("variables") or {}
    earlier = (already_bound or {}).get(BOUND_VARIABLES) or {}
    kwargs[BOUND_VARIABLES] = {**earlier, **variables}
    return kwargs


# no-redef: the pydantic mypy plugin clashes the ``kwargs`` field with ``**kwargs``.
class PortkeyChatBinding(RunnableBinding[LanguageModelInput, AIMessage]):  # type: ignore[no-redef]
    """The binding ``PortkeyChatModel.bind`` returns; serialized as ``RunnableBinding``."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def lc_id(cls) -> list[str]:
        return [*cls.get_lc_namespace(), "RunnableBinding"]

    def bind(self, **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind kwargs; ``variables`` merge with the variables bound before."""
        return super().bind(**rename_bound_variables(kwargs, self.kwargs))


def variables_key(kwargs: Mapping[str, Any]) -> str | None:
    """The cache key of a call's bound and per-call variables (``None``: neither)."""
    bound, call = kwargs.get(BOUND_VARIABLES), kwargs.get("variables")
    if bound is None and call is None:
        return None
    return json.dumps([bound, call], sort_keys=True, default=str)


def callable_identity(fn: Callable[..., Any]) -> str:
    """A stable name for a function: where it is defined and a digest of its code, so
    two lambdas of one module differ, and the same function matches across processes."""
    target = getattr(fn, "__func__", fn)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    code = getattr(target, "__code__", None)
    if code is None:
        return name
    digest = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16]
    return f"{name}:{digest}"
