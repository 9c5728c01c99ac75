"""Many calls as one job on Portkey's Batch API: the runner both adapters share.

The adapters build one :class:`~.._call.Call` per input; the runner makes each a JSONL
line (``custom_id`` = the input's index; a prompt call rendered by ``/prompts/{id}/render``
into the saved model, messages and merged parameters; a gateway call as the body the
client would send), submits the job (on the prompt's saved virtual key when the client
has no routing of its own), waits (:class:`BatchPolling`) and maps the output back to
the inputs. Each operation is a generator of :class:`Op` (the pattern of
``resources/_steps.py``); only :func:`run_sync` and :func:`run_async` know the client and
how to sleep. The job's metadata records the inputs' count and the prompt that ran, so a
later process needs only the job id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from .._call import Call
from .._errors import BatchLineError, PortkeyConfigError, PortkeyError
from .._options import RequestOptions
from .._request import call_body
from .._response import Completion, RenderedPrompt, ResponseInfo
from .polling import BatchPolling

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate
    from ..types import Batch, BatchResult
    from .settings import PortkeyClientSettings, PortkeySettings

__all__ = [
    "BatchPolling",
    "Ops",
    "Outcome",
    "collect_ops",
    "job_ops",
    "job_prompt",
    "prefetch",
    "run_async",
    "run_ops",
    "run_sync",
    "submit_ops",
    "submitted_id",
]  # and the pure parts the tests read: lines, metadata, results, backoff, waiting

logger = logging.getLogger("portkey_integrations")

_T = TypeVar("_T")

ENDPOINTS = {"chat": "/v1/chat/completions", "text": "/v1/completions"}
META_FORMAT = "portkey_integrations"
META_INPUTS = "portkey_inputs"
META_PROMPT = "portkey_prompt_id"
META_VERSION = "portkey_prompt_version"
RENDER_CONCURRENCY = 8  # renders in flight on the async client (the sync one: one by one)

Outcome = Completion | BaseException  # what an input came to: its completion, or its error


def backoff_delays(
    initial: float,
    maximum: float,
    factor: float = 2.0,
    jitter: float = 0.0,
    rand: Callable[[], float] = random.random,
) -> Iterator[float]:
    """The waits between polls: ``initial``, times ``factor`` each poll, capped at
    ``maximum``; ``jitter`` (0 to 1) takes up to that fraction off each wait (never
    over the cap), so many waiting processes do not poll in step."""
    delay = min(initial, maximum)
    while True:
        yield delay * (1.0 - jitter * rand())
        delay = min(delay * factor, maximum)


def _line(index: int, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"custom_id": str(index), "method": "POST", "url": url, "body": dict(body)}


def direct_line(index: int, call: Call) -> dict[str, Any]:
    """The line of a gateway call: the body the client would send, without ``stream``."""
    if call.prompt_id is not None:
        raise PortkeyConfigError("a prompt call is rendered before it becomes a batch line")
    route, body = call_body(call, stream=False)
    body.pop("stream", None)
    return _line(index, ENDPOINTS[route], body)


def rendered_line(index: int, rendered: RenderedPrompt) -> dict[str, Any]:
    """The line of a rendered prompt call: what Portkey would send, as it rendered it."""
    body = {k: v for k, v in rendered.data.items() if k != "stream"}
    if isinstance(body.get("messages"), list):
        return _line(index, ENDPOINTS["chat"], body)
    if isinstance(body.get("prompt"), str):
        return _line(index, ENDPOINTS["text"], body)
    raise PortkeyConfigError("the prompt's render holds neither messages nor a prompt")


def encode_lines(lines: Sequence[Mapping[str, Any]]) -> bytes:
    """The job's input file: one JSON object per line."""
    return "".join(
        json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines
    ).encode()


def batch_metadata(inputs: int, prompt_id: str | None, version: int | None) -> dict[str, str]:
    """What the job records for a later process: the inputs' count, the prompt that ran."""
    meta = {META_FORMAT: 1, META_INPUTS: inputs, META_PROMPT: prompt_id, META_VERSION: version}
    return {key: str(value) for key, value in meta.items() if value is not None}


def _missing(index: int, why: str) -> BatchLineError:
    return BatchLineError(why, custom_id=str(index), code="missing")


def _outcome(result: BatchResult, version: int | None) -> Outcome:
    try:
        completion = result.completion()  # raises the line's BatchLineError
    except PortkeyError as exc:
        return exc
    completion._info = ResponseInfo(prompt_version=version)
    return completion


