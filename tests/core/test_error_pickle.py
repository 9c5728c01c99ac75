"""Every exception of the package survives pickle, deepcopy and a process boundary with its
class and every attribute; the errors come from real responses of the local server."""

from __future__ import annotations

import copy
import json
import multiprocessing
import pickle
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import portkey_integrations as pk
from portkey_integrations import _errors
from portkey_integrations.server import Fault, LocalPortkeyServer

SECRET = "pk-pickle-secret"
CHAT = [{"role": "user", "content": "hi"}]
FIELDS = (
    "status_code",
    "message",
    "body",
    "code",
    "type",
    "param",
    "trace_id",
    "headers",
    "url",
    "chunks",
    "variable",
    "prompt_id",
    "failure",
    "batch_id",
    "status",
    "errors",
    "custom_id",
)
_MISSING = object()


def client(server: LocalPortkeyServer, **kwargs: Any) -> pk.PortkeyClient:
    kwargs.setdefault("max_retries", 0)
    return pk.PortkeyClient(base_url=server.base_url, api_key=SECRET, **kwargs)


def caught(call: Callable[[], object]) -> pk.PortkeyError:
    with pytest.raises(pk.PortkeyError) as info:
        call()
    return info.value


Factory = Callable[[LocalPortkeyServer], pk.PortkeyError]
Call = Callable[[pk.PortkeyClient], object]


def joke(c: pk.PortkeyClient) -> object:
    return c.complete(prompt_id="pp-joke", variables={})


def failing(call: Call = joke, fault: dict[str, Any] | None = None, **options: Any) -> Factory:
    """The error ``call`` raises against the local server, after registering ``fault``."""

    def make(server: LocalPortkeyServer) -> pk.PortkeyError:
        if fault is not None:
            server.add_fault(Fault(**fault))
        c = client(server, **options)
        return caught(lambda: call(c))

    return make


def status(code: int, **fault: Any) -> Factory:
    return failing(fault={"kind": "status", "status": code, **fault})


def stream(kind: str) -> Factory:
    def call(c: pk.PortkeyClient) -> object:
        return list(c.stream(prompt_id="pp-joke", variables={"topic": "a b c d"}))

    return failing(call, {"kind": kind, "after_chunks": 2})


def prompt(prompt_id: str, template: str, variables: dict[str, Any], **kw: Any) -> Factory:
    def make(server: LocalPortkeyServer) -> pk.PortkeyError:
        if prompt_id not in set(server.store.ids()):  # the store outlives resets
            server.register(prompt_id, template, kind="chat")
        c = client(server)
        return caught(lambda: c.complete(prompt_id=prompt_id, variables=variables, **kw))

    return make


def offline_render(server: LocalPortkeyServer) -> pk.PortkeyError:
    """The offline render of a saved template naming a partial by an unset variable."""
    prompt_id = "pp-pickle-offline-render"
    if prompt_id not in set(server.store.ids()):
        server.register(prompt_id, '[{"role": "user", "content": "{{>>which}}"}]', kind="chat")
    template = pk.load_template(client(server), prompt_id)
    return caught(lambda: template.render({}))


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def connection_error(server: LocalPortkeyServer) -> pk.PortkeyError:
    offline = pk.PortkeyClient(base_url=closed_port(), api_key=SECRET, max_retries=0)
    return caught(lambda: joke(offline))


