"""``client.files`` and ``client.batches`` against the local server, sync and async: what
they send (the same requests from both faces), what they return (typed), the errors of a
failed job and of a failed line, and the routing headers on every request.

Waiting is a bounded poll loop on the batch's status, or the server's hold/release:
no assertion depends on time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import portkey_integrations as pk
from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations.server import LocalPortkeyServer
from portkey_integrations.types import (
    Batch,
    BatchLineError,
    BatchResult,
    Completion,
    FileObject,
)

SECRET = "pk-batch-secret"
POLLS = 4000


def line(custom_id: str, text: str, url: str = "/v1/chat/completions", **body: Any) -> bytes:
    request = {"model": "portkey-local", "messages": [{"role": "user", "content": text}], **body}
    item = {"custom_id": custom_id, "method": "POST", "url": url, "body": request}
    return json.dumps(item).encode() + b"\n"


def jsonl(texts: Sequence[str], **kwargs: Any) -> bytes:
    return b"".join(line(str(i), text, **kwargs) for i, text in enumerate(texts))


def make(server: LocalPortkeyServer, **options: Any) -> PortkeyClient:
    options.setdefault("virtual_key", "vk-batch")
    return PortkeyClient(base_url=server.base_url, api_key=SECRET, **options)


def amake(server: LocalPortkeyServer, **options: Any) -> AsyncPortkeyClient:
    options.setdefault("virtual_key", "vk-batch")
    return AsyncPortkeyClient(base_url=server.base_url, api_key=SECRET, **options)


def wait(client: PortkeyClient, batch_id: str, options: pk.RequestOptions | None = None) -> Batch:
    for _ in range(POLLS):
        batch = client.batches.retrieve(batch_id, options=options)
        if batch.done:
            return batch
        time.sleep(0.002)
    raise AssertionError(f"batch {batch_id} never finished: {batch.status}")


async def await_done(
    client: AsyncPortkeyClient, batch_id: str, options: pk.RequestOptions | None = None
) -> Batch:
    for _ in range(POLLS):
        batch = await client.batches.retrieve(batch_id, options=options)
        if batch.done:
            return batch
        await asyncio.sleep(0.002)
    raise AssertionError(f"batch {batch_id} never finished: {batch.status}")


def run(client: PortkeyClient, data: bytes) -> tuple[Batch, list[BatchResult]]:
    uploaded = client.files.create(("input.jsonl", data))
    batch = client.batches.create(input_file_id=uploaded.id, metadata={"job": "t"})
    done = wait(client, batch.id)
    return done, client.batches.output(batch.id)


async def arun(client: AsyncPortkeyClient, data: bytes) -> tuple[Batch, list[BatchResult]]:
    uploaded = await client.files.create(("input.jsonl", data))
    batch = await client.batches.create(input_file_id=uploaded.id, metadata={"job": "t"})
    done = await await_done(client, batch.id)
    return done, await client.batches.output(batch.id)


def sent(server: LocalPortkeyServer) -> list[tuple[str, str, Any]]:
    """What reached the server, ids taken out (they differ between runs)."""
    shown = []
    for r in server.requests:
        path = "/".join("<id>" if "-" in p or "_" in p else p for p in r.path.split("/"))
        body = r.body if r.body is not None else r.body_bytes  # an upload: its size
        if isinstance(body, dict) and "input_file_id" in body:
            body = {**body, "input_file_id": "<id>"}
        shown.append((r.method, path, body))
    return shown


TEXTS = ["first question", "second one", "third"]


def test_a_batch_answers_what_direct_calls_answer(server: LocalPortkeyServer) -> None:
    client = make(server)
    batch, results = run(client, jsonl(TEXTS))
    assert isinstance(batch, Batch) and batch.status == "completed" and batch.done
    assert batch.request_counts is not None and batch.request_counts.model_dump() == {
        "total": 3,
        "completed": 3,
        "failed": 0,
    }
    assert batch.metadata == {"job": "t"} and batch.raise_for_status() is batch
    assert all(isinstance(r, BatchResult) and r.ok and r.exception() is None for r in results)
    by_id = {r.custom_id: r.completion() for r in results}
    for i, text in enumerate(TEXTS):
        direct = client.complete(
            messages=[{"role": "user", "content": text}], model="portkey-local"
        )
        assert isinstance(by_id[str(i)], Completion)
        assert by_id[str(i)].choices[0].message.content == direct.choices[0].message.content
    # The lines reached the model as written.
    lines = [r for r in server.requests if "x-portkey-local-batch" in r.headers]
    assert [r.body["messages"][0]["content"] for r in lines] == TEXTS


def test_files_create_retrieve_content(server: LocalPortkeyServer) -> None:
    client = make(server)
    data = jsonl(TEXTS)
    uploaded = client.files.create(("mine.jsonl", data))
    assert isinstance(uploaded, FileObject)
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == (
        "mine.jsonl",
        len(data),
        "batch",
    )
    assert client.files.retrieve(uploaded.id) == uploaded
    assert client.files.content(uploaded.id) == data
    upload = server.requests[0]
    assert upload.path == "/v1/files" and upload.body_bytes > len(data)
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")


async def test_sync_and_async_send_the_same_requests(server: LocalPortkeyServer) -> None:
    batch, results = run(make(server), jsonl(TEXTS))
    sync_sent = sent(server)
    server.reset()
    async with amake(server) as aclient:
        abatch, aresults = await arun(aclient, jsonl(TEXTS))
    polls = [("GET", "/v1/batches/<id>", {})]
    assert [s for s in sent(server) if s not in polls] == [s for s in sync_sent if s not in polls]
    assert abatch.request_counts == batch.request_counts
    texts = [[r.completion().choices[0].message.content for r in rs] for rs in (results, aresults)]
    assert texts[0] == texts[1]


@pytest.mark.parametrize("face", ["sync", "async"])
async def test_routing_headers_reach_every_request_and_line(
    server: LocalPortkeyServer, face: str
) -> None:
    options = {"virtual_key": "vk-route", "config": "pc-route", "provider": "@route"}
    if face == "sync":
        run(make(server, **options), jsonl(TEXTS[:2]))
    else:
        async with amake(server, **options) as aclient:
            await arun(aclient, jsonl(TEXTS[:2]))
    assert len(server.requests) >= 7  # upload, create, polls, 2 lines, output
    for request in server.requests:
        assert request.headers["x-portkey-virtual-key"] == "vk-route", request
        assert request.headers["x-portkey-config"] == "pc-route"
        assert request.headers["x-portkey-provider"] == "@route"


SAVED = pk.RequestOptions.make(virtual_key="vk-saved")
"""Per-call routing, like a saved prompt's virtual key; the clients below have none."""