def map_results(
    results: Sequence[BatchResult], inputs: int, *, version: int | None = None
) -> list[Outcome]:
    """The output lines in input order (``custom_id`` is the index; an input with no line
    gets a :class:`BatchLineError`); completions report prompt ``version``."""
    outcomes: list[Outcome | None] = [None] * inputs
    for result in results:
        index = int(result.custom_id) if result.custom_id.isdigit() else -1
        if 0 <= index < inputs:
            outcomes[index] = _outcome(result, version)
    return [
        _missing(i, f"the job has no output line for input {i}") if outcome is None else outcome
        for i, outcome in enumerate(outcomes)
    ]


def job_prompt(batch: Batch) -> str | None:
    """The prompt reference a job's metadata records (``None`` on the gateway route)."""
    value = (batch.metadata or {}).get(META_PROMPT)
    return value if isinstance(value, str) else None


def _int_meta(batch: Batch, key: str) -> int | None:
    value = (batch.metadata or {}).get(key)
    return int(value) if isinstance(value, str) and value.isdigit() else None


class Op(NamedTuple):
    """What an operation asks its runner to do: ``files`` / ``batches`` (call ``name``
    on that resource), ``render`` (a list of calls: results or errors), ``sleep``."""

    kind: Literal["files", "batches", "render", "sleep"]
    name: str = ""
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = {}


Ops = Generator[Op, Any, _T]
# The job (None if no input could be sent) and the inputs that failed before it.
Submission = tuple["Batch | None", dict[int, BaseException]]


def submitted_id(submission: Submission) -> str:
    """The id of a submitted job (an empty list of inputs makes no job)."""
    if submission[0] is None:
        raise PortkeyConfigError("a batch job needs at least one input")
    return submission[0].id


def submit_ops(calls: Sequence[Call | BaseException], *, fail_fast: bool) -> Ops[Submission]:
    """Build the lines (an error in ``calls`` stays at its index), upload them and
    create the job; ``fail_fast`` raises the first error before anything is uploaded."""
    errors = {i: c for i, c in enumerate(calls) if isinstance(c, BaseException)}
    if fail_fast and errors:
        raise errors[min(errors)]
    lines: dict[int, dict[str, Any]] = {}
    prompts: dict[int, Call] = {}
    for i, call in enumerate(calls):
        if isinstance(call, Call):
            if call.prompt_id is None:
                lines[i] = direct_line(i, call)
            else:
                prompts[i] = call
    version: int | None = None
    if prompts:
        rendered = yield Op("render", args=(list(prompts.values()), fail_fast))
        for i, result in zip(prompts, rendered, strict=True):
            if isinstance(result, BaseException):
                errors[i] = result
            else:
                lines[i] = rendered_line(i, result)
                version = version or result.portkey.prompt_version
    if not lines:
        return None, errors
    urls = {line["url"] for line in lines.values()}
    if len(urls) > 1:
        raise PortkeyConfigError("one batch job runs one endpoint: chat and text calls mixed")
    prompt_ids = {call.prompt_id for call in prompts.values()}
    prompt_id = prompt_ids.pop() if len(prompt_ids) == 1 else None
    data = encode_lines([lines[i] for i in sorted(lines)])
    file = yield Op("files", "create", (("batch_input.jsonl", data),), {"purpose": "batch"})
    meta = batch_metadata(len(calls), prompt_id, version)
    batch = yield Op(
        "batches",
        "create",
        kwargs={"input_file_id": file.id, "endpoint": urls.pop(), "metadata": meta},
    )
    logger.info("batch %s submitted: %d lines", batch.id, len(lines))
    return batch, errors


def wait_ops(
    batch_id: str, polling: BatchPolling, clock: Callable[[], float] = time.monotonic
) -> Ops[Batch]:
    """Poll the job until it ends (see :class:`BatchPolling`)."""
    start = clock()
    delays = backoff_delays(
        polling.initial_delay, polling.max_delay, polling.factor, polling.jitter
    )
    last = None
    while True:
        batch: Batch = yield Op("batches", "retrieve", (batch_id,))
        counts = batch.request_counts
        done = f", {counts.completed}/{counts.total} done, {counts.failed} failed" if counts else ""
        if (batch.status, done) != last:  # a log line per change, not per poll
            logger.info("batch %s: %s%s", batch.id, batch.status, done)
        last = (batch.status, done)
        if polling.on_progress is not None:
            polling.on_progress(batch)
        if batch.done:
            return batch
        delay = next(delays)
        if polling.timeout is not None:
            left = polling.timeout - (clock() - start)
            if left <= 0:
                raise TimeoutError(
                    f"batch {batch_id} is still {batch.status} after {polling.timeout:g} s; "
                    "it runs on: retrieve it later by its id"
                )
            delay = min(delay, left)
        yield Op("sleep", args=(delay,))


