"""The typed call: its checks, its helpers, the builders that make it from settings, and
parity: the sync and async clients send the same request for the same call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portkey_integrations import (
    AsyncPortkeyClient,
    MissingVariableError,
    PortkeyClient,
    PortkeyConfigError,
    RequestOptions,
)
from portkey_integrations import _call as calls
from portkey_integrations._adapters.settings import PortkeySettings
from portkey_integrations._call import Call
from portkey_integrations._request import parse_prompt_ref
from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations._templates.template import PortkeyTemplate
from portkey_integrations.server import LocalPortkeyServer
from portkey_integrations.server.state import ReceivedRequest

VARIABLES = {"topic": "tides", "question": "why?"}
TRACE = RequestOptions(trace_id="tr-1", metadata={"team": "core"})

CALLS = {
    "prompt": Call(prompt_id="pp-core", variables=VARIABLES),
    "prompt version, params, options": Call(
        prompt_id="pp-core@2",
        variables={"question": "q", "history": [{"role": "user", "content": "hi"}]},
        raw_variables=frozenset({"history"}),
        params={"temperature": 0.2, "max_tokens": 7},
        options=TRACE,
    ),
    "prompt label, checked": Call(
        prompt_id="pp-core@staging", variables={"question": "q"}, check_variables="warn"
    ),
    "chat": Call(
        messages=[{"role": "user", "content": "plain"}],
        params={"model": "portkey-local", "seed": 3},
        options=TRACE,
    ),
    "text": Call(prompt="Say", params={"model": "portkey-local", "max_tokens": 5}),
}


def _sent(server: LocalPortkeyServer) -> tuple[str, str, dict[str, str], Any]:
    last: ReceivedRequest = server.requests[-1]
    return last.method, last.path, last.headers, last.body


def _both(
    server: LocalPortkeyServer,
    sync: PortkeyClient,
    aio: AsyncPortkeyClient,
    run_sync: Any,
    run_async: Any,
) -> tuple[Any, Any]:
    run_sync(sync)
    by_sync = _sent(server)
    asyncio.run(run_async(aio))
    return by_sync, _sent(server)


@pytest.fixture
def faces(server: LocalPortkeyServer) -> tuple[PortkeyClient, AsyncPortkeyClient]:
    options: dict[str, Any] = {"base_url": server.base_url, "api_key": "pk-test-secret"}
    return PortkeyClient(provider="openai", **options), AsyncPortkeyClient(
        provider="openai", **options
    )


@pytest.mark.parametrize("name", list(CALLS))
def test_send_call_parity(
    name: str, server: LocalPortkeyServer, faces: tuple[PortkeyClient, AsyncPortkeyClient]
) -> None:
    call = CALLS[name]

    async def run_async(client: AsyncPortkeyClient) -> None:
        await client.send_call(call)

    by_sync, by_async = _both(server, *faces, lambda c: c.send_call(call), run_async)
    assert by_sync == by_async
    method, path, headers, body = by_sync
    assert method == "POST"
    assert body["stream"] is False
    if call.options is not None:
        assert headers["x-portkey-trace-id"] == "tr-1"
    if call.prompt_id is not None:
        assert path == f"/v1/prompts/{call.prompt_id}/completions"
        assert body["variables"] == {
            k: v if k in call.raw_variables else str(v) for k, v in call.variables.items()
        }
    assert {k: body[k] for k in call.params if k != "max_tokens"} == {
        k: v for k, v in call.params.items() if k != "max_tokens"
    }


@pytest.mark.parametrize("name", ["prompt", "chat", "text"])
def test_stream_call_parity(
    name: str, server: LocalPortkeyServer, faces: tuple[PortkeyClient, AsyncPortkeyClient]
) -> None:
    call = CALLS[name]

    def run_sync(client: PortkeyClient) -> None:
        with client.stream_call(call) as stream:
            assert list(stream)

    async def run_async(client: AsyncPortkeyClient) -> None:
        async with await client.stream_call(call) as stream:
            assert [chunk async for chunk in stream]

    by_sync, by_async = _both(server, *faces, run_sync, run_async)
    assert by_sync == by_async
    assert by_sync[3]["stream"] is True
    assert by_sync[2]["accept"] == "text/event-stream"


def test_render_call_parity(
    server: LocalPortkeyServer, faces: tuple[PortkeyClient, AsyncPortkeyClient]
) -> None:
    call = CALLS["prompt version, params, options"]
    results: list[Any] = []

    async def run_async(client: AsyncPortkeyClient) -> None:
        results.append(await client.render_call(call))

    by_sync, by_async = _both(
        server, *faces, lambda c: results.append(c.render_call(call)), run_async
    )
    assert by_sync == by_async
    assert by_sync[1] == "/v1/prompts/pp-core@2/render"
    assert "stream" not in by_sync[3]
    assert results[0] == results[1]
    assert results[0].messages == [{"role": "user", "content": "v2 q"}]


def test_keyword_methods_send_what_their_call_sends(
    server: LocalPortkeyServer, client: PortkeyClient
) -> None:
    client.complete(
        prompt_id="pp-core",
        variables=VARIABLES,
        hyperparameters={"temperature": 0.5, "seed": 1},
        seed=2,
        options=TRACE,
    )
    by_keywords = _sent(server)
    client.send_call(
        Call(
            prompt_id="pp-core",
            variables=VARIABLES,
            params={"temperature": 0.5, "seed": 2},
            options=TRACE,
        )
    )
    assert _sent(server) == by_keywords
    assert by_keywords[3]["seed"] == 2  # a keyword wins over ``hyperparameters``


@pytest.mark.parametrize("face", ["sync", "async"])
def test_checked_call_fails_before_sending(
    face: str, server: LocalPortkeyServer, faces: tuple[PortkeyClient, AsyncPortkeyClient]
) -> None:
    call = Call(prompt_id="pp-core", variables={"question": "q"}, check_variables="error")
    before = len(server.requests)
    with pytest.raises(MissingVariableError, match="'topic'") as caught:
        if face == "sync":
            faces[0].send_call(call)
        else:
            asyncio.run(faces[1].send_call(call))
    assert len(server.requests) == before
    assert caught.value.code == "missing_variable"
    assert caught.value.status_code is None  # raised before anything was sent
    assert not str(caught.value).startswith("Error code")


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_carried_template_is_checked_without_reading_the_cache(
    face: str,
    server: LocalPortkeyServer,
    faces: tuple[PortkeyClient, AsyncPortkeyClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An adapter that read the saved template for its own rule hands it to the core,
    # which checks against it instead of reading the prompt cache a second time.
    reads: list[str] = []
    monkeypatch.setattr(prompt_cache, "get", lambda client, ref: reads.append(ref))
    monkeypatch.setattr(prompt_cache, "aget", lambda client, ref: reads.append(ref))
    saved = PortkeyTemplate(
        prompt_id="pp-core", template='[{"role":"user","content":"{{topic}}"}]', kind="chat"
    )
    call = Call(
        prompt_id="pp-core", variables={"question": "q"}, check_variables="error", template=saved
    )
    with pytest.raises(MissingVariableError, match="'topic'"):
        if face == "sync":
            faces[0].send_call(call)
        else:
            asyncio.run(faces[1].send_call(call))
    assert reads == [] and server.requests == []
    # "off" checks nothing, carried template or not.
    off = Call(prompt_id="pp-core", variables=VARIABLES, check_variables="off", template=saved)
    assert faces[0].send_call(off).choices
    assert reads == [] and server.requests[-1].variables == VARIABLES


def test_render_call_needs_a_prompt(client: PortkeyClient) -> None:
    with pytest.raises(PortkeyConfigError, match="prompt_id"):
        client.render_call(CALLS["chat"])


# --- the call itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"prompt_id": "pp-x", "messages": []},
        {"prompt": "a", "messages": []},
        {"prompt_id": "pp-x", "prompt": "a"},
    ],
)
def test_exactly_one_target(fields: dict[str, Any]) -> None:
    with pytest.raises(PortkeyConfigError, match="exactly one"):
        Call(**fields)


def test_params_may_not_repeat_call_fields() -> None:
    with pytest.raises(PortkeyConfigError, match="'variables'"):
        Call(prompt_id="pp-x", params={"variables": {}})


def test_check_mode_is_checked() -> None:
    with pytest.raises(PortkeyConfigError, match="check_variables"):
        Call(prompt_id="pp-x", check_variables="loud")  # type: ignore[arg-type]


def test_derived_copies() -> None:
    call = Call(prompt_id="pp-x", variables={"a": 1}, params={"seed": 1}, options=TRACE)
    assert call.route == "prompt"
    assert call.prompt_ref == ("pp-x", None)
    assert Call(prompt_id="pp-x@prod").prompt_ref == ("pp-x", "prod")
    assert Call(prompt="a").prompt_ref is None
    assert Call(messages=[]).route == "chat" and Call(prompt="").route == "text"
    assert call.with_options(None) is call
    assert call.with_params({}) is call
    traced = call.with_options(RequestOptions(trace_id="tr-2"))
    assert traced.options == RequestOptions(trace_id="tr-2", metadata={"team": "core"})
    assert call.options == TRACE  # the original is unchanged
    assert Call(prompt="a").with_options(TRACE).options is TRACE
    assert call.with_params({"seed": 2, "n": 1}).params == {"seed": 2, "n": 1}
    more = call.with_variables({"b": [1]}, raw=frozenset({"b"}))
    assert more.variables == {"a": 1, "b": [1]} and more.raw_variables == {"b"}
    with pytest.raises(AttributeError):
        call.prompt_id = "pp-y"  # type: ignore[misc]
    # A carried template is neither shown nor compared (it is the cache's copy).
    saved = PortkeyTemplate(prompt_id="pp-x", template="{{a}}", kind="text")
    assert Call(prompt_id="pp-x", template=saved) == Call(prompt_id="pp-x")
    assert "template" not in repr(Call(prompt_id="pp-x", template=saved))
    assert call.with_variables({"b": 1}).template is None


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("pp-abc", ("pp-abc", None)),
        ("pp-abc@12", ("pp-abc", "12")),
        ("pp-abc@production", ("pp-abc", "production")),
        ("pp-abc@latest", ("pp-abc", "latest")),
        ("pp-abc@a@b", ("pp-abc", "a@b")),
    ],
)
def test_parse_prompt_ref(ref: str, parsed: tuple[str, str | None]) -> None:
    assert parse_prompt_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["", " ", "@12", "pp-abc@", None])
def test_parse_prompt_ref_rejects(ref: Any) -> None:
    with pytest.raises(PortkeyConfigError):
        parse_prompt_ref(ref)


# --- building a call from settings ----------------------------------------------------


def _settings(**fields: Any) -> PortkeySettings:
    return PortkeySettings(base_url="http://127.0.0.1:9/v1", **fields)


def test_prompt_call_from_settings() -> None:
    settings = _settings(
        prompt_id="pp-x",
        prompt_version=3,
        variables={"a": "model", "b": "model"},
        temperature=0.1,
        check_variables="error",
    )
    history = [{"role": "user", "content": "hi"}]
    call = calls.prompt_call(
        settings,
        input_variables={"b": "input", "chat_history": history},
        call_variables={"c": "call"},
        params={"temperature": 0.9},
        options=TRACE,
    )
    assert call == Call(
        prompt_id="pp-x@3",
        variables={"a": "model", "b": "input", "chat_history": history, "c": "call"},
        raw_variables=frozenset({"chat_history"}),
        params={"temperature": 0.9},
        options=TRACE,
        check_variables="error",
    )
    assert calls.prompt_call(settings, prompt_id="pp-other").prompt_id == "pp-other"
    with pytest.raises(PortkeyConfigError, match="prompt_id"):
        calls.prompt_call(_settings())


def test_direct_call_from_settings() -> None:
    settings = _settings(model="m", max_tokens=4)
    messages = [{"role": "user", "content": "hi"}]
    assert calls.direct_call(settings, {"messages": messages}, params={"n": 2}) == Call(
        messages=messages, params={"model": "m", "max_tokens": 4, "n": 2}
    )
    assert calls.direct_call(settings, {"prompt": "x"}).prompt == "x"
    with pytest.raises(PortkeyConfigError, match="need a prompt_id"):
        calls.direct_call(settings, {"prompt": "x"}, variables_given=True)
