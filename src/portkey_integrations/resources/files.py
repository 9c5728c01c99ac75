"""Portkey's files API on the clients: ``client.files`` (create, retrieve, content).

Each operation is written once as steps (see ``_steps.py``); :class:`Files` and
:class:`AsyncFiles` only run them. An upload is ``multipart/form-data`` (``file`` and
``purpose``), built beside the client's shared request so it carries the same routing
headers, timeouts and retries as every other call.
"""

from __future__ import annotations

import httpx

from .._base_client import BaseClient
from .._errors import PortkeyConfigError
from .._options import RequestOptions
from ._batch_models import FileObject
from ._steps import AsyncResource, Step, Steps, SyncResource, admin_path, fetch_json, step

__all__ = [
    "AsyncFiles",
    "FileContent",
    "FileObject",
    "Files",
    "create_file",
    "file_content",
    "retrieve_file",
]

FileContent = bytes | tuple[str, bytes]
"""What :meth:`Files.create` uploads: the bytes, or ``(filename, bytes)``."""

_DEFAULT_NAME = "batch.jsonl"


def _upload(
    client: BaseClient, file: FileContent, purpose: str, options: RequestOptions | None
) -> httpx.Request:
    """The multipart ``POST /files`` request: the client's headers, a form body."""
    if isinstance(file, tuple):
        if len(file) != 2 or not isinstance(file[0], str) or not file[0]:
            raise PortkeyConfigError("file must be bytes or a (filename, bytes) pair")
        name, data = file
    else:
        name, data = _DEFAULT_NAME, file
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PortkeyConfigError(f"file content must be bytes, not {type(data).__name__}")
    if not isinstance(purpose, str) or not purpose:
        raise PortkeyConfigError(f"purpose must be a non-empty string, not {purpose!r}")
    base = client._request("POST", "/files", None, options)
    # httpx sets the multipart type (with its boundary) and length only when none is given.
    headers = {k: v for k, v in base.headers.items() if k not in ("content-type", "content-length")}
    return httpx.Request(
        "POST",
        base.url,
        headers=headers,
        files={"file": (name, bytes(data), "application/jsonl")},
        data={"purpose": purpose},
        extensions=base.extensions,
    )


def create_file(
    client: BaseClient, file: FileContent, purpose: str, options: RequestOptions | None = None
) -> Steps[FileObject]:
    """Upload ``file`` (``POST /files``) for ``purpose`` (``"batch"``: a batch's input)."""
    request = _upload(client, file, purpose, options)
    result: FileObject = yield Step(request, fetch_json(FileObject), "files.create")
    return result


def retrieve_file(
    client: BaseClient, file_id: str, options: RequestOptions | None = None
) -> Steps[FileObject]:
    """A file's metadata (``GET /files/{id}``)."""
    path = admin_path("files", file_id)
    subject = f"file {file_id!r}"
    result: FileObject = yield step(
        client, "GET", path, "files.retrieve", FileObject, subject=subject, options=options
    )
    return result


def _raw(response: httpx.Response) -> bytes:
    return response.content


def file_content(
    client: BaseClient, file_id: str, options: RequestOptions | None = None
) -> Steps[bytes]:
    """A file's bytes (``GET /files/{id}/content``)."""
    path = admin_path("files", file_id, "content")
    request = step(client, "GET", path, "files.content", options=options).request
    result: bytes = yield Step(request, _raw, "files.content", f"file {file_id!r}")
    return result


class Files(SyncResource):
    """``client.files``: upload a batch's input, read a batch's output and error files."""

    def create(
        self,
        file: FileContent,
        *,
        purpose: str = "batch",
        options: RequestOptions | None = None,
    ) -> FileObject:
        """Upload ``file`` (bytes, or ``(filename, bytes)``); ``purpose="batch"`` for the
        JSONL input of :meth:`Batches.create <.batches.Batches.create>`. ``options``
        override the client's routing headers (the provider the file is for)."""
        return self._run(create_file(self._client, file, purpose, options))

    def retrieve(self, file_id: str, *, options: RequestOptions | None = None) -> FileObject:
        """A file's metadata: size, name, purpose, status."""
        return self._run(retrieve_file(self._client, file_id, options))

    def content(self, file_id: str, *, options: RequestOptions | None = None) -> bytes:
        """A file's bytes (a batch's output and error files are JSONL)."""
        return self._run(file_content(self._client, file_id, options))


class AsyncFiles(AsyncResource):
    """``async_client.files``: the coroutine twin of :class:`Files`."""

    async def create(
        self,
        file: FileContent,
        *,
        purpose: str = "batch",
        options: RequestOptions | None = None,
    ) -> FileObject:
        """Async :meth:`Files.create`."""
        return await self._run(create_file(self._client, file, purpose, options))

    async def retrieve(self, file_id: str, *, options: RequestOptions | None = None) -> FileObject:
        """Async :meth:`Files.retrieve`."""
        return await self._run(retrieve_file(self._client, file_id, options))

    async def content(self, file_id: str, *, options: RequestOptions | None = None) -> bytes:
        """Async :meth:`Files.content`."""
        return await self._run(file_content(self._client, file_id, options))