def test_per_call_options_route_one_batch(server: LocalPortkeyServer) -> None:
    client, data = PortkeyClient(base_url=server.base_url, api_key=SECRET), jsonl(TEXTS[:2])
    uploaded = client.files.create(data, options=SAVED)
    batch = wait(client, client.batches.create(input_file_id=uploaded.id, options=SAVED).id, SAVED)
    assert all(r.ok for r in client.batches.output(batch.id, options=SAVED))
    assert client.batches.list(options=SAVED)[0].id == batch.id
    assert client.files.content(uploaded.id, options=SAVED) == data
    assert client.files.retrieve(uploaded.id, options=SAVED).id == uploaded.id
    assert {r.headers.get("x-portkey-virtual-key") for r in server.requests} == {"vk-saved"}


async def test_async_per_call_options_route_one_batch(server: LocalPortkeyServer) -> None:
    data = jsonl(TEXTS[:2])
    server.hold_batches()
    async with AsyncPortkeyClient(base_url=server.base_url, api_key=SECRET) as aclient:
        uploaded = await aclient.files.create(data, options=SAVED)
        held = await aclient.batches.create(input_file_id=uploaded.id, options=SAVED)
        assert (await aclient.batches.cancel(held.id, options=SAVED)).status == "cancelling"
        server.release_batches()
        batch = await aclient.batches.create(input_file_id=uploaded.id, options=SAVED)
        await await_done(aclient, batch.id, SAVED)
        results = await aclient.batches.output(batch.id, options=SAVED)
        assert all(r.ok for r in results) and len(results) == 2
        assert (await aclient.batches.list(options=SAVED))[0].id == batch.id
        assert await aclient.files.content(uploaded.id, options=SAVED) == data
    assert {r.headers.get("x-portkey-virtual-key") for r in server.requests} == {"vk-saved"}


def test_a_failed_line_is_a_result_with_its_error(server: LocalPortkeyServer) -> None:
    server.batch_faults(fail_lines={"1"}, fail_status=503)
    batch, results = run(make(server), jsonl(TEXTS))
    assert batch.status == "completed" and batch.error_file_id and batch.output_file_id
    assert batch.request_counts is not None and batch.request_counts.failed == 1
    assert sorted(r.custom_id for r in results) == ["0", "1", "2"]
    failed = next(r for r in results if r.custom_id == "1")
    error = failed.exception()
    assert isinstance(error, BatchLineError) and isinstance(error, pk.PortkeyError)
    assert (error.custom_id, error.status_code) == ("1", 503)
    assert "'1'" in str(error) and "503" in str(error)
    with pytest.raises(BatchLineError) as raised:
        failed.completion()
    assert raised.value.custom_id == "1"


def test_a_failed_job_raises_batch_error_naming_the_line(server: LocalPortkeyServer) -> None:
    client = make(server)
    data = line("0", "fine") + line("1", "wrong route", url="/v1/completions")
    uploaded = client.files.create(data)
    batch = wait(client, client.batches.create(input_file_id=uploaded.id).id)
    assert batch.status == "failed" and batch.failed_at is not None
    assert batch.errors is not None and batch.errors.data[0].line == 2
    with pytest.raises(pk.BatchError) as raised:
        client.batches.output(batch.id)
    error = raised.value
    assert (error.batch_id, error.status) == (batch.id, "failed")
    assert "line 2" in str(error) and error.errors[0]["line"] == 2
    with pytest.raises(pk.BatchError):
        batch.raise_for_status()


