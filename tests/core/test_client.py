"""The core clients against the local Portkey-compatible server, sync and async alike."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from portkey_integrations import (
    APIConnectionError,
    APITimeoutError,
    AsyncPortkeyClient,
    AuthenticationError,
    BadRequestError,
    Completion,
    CompletionChunk,
    InternalServerError,
    PortkeyClient,
    PortkeyConfigError,
    PromptNotFoundError,
    RateLimitError,
    RenderedPrompt,
    RequestOptions,
    StreamError,
    TruncatedStreamError,
)
from portkey_integrations._pools import origin_of, sync_sender
from portkey_integrations.server import Fault, LocalPortkeyServer

SECRET = "pk-test-secret"


class Api:
    """One face of the client: the sync one, or the async one driven by asyncio.run."""

    def __init__(self, kind: str, base_url: str, **kwargs: Any) -> None:
        self.kind = kind
        kwargs.setdefault("api_key", SECRET)
        self.sync = PortkeyClient(base_url=base_url, **kwargs)
        self.aio = AsyncPortkeyClient(base_url=base_url, **kwargs)

    def complete(self, **kw: Any) -> Completion:
        if self.kind == "sync":
            return self.sync.complete(**kw)
        return asyncio.run(self.aio.complete(**kw))

    def render(self, prompt_id: str, **kw: Any) -> RenderedPrompt:
        if self.kind == "sync":
            return self.sync.render(prompt_id, **kw)
        return asyncio.run(self.aio.render(prompt_id, **kw))

    def chunks(
        self, received: list[CompletionChunk] | None = None, **kw: Any
    ) -> list[CompletionChunk]:
        """All chunks of a stream; chunks that arrived before an error land in ``received``."""
        out = received if received is not None else []
        if self.kind == "sync":
            for chunk in self.sync.stream(**kw):
                out.append(chunk)
            return out

        async def run() -> list[CompletionChunk]:
            async for chunk in await self.aio.stream(**kw):
                out.append(chunk)
            return out

        return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, server: LocalPortkeyServer) -> Iterator[Api]:
    api = Api(request.param, server.base_url, provider="openai")
    yield api
    api.sync.close()


def text_of(chunks: list[CompletionChunk]) -> str:
    return "".join(c.choices[0].content for c in chunks if c.choices)


# --- calls ------------------------------------------------------------------------------


def test_prompt_completion(api: Api, server: LocalPortkeyServer) -> None:
    result = api.complete(prompt_id="pp-core", variables={"topic": "tides", "question": "why?"})
    assert result.object == "chat.completion"
    assert "why?" in result.content
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.total_tokens > 0
    assert result.usage.prompt_tokens_details is not None
    sent = server.requests[-1]
    assert sent.path == "/v1/prompts/pp-core/completions"
    assert sent.body == {"variables": {"topic": "tides", "question": "why?"}, "stream": False}


def test_prompt_stream(api: Api, server: LocalPortkeyServer) -> None:
    chunks = api.chunks(
        prompt_id="pp-core",
        variables={"topic": "t", "question": "stream me please"},
        stream_options={"include_usage": True},
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert "stream me please" in text_of(chunks)
    assert chunks[0].choices[0].delta is not None and chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert server.requests[-1].body["stream"] is True
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}


def test_render(api: Api) -> None:
    rendered = api.render("pp-core", variables={"topic": "stars", "question": "how far?"})
    assert rendered.success is True
    assert rendered.messages == [
        {"role": "system", "content": "Answer about stars."},
        {"role": "user", "content": "how far?"},
    ]
    assert rendered.params["model"] == "portkey-local"


def test_chat_completion_route(api: Api, server: LocalPortkeyServer) -> None:
    messages = [{"role": "user", "content": "plain chat"}]
    result = api.complete(messages=messages, model="portkey-local", max_tokens=50)
    assert "plain chat" in result.content
    sent = server.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.body == {
        "messages": messages,
        "model": "portkey-local",
        "max_completion_tokens": 50,
        "stream": False,
    }
    chunks = api.chunks(messages=messages, model="portkey-local")
    assert "plain chat" in text_of(chunks)


def test_text_completion_route(api: Api, server: LocalPortkeyServer) -> None:
    result = api.complete(prompt="Say this is a test", model="portkey-local", max_tokens=50)
    assert result.object == "text_completion"
    assert result.choices[0].text is not None and "Say this is a test" in result.content
    assert server.requests[-1].path == "/v1/completions"
    assert server.requests[-1].body["max_tokens"] == 50
    chunks = api.chunks(prompt="Say this is a test", model="portkey-local")
    assert chunks[0].object == "text_completion"
    assert "Say this is a test" in text_of(chunks)


def test_text_prompt_template(api: Api) -> None:
    result = api.complete(prompt_id="pp-core-text", variables={"question": "the end"})
    assert "Complete: the end" in result.content


def test_exactly_one_target_is_required(client: PortkeyClient) -> None:
    with pytest.raises(PortkeyConfigError, match="exactly one"):
        client.complete()
    with pytest.raises(PortkeyConfigError, match="exactly one"):
        client.complete(prompt_id="pp-core", prompt="x")


# --- prompt ids, versions, labels ----------------------------------------------------------


def test_versions_and_labels_reach_the_server(api: Api, server: LocalPortkeyServer) -> None:
    published = api.complete(prompt_id="pp-core", variables={"question": "q"})
    assert not published.content.startswith("v2") and "v2 q" not in published.content
    for suffix in ("@2", "@latest", "@staging"):
        result = api.complete(prompt_id=f"pp-core{suffix}", variables={"question": "q"})
        assert "v2 q" in result.content
        assert server.requests[-1].path == f"/v1/prompts/pp-core{suffix}/completions"


def test_unknown_prompt_and_hostile_ids(api: Api, server: LocalPortkeyServer) -> None:
    for bad in ("pp-nope", "pp-core@99", "../chat/completions"):
        with pytest.raises(PromptNotFoundError, match="Invalid prompt id") as info:
            api.complete(prompt_id=bad, variables={})
        assert info.value.status_code == 404
        assert info.value.trace_id
    assert server.requests[-1].path.startswith("/v1/prompts/..%2F")


def test_empty_prompt_id_sends_nothing(api: Api, server: LocalPortkeyServer) -> None:
    with pytest.raises(PortkeyConfigError):
        api.complete(prompt_id="", variables={})
    assert server.requests == []


# --- body ---------------------------------------------------------------------------------


def test_body_flattening_and_passthrough(api: Api, server: LocalPortkeyServer) -> None:
    api.complete(
        prompt_id="pp-core",
        variables={"question": "", "topic": 3},
        hyperparameters={"temperature": 0.5, "top_p": 0.9},
        max_tokens=40,
        my_custom_param={"nested": True},
    )
    body = server.requests[-1].body
    assert body == {
        "variables": {"question": "", "topic": 3},
        "temperature": 0.5,
        "top_p": 0.9,
        "max_completion_tokens": 40,
        "my_custom_param": {"nested": True},
        "stream": False,
    }


def test_lists_and_objects_go_as_json_values_and_json_text_as_a_string(
    api: Api, server: LocalPortkeyServer
) -> None:
    server.store.register(
        "pp-core-history",
        template='[{"role":"system","content":"Data: {{data}}"},'
        '{{#chat_history}}{{{.}}},{{/chat_history}}{"role":"user","content":"{{input}}"}]',
        model="portkey-local",
    )
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "yes"}]
    # raw_variables is accepted and changes nothing: the list goes as a JSON value anyway.
    api.complete(
        prompt_id="pp-core-history",
        variables={"data": json.dumps({"k": 'v "q"'}), "chat_history": history, "input": "now"},
        raw_variables={"chat_history"},
    )
    sent = server.requests[-1].body["variables"]
    assert sent["data"] == json.dumps({"k": 'v "q"'})
    assert sent["chat_history"] == history
    rendered = api.render(
        "pp-core-history",
        variables={"data": json.dumps({"k": "v"}), "chat_history": history, "input": "now"},
    )
    assert rendered.messages is not None
    assert [m["content"] for m in rendered.messages] == [
        'Data: {"k": "v"}',
        "earlier",
        "yes",
        "now",
    ]
    # An object pasted inside a JSON string breaks the template on Portkey: the same body
    # goes, and Portkey's 500 says so.
    with pytest.raises(InternalServerError) as info:
        api.render(
            "pp-core-history", variables={"data": {"k": "v"}, "chat_history": [], "input": "x"}
        )
    assert info.value.status_code == 500
    assert server.requests[-1].body["variables"]["data"] == {"k": "v"}


# --- headers ------------------------------------------------------------------------------


def test_headers_per_client_and_per_call(server: LocalPortkeyServer) -> None:
    with PortkeyClient(
        base_url=server.base_url,
        api_key=SECRET,
        virtual_key="vk-1",
        config="pc-1",
        trace_id="client-trace",
        metadata={"team": "a"},
        default_headers={"x-extra": "1"},
    ) as client:
        result = client.complete(
            prompt_id="pp-core",
            variables={},
            options=RequestOptions(trace_id="call-trace", metadata={"team": "b"}),
        )
    headers = server.requests[-1].headers
    assert headers["x-portkey-api-key"] == SECRET
    assert headers["x-portkey-virtual-key"] == "vk-1"
    assert headers["x-portkey-config"] == "pc-1"
    assert headers["x-portkey-trace-id"] == "call-trace"
    assert json.loads(headers["x-portkey-metadata"]) == {"team": "b"}
    assert headers["x-extra"] == "1"
    assert result.portkey.trace_id == "call-trace"
    assert result.portkey.provider
    assert result.portkey.retry_attempt_count == 0


def test_environment_configuration(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTKEY_API_KEY", "pk-from-env")
    monkeypatch.setenv("PORTKEY_BASE_URL", server.base_url)
    monkeypatch.setenv("PORTKEY_PROVIDER", "openai")
    client = PortkeyClient()
    assert client.base_url == server.base_url
    client.complete(prompt_id="pp-core", variables={})
    headers = server.requests[-1].headers
    assert headers["x-portkey-api-key"] == "pk-from-env"
    assert headers["x-portkey-provider"] == "openai"


def test_default_base_url_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PortkeyClient(api_key="k").base_url == "https://api.portkey.ai/v1"


# --- secrets ------------------------------------------------------------------------------


def test_api_key_never_shown(server: LocalPortkeyServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, provider_api_key="sk-prov")
    assert SECRET not in repr(client) and "sk-prov" not in repr(client)
    assert SECRET not in repr(client.options)
    server.add_fault(Fault(kind="status", status=500, times=1))
    client.complete(prompt_id="pp-core", variables={})
    with pytest.raises(PromptNotFoundError) as info:
        client.complete(prompt_id="pp-missing", variables={})
    text = str(info.value) + repr(info.value) + str(info.value.body) + caplog.text
    assert SECRET not in text and "sk-prov" not in text


# --- responses ----------------------------------------------------------------------------


def test_status_246_and_hook_results(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="hook_results", times=1))
    result = api.complete(prompt_id="pp-core", variables={"question": "guarded"})
    assert result.portkey.status_code == 246
    assert "guarded" in result.content
    assert result.model_extra and "hook_results" in result.model_extra


def test_hook_results_event_in_stream(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="hook_results", times=1))
    chunks = api.chunks(prompt_id="pp-core", variables={"question": "guarded stream"})
    assert chunks[0].choices == [] and chunks[0].model_extra
    assert "hook_results" in chunks[0].model_extra
    assert "guarded stream" in text_of(chunks)


def test_envelope_and_unknown_fields_are_tolerated() -> None:
    inner = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "end_turn",
                "message": {
                    "role": "assistant",
                    "content": "hi",
                    "content_blocks": [{"type": "text", "text": "hi"}],
                },
            }
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 1,
            "total_tokens": 2,
            "completion_tokens_details": {"reasoning_tokens": 1},
        },
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "200", "headers": {}, "body": inner})

    client = PortkeyClient(
        base_url="http://test/v1",
        api_key="k",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    result = client.complete(prompt_id="pp-x", variables={})
    assert result.content == "hi"
    assert result.choices[0].finish_reason == "end_turn"
    assert result.choices[0].message is not None
    assert result.choices[0].message.model_extra == {
        "content_blocks": [{"type": "text", "text": "hi"}]
    }
    assert result.usage is not None and result.usage.completion_tokens_details is not None
    assert result.usage.completion_tokens_details.reasoning_tokens == 1


# --- streams: faults ----------------------------------------------------------------------


def test_truncated_stream_delivers_chunks_then_raises(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=3, times=1))
    received: list[CompletionChunk] = []
    with pytest.raises(TruncatedStreamError) as info:
        api.chunks(received, prompt_id="pp-core", variables={"question": "a b c d e f g h"})
    assert len(received) == 3
    assert info.value.chunks == received
    assert len(server.requests) == 1  # never retried once a chunk arrived


@pytest.mark.parametrize("kind", ["error_event", "error_data"])
def test_error_event_mid_stream(api: Api, server: LocalPortkeyServer, kind: str) -> None:
    server.add_fault(Fault(kind=kind, after_chunks=2, times=1))
    received: list[CompletionChunk] = []
    with pytest.raises(StreamError) as info:
        api.chunks(received, prompt_id="pp-core", variables={"question": "a b c d e f"})
    assert not isinstance(info.value, TruncatedStreamError)
    assert len(received) == 2 and len(info.value.chunks) == 2
    assert info.value.message


def test_malformed_event(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="malformed_sse", after_chunks=1, times=1))
    with pytest.raises(StreamError, match="malformed"):
        api.chunks(prompt_id="pp-core", variables={"question": "a b c"})


@contextlib.contextmanager
def count_connects(base_url: str) -> Iterator[list[int]]:
    """Count the TCP connections the shared pool of ``base_url``'s origin opens."""
    sender = sync_sender(origin_of(httpx.URL(base_url)))
    backend: Any = sender._pool._network_backend  # type: ignore[union-attr]
    original = backend.connect_tcp
    connects = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        connects[0] += 1
        return original(*args, **kwargs)

    backend.connect_tcp = counting
    try:
        yield connects
    finally:
        backend.connect_tcp = original


