"""The batch runner's pure parts, as tables: lines, metadata, result mapping, backoff.

The whole cycle on the local server is tested through the frameworks
(``tests/langchain/test_lc_batch.py``, ``tests/llama_index/test_llama_batch.py``).
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest

from portkey_integrations import BatchError, BatchLineError, PortkeyConfigError
from portkey_integrations._adapters.batch import (
    BatchPolling,
    Op,
    backoff_delays,
    batch_metadata,
    collect_ops,
    direct_line,
    encode_lines,
    map_results,
    rendered_line,
    submit_ops,
    wait_ops,
)
from portkey_integrations._call import Call
from portkey_integrations._response import Completion, RenderedPrompt
from portkey_integrations.types import Batch, BatchResult

# --- backoff -------------------------------------------------------------------------

BACKOFF = [
    # initial, maximum, factor, jitter, rand, first waits
    (1.0, 60.0, 2.0, 0.0, 0.5, [1, 2, 4, 8, 16, 32, 60, 60]),
    (0.5, 3.0, 2.0, 0.0, 0.5, [0.5, 1, 2, 3, 3, 3, 3, 3]),
    (2.0, 1.0, 2.0, 0.0, 0.5, [1, 1, 1, 1, 1, 1, 1, 1]),  # initial over the cap
    (1.0, 10.0, 1.0, 0.0, 0.5, [1, 1, 1, 1, 1, 1, 1, 1]),  # factor 1: a fixed interval
    (1.0, 4.0, 2.0, 0.5, 1.0, [0.5, 1, 2, 2, 2, 2, 2, 2]),  # full jitter: half off
    (1.0, 4.0, 2.0, 0.5, 0.0, [1, 2, 4, 4, 4, 4, 4, 4]),  # no luck: never over the cap
    (0.0, 4.0, 2.0, 0.0, 0.5, [0, 0, 0, 0, 0, 0, 0, 0]),  # tests poll without waiting
]


@pytest.mark.parametrize(("initial", "maximum", "factor", "jitter", "rand", "waits"), BACKOFF)
def test_backoff_schedule(
    initial: float, maximum: float, factor: float, jitter: float, rand: float, waits: list[float]
) -> None:
    delays = backoff_delays(initial, maximum, factor, jitter, lambda: rand)
    assert list(itertools.islice(delays, len(waits))) == pytest.approx(waits)


def test_jittered_waits_stay_within_their_band() -> None:
    waits = list(itertools.islice(backoff_delays(1, 8, 2, 0.1), 50))
    for n, wait in enumerate(waits):
        plain = min(2.0**n, 8.0)
        assert plain * 0.9 <= wait <= plain


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_delay": -1},
        {"max_delay": float("nan")},
        {"factor": 0.5},
        {"jitter": 2},
        {"timeout": -3},
    ],
)
def test_bad_polling_is_a_config_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(PortkeyConfigError, match="batch polling"):
        BatchPolling(**kwargs)


# --- lines ---------------------------------------------------------------------------

DIRECT = [
    (
        Call(messages=[{"role": "user", "content": "hi"}], params={"model": "m"}),
        "/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    ),
    (  # max_tokens becomes max_completion_tokens, as on the direct route
        Call(messages=[{"role": "user", "content": "hi"}], params={"max_tokens": 5}),
        "/v1/chat/completions",
        {"max_completion_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    ),
    (  # stream options have no place in a batch line
        Call(
            messages=[{"role": "user", "content": "x"}],
            params={"stream_options": {"include_usage": True}, "temperature": 0},
        ),
        "/v1/chat/completions",
        {"temperature": 0, "messages": [{"role": "user", "content": "x"}]},
    ),
    (
        Call(prompt="Once upon", params={"model": "t", "max_tokens": 3}),
        "/v1/completions",
        {"model": "t", "max_tokens": 3, "prompt": "Once upon"},
    ),
]


@pytest.mark.parametrize(("call", "url", "body"), DIRECT)
def test_direct_line(call: Call, url: str, body: dict[str, Any]) -> None:
    assert direct_line(7, call) == {"custom_id": "7", "method": "POST", "url": url, "body": body}


def test_a_prompt_call_is_no_direct_line() -> None:
    with pytest.raises(PortkeyConfigError, match="rendered"):
        direct_line(0, Call(prompt_id="pp-x"))


RENDERED = [
    (
        {"model": "m", "temperature": 0.2, "messages": [{"role": "user", "content": "a"}]},
        "/v1/chat/completions",
        {"model": "m", "temperature": 0.2, "messages": [{"role": "user", "content": "a"}]},
    ),
    (  # a saved stream flag is no line parameter
        {"model": "m", "stream": True, "messages": []},
        "/v1/chat/completions",
        {"model": "m", "messages": []},
    ),
    ({"model": "t", "prompt": "text"}, "/v1/completions", {"model": "t", "prompt": "text"}),
]


@pytest.mark.parametrize(("data", "url", "body"), RENDERED)
def test_rendered_line(data: dict[str, Any], url: str, body: dict[str, Any]) -> None:
    line = rendered_line(3, RenderedPrompt(data=data))
    assert line == {"custom_id": "3", "method": "POST", "url": url, "body": body}


def test_a_render_without_messages_is_an_error() -> None:
    with pytest.raises(PortkeyConfigError, match="neither messages nor a prompt"):
        rendered_line(0, RenderedPrompt(data={"model": "m"}))


def test_encode_lines_is_jsonl() -> None:
    lines = [{"custom_id": "0", "body": {"t": "é\n"}}, {"custom_id": "1", "body": {}}]
    data = encode_lines(lines)
    assert data.endswith(b"\n") and data.count(b"\n") == 2
    assert [json.loads(text) for text in data.decode().splitlines()] == lines


METADATA = [
    ((3, None, None), {"portkey_integrations": "1", "portkey_inputs": "3"}),
    (
        (2, "pp-joke@2", 2),
        {
            "portkey_integrations": "1",
            "portkey_inputs": "2",
            "portkey_prompt_id": "pp-joke@2",
            "portkey_prompt_version": "2",
        },
    ),
]


@pytest.mark.parametrize(("args", "meta"), METADATA)
def test_batch_metadata(args: tuple[Any, ...], meta: dict[str, str]) -> None:
    assert batch_metadata(*args) == meta


# --- results -------------------------------------------------------------------------


def _ok(custom_id: str, text: str) -> dict[str, Any]:
    body = {
        "id": f"c-{custom_id}",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    return {"custom_id": custom_id, "response": {"status_code": 200, "body": body}}


RESULTS = [
    # output lines (any order), inputs, what each input came to
    ([_ok("1", "b"), _ok("0", "a")], 2, ["a", "b"]),
    (
        [_ok("0", "a"), {"custom_id": "1", "error": {"code": "bad", "message": "no"}}],
        2,
        ["a", ("bad", "no")],
    ),
    (
        [
            {
                "custom_id": "0",
                "response": {
                    "status_code": 429,
                    "body": {"error": {"message": "slow", "code": "rl"}},
                },
            }
        ],
        1,
        [("rl", "failed with status 429: slow")],
    ),
    ([_ok("0", "a")], 2, ["a", ("missing", "no output line for input 1")]),
    ([_ok("0", "a"), _ok("9", "z"), _ok("x", "z")], 1, ["a"]),  # foreign ids are ignored
    ([{"custom_id": "0"}], 1, [(None, "the line did not run")]),
]


@pytest.mark.parametrize(("lines", "inputs", "expected"), RESULTS)
def test_map_results(lines: list[dict[str, Any]], inputs: int, expected: list[Any]) -> None:
    results = [BatchResult.model_validate(line) for line in lines]
    outcomes = map_results(results, inputs, version=4)
    assert len(outcomes) == inputs
    for outcome, want in zip(outcomes, expected, strict=True):
        if isinstance(want, str):
            assert isinstance(outcome, Completion)
            assert outcome.content == want
            assert outcome.portkey.prompt_version == 4
        else:
            assert isinstance(outcome, BatchLineError)
            code, message = want
            assert outcome.code == code
            assert message in str(outcome)


# --- operations, driven by hand ------------------------------------------------------


def _batch(status: str, **fields: Any) -> Batch:
    return Batch.model_validate(
        {
            "id": "batch_1",
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": "file_1",
            "completion_window": "24h",
            "status": status,
            "created_at": 0,
            **fields,
        }
    )


def _drive(ops: Any, answers: dict[str, Any]) -> tuple[list[Op], Any]:
    """Run an operation, answering each op by its kind (or kind.name)."""
    seen: list[Op] = []
    result: Any = None
    try:
        while True:
            op = ops.send(result)
            seen.append(op)
            answer = answers.get(f"{op.kind}.{op.name}", answers.get(op.kind))
            result = answer(op) if callable(answer) else answer
    except StopIteration as stop:
        return seen, stop.value


def test_waiting_backs_off_and_reports_progress(caplog: pytest.LogCaptureFixture) -> None:
    statuses = iter(["validating", "in_progress", "in_progress", "completed"])
    seen_progress: list[str] = []
    polling = BatchPolling(
        initial_delay=1, max_delay=3, jitter=0, on_progress=lambda b: seen_progress.append(b.status)
    )
    with caplog.at_level(logging.INFO, logger="portkey_integrations"):
        ops, batch = _drive(
            wait_ops("batch_1", polling), {"batches.retrieve": lambda op: _batch(next(statuses))}
        )
    assert batch.status == "completed"
    assert [op.args[0] for op in ops if op.kind == "sleep"] == [1, 2, 3]
    assert seen_progress == ["validating", "in_progress", "in_progress", "completed"]
    # A log line per change of state, not per poll.
    assert [r.getMessage() for r in caplog.records] == [
        "batch batch_1: validating",
        "batch batch_1: in_progress",
        "batch batch_1: completed",
    ]


def test_waiting_gives_up_after_the_timeout() -> None:
    now = iter([0.0, 5.0, 11.0])
    polling = BatchPolling(initial_delay=4, max_delay=4, jitter=0, timeout=10)
    ops = wait_ops("batch_1", polling, clock=lambda: next(now))
    with pytest.raises(TimeoutError, match="batch_1 is still in_progress after 10 s"):
        _drive(ops, {"batches.retrieve": _batch("in_progress")})


@pytest.mark.parametrize("status", ["failed", "expired", "cancelled"])
def test_a_job_that_did_not_complete_raises(status: str) -> None:
    ops = collect_ops("batch_1", BatchPolling())
    with pytest.raises(BatchError) as info:
        _drive(ops, {"batches.retrieve": _batch(status)})
    assert info.value.batch_id == "batch_1"
    assert info.value.status == status


def test_collect_maps_by_the_job_metadata() -> None:
    done = _batch(
        "completed",
        metadata=batch_metadata(2, "pp-joke", 3),
        request_counts={"total": 1, "completed": 1, "failed": 0},
    )
    output = [BatchResult.model_validate(_ok("1", "b"))]
    ops, (_, outcomes) = _drive(
        collect_ops("batch_1", BatchPolling()),
        {"batches.retrieve": done, "batches.output": output},
    )
    assert [op.kind + "." + op.name for op in ops] == ["batches.retrieve", "batches.output"]
    assert isinstance(outcomes[0], BatchLineError)
    assert isinstance(outcomes[1], Completion) and outcomes[1].portkey.prompt_version == 3


def test_a_prompt_job_uploads_the_renders() -> None:
    calls = [Call(prompt_id="pp-joke", variables={"topic": "owls"})]
    rendered = RenderedPrompt(data={"model": "m", "messages": [{"role": "user", "content": "a"}]})
    answers = {
        "render": [rendered],
        "files.create": type("F", (), {"id": "file_1"})(),
        "batches.create": _batch("validating"),
    }
    ops, submission = _drive(submit_ops(calls, fail_fast=True), answers)
    assert [op.kind for op in ops] == ["render", "files", "batches"]
    assert json.loads(ops[1].args[0][1])["body"] == rendered.data
    created = ops[-1].kwargs
    assert created["endpoint"] == "/v1/chat/completions"
    assert created["metadata"]["portkey_prompt_id"] == "pp-joke"
    assert submission[1] == {}


def test_a_render_error_stays_at_its_index_or_is_raised() -> None:
    calls = [Call(prompt_id="pp-joke"), Call(prompt_id="pp-joke")]
    rendered = RenderedPrompt(data={"model": "m", "messages": []})
    missing = PortkeyConfigError("missing variable topic")
    answers = {
        "render": [rendered, missing],
        "files.create": type("F", (), {"id": "file_1"})(),
        "batches.create": _batch("validating"),
    }
    ops, (_, errors) = _drive(submit_ops(calls, fail_fast=False), answers)
    assert ops[0].args[1] is False  # the runner keeps render errors, does not raise them
    assert errors == {1: missing}


def test_errors_before_the_job_stay_at_their_index() -> None:
    bad = PortkeyConfigError("input 1 is bad")
    calls: list[Call | BaseException] = [Call(messages=[{"role": "user", "content": "a"}]), bad]
    answers = {
        "files.create": type("F", (), {"id": "file_1"})(),
        "batches.create": _batch("validating"),
    }
    ops, submission = _drive(submit_ops(calls, fail_fast=False), answers)
    uploaded = ops[0].args[0][1].decode().splitlines()
    assert [json.loads(line)["custom_id"] for line in uploaded] == ["0"]
    assert submission[1] == {1: bad}
    assert ops[-1].kwargs["metadata"]["portkey_inputs"] == "2"
    with pytest.raises(PortkeyConfigError, match="input 1 is bad"):
        _drive(submit_ops(calls, fail_fast=True), answers)