async def test_async_failed_line_and_failed_job(server: LocalPortkeyServer) -> None:
    server.batch_faults(fail_lines={"0"})
    async with amake(server) as aclient:
        batch, results = await arun(aclient, jsonl(TEXTS[:2]))
        assert batch.request_counts is not None and batch.request_counts.failed == 1
        error = next(r for r in results if r.custom_id == "0").exception()
        assert isinstance(error, BatchLineError) and error.status_code == 500
        uploaded = await aclient.files.create(line("0", "x", url="/v1/completions"))
        failed = await await_done(
            aclient, (await aclient.batches.create(input_file_id=uploaded.id)).id
        )
        with pytest.raises(pk.BatchError, match="line 1"):
            await aclient.batches.output(failed.id)


async def test_output_before_the_end_is_a_batch_error(server: LocalPortkeyServer) -> None:
    server.hold_batches()
    async with amake(server) as aclient:
        uploaded = await aclient.files.create(jsonl(TEXTS))
        batch = await aclient.batches.create(input_file_id=uploaded.id)
        with pytest.raises(pk.BatchError) as raised:
            await aclient.batches.output(batch.id)
        assert raised.value.status in ("validating", "in_progress")
        assert "not ready" in str(raised.value)
        server.release_batches()
        assert (await await_done(aclient, batch.id)).status == "completed"


def test_an_expired_batch_keeps_what_ran(server: LocalPortkeyServer) -> None:
    server.batch_faults(expire=True, expire_after=1)
    batch, results = run(make(server), jsonl(TEXTS))
    assert batch.status == "expired" and batch.expired_at is not None
    ok = [r.custom_id for r in results if r.ok]
    expired = [r.exception() for r in results if not r.ok]
    assert ok == ["0"] and [e.custom_id for e in expired if e] == ["1", "2"]
    assert all(
        e is not None and e.code == "batch_expired" and e.status_code is None for e in expired
    )
    with pytest.raises(pk.BatchError, match="ended expired"):
        batch.raise_for_status()


def test_cancel_and_list(server: LocalPortkeyServer) -> None:
    client = make(server)
    server.hold_batches()
    uploaded = client.files.create(jsonl(TEXTS))
    first = client.batches.create(input_file_id=uploaded.id)
    second = client.batches.create(input_file_id=uploaded.id)
    cancelling = client.batches.cancel(second.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    cancelled = wait(client, second.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert [b.id for b in client.batches.list()] == [second.id, first.id]
    assert [b.id for b in client.batches.list(limit=1, after=second.id)] == [first.id]
    results = client.batches.output(second.id)
    assert {r.exception().code for r in results if r.exception()} == {"batch_cancelled"}  # type: ignore[union-attr]
    server.release_batches()
    assert wait(client, first.id).status == "completed"


def test_unknown_ids_are_not_found_errors_naming_them(server: LocalPortkeyServer) -> None:
    client = make(server)
    with pytest.raises(pk.NotFoundError, match="batch 'batch_nope' not found"):
        client.batches.retrieve("batch_nope")
    with pytest.raises(pk.NotFoundError, match="file 'file-nope' not found"):
        client.files.content("file-nope")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.files.create("text"), "must be bytes"),
        (lambda c: c.files.create(b"x", purpose=""), "purpose"),
        (lambda c: c.batches.create(input_file_id=""), "input_file_id"),
        (lambda c: c.batches.create(input_file_id="f", endpoint="/v1/x"), "endpoint"),
        (lambda c: c.batches.create(input_file_id="f", metadata={"a": 1}), "metadata"),
        (lambda c: c.batches.list(limit=0), "limit"),
        (lambda c: c.batches.retrieve(" "), "batch id"),
    ],
)
def test_bad_input_fails_before_sending(
    server: LocalPortkeyServer, call: Callable[[PortkeyClient], object], message: str
) -> None:
    with pytest.raises(pk.PortkeyConfigError, match=message):
        call(make(server))
    assert server.requests == []


def test_without_client_routing_only_lines_naming_an_integration_run(
    server: LocalPortkeyServer,
) -> None:
    # No client routing: a line runs only if its model names an @integration.
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET)
    data = line("0", "routed", model="@openai/gpt-4o") + line("1", "unrouted")
    batch, results = run(client, data)
    assert batch.request_counts is not None and batch.request_counts.failed == 1
    by_id = {r.custom_id: r for r in results}
    assert by_id["0"].ok and not by_id["1"].ok
    error = by_id["1"].exception()
    assert error is not None and error.status_code == 400
    assert "x-portkey-provider" in str(error)