@pytest.mark.slow  # 500 streams
def test_sequential_streams_reuse_connections(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET)
    with count_connects(server.base_url) as connects:
        for _ in range(500):
            for _ in client.stream(prompt_id="pp-core", variables={"question": "a b c"}):
                pass
    assert connects[0] <= 3
    assert len(server.requests) == 500


def test_closed_and_abandoned_streams_release_connections(server: LocalPortkeyServer) -> None:
    # Two connections at most and a short pool timeout: a leaked response would make
    # the third stream fail instead of passing.
    http = httpx.Client(limits=httpx.Limits(max_connections=2), timeout=httpx.Timeout(5, pool=2))
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, http_client=http)
    for i in range(60):
        stream = client.stream(prompt_id="pp-core", variables={"question": "a b c d"})
        first = next(iter(stream))
        assert first.choices
        if i % 2:
            stream.close()
        else:
            del stream, first  # abandoned: freed at once, which releases the response
    with client.stream(prompt_id="pp-core", variables={"question": "after"}) as stream:
        assert "after" in text_of(list(stream))


# --- errors and retries -------------------------------------------------------------------


def test_auth_failure(server: LocalPortkeyServer) -> None:
    with LocalPortkeyServer(api_key="pk-right") as guarded:
        with pytest.raises(AuthenticationError, match="Invalid API Key") as info:
            PortkeyClient(base_url=guarded.base_url, api_key="pk-wrong").complete(
                prompt_id="pp-joke", variables={}
            )
        assert info.value.status_code == 401
        assert "pk-wrong" not in str(info.value)
        ok = PortkeyClient(base_url=guarded.base_url, api_key="pk-right").complete(
            prompt_id="pp-joke", variables={"topic": "x"}
        )
        assert ok.choices


