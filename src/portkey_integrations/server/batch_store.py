"""What the files and batch APIs hold: files (bounded in bytes), batch jobs and the
batch worker's knobs. Kept apart from the routes (``files.py``, ``batches.py``) so the
server's state can hold them without importing the routes.

Memory stays bounded: one file holds at most :attr:`FileStore.max_file_bytes`, one JSONL
line at most :attr:`FileStore.max_line_bytes`, all files together at most
:attr:`FileStore.max_bytes` (413 once full; a reset empties the store), and the batch
store keeps at most :data:`KEPT_BATCHES` batches (the oldest finished ones go first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .guard import bad_json

__all__ = [
    "DONE",
    "KEPT_BATCHES",
    "MAX_LINES",
    "BatchKnobs",
    "BatchStore",
    "FileStore",
    "InputError",
    "Job",
    "StoredFile",
    "check_batch_input",
]

KEPT_BATCHES = 1000
"""Batches the store keeps; the oldest finished ones go first."""
DONE = frozenset({"completed", "failed", "expired", "cancelled"})
"""The statuses a batch never leaves."""

MAX_LINES = 50_000
"""The most lines one batch input may hold (OpenAI's limit)."""


class InputError(ValueError):
    """An upload the store refuses: ``status`` 400 (malformed) or 413 (too big)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class StoredFile:
    """A file the server holds: its metadata and its bytes."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def shown(self) -> dict[str, Any]:
        """The file object ``/v1/files`` answers with."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


class FileStore:
    """The files of one server, by id; safe across threads, bounded in bytes."""

    def __init__(
        self,
        max_file_bytes: int = 16 * 2**20,
        max_line_bytes: int = 2**20,
        max_bytes: int = 256 * 2**20,
        max_files: int = 10_000,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        """The largest upload accepted (the multipart body may add a few KiB)."""
        self.max_line_bytes = max_line_bytes
        """The longest line a ``batch`` input may hold."""
        self.max_bytes = max_bytes
        """All files together, output files included."""
        self.max_files = max_files
        """How many files the store holds at most."""
        self._files: dict[str, StoredFile] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def upload_limit(self) -> int:
        """The largest multipart body read: a file of the largest size, plus its form."""
        return self.max_file_bytes + 4096

    @property
    def too_big(self) -> str:
        """What a 413 for an upload over the limit says."""
        return f"the file is too large: the most this server takes is {self.max_file_bytes} bytes"

    def _too_big(self, size: int) -> str | None:
        if size > self.max_file_bytes:
            return f"the file is {size} bytes: the most this server takes is {self.max_file_bytes}"
        return None

    def add(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        """Store a file; :class:`InputError` (413) when it or the store is too big."""
        too_big = self._too_big(len(data))
        if too_big is not None:
            raise InputError(too_big, 413)
        stored = StoredFile(
            f"file-{uuid.uuid4().hex[:24]}", filename, purpose, data, int(time.time())
        )
        with self._lock:
            if self._bytes + len(data) > self.max_bytes or len(self._files) >= self.max_files:
                raise InputError(
                    f"the server's file store is full ({len(self._files)} files, "
                    f"{self._bytes} of {self.max_bytes} bytes): reset the server",
                    413,
                )
            self._files[stored.id] = stored
            self._bytes += len(data)
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """The file with this id, if any."""
        with self._lock:
            return self._files.get(file_id)

    def clear(self) -> None:
        """Forget every file."""
        with self._lock:
            self._files.clear()
            self._bytes = 0


def check_batch_input(data: bytes, filename: str, max_line_bytes: int) -> list[dict[str, Any]]:
    """The request lines of a batch input; :class:`InputError` naming the first bad line
    (413 for one over ``max_line_bytes``)."""
    lines: list[dict[str, Any]] = []
    ids: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"line {number} of {filename!r}"
        if len(raw) > max_line_bytes:
            raise InputError(f"{where} is {len(raw)} bytes: at most {max_line_bytes}", 413)
        try:
            line = json.loads(raw)
        except RecursionError:
            raise InputError(f"{where} is nested too deeply") from None
        except ValueError as exc:
            raise InputError(f"{where} is not valid JSON: {exc}") from None
        problem = bad_json(line)
        if problem is not None:
            raise InputError(f"{where}: {problem}")
        if not isinstance(line, dict):
            raise InputError(f"{where} must be a JSON object")
        custom_id, body = line.get("custom_id"), line.get("body")
        if not isinstance(custom_id, str) or not custom_id:
            raise InputError(f"{where} needs a 'custom_id' string")
        if custom_id in ids:
            raise InputError(f"{where} repeats custom_id {custom_id!r}")
        if line.get("method") != "POST" or not isinstance(line.get("url"), str):
            raise InputError(f'{where} needs "method": "POST" and a \'url\'')
        if not isinstance(body, dict):
            raise InputError(f"{where} needs a 'body' object")
        ids.add(custom_id)
        lines.append(line)
        if len(lines) > MAX_LINES:
            raise InputError(f"{filename!r} has more than {MAX_LINES} lines")
    if not lines:
        raise InputError(f"{filename!r} holds no request lines")
    return lines


@dataclass(frozen=True)
class BatchKnobs:
    """How the worker misbehaves on purpose (see the module docstring)."""

    fail_lines: frozenset[str] = frozenset()
    fail_status: int = 500
    expire: bool = False
    expire_after: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchKnobs:
        """From ``POST /_local/batches`` fields (``hold`` is taken apart)."""
        unknown = set(data) - {"fail_lines", "fail_status", "expire", "expire_after", "hold"}
        if unknown:
            raise ValueError(f"unknown batch knobs: {', '.join(sorted(unknown))}")
        lines = data.get("fail_lines", [])
        if isinstance(lines, str) or not all(isinstance(x, str) for x in lines):
            raise ValueError("fail_lines must be a list of custom ids")
        return cls(
            frozenset(lines),
            int(data.get("fail_status", 500)),
            bool(data.get("expire", False)),
            int(data.get("expire_after", 0)),
        )


@dataclass
class Job:
    """A batch and what its worker needs."""

    shown: dict[str, Any]
    lines: list[dict[str, Any]]
    headers: dict[str, str]
    cancel: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def new(
        cls,
        endpoint: str,
        input_file_id: str,
        window: str,
        metadata: dict[str, Any] | None,
        lines: list[dict[str, Any]],
        headers: dict[str, str],
    ) -> Job:
        """A batch just created: ``validating``, in OpenAI's shape."""
        created = int(time.time())
        shown: dict[str, Any] = {
            "id": f"batch_{uuid.uuid4().hex[:24]}",
            "object": "batch",
            "endpoint": endpoint,
            "errors": None,
            "input_file_id": input_file_id,
            "completion_window": window,
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": created,
            "in_progress_at": None,
            "expires_at": created + 24 * 3600,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": metadata,
        }
        return cls(shown, lines, headers)

    def set(self, status: str) -> None:
        """Move to ``status``, stamping its ``<status>_at``."""
        self.shown["status"] = status
        self.shown[f"{status}_at"] = int(time.time())


class BatchStore:
    """The batches of one server and the worker's knobs; safe across threads."""

    def __init__(self) -> None:
        self.knobs = BatchKnobs()
        self._held = False
        self._jobs: dict[str, Job] = {}
        # Workers waiting for a release: the loop each runs on and the event waking it
        # (hold and release come from other threads, the worker awaits on its loop).
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._lock = threading.Lock()

    def hold(self) -> None:
        """Make workers wait, ``in_progress``, until :meth:`release`."""
        self._held = True

    def release(self) -> None:
        """Let held workers go on."""
        with self._lock:
            self._held = False
            waiting, self._waiting = list(self._waiting.values()), {}
        for loop, event in waiting:
            # A stopped server's loop is closed; its workers are gone already.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @property
    def held(self) -> bool:
        """Whether workers are held."""
        return self._held

    async def wait_released(self, job: Job) -> None:
        """Return once workers are not held, or ``job`` is cancelled (:meth:`wake`)."""
        event = asyncio.Event()
        with self._lock:
            if not self._held or job.cancel:
                return
            self._waiting[job.shown["id"]] = (asyncio.get_running_loop(), event)
        await event.wait()

    def wake(self, job: Job) -> None:
        """Stop holding ``job`` (it was cancelled); call on the loop it runs on."""
        with self._lock:
            waiting = self._waiting.pop(job.shown["id"], None)
        if waiting is not None:
            waiting[1].set()

    def clear(self) -> None:
        """Forget every batch (their workers stop at their next line) and the knobs."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel = True
            self._jobs.clear()
        self.knobs = BatchKnobs()
        self.release()

    def add(self, job: Job) -> None:
        """Keep a new batch, dropping the oldest finished ones past the bound."""
        with self._lock:
            self._jobs[job.shown["id"]] = job
            done = [k for k, j in self._jobs.items() if j.shown["status"] in DONE]
            for key in done[: max(0, len(self._jobs) - KEPT_BATCHES)]:
                del self._jobs[key]

    def get(self, batch_id: str) -> Job | None:
        """The batch with this id, if any."""
        with self._lock:
            return self._jobs.get(batch_id)

    def alive(self, job: Job) -> bool:
        """Whether ``job`` is still in the store (a reset drops it)."""
        with self._lock:
            return self._jobs.get(job.shown["id"]) is job

    def page(self, limit: int, after: str | None) -> list[dict[str, Any]]:
        """Batches newest first, from the one after ``after``."""
        with self._lock:
            shown = [dict(job.shown) for job in reversed(self._jobs.values())]
        if after is not None:
            ids = [item["id"] for item in shown]
            shown = shown[ids.index(after) + 1 :] if after in ids else []
        return shown[: limit + 1]