def finished_batch(server: LocalPortkeyServer, url: str) -> tuple[pk.PortkeyClient, str]:
    """A batch of two lines, run to its end (``url`` other than the endpoint fails it)."""
    c = client(server, provider="openai")
    body = {"model": "portkey-local", "messages": CHAT}
    lines = [{"custom_id": str(i), "method": "POST", "url": url, "body": body} for i in range(2)]
    uploaded = c.files.create(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    batch = c.batches.create(input_file_id=uploaded.id)
    for _ in range(2000):
        if c.batches.retrieve(batch.id).done:
            return c, batch.id
        time.sleep(0.005)
    raise AssertionError("the batch did not finish")


def failed_batch(server: LocalPortkeyServer) -> pk.PortkeyError:
    c, batch_id = finished_batch(server, "/v1/completions")
    return caught(lambda: c.batches.output(batch_id))


def failed_batch_line(server: LocalPortkeyServer) -> pk.PortkeyError:
    server.batch_faults(fail_lines={"1"})
    c, batch_id = finished_batch(server, "/v1/chat/completions")
    failed = [r for r in c.batches.output(batch_id) if r.custom_id == "1"]
    return caught(failed[0].completion)


FACTORIES: dict[str, Factory] = {
    "PortkeyError": lambda server: pk.PortkeyError("a plain error"),
    "PortkeyConfigError": failing(lambda c: c.complete(prompt_id="pp-joke", messages=CHAT)),
    "VariableEncodingError": failing(
        lambda c: c.complete(prompt_id="pp-joke", variables={"topic": object()})
    ),
    "APIConnectionError": connection_error,
    "APITimeoutError": failing(fault={"kind": "stall", "delay": 5}, timeout=0.2),
    "APIResponseValidationError": failing(fault={"kind": "non_json", "status": 200}),
    "APIStatusError": status(418),
    "BadRequestError": failing(
        lambda c: c.complete(prompt_id="pp-joke", variables={}, temperature=7)
    ),
    "MissingVariableError": prompt(
        "pp-pickle-var-partial", '[{"role": "user", "content": "{{>>which}}"}]', {}
    ),
    "TemplateError": prompt(
        "pp-pickle-partial", '[{"role": "user", "content": "{{>pp-absent}}"}]', {}
    ),
    "TemplateRenderError": prompt(
        "pp-pickle-splice",
        '[{{history}}, {"role": "user", "content": "x"}]',
        {"history": []},
        raw_variables=["history"],
    ),
    "AuthenticationError": status(401),
    "PermissionDeniedError": status(403),
    "NotFoundError": failing(
        lambda c: c.complete(
            messages=CHAT, model="portkey-local", options=pk.RequestOptions(provider="openai")
        ),
        {"kind": "status", "status": 404, "route": "chat_completions"},
    ),
    # Raised by the adapters; the core only defines it.
    "PromptMappingError": lambda server: pk.PromptMappingError(
        "the image has no slot", prompt_id="pp-joke", piece="image", fix="add {{input_parts}}"
    ),
    "PromptRenderError": offline_render,
    "PromptNotFoundError": failing(lambda c: c.complete(prompt_id="pp-joke@999", variables={})),
    "RequestTimeoutError": status(408),
    "ConflictError": status(409),
    "BudgetExceededError": status(412),
    "RateLimitError": status(429, retry_after=3),
    "GuardrailError": status(446),
    "InternalServerError": failing(fault={"kind": "non_json", "status": 503}),
    "BatchError": failed_batch,
    "BatchLineError": failed_batch_line,
    "StreamError": stream("error_event"),
    "TruncatedStreamError": stream("disconnect"),
}


def exception_names() -> list[str]:
    """Every exception class the package exports, at the top level or in ``_errors``."""
    found = {name: getattr(pk, name) for name in pk.__all__}
    found.update((name, getattr(_errors, name)) for name in _errors.__all__)
    return sorted(
        name
        for name, obj in found.items()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    )


def assert_same(copied: BaseException, original: BaseException) -> None:
    assert type(copied) is type(original)
    assert vars(copied) == vars(original)
    assert copied.args == original.args
    assert str(copied) == str(original) and repr(copied) == repr(original)
    for name in FIELDS:
        assert getattr(copied, name, _MISSING) == getattr(original, name, _MISSING), name


def test_every_exception_has_a_factory() -> None:
    assert set(exception_names()) == set(FACTORIES)


def test_every_core_exception_is_exported_at_the_top_level() -> None:
    missing = [name for name in _errors.__all__ if name not in pk.__all__]
    assert not missing, f"add to portkey_integrations.__all__: {missing}"


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_pickle_and_deepcopy_keep_everything(server: LocalPortkeyServer, name: str) -> None:
    original = FACTORIES[name](server)
    assert type(original) is getattr(_errors, name)
    original.add_note("added by the caller")  # an attribute no class declares
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert_same(pickle.loads(pickle.dumps(original, protocol)), original)
    assert_same(copy.deepcopy(original), original)
    assert_same(copy.copy(original), original)
    assert original.__notes__ == ["added by the caller"]


def test_real_errors_carry_their_fields(server: LocalPortkeyServer) -> None:
    # The pickling test compares these fields; make sure they were there to compare.
    limited = FACTORIES["RateLimitError"](server)
    assert isinstance(limited, pk.RateLimitError)
    assert limited.trace_id and limited.headers["retry-after"] == "3"
    assert limited.type == "rate_limit_error" and limited.prompt_id == "pp-joke"
    bad = FACTORIES["BadRequestError"](server)
    assert isinstance(bad, pk.BadRequestError) and bad.param == "temperature"
    truncated = FACTORIES["TruncatedStreamError"](server)
    assert isinstance(truncated, pk.TruncatedStreamError) and len(truncated.chunks) == 2
    offline = FACTORIES["APIConnectionError"](server)
    assert isinstance(offline, pk.APIConnectionError)
    invalid = FACTORIES["APIResponseValidationError"](server)
    assert isinstance(invalid, pk.APIResponseValidationError) and invalid.status_code == 200
    assert invalid.trace_id and "<html>" in invalid.body
    render = FACTORIES["PromptRenderError"](server)
    assert isinstance(render, pk.PromptRenderError) and render.failure == "partials"
    assert isinstance(render, pk.PortkeyConfigError) and "which" in str(render)
    batch = FACTORIES["BatchError"](server)
    assert isinstance(batch, pk.BatchError) and batch.status == "failed"
    assert batch.batch_id.startswith("batch_") and batch.errors[0]["line"] == 1
    line = FACTORIES["BatchLineError"](server)
    assert isinstance(line, pk.BatchLineError) and (line.custom_id, line.status_code) == ("1", 500)
    variable = FACTORIES["VariableEncodingError"](server)
    assert isinstance(variable, pk.VariableEncodingError) and variable.variable == "topic"


def rate_limited_call(base_url: str) -> None:
    """Runs in a child process: a real request that the server answers with 429."""
    pk.PortkeyClient(base_url=base_url, max_retries=0).complete(
        prompt_id="pp-joke@2", variables={"topic": "x", "adjective": "y"}
    )


@pytest.mark.slow  # a child process
def test_an_error_raised_in_a_child_process_keeps_its_class_and_fields(
    server: LocalPortkeyServer,
) -> None:
    server.add_fault(Fault(kind="status", status=429, retry_after=7, times=None))
    # spawn: a fresh interpreter, nothing shared with this one but the pickled error.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(rate_limited_call, server.base_url)
        with pytest.raises(pk.RateLimitError) as info:
            future.result(timeout=120)
    error = info.value
    assert type(error) is pk.RateLimitError
    assert error.status_code == 429 and error.prompt_id == "pp-joke@2"
    assert error.trace_id and error.trace_id in str(error)
    assert error.headers["retry-after"] == "7"
    assert error.type == "rate_limit_error"
    assert isinstance(error.body, dict) and error.body["error"]["type"] == "rate_limit_error"
    assert len(server.requests) == 1