def test_bad_hyperparameter_is_not_retried(api: Api, server: LocalPortkeyServer) -> None:
    with pytest.raises(BadRequestError) as info:
        api.complete(prompt_id="pp-core", variables={}, temperature=7)
    assert info.value.param == "temperature"
    assert len(server.requests) == 1


def test_retries_on_429_then_succeeds(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=429, times=2, retry_after=0))
    result = api.complete(prompt_id="pp-core", variables={"question": "again"})
    assert "again" in result.content
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [408, 409, 500, 503])
def test_retryable_statuses_exhaust_max_retries(server: LocalPortkeyServer, status: int) -> None:
    server.add_fault(Fault(kind="status", status=status, times=10))
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, max_retries=3)
    with pytest.raises(Exception) as info:
        client.complete(prompt_id="pp-core", variables={})
    assert getattr(info.value, "status_code", None) == status
    assert len(server.requests) == 4


def test_rate_limit_error_after_retries(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=429, times=10, retry_after=0))
    with pytest.raises(RateLimitError):
        api.complete(prompt_id="pp-core", variables={})
    assert len(server.requests) == 3  # default max_retries=2


def test_no_retries_when_disabled(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=503, times=1))
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, max_retries=0)
    with pytest.raises(InternalServerError):
        client.complete(prompt_id="pp-core", variables={})
    assert len(server.requests) == 1


