"""The files API: ``POST /v1/files`` (multipart), ``GET /v1/files/{id}`` and
``GET /v1/files/{id}/content``, in OpenAI's (Portkey's unified) shapes.

Files live in the state's :class:`~.batch_store.FileStore`, bounded in bytes (an upload
over its limit is a 413: the pipeline never holds it whole). A
``batch`` input is checked line by line at upload; a bad line is a 400 (a 413 for one
too long) naming its number.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.types import ASGIApp

from .batch_store import InputError, StoredFile, check_batch_input
from .responses import json_out
from .state import failure

if TYPE_CHECKING:
    from .pipeline import Incoming

__all__ = [
    "file_content",
    "parse_form",
    "retrieve_file",
    "upload_file",
]

_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_form(raw: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a ``multipart/form-data`` body: name -> (filename, bytes)."""
    kind, _, params = content_type.partition(";")
    boundary = dict((k.lower(), v) for k, v in _params(params)).get("boundary")
    if kind.strip().lower() != "multipart/form-data" or not boundary:
        raise InputError("the upload must be multipart/form-data with a boundary")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in raw.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, sep, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise InputError("a part of the multipart body has no headers")
        disposition = ""
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = value
        found = dict(_PARAM.findall(disposition))
        if "name" in found:
            fields[found["name"]] = (found.get("filename"), data.removesuffix(b"\r\n"))
    return fields


def _params(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            pairs.append((key.strip(), value.strip().strip('"')))
    return pairs


async def upload_file(incoming: Incoming) -> ASGIApp:
    """``POST /v1/files``: a multipart ``file`` and its ``purpose``."""
    store, raw = incoming.state.files, incoming.body
    try:
        fields = parse_form(raw, incoming.headers.get("content-type", ""))
        if "file" not in fields or "purpose" not in fields:
            raise InputError("the upload needs a 'file' and a 'purpose' field")
        filename, data = fields["file"]
        purpose = fields["purpose"][1].decode("utf-8", "replace")
        name = filename or "upload"
        if purpose == "batch":
            check_batch_input(data, name, store.max_line_bytes)
        stored = store.add(name, purpose, data)
    except InputError as exc:
        return failure(exc.status, str(exc), incoming.reply_headers)
    return json_out(200, stored.shown(), incoming.reply_headers)


def _file(incoming: Incoming) -> StoredFile | ASGIApp:
    file_id = incoming.request.path_params["file_id"]
    stored = incoming.state.files.get(file_id)
    if stored is None:
        error = {"message": f"No such File object: {file_id}", "type": "invalid_request_error"}
        return json_out(404, {"error": {**error, "param": "id", "code": None}}, [])
    return stored


async def retrieve_file(incoming: Incoming) -> ASGIApp:
    """``GET /v1/files/{id}``."""
    found = _file(incoming)
    return json_out(200, found.shown(), []) if isinstance(found, StoredFile) else found


async def file_content(incoming: Incoming) -> ASGIApp:
    """``GET /v1/files/{id}/content``: the bytes as uploaded (or written by a batch)."""
    found = _file(incoming)
    if not isinstance(found, StoredFile):
        return found
    return Response(found.data, media_type="application/octet-stream")
