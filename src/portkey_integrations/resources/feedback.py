"""Portkey's feedback API on the clients: ``client.feedback``.

Each operation is written once as steps (see ``_steps.py``); :class:`Feedback`
and :class:`AsyncFeedback` only run them. Values are checked before anything is sent:
``value`` an integer from -10 to 10, ``weight`` a number from 0 to 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._base_client import BaseClient
from .._errors import PortkeyConfigError
from ._models import FeedbackResponse
from ._steps import AsyncResource, Steps, SyncResource, admin_path, step

__all__ = [
    "AsyncFeedback",
    "Feedback",
    "FeedbackResponse",
    "bulk_create_feedback",
    "create_feedback",
    "feedback_body",
    "update_feedback",
]


def _check_value(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -10 <= value <= 10:
        raise PortkeyConfigError(f"feedback value must be an integer from -10 to 10, got {value!r}")
    return value


def _check_weight(weight: Any) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise PortkeyConfigError(f"feedback weight must be a number from 0 to 1, got {weight!r}")
    return float(weight)


def feedback_body(
    *,
    trace_id: str | None,
    value: Any,
    weight: Any = 1.0,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One feedback object, checked (``trace_id=None`` for an update's body)."""
    body: dict[str, Any] = {}
    if trace_id is not None:
        if not isinstance(trace_id, str) or not trace_id.strip():
            raise PortkeyConfigError(
                f"feedback trace_id must be a non-empty string, got {trace_id!r}"
            )
        body["trace_id"] = trace_id
    body["value"] = _check_value(value)
    body["weight"] = _check_weight(weight)
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise PortkeyConfigError("feedback metadata must be a dict")
        body["metadata"] = dict(metadata)
    return body


def create_feedback(
    client: BaseClient,
    *,
    trace_id: str,
    value: int,
    weight: float = 1.0,
    metadata: Mapping[str, Any] | None = None,
) -> Steps[FeedbackResponse]:
    """Rate the requests of a trace (``POST /feedback``)."""
    body = feedback_body(trace_id=trace_id, value=value, weight=weight, metadata=metadata)
    result: FeedbackResponse = yield step(
        client, "POST", "/feedback", "feedback.create", FeedbackResponse, body=body
    )
    return result


def bulk_create_feedback(
    client: BaseClient, feedbacks: Sequence[Mapping[str, Any]]
) -> Steps[FeedbackResponse]:
    """Send several feedback objects in one request (``POST /feedback`` with a list);
    each is a dict of ``create``'s arguments. ``feedback_ids`` come back in order."""
    if isinstance(feedbacks, (str, Mapping)) or not feedbacks:
        raise PortkeyConfigError("feedbacks must be a non-empty list of feedback dicts")
    body = []
    for item in feedbacks:
        unknown = set(item) - {"trace_id", "value", "weight", "metadata"}
        if unknown or "trace_id" not in item or "value" not in item:
            raise PortkeyConfigError(
                "each feedback needs trace_id and value (weight, metadata optional)"
                + (f"; unknown: {sorted(unknown)}" if unknown else "")
            )
        body.append(feedback_body(**{"weight": 1.0, **item}))
    result: FeedbackResponse = yield step(
        client, "POST", "/feedback", "feedback.create", FeedbackResponse, body=body
    )
    return result


def update_feedback(
    client: BaseClient,
    feedback_id: str,
    *,
    value: int,
    weight: float = 1.0,
    metadata: Mapping[str, Any] | None = None,
) -> Steps[FeedbackResponse]:
    """Change a feedback's value, weight or metadata (``PUT /feedback/{id}``)."""
    body = feedback_body(trace_id=None, value=value, weight=weight, metadata=metadata)
    path = admin_path("feedback", feedback_id)
    result: FeedbackResponse = yield step(
        client, "PUT", path, "feedback.update", FeedbackResponse, body=body, subject=None
    )
    return result


class Feedback(SyncResource):
    """``client.feedback``: rate traces (``create``, ``bulk_create``, ``update``)."""

    def create(
        self,
        *,
        trace_id: str,
        value: int,
        weight: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
    ) -> FeedbackResponse:
        """Rate the requests of a trace: ``value`` from -10 to 10, ``weight`` from 0 to 1."""
        return self._run(
            create_feedback(
                self._client, trace_id=trace_id, value=value, weight=weight, metadata=metadata
            )
        )

    def bulk_create(self, feedbacks: Sequence[Mapping[str, Any]]) -> FeedbackResponse:
        """Send several feedbacks (dicts of :meth:`create`'s arguments) in one request;
        ``feedback_ids`` come back in their order."""
        return self._run(bulk_create_feedback(self._client, feedbacks))

    def update(
        self,
        feedback_id: str,
        *,
        value: int,
        weight: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
    ) -> FeedbackResponse:
        """Change a feedback's value, weight or metadata."""
        return self._run(
            update_feedback(
                self._client, feedback_id, value=value, weight=weight, metadata=metadata
            )
        )


class AsyncFeedback(AsyncResource):
    """``async_client.feedback``: the coroutine twin of :class:`Feedback`."""

    async def create(
        self,
        *,
        trace_id: str,
        value: int,
        weight: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
    ) -> FeedbackResponse:
        """Rate the requests of a trace: ``value`` from -10 to 10, ``weight`` from 0 to 1."""
        return await self._run(
            create_feedback(
                self._client, trace_id=trace_id, value=value, weight=weight, metadata=metadata
            )
        )

    async def bulk_create(self, feedbacks: Sequence[Mapping[str, Any]]) -> FeedbackResponse:
        """Send several feedbacks (dicts of :meth:`create`'s arguments) in one request;
        ``feedback_ids`` come back in their order."""
        return await self._run(bulk_create_feedback(self._client, feedbacks))

    async def update(
        self,
        feedback_id: str,
        *,
        value: int,
        weight: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
    ) -> FeedbackResponse:
        """Change a feedback's value, weight or metadata."""
        return await self._run(
            update_feedback(
                self._client, feedback_id, value=value, weight=weight, metadata=metadata
            )
        )
