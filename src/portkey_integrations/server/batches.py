"""The batch API: ``/v1/batches`` (create, list), ``/v1/batches/{id}`` (retrieve),
``/cancel`` and ``/output``, and the worker that runs each batch.

A batch starts ``validating``; the worker (an asyncio task on the server's loop, so it
stops with the server) checks every line's ``url`` against the batch's ``endpoint``
(a mismatch fails the batch, naming the line), goes ``in_progress``, sends each line
in process through the ``/v1/chat/completions`` (or ``/v1/completions``) endpoint,
the one pipeline and handler included, then goes ``finalizing`` and ``completed``,
writing the output file (lines that answered 2xx) and the error file (the others).

So each line is logged (``server.requests``, with the create request's routing and
auth headers plus ``x-portkey-local-batch: <batch id>/<custom id>``), authorised, and
routed on its own: a line runs only if those headers or its ``@integration/model``
name a target (else 400, as the gateway answers), and an ``@integration/`` model must
match an ``@integration`` provider header. Faults registered for those routes strike
lines too.

Knobs (:class:`BatchKnobs`; ``server.batch_faults(...)``, ``server.hold_batches()`` /
``release_batches()``, or ``POST /_local/batches``):

- ``fail_lines``: custom ids whose line answers ``fail_status`` (500) with an error body
  (an ``x-portkey-local-fault`` on that line's request);
- ``expire``: the batch expires after ``expire_after`` lines (0: before any), the
  rest landing in the error file with code ``batch_expired``;
- ``hold``: the worker waits, ``in_progress``, until released (or the batch is
  cancelled), so a test can watch a batch that has not finished.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message

from .batch_store import BatchKnobs, InputError, Job, check_batch_input
from .completions import CHAT, TEXT, chat_completions, text_completions
from .pipeline import GATEWAY, Endpoint
from .responses import AbortConnection, SafeJSONResponse, json_out
from .state import ServerState, failure

if TYPE_CHECKING:
    from .pipeline import Incoming

__all__ = ["BATCH_HEADER", "ENDPOINTS", "batch_control", "batches_endpoint"]

logger = logging.getLogger("portkey_integrations.server")

ENDPOINTS = ("/v1/chat/completions", "/v1/completions")
"""The endpoints the local server runs batches of."""
BATCH_HEADER = "x-portkey-local-batch"
"""Added to each line's logged headers: ``<batch id>/<custom id>``."""
_ROUTING = (
    "x-portkey-provider",
    "x-portkey-virtual-key",
    "x-portkey-config",
    "x-portkey-custom-host",
    "authorization",
    "x-portkey-api-key",
)


# --- the worker --------------------------------------------------------------------


def _line_error(custom_id: str, code: str, message: str) -> dict[str, Any]:
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:24]}",
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }


def _refusal(headers: dict[str, str], body: dict[str, Any]) -> str | None:
    """Why a line may not run on the batch's routing, beyond what the pipeline checks."""
    model, provider = body.get("model"), headers.get("x-portkey-provider", "")
    if (
        isinstance(model, str)
        and model.startswith("@")
        and provider.startswith("@")
        and model.split("/", 1)[0] != provider
    ):
        return f"model {model!r} cannot be served by provider {provider!r}"
    if body.get("stream") is True:
        return "stream is not supported in a batch"
    return None


