"""Listeners that see a dict input as the run's input.

``RunnableWithMessageHistory`` (and anything built on ``with_listeners``) reads the
wrapped runnable's root run: its inputs must be what the caller passed, the dict with
``input`` and ``chat_history``. A chat model's own run records ``{"messages": ...}``
instead, so the models route ``with_listeners`` through a thin named step whose run holds
the caller's input; it hands the input on to the model unchanged, streaming included.
The cost is paid only by runnables that have listeners.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

__all__ = ["alistening", "listening"]


def _step(model: Runnable[Any, Any]) -> Runnable[Any, Any]:

    def hand_on(_: Any) -> Runnable[Any, Any]:
        return model

    async def ahand_on(_: Any) -> Runnable[Any, Any]:
        return model

    return RunnableLambda(hand_on, ahand_on, name=model.get_name())


def listening(model: Runnable[Any, Any], **listeners: Any) -> Runnable[Any, Any]:
    """``model.with_listeners(**listeners)``, with the caller's input as the root run's."""
    return _step(model).with_listeners(**listeners)


def alistening(model: Runnable[Any, Any], **listeners: Any) -> Runnable[Any, Any]:
    """``model.with_alisteners(**listeners)``, likewise."""
    return _step(model).with_alisteners(**listeners)
