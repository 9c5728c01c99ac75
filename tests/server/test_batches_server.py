"""The local server's files and batch API over plain HTTP: status transitions and
timestamps, cancel, expire, a failed line, routing per line, malformed input named,
the size caps, list, the knobs over ``/_local/batches``; and Portkey's own SDK.

Batches are watched with a bounded poll loop or held with ``server.hold_batches()``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest

from portkey_integrations.server import Fault, LocalPortkeyServer

ROUTING = {"x-portkey-provider": "openai"}
POLLS = 4000


def line(custom_id: str, text: str, url: str = "/v1/chat/completions", **body: Any) -> bytes:
    request = {"model": "portkey-local", "messages": [{"role": "user", "content": text}], **body}
    item = {"custom_id": custom_id, "method": "POST", "url": url, "body": request}
    return json.dumps(item).encode() + b"\n"


def jsonl(texts: Sequence[str]) -> bytes:
    return b"".join(line(str(i), text) for i, text in enumerate(texts))


def upload(http: httpx.Client, data: bytes, name: str = "in.jsonl") -> httpx.Response:
    return http.post("/files", files={"file": (name, data)}, data={"purpose": "batch"})


def start(http: httpx.Client, data: bytes, **body: Any) -> dict[str, Any]:
    uploaded = upload(http, data)
    assert uploaded.status_code == 200, uploaded.text
    fields = {"input_file_id": uploaded.json()["id"], "endpoint": "/v1/chat/completions"}
    created = http.post("/batches", json={**fields, "completion_window": "24h", **body})
    assert created.status_code == 200, created.text
    batch: dict[str, Any] = created.json()
    return batch


def poll(
    http: httpx.Client, batch_id: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    for _ in range(POLLS):
        batch: dict[str, Any] = http.get(f"/batches/{batch_id}").json()
        if until(batch):
            return batch
        time.sleep(0.002)
    raise AssertionError(f"batch {batch_id} stayed {batch['status']}")


def done(batch: dict[str, Any]) -> bool:
    return batch["status"] in ("completed", "failed", "expired", "cancelled")


def lines_of(http: httpx.Client, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    content = http.get(f"/files/{file_id}/content")
    assert content.status_code == 200
    return [json.loads(raw) for raw in content.content.splitlines()]


def test_status_moves_through_its_steps_with_timestamps(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.hold_batches()
    created = start(client, jsonl(["a", "b"]), metadata={"k": "v"})
    assert created["status"] == "validating" and created["object"] == "batch"
    assert created["request_counts"] == {"total": 2, "completed": 0, "failed": 0}
    held = poll(client, created["id"], lambda b: b["status"] == "in_progress")
    assert held["in_progress_at"] >= held["created_at"] and held["completed_at"] is None
    assert not [r for r in server.requests if "x-portkey-local-batch" in r.headers]
    server.release_batches()
    finished = poll(client, created["id"], done)
    assert finished["status"] == "completed" and finished["metadata"] == {"k": "v"}
    stamps = ["created_at", "in_progress_at", "finalizing_at", "completed_at"]
    assert [finished[k] for k in stamps] == sorted(finished[k] for k in stamps)
    assert finished["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert finished["error_file_id"] is None
    output = client.get(f"/batches/{created['id']}/output")
    assert output.status_code == 200
    assert [json.loads(x) for x in output.content.splitlines()] == lines_of(
        client, finished["output_file_id"]
    )
    answers = [
        r["response"]["body"]["choices"][0]["message"]["content"]
        for r in lines_of(client, finished["output_file_id"])
    ]
    assert answers == ["Echo: a", "Echo: b"]
    output_file = client.get(f"/files/{finished['output_file_id']}").json()
    assert output_file["purpose"] == "batch_output" and output_file["object"] == "file"


def test_cancel_while_held_and_cancel_when_done(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.hold_batches()
    batch = start(client, jsonl(["a", "b"]))
    poll(client, batch["id"], lambda b: b["status"] == "in_progress")
    cancelling = client.post(f"/batches/{batch['id']}/cancel")
    assert cancelling.status_code == 200 and cancelling.json()["status"] == "cancelling"
    cancelled = poll(client, batch["id"], done)
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] is not None
    assert cancelled["request_counts"] == {"total": 2, "completed": 0, "failed": 2}
    errors = lines_of(client, cancelled["error_file_id"])
    assert [e["error"]["code"] for e in errors] == ["batch_cancelled"] * 2
    assert not [r for r in server.requests if "x-portkey-local-batch" in r.headers]
    again = client.post(f"/batches/{batch['id']}/cancel")
    assert again.status_code == 400 and "cancelled" in again.json()["error"]["message"]
    no_output = client.get(f"/batches/{batch['id']}/output")
    assert no_output.status_code == 400 and "no output file" in no_output.text


def test_expire_after_some_lines(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.batch_faults(expire=True, expire_after=1)
    finished = poll(client, start(client, jsonl(["a", "b", "c"]))["id"], done)
    assert finished["status"] == "expired" and finished["expired_at"] is not None
    assert finished["request_counts"] == {"total": 3, "completed": 1, "failed": 2}
    assert [o["custom_id"] for o in lines_of(client, finished["output_file_id"])] == ["0"]
    errors = lines_of(client, finished["error_file_id"])
    assert [(e["custom_id"], e["error"]["code"], e["response"]) for e in errors] == [
        ("1", "batch_expired", None),
        ("2", "batch_expired", None),
    ]


def test_a_failed_line_lands_in_the_error_file(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.batch_faults(fail_lines=["1"], fail_status=502)
    finished = poll(client, start(client, jsonl(["a", "b", "c"]))["id"], done)
    assert finished["status"] == "completed"
    assert finished["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    (error,) = lines_of(client, finished["error_file_id"])
    assert error["custom_id"] == "1" and error["error"] is None
    assert error["response"]["status_code"] == 502 and "error" in error["response"]["body"]
    assert [o["custom_id"] for o in lines_of(client, finished["output_file_id"])] == ["0", "2"]


def test_faults_of_the_chat_route_strike_lines(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.add_fault(Fault(kind="status", status=429, route="chat_completions"))
    finished = poll(client, start(client, jsonl(["a", "b"]))["id"], done)
    (error,) = lines_of(client, finished["error_file_id"])
    assert error["custom_id"] == "0" and error["response"]["status_code"] == 429


def test_routing_is_enforced_per_line(server: LocalPortkeyServer) -> None:
    data = (
        line("routed", "one", model="@openai/gpt-4o")
        + line("unrouted", "two")
        + line("stream", "three", model="@openai/gpt-4o", stream=True)
    )
    with httpx.Client(base_url=server.base_url) as bare:  # no routing headers at all
        finished = poll(bare, start(bare, data)["id"], done)
        errors = {e["custom_id"]: e["response"] for e in lines_of(bare, finished["error_file_id"])}
        outputs = lines_of(bare, finished["output_file_id"])
    assert [o["custom_id"] for o in outputs] == ["routed"]
    assert errors["unrouted"]["status_code"] == 400
    assert "x-portkey-provider" in errors["unrouted"]["body"]["message"]
    assert "stream" in errors["stream"]["body"]["message"]
    logged = [r for r in server.requests if "x-portkey-local-batch" in r.headers]
    assert [r.headers["x-portkey-local-batch"].split("/")[1] for r in logged] == [
        "routed",
        "unrouted",
    ]
    assert logged[0].body["model"] == "@openai/gpt-4o"


def test_an_integration_model_must_match_the_provider_header(
    server: LocalPortkeyServer,
) -> None:
    data = line("same", "a", model="@acme/m") + line("other", "b", model="@zeta/m")
    with httpx.Client(base_url=server.base_url, headers={"x-portkey-provider": "@acme"}) as http:
        finished = poll(http, start(http, data)["id"], done)
        (error,) = lines_of(http, finished["error_file_id"])
    assert error["custom_id"] == "other"
    assert error["response"]["body"]["message"] == (
        "model '@zeta/m' cannot be served by provider '@acme'"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (line("0", "a") + b"{not json\n", "line 2 of 'in.jsonl' is not valid JSON"),
        (line("0", "a") + b"[1]\n", "line 2 of 'in.jsonl' must be a JSON object"),
        (
            b'{"method": "POST", "url": "/v1/chat/completions", "body": {}}\n',
            "line 1 of 'in.jsonl' needs a 'custom_id'",
        ),
        (line("0", "a") + line("0", "b"), "line 2 of 'in.jsonl' repeats custom_id '0'"),
        (
            b'{"custom_id": "x", "method": "GET", "url": "/v1/chat/completions", "body": {}}\n',
            'line 1 of \'in.jsonl\' needs "method": "POST"',
        ),
        (
            b'{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions"}\n',
            "line 1 of 'in.jsonl' needs a 'body'",
        ),
        (b"\n\n", "'in.jsonl' holds no request lines"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 1 of 'in.jsonl' is nested too deeply"),
    ],
)
def test_malformed_input_is_refused_naming_the_line(
    client: httpx.Client, data: bytes, message: str
) -> None:
    response = upload(client, data)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_line_of_the_wrong_endpoint_fails_the_batch(client: httpx.Client) -> None:
    data = line("0", "a") + line("1", "b", url="/v1/completions")
    failed = poll(client, start(client, data)["id"], done)
    assert failed["status"] == "failed" and failed["failed_at"] is not None
    (error,) = failed["errors"]["data"]
    assert error["line"] == 2 and "/v1/completions" in error["message"]
    assert failed["output_file_id"] is None and failed["error_file_id"] is None


def test_size_caps_answer_413(make_server: Callable[..., LocalPortkeyServer]) -> None:
    server = make_server()
    server.state.files.max_file_bytes = 2000
    server.state.files.max_line_bytes = 300
    with httpx.Client(base_url=server.base_url, headers=ROUTING) as http:
        big = upload(http, jsonl(["x" * 100] * 20))
        assert big.status_code == 413 and "most this server takes is 2000" in big.text
        declared = upload(http, jsonl(["x" * 100] * 100))  # refused before it is read
        assert declared.status_code == 413 and "too large" in declared.text

        def chunked() -> Iterator[bytes]:  # no Content-Length: read until past the limit
            yield b"--b\r\n" + b"x" * 5000
            yield b"x" * 5000

        streamed = http.post(
            "/files", content=chunked(), headers={"content-type": "multipart/form-data; boundary=b"}
        )
        assert streamed.status_code == 413 and "too large" in streamed.text
        long_line = upload(http, line("0", "short") + line("1", "y" * 400))
        assert long_line.status_code == 413
        assert "line 2 of 'in.jsonl' is" in long_line.text and "at most 300" in long_line.text
        server.state.files.max_bytes = 300
        assert upload(http, jsonl(["fits"])).status_code == 200
        full = upload(http, jsonl(["fits", "too"]))
        assert full.status_code == 413 and "file store is full" in full.text
        server.reset()
        assert upload(http, jsonl(["fits"])).status_code == 200


def test_bad_requests_are_named(client: httpx.Client) -> None:
    uploaded = upload(client, jsonl(["a"])).json()
    wrong = [
        ({"input_file_id": uploaded["id"], "endpoint": "/v1/nope"}, "endpoint"),
        ({"input_file_id": "file-nope", "endpoint": "/v1/chat/completions"}, "file-nope"),
        (
            {
                "input_file_id": uploaded["id"],
                "endpoint": "/v1/chat/completions",
                "completion_window": "1h",
            },
            "completion_window",
        ),
    ]
    for body, named in wrong:
        response = client.post("/batches", json=body)
        assert response.status_code == 400 and named in response.text, body
    assert client.get("/batches/batch_nope").status_code == 404
    assert client.get("/files/file-nope").status_code == 404
    not_form = client.post("/files", content=b"{}", headers={"content-type": "application/json"})
    assert not_form.status_code == 400 and "multipart/form-data" in not_form.text
    no_purpose = client.post("/files", files={"file": ("a.jsonl", b"x")})
    assert no_purpose.status_code == 400 and "'purpose'" in no_purpose.text
    assert client.get("/batches", params={"limit": 0}).status_code == 400


def test_list_pages_newest_first(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.hold_batches()
    ids = [start(client, jsonl(["a"]))["id"] for _ in range(3)]
    page = client.get("/batches", params={"limit": 2}).json()
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"] is True
    assert page["first_id"] == ids[2] and page["last_id"] == ids[1]
    rest = client.get("/batches", params={"limit": 2, "after": page["last_id"]}).json()
    assert [b["id"] for b in rest["data"]] == [ids[0]] and rest["has_more"] is False
    server.release_batches()


def test_knobs_over_http(server: LocalPortkeyServer, client: httpx.Client) -> None:
    control = httpx.Client(base_url=server.url)  # /_local sits beside /v1
    knobs = control.post("/_local/batches", json={"fail_lines": ["0"], "hold": True}).json()
    assert knobs["fail_lines"] == ["0"] and knobs["hold"] is True and server.state.batches.held
    bad = control.post("/_local/batches", json={"fail_lines": "0"})
    assert bad.status_code == 400 and "fail_lines" in bad.text
    batch = start(client, jsonl(["a", "b"]))
    poll(client, batch["id"], lambda b: b["status"] == "in_progress")
    cleared = control.delete("/_local/batches").json()
    assert cleared == {
        "fail_lines": [],
        "fail_status": 500,
        "expire": False,
        "expire_after": 0,
        "hold": False,
    }
    finished = poll(client, batch["id"], done)
    # The knobs a batch runs with are read when its lines start: after the reset, none fail.
    assert finished["request_counts"]["failed"] == 0
    control.close()


def test_the_pipeline_applies_auth(make_server: Callable[..., LocalPortkeyServer]) -> None:
    server = make_server(api_key="pk-owner")
    with httpx.Client(base_url=server.base_url, headers=ROUTING) as http:
        assert upload(http, jsonl(["a"])).status_code == 401
        assert http.get("/batches").status_code == 401
        http.headers["x-portkey-api-key"] = "pk-owner"
        finished = poll(http, start(http, jsonl(["a"]))["id"], done)
    assert finished["request_counts"]["completed"] == 1
    (logged,) = [r for r in server.requests if "x-portkey-local-batch" in r.headers]
    assert logged.headers["x-portkey-api-key"] == "pk-owner"


def test_a_held_worker_stops_with_the_server(
    make_server: Callable[..., LocalPortkeyServer],
) -> None:
    server = make_server()
    server.hold_batches()
    with httpx.Client(base_url=server.base_url, headers=ROUTING) as http:
        poll(http, start(http, jsonl(["a"]))["id"], lambda b: b["status"] == "in_progress")
    server.stop()
    assert not server.running
    server.release_batches()  # the loop it waited on is closed: nothing to wake
    server.reset()


def test_the_official_portkey_sdk_runs_a_batch(server: LocalPortkeyServer) -> None:
    portkey_ai = pytest.importorskip("portkey_ai")
    sdk = portkey_ai.Portkey(base_url=server.base_url, api_key="pk-sdk", virtual_key="vk-sdk")
    try:
        run_with_sdk(sdk, server)
    finally:
        sdk.close()


def run_with_sdk(sdk: Any, server: LocalPortkeyServer) -> None:
    uploaded = sdk.files.create(file=("in.jsonl", jsonl(["a", "b"])), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(jsonl(["a", "b"]))
    created = sdk.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert created.status == "validating"
    for _ in range(POLLS):
        batch = sdk.batches.retrieve(created.id)
        if batch.status == "completed":
            break
        time.sleep(0.002)
    assert batch.status == "completed" and batch.request_counts.completed == 2
    output = sdk.batches.output(created.id)
    lines = [json.loads(raw) for raw in output.content.splitlines()]
    assert [r["response"]["body"]["choices"][0]["message"]["content"] for r in lines] == [
        "Echo: a",
        "Echo: b",
    ]
    assert sdk.files.content(batch.output_file_id).read() == output.content
    assert sdk.batches.list().data[0].id == created.id
    for request in server.requests:
        assert request.headers["x-portkey-virtual-key"] == "vk-sdk"