def collect_ops(
    batch_id: str, polling: BatchPolling, clock: Callable[[], float] = time.monotonic
) -> Ops[tuple[Batch, list[Outcome]]]:
    """Wait for the job and map its output to the inputs (from the job id alone)."""
    batch = yield from wait_ops(batch_id, polling, clock)
    batch.raise_for_status()  # BatchError: failed, expired or cancelled
    results = yield Op("batches", "output", (batch.id,))
    counts = batch.request_counts
    inputs = _int_meta(batch, META_INPUTS) or (counts.total if counts else len(results))
    return batch, map_results(results, inputs, version=_int_meta(batch, META_VERSION))


def run_ops(
    calls: Sequence[Call | BaseException], polling: BatchPolling, *, fail_fast: bool
) -> Ops[tuple[Batch | None, list[Outcome]]]:
    """Submit, wait and collect: one outcome per call, the errors found before the job
    at their index (``fail_fast``: raised at once, before anything is uploaded)."""
    batch, errors = yield from submit_ops(calls, fail_fast=fail_fast)
    outcomes: list[Outcome] = [_missing(i, f"input {i} was not sent") for i in range(len(calls))]
    if batch is not None:
        batch, outcomes = yield from collect_ops(batch.id, polling)
    for index, error in errors.items():
        outcomes[index] = error
    return batch, outcomes


def job_ops(batch_id: str, name: Literal["retrieve", "cancel"]) -> Ops[Batch]:
    """The job's status, or cancel it."""
    batch: Batch = yield Op("batches", name, (batch_id,))
    return batch


def _saved_key(saved: PromptTemplate | None) -> RequestOptions | None:
    """The routing of a job on a prompt's saved virtual key, or ``None``."""
    key = saved.virtual_key if saved is not None else None
    return RequestOptions.make(virtual_key=key) if key else None


def run_sync(settings: PortkeyClientSettings, ops: Ops[_T], prompt_id: str | None = None) -> _T:
    """Run an operation with the settings' sync client; a client without routing of its
    own runs ``prompt_id``'s job on the virtual key saved on the prompt."""
    from .._templates.cache import get_template

    client, options = settings.client, None
    if prompt_id is not None and not client.options.routed:
        options = _saved_key(get_template(client, prompt_id))
    result: Any = None
    try:
        while True:
            op, result = ops.send(result), None
            if op.kind == "sleep":
                time.sleep(op.args[0])
            elif op.kind == "render":
                result = [_render(client.render_call, call, op.args[1]) for call in op.args[0]]
            else:
                method = getattr(getattr(client, op.kind), op.name)
                result = method(*op.args, options=options, **op.kwargs)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def prefetch(settings: PortkeySettings) -> None:
    """Cache the prompt's template via the async client: building calls then never blocks."""
    if settings.full_prompt_id is not None and settings.mapping_check != "off":
        from .._templates.cache import aget_template

        await aget_template(settings.async_client, settings.full_prompt_id)


async def run_async(
    settings: PortkeyClientSettings, ops: Ops[_T], prompt_id: str | None = None
) -> _T:
    """Run an operation with the settings' async client (see :func:`run_sync`)."""
    from .._templates.cache import aget_template

    client, options = settings.async_client, None
    if prompt_id is not None and not client.options.routed:
        options = _saved_key(await aget_template(client, prompt_id))
    result: Any = None
    try:
        while True:
            op, result = ops.send(result), None
            if op.kind == "sleep":
                await asyncio.sleep(op.args[0])
            elif op.kind == "render":
                result = await _render_all(client.render_call, op.args[0], op.args[1])
            else:
                method = getattr(getattr(client, op.kind), op.name)
                result = await method(*op.args, options=options, **op.kwargs)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _render(render: Callable[[Call], RenderedPrompt], call: Call, fail_fast: bool) -> Any:
    try:
        return render(call)
    except PortkeyError as exc:
        return _kept(exc, fail_fast)


def _kept(exc: PortkeyError, fail_fast: bool) -> PortkeyError:
    if fail_fast:  # else the error is kept at its input's index
        raise exc
    return exc


async def _render_all(render: Callable[[Call], Any], calls: list[Call], fail_fast: bool) -> Any:
    gate = asyncio.Semaphore(RENDER_CONCURRENCY)

    async def one(call: Call) -> Any:
        async with gate:
            try:
                return await render(call)
            except PortkeyError as exc:
                return _kept(exc, fail_fast)

    return await asyncio.gather(*(one(call) for call in calls))