async def _call(endpoint: Endpoint, path: str, headers: dict[str, str], body: bytes) -> Any:
    """Send one request to ``endpoint`` in process: its status and JSON answer."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = 502, []

    async def receive() -> Message:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # the caller never goes away
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await endpoint(scope, receive, send)
    except AbortConnection:
        return 502, {"status": "failure", "message": "the connection was dropped"}
    text = b"".join(chunks)
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {"status": "failure", "message": text[:2000].decode("utf-8", "replace")}


async def _run_line(
    state: ServerState, job: Job, endpoint: Endpoint, line: dict[str, Any]
) -> dict[str, Any]:
    """One line's output object: the status and body the completion route answered it
    with (the request goes through the one pipeline: logged, authorised, routed)."""
    custom_id, body = line["custom_id"], line["body"]
    headers = {
        **job.headers,
        "host": "127.0.0.1",
        "content-type": "application/json",
        BATCH_HEADER: f"{job.shown['id']}/{custom_id}",
    }
    knobs = state.batches.knobs
    if custom_id in knobs.fail_lines:
        headers["x-portkey-local-fault"] = f"status;status={knobs.fail_status}"
    refusal = _refusal(job.headers, body)
    if refusal is not None:
        status, out = 400, {"status": "failure", "message": refusal}
    else:
        raw = json.dumps(body, ensure_ascii=False).encode()
        status, out = await _call(endpoint, line["url"], headers, raw)
    response = {"status_code": status, "request_id": f"req_{uuid.uuid4().hex}", "body": out}
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:24]}",
        "custom_id": custom_id,
        "response": response,
        "error": None,
    }


def _validate(job: Job) -> list[dict[str, Any]]:
    endpoint = job.shown["endpoint"]
    return [
        {
            "code": "invalid_url",
            "line": number,
            "message": f"the line's url {line['url']!r} is not the batch's endpoint {endpoint!r}",
            "param": "url",
        }
        for number, line in enumerate(job.lines, start=1)
        if line["url"] != endpoint
    ][:100]


async def _work(state: ServerState, job: Job) -> None:
    """Run ``job`` to its end."""
    store, shown = state.batches, job.shown
    await asyncio.sleep(0)  # the create answer goes out ``validating``
    errors = _validate(job)
    if errors:
        shown["errors"] = {"object": "list", "data": errors}
        job.set("failed")
        return
    if not job.cancel:
        job.set("in_progress")
    await store.wait_released(job)
    knobs = store.knobs
    # The route's own endpoint: the pipeline, then the handler, as over HTTP.
    chat = shown["endpoint"] == "/v1/chat/completions"
    route = (chat_completions, CHAT) if chat else (text_completions, TEXT)
    endpoint = Endpoint(state, GATEWAY, *route)
    outputs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    counts = shown["request_counts"]
    for index, line in enumerate(job.lines):
        if job.cancel or (knobs.expire and index >= knobs.expire_after):
            break
        await asyncio.sleep(0)  # other requests are served between lines
        result = await _run_line(state, job, endpoint, line)
        if not store.alive(job):
            return
        ok = result["response"]["status_code"] < 300
        (outputs if ok else failures).append(result)
        counts["completed" if ok else "failed"] += 1
    ran = len(outputs) + len(failures)
    if ran < len(job.lines):
        code, what = (
            ("batch_cancelled", "cancelled") if job.cancel else ("batch_expired", "expired")
        )
        message = f"the batch was {what} before this line ran"
        failures.extend(_line_error(line["custom_id"], code, message) for line in job.lines[ran:])
        counts["failed"] += len(job.lines) - ran
    if not store.alive(job):  # a reset dropped the batch (and the files)
        return
    if ran == len(job.lines):
        job.set("finalizing")
    try:
        _write(state, job, outputs, failures)
    except InputError as exc:  # the file store is full
        shown["errors"] = {"object": "list", "data": [{"code": "storage", "message": str(exc)}]}
        job.set("failed")
        return
    job.set("cancelled" if job.cancel else "expired" if ran < len(job.lines) else "completed")


def _write(
    state: ServerState, job: Job, outputs: list[dict[str, Any]], failures: list[dict[str, Any]]
) -> None:
    batch_id = job.shown["id"]
    for key, lines in (("output_file_id", outputs), ("error_file_id", failures)):
        if lines:
            data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
            name = f"{batch_id}_{key.split('_')[0]}.jsonl"
            job.shown[key] = state.files.add(name, "batch_output", data).id


async def _guarded(state: ServerState, job: Job) -> None:
    try:
        await _work(state, job)
    except Exception as exc:  # a worker bug fails its batch, never the server
        logger.exception("batch %s failed in the worker", job.shown["id"])
        job.shown["errors"] = {"object": "list", "data": [{"code": "worker", "message": repr(exc)}]}
        job.set("failed")


# --- the routes --------------------------------------------------------------------


def _error(status: int, message: str, param: str | None = None) -> ASGIApp:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return json_out(status, {"error": error}, [])


def _create(incoming: Incoming) -> ASGIApp:
    state, body = incoming.state, incoming.body
    endpoint, file_id = body.get("endpoint"), body.get("input_file_id")
    if endpoint not in ENDPOINTS:
        return _error(400, f"endpoint must be one of {', '.join(ENDPOINTS)}", "endpoint")
    window = body.get("completion_window", "24h")
    if window != "24h":
        return _error(400, "completion_window must be '24h'", "completion_window")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return _error(400, "metadata must be an object", "metadata")
    stored = state.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None or stored.purpose != "batch":
        return _error(400, f"input_file_id {file_id!r} names no file uploaded for batch")
    try:
        lines = check_batch_input(stored.data, stored.filename, state.files.max_line_bytes)
    except InputError as exc:  # checked at upload; the limit may have changed since
        return _error(exc.status, str(exc), "input_file_id")
    headers = {k: v for k, v in incoming.headers.items() if k in _ROUTING}
    job = Job.new(endpoint, file_id, window, metadata, lines, headers)
    state.batches.add(job)
    job.task = asyncio.get_running_loop().create_task(_guarded(state, job))
    return json_out(200, job.shown, incoming.reply_headers)


def _list(incoming: Incoming) -> ASGIApp:
    query = incoming.request.query_params
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        return _error(400, "limit must be an integer from 1 to 100", "limit")
    page = incoming.state.batches.page(limit, query.get("after"))
    data = page[:limit]
    return json_out(
        200,
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(page) > limit,
        },
        [],
    )


def _cancel(state: ServerState, job: Job) -> ASGIApp:
    if job.shown["status"] not in ("validating", "in_progress"):
        return _error(400, f"a batch that is {job.shown['status']} cannot be cancelled")
    job.cancel = True
    job.set("cancelling")
    state.batches.wake(job)
    return json_out(200, job.shown, [])


def _output(state: ServerState, job: Job) -> ASGIApp:
    file_id = job.shown["output_file_id"]
    stored = None if file_id is None else state.files.get(file_id)
    if stored is None:
        status = job.shown["status"]
        return _error(400, f"batch {job.shown['id']} has no output file (it is {status})")
    return Response(stored.data, media_type="application/octet-stream")


async def batches_endpoint(incoming: Incoming) -> ASGIApp:
    """Every ``/v1/batches`` route: create, list, retrieve, cancel, output."""
    request = incoming.request
    batch_id = request.path_params.get("batch_id")
    if batch_id is None:
        return _create(incoming) if request.method == "POST" else _list(incoming)
    job = incoming.state.batches.get(batch_id)
    if job is None:
        return _error(404, f"No such Batch object: {batch_id}", "batch_id")
    action = request.url.path.rsplit("/", 1)[-1]
    if action == "cancel":
        return _cancel(incoming.state, job)
    if action == "output":
        return _output(incoming.state, job)
    return json_out(200, job.shown, [])


async def batch_control(incoming: Incoming) -> ASGIApp:
    """``/_local/batches``: GET the knobs, POST new ones (``hold`` too), DELETE to reset
    them and release held workers."""
    store, method = incoming.state.batches, incoming.request.method
    if method == "DELETE":
        store.knobs = BatchKnobs()
        store.release()
    elif method == "POST":
        try:
            knobs = BatchKnobs.from_dict(incoming.body)
        except (TypeError, ValueError) as exc:
            return failure(400, str(exc), [])
        store.knobs = knobs
        hold = incoming.body.get("hold")
        if hold is not None:
            (store.hold if hold else store.release)()
    knobs = store.knobs
    return SafeJSONResponse(
        {
            "fail_lines": sorted(knobs.fail_lines),
            "fail_status": knobs.fail_status,
            "expire": knobs.expire,
            "expire_after": knobs.expire_after,
            "hold": store.held,
        }
    )
