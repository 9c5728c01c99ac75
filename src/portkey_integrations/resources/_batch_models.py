"""Typed objects of the files and batches APIs, in OpenAI's (and Portkey's unified) shapes.

Every model keeps the fields it does not declare (``extra="allow"``): providers behind
Portkey add their own (``expires_at``, ``usage``, ``model``...). A result line turns into
the package's types with :meth:`BatchResult.completion` (or the line's
:class:`~.._errors.BatchLineError`), a job that ended badly raises with
:meth:`Batch.raise_for_status`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._errors import APIResponseValidationError, BatchError, BatchLineError
from .._response import Completion

__all__ = [
    "DONE_STATUSES",
    "Batch",
    "BatchErrorItem",
    "BatchErrors",
    "BatchRequestCounts",
    "BatchResult",
    "BatchResultError",
    "BatchResultResponse",
    "BatchStatus",
    "FileObject",
    "parse_jsonl",
]

BatchStatus = Literal[
    "validating",
    "failed",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
]
DONE_STATUSES: frozenset[str] = frozenset({"completed", "failed", "expired", "cancelled"})
"""The statuses a batch never leaves."""
_BAD_ENDS = frozenset({"failed", "expired", "cancelled"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FileObject(_Model):
    """An uploaded file (``POST /files``), or a batch's output or error file."""

    id: str
    object: str = "file"
    bytes: int | None = None
    created_at: int | None = None
    filename: str | None = None
    purpose: str | None = None
    status: str | None = None


class BatchRequestCounts(_Model):
    """How many lines a batch holds, and how many of them succeeded or failed so far."""

    total: int = 0
    completed: int = 0
    failed: int = 0


class BatchErrorItem(_Model):
    """Why a batch failed validation: a ``code``, the input ``line`` and a ``message``."""

    code: str | None = None
    line: int | None = None
    message: str | None = None
    param: str | None = None


class BatchErrors(_Model):
    """The ``errors`` of a batch that failed validation."""

    object: str = "list"
    data: list[BatchErrorItem] = Field(default_factory=list)


class Batch(_Model):
    """A batch job (``/batches``): its status, timestamps, files and counts."""

    id: str
    object: str = "batch"
    endpoint: str | None = None
    input_file_id: str | None = None
    completion_window: str | None = None
    status: BatchStatus
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int | None = None
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    expires_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: BatchRequestCounts | None = None
    metadata: dict[str, Any] | None = None
    errors: BatchErrors | None = None

    @property
    def done(self) -> bool:
        """Whether the batch reached a status it never leaves (completed, failed,
        expired, cancelled)."""
        return self.status in DONE_STATUSES

    def raise_for_status(self) -> Batch:
        """This batch, or :class:`~.._errors.BatchError` if it ended failed, expired or
        cancelled (its validation errors named in the message)."""
        if self.status not in _BAD_ENDS:
            return self
        items = self.errors.data if self.errors is not None else []
        detail = "; ".join(
            (f"line {item.line}: " if item.line is not None else "") + (item.message or "")
            for item in items
        )
        message = f"batch {self.id!r} ended {self.status}" + (f": {detail}" if detail else "")
        raise BatchError(
            message,
            batch_id=self.id,
            status=self.status,
            errors=[item.model_dump(exclude_none=True) for item in items],
        )


class BatchResultResponse(_Model):
    """The answer one line got: its HTTP ``status_code`` and ``body``."""

    status_code: int = 200
    request_id: str | None = None
    body: dict[str, Any] = Field(default_factory=dict)


class BatchResultError(_Model):
    """Why a line never got an answer (``batch_expired``, ``batch_cancelled``...)."""

    code: str | None = None
    message: str | None = None


class BatchResult(_Model):
    """One line of a batch's output (or error) file."""

    id: str | None = None
    custom_id: str
    response: BatchResultResponse | None = None
    error: BatchResultError | None = None

    @property
    def ok(self) -> bool:
        """Whether the line ran and answered a 2xx status."""
        return self.error is None and self.response is not None and self.response.status_code < 300

    def exception(self) -> BatchLineError | None:
        """The line's :class:`~.._errors.BatchLineError`, or ``None`` when it succeeded."""
        if self.ok:
            return None
        if self.response is None:
            error = self.error or BatchResultError()
            code, message, status = error.code, error.message or "the line did not run", None
        else:
            code, message = _error_of(self.response.body)
            status = self.response.status_code
        return BatchLineError(
            f"batch line {self.custom_id!r} failed"
            + (f" with status {status}" if status is not None else "")
            + f": {message}",
            custom_id=self.custom_id,
            code=code if code is not None else (str(status) if status is not None else None),
            status_code=status,
        )

    def completion(self) -> Completion:
        """The line's answer as a :class:`~.._response.Completion` (``/chat/completions``
        and ``/completions`` lines); raises the line's :class:`BatchLineError` if it
        failed."""
        failed = self.exception()
        if failed is not None:
            raise failed
        assert self.response is not None
        try:
            return Completion.model_validate(self.response.body)
        except ValueError as exc:
            raise APIResponseValidationError(
                f"batch line {self.custom_id!r} is not a completion: {exc}",
                status_code=self.response.status_code,
                body=self.response.body,
            ) from None


def _error_of(body: dict[str, Any]) -> tuple[str | None, str]:
    """The code and message of an error body in OpenAI's or Portkey's shape."""
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        return (str(code) if code is not None else None), str(error.get("message") or error)
    message = body.get("message")
    return None, str(message) if message is not None else json.dumps(body)[:500]


def parse_jsonl(data: bytes, what: str) -> list[BatchResult]:
    """The result lines of an output or error file (blank lines skipped); a line that is
    not a result raises :class:`~.._errors.APIResponseValidationError` naming it."""
    results = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            results.append(BatchResult.model_validate_json(line))
        except ValueError as exc:
            raise APIResponseValidationError(
                f"line {number} of {what} is not a batch result: {exc}",
                status_code=200,
                body=line[:2000].decode("utf-8", "replace"),
            ) from None
    return results