def test_stream_retried_before_first_chunk(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=502, times=1))
    chunks = api.chunks(prompt_id="pp-core", variables={"question": "retried stream"})
    assert "retried stream" in text_of(chunks)
    assert len(server.requests) == 2


def test_html_error_body_is_readable(api: Api, server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="non_json", times=10))
    with pytest.raises(InternalServerError) as info:
        api.complete(prompt_id="pp-core", variables={})
    assert "<" not in info.value.message and info.value.message
    assert isinstance(info.value.body, str)


def test_stalled_server_times_out(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="stall", delay=5, times=10))
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, timeout=0.2, max_retries=0)
    with pytest.raises(APITimeoutError):
        client.complete(prompt_id="pp-core", variables={})


def test_stalled_stream_times_out(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="stall", delay=5, times=10))
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, timeout=0.2, max_retries=0)
    with pytest.raises(APITimeoutError):
        for _ in client.stream(prompt_id="pp-core", variables={}):
            pass


def test_connection_refused_is_retried_then_raised() -> None:
    client = PortkeyClient(base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=1)
    with pytest.raises(APIConnectionError) as info:
        client.complete(prompt_id="pp-core", variables={})
    assert not isinstance(info.value, APITimeoutError)


async def test_async_client_serves_several_loops(server: LocalPortkeyServer) -> None:
    client = AsyncPortkeyClient(base_url=server.base_url, api_key=SECRET)
    first = await client.complete(prompt_id="pp-core", variables={"question": "loop one"})

    def other_loop() -> str:
        return asyncio.run(
            client.complete(prompt_id="pp-core", variables={"question": "two"})
        ).content

    second = await asyncio.get_running_loop().run_in_executor(None, other_loop)
    assert "loop one" in first.content and "two" in second
    results = await asyncio.gather(
        *(client.complete(prompt_id="pp-core", variables={"question": f"q{i}"}) for i in range(8))
    )
    assert [f"q{i}" in r.content for i in range(8) for r in [results[i]]] == [True] * 8


def test_timeouts_are_on_by_default_and_configurable() -> None:
    default = PortkeyClient(api_key="k").timeout
    assert (default.connect, default.read) == (5.0, 600.0)
    custom = AsyncPortkeyClient(api_key="k", timeout=30, connect_timeout=2).timeout
    assert (custom.connect, custom.read) == (2, 30)


async def test_async_stalled_stream_times_out(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="stall", delay=5, times=10))
    client = AsyncPortkeyClient(
        base_url=server.base_url, api_key=SECRET, timeout=0.2, max_retries=0
    )
    with pytest.raises(APITimeoutError):
        async for _ in await client.stream(prompt_id="pp-core", variables={}):
            pass
