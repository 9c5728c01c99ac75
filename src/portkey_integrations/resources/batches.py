"""Portkey's batch API on the clients: ``client.batches`` (create, retrieve, list,
cancel, output).

Each operation is written once as steps (see ``_steps.py``); :class:`Batches` and
:class:`AsyncBatches` only run them. Every request carries the client's routing headers
(``x-portkey-provider`` / ``-virtual-key`` / ``-config``), as completions do: Portkey
sends the batch to the provider they name. ``options=`` (a
:class:`~.._options.RequestOptions`) overrides them for one call, e.g. a prompt's saved
virtual key; retrieve, cancel and output need the same routing as the create.

``output`` reads ``GET /batches/{id}/output`` (the output file: the lines that
answered) and, when the batch has an error file, that file too, so every line that
failed is there as well; a line is in the result once, in file order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from .._base_client import BaseClient
from .._errors import BatchError, PortkeyConfigError
from .._options import RequestOptions
from ._batch_models import Batch, BatchResult, parse_jsonl
from ._steps import AsyncResource, Step, Steps, SyncResource, admin_path, clean, step

__all__ = [
    "DEFAULT_ENDPOINT",
    "AsyncBatches",
    "BatchPage",
    "BatchResults",
    "Batches",
    "batch_output",
    "cancel_batch",
    "create_batch",
    "list_batches",
    "retrieve_batch",
]

DEFAULT_ENDPOINT = "/v1/chat/completions"
_ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


BatchPage = list[Batch]
"""A page of :meth:`Batches.list` (a list: the class's ``list`` method hides the builtin)."""
BatchResults = list[BatchResult]
"""What :meth:`Batches.output` returns."""


class _BatchList(BaseModel):
    model_config = ConfigDict(extra="allow")

    data: list[Batch] = []


def _check_id(batch_id: str) -> str:
    if not isinstance(batch_id, str) or not batch_id.strip():
        raise PortkeyConfigError(f"a batch id must be a non-empty string, not {batch_id!r}")
    return batch_id


def create_batch(
    client: BaseClient,
    *,
    input_file_id: str,
    endpoint: str = DEFAULT_ENDPOINT,
    completion_window: str = "24h",
    metadata: Mapping[str, str] | None = None,
    options: RequestOptions | None = None,
) -> Steps[Batch]:
    """Start a batch over an uploaded JSONL file (``POST /batches``)."""
    if not isinstance(input_file_id, str) or not input_file_id.strip():
        raise PortkeyConfigError(f"input_file_id must be a file id, not {input_file_id!r}")
    if endpoint not in _ENDPOINTS:
        raise PortkeyConfigError(f"endpoint must be one of {', '.join(_ENDPOINTS)}: {endpoint!r}")
    if metadata is not None and (
        not isinstance(metadata, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise PortkeyConfigError("batch metadata must map strings to strings")
    body = clean(
        {
            "input_file_id": input_file_id,
            "endpoint": endpoint,
            "completion_window": completion_window,
            "metadata": None if metadata is None else dict(metadata),
        }
    )
    result: Batch = yield step(
        client, "POST", "/batches", "batches.create", Batch, body=body, options=options
    )
    return result


def retrieve_batch(
    client: BaseClient, batch_id: str, options: RequestOptions | None = None
) -> Steps[Batch]:
    """A batch's status, counts and files (``GET /batches/{id}``)."""
    path = admin_path("batches", _check_id(batch_id))
    subject = f"batch {batch_id!r}"
    result: Batch = yield step(
        client, "GET", path, "batches.retrieve", Batch, subject=subject, options=options
    )
    return result


def list_batches(
    client: BaseClient,
    *,
    limit: int = 20,
    after: str | None = None,
    options: RequestOptions | None = None,
) -> Steps[list[Batch]]:
    """The most recent batches, newest first (``GET /batches``); ``after`` a batch id
    pages on."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise PortkeyConfigError(f"limit must be an integer from 1 to 100, got {limit!r}")
    query = {"limit": limit, "after": after}
    page: _BatchList = yield step(
        client, "GET", "/batches", "batches.list", _BatchList, query=query, options=options
    )
    return page.data


def cancel_batch(
    client: BaseClient, batch_id: str, options: RequestOptions | None = None
) -> Steps[Batch]:
    """Ask a batch to stop (``POST /batches/{id}/cancel``): it goes ``cancelling``, then
    ``cancelled``; lines that already ran keep their results."""
    path = admin_path("batches", _check_id(batch_id), "cancel")
    subject = f"batch {batch_id!r}"
    result: Batch = yield step(
        client, "POST", path, "batches.cancel", Batch, subject=subject, options=options
    )
    return result


def _jsonl(what: str) -> Any:
    def parse(response: httpx.Response) -> list[BatchResult]:
        return parse_jsonl(response.content, what)

    return parse


def batch_output(
    client: BaseClient, batch_id: str, options: RequestOptions | None = None
) -> Steps[list[BatchResult]]:
    """Every result line of a finished batch: its output file, then the lines of its
    error file not already there. A batch without either file raises
    :class:`~.._errors.BatchError` (failed validation, or not finished yet)."""
    batch: Batch = yield from retrieve_batch(client, batch_id, options)
    if batch.output_file_id is None and batch.error_file_id is None:
        batch.raise_for_status()
        raise BatchError(
            f"batch {batch_id!r} is {batch.status}: its output is not ready "
            "(retrieve it until .done)",
            batch_id=batch.id,
            status=batch.status,
        )
    results: list[BatchResult] = []
    if batch.output_file_id is not None:
        path = admin_path("batches", batch.id, "output")
        request = step(client, "GET", path, "batches.output", options=options).request
        results = yield Step(
            request, _jsonl(f"batch {batch.id!r} output"), "batches.output", f"batch {batch_id!r}"
        )
    if batch.error_file_id is not None:
        path = admin_path("files", batch.error_file_id, "content")
        request = step(client, "GET", path, "files.content", options=options).request
        errors: list[BatchResult] = yield Step(
            request,
            _jsonl(f"batch {batch.id!r} error file"),
            "files.content",
            f"file {batch.error_file_id!r}",
        )
        seen = {result.custom_id for result in results}
        results.extend(line for line in errors if line.custom_id not in seen)
    return results


class Batches(SyncResource):
    """``client.batches``: run many requests as one provider batch job."""

    def create(
        self,
        *,
        input_file_id: str,
        endpoint: str = DEFAULT_ENDPOINT,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
    ) -> Batch:
        """Start a batch over a JSONL file uploaded with ``client.files.create``; each
        line is ``{"custom_id", "method": "POST", "url": endpoint, "body"}``."""
        return self._run(
            create_batch(
                self._client,
                input_file_id=input_file_id,
                endpoint=endpoint,
                completion_window=completion_window,
                metadata=metadata,
                options=options,
            )
        )

    def retrieve(self, batch_id: str, *, options: RequestOptions | None = None) -> Batch:
        """A batch's status, counts and files (``.done`` once it stops changing)."""
        return self._run(retrieve_batch(self._client, batch_id, options))

    def list(
        self, *, limit: int = 20, after: str | None = None, options: RequestOptions | None = None
    ) -> BatchPage:
        """The most recent batches, newest first; ``after`` a batch id pages on."""
        return self._run(list_batches(self._client, limit=limit, after=after, options=options))

    def cancel(self, batch_id: str, *, options: RequestOptions | None = None) -> Batch:
        """Ask a batch to stop; it ends ``cancelled``, keeping the lines that ran."""
        return self._run(cancel_batch(self._client, batch_id, options))

    def output(self, batch_id: str, *, options: RequestOptions | None = None) -> BatchResults:
        """Every result line of a finished batch (answers and failures), each once."""
        return self._run(batch_output(self._client, batch_id, options))


class AsyncBatches(AsyncResource):
    """``async_client.batches``: the coroutine twin of :class:`Batches`."""

    async def create(
        self,
        *,
        input_file_id: str,
        endpoint: str = DEFAULT_ENDPOINT,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
    ) -> Batch:
        """Async :meth:`Batches.create`."""
        return await self._run(
            create_batch(
                self._client,
                input_file_id=input_file_id,
                endpoint=endpoint,
                completion_window=completion_window,
                metadata=metadata,
                options=options,
            )
        )

    async def retrieve(self, batch_id: str, *, options: RequestOptions | None = None) -> Batch:
        """Async :meth:`Batches.retrieve`."""
        return await self._run(retrieve_batch(self._client, batch_id, options))

    async def list(
        self, *, limit: int = 20, after: str | None = None, options: RequestOptions | None = None
    ) -> BatchPage:
        """Async :meth:`Batches.list`."""
        return await self._run(
            list_batches(self._client, limit=limit, after=after, options=options)
        )

    async def cancel(self, batch_id: str, *, options: RequestOptions | None = None) -> Batch:
        """Async :meth:`Batches.cancel`."""
        return await self._run(cancel_batch(self._client, batch_id, options))

    async def output(self, batch_id: str, *, options: RequestOptions | None = None) -> BatchResults:
        """Async :meth:`Batches.output`."""
        return await self._run(batch_output(self._client, batch_id, options))
