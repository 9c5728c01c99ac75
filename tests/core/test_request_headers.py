"""A built request: the headers httpx would give it, a call's options replacing the
client's, the caller's own ``Host`` respected, the body readable and sent again on a
retry, and every header value checked on every call (cheaply: a known name and a clean
value cost one set lookup and one regex match)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from portkey_integrations import (
    AsyncPortkeyClient,
    PortkeyClient,
    PortkeyConfigError,
    RequestOptions,
)
from portkey_integrations._call import Call
from portkey_integrations._request import encode_headers, overlay_headers
from portkey_integrations.server import Fault, LocalPortkeyServer
from portkey_integrations.testing import fast_retries

BASE = "http://127.0.0.1:9/v1"
TRACE = RequestOptions(
    trace_id="tr-1", metadata={"team": "core"}, extra_headers={"x-portkey-span-id": "sp-1"}
)


def _reference(client: PortkeyClient, request: httpx.Request, body: Any) -> httpx.Request:
    """The request httpx builds itself from the same URL, headers and body."""
    headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
    content = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return httpx.Request(request.method, request.url, headers=headers, content=content)


@pytest.mark.parametrize(
    ("method", "path", "body", "options", "stream"),
    [
        ("POST", "/prompts/pp-x/completions", {"variables": {"a": "é"}}, None, False),
        ("POST", "/chat/completions", {"messages": []}, TRACE, False),
        ("POST", "/prompts/pp-x/completions", {"variables": {}}, TRACE, True),
        ("GET", "/prompts/pp-x", None, None, False),
        ("POST", "/files", None, TRACE, False),
    ],
)
def test_a_request_has_the_headers_httpx_would_give_it(
    method: str, path: str, body: Any, options: RequestOptions | None, stream: bool
) -> None:
    client = PortkeyClient(base_url=BASE, api_key="pk-x", provider="openai")
    request = client._request(method, path, body, options, stream)
    expected = _reference(client, request, body)
    assert request.headers.multi_items() == expected.headers.multi_items()
    assert request.read() == expected.read() and request.content == expected.content
    assert request.headers.get_list("host") == ["127.0.0.1:9"]
    accept = "text/event-stream" if stream else "application/json"
    assert request.headers["accept"] == accept
    assert request.extensions["timeout"] == client.timeout.as_dict()


@pytest.mark.parametrize(
    ("client", "call", "sent"),
    [
        ({"a": "1"}, {}, [(b"a", b"1")]),
        ({"a": "1", "b": "2"}, {"b": "3"}, [(b"a", b"1"), (b"b", b"3")]),
        ({"a": "1"}, {"c": "3"}, [(b"a", b"1"), (b"c", b"3")]),
        ({}, {"c": "3", "d": ""}, [(b"c", b"3"), (b"d", b"")]),
        ({"a": "1", "b": "2"}, {"a": "x", "b": "y"}, [(b"a", b"x"), (b"b", b"y")]),
    ],
)
def test_overlay_headers(client: dict[str, str], call: dict[str, str], sent: list[Any]) -> None:
    assert overlay_headers(encode_headers(client.items()), call) == sent


def test_a_calls_options_replace_the_clients_headers() -> None:
    client = PortkeyClient(
        base_url=BASE, api_key="pk-x", provider="openai", default_headers={"x-team": "a"}
    )
    options = RequestOptions(provider="anthropic", extra_headers={"X-Team": "b"})
    request = client._request("POST", "/chat/completions", {}, options)
    assert request.headers.get_list("x-portkey-provider") == ["anthropic"]
    assert request.headers.get_list("x-team") == ["b"]
    assert request.headers.get_list("x-portkey-api-key") == ["pk-x"]


@pytest.mark.parametrize("where", ["client", "call"])
def test_a_host_of_the_callers_own_is_sent_once(where: str) -> None:
    own = {"host": "gateway.internal"}
    client = PortkeyClient(base_url=BASE, default_headers=own if where == "client" else None)
    options = RequestOptions(extra_headers=own) if where == "call" else None
    request = client._request("POST", "/chat/completions", {"messages": []}, options)
    assert request.headers.get_list("host") == ["gateway.internal"]
    assert request.headers.get_list("content-length") == [str(len(request.content))]


@pytest.mark.parametrize("face", ["sync", "async"])
def test_what_reaches_the_server_and_a_retry_sends_the_same_body(
    face: str, server: LocalPortkeyServer
) -> None:
    import asyncio

    server.add_fault(Fault(kind="status", status=503, times=1))
    call = Call(prompt_id="pp-core", variables={"topic": "tides", "question": "ü?"}, options=TRACE)
    options: dict[str, Any] = {"base_url": server.base_url, "api_key": "pk-x", "max_retries": 1}
    with fast_retries(0.0):
        if face == "sync":
            PortkeyClient(**options).send_call(call)
        else:
            asyncio.run(AsyncPortkeyClient(**options).send_call(call))
    first, second = server.requests[-2:]
    assert first.body == second.body and second.variables == dict(call.variables)
    assert second.headers["x-portkey-trace-id"] == "tr-1"
    assert second.headers["x-portkey-span-id"] == "sp-1"
    assert json.loads(second.headers["x-portkey-metadata"]) == {"team": "core"}


def test_a_user_http_client_sends_the_built_request(server: LocalPortkeyServer) -> None:
    with httpx.Client() as http:
        client = PortkeyClient(base_url=server.base_url, api_key="pk-x", http_client=http)
        client.send_call(Call(prompt_id="pp-core", variables={"topic": "t", "question": "q"}))
    assert server.requests[-1].variables == {"topic": "t", "question": "q"}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("line\nbreak", "line breaks"),
        ("bell\x07", "control characters"),
        ("caf\u00e9", "must be ASCII"),
        ("**********", "masked secret"),
    ],
)
def test_every_value_is_checked_on_every_call_under_a_name_already_seen(
    value: str, error: str
) -> None:
    name = "x-portkey-config"  # a masked secret is refused in a config too
    assert RequestOptions(extra_headers={name: "pc-fine"}).headers() == {name: "pc-fine"}
    with pytest.raises(PortkeyConfigError, match=error):
        RequestOptions(extra_headers={name: value}).headers()
    with pytest.raises(PortkeyConfigError, match="string value"):
        RequestOptions(extra_headers={name: 3}).headers()  # type: ignore[dict-item]


def test_traced_options_are_the_options_the_constructor_makes() -> None:
    import copy
    import pickle

    spans = {"x-portkey-span-id": "sp-1", "x-portkey-span-name": "Chain.invoke"}
    for trace_id, metadata, headers in [
        ("tr-1", {"team": "core"}, spans),
        (None, None, spans),
        (None, None, None),
    ]:
        fast = RequestOptions._traced(trace_id, metadata, headers)
        made = RequestOptions(trace_id=trace_id, metadata=metadata, extra_headers=headers)
        assert fast == made and repr(fast) == repr(made)
        assert fast.headers() == made.headers()
        assert pickle.loads(pickle.dumps(fast)) == made == copy.deepcopy(fast)
        assert RequestOptions(api_key="pk").merged(fast) == RequestOptions(api_key="pk").merged(
            made
        )
    with pytest.raises(PortkeyConfigError, match="line breaks"):
        RequestOptions._traced(None, None, {"x-portkey-span-name": "a\nb"}).headers()
