"""Properties of response parsing: any JSON a server sends gives a completion or a
package error, never a bare ``KeyError``, ``ValidationError`` or ``TypeError``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prop_scripted import ScriptedServer

from portkey_integrations import (
    APIResponseValidationError,
    APIStatusError,
    Completion,
    PortkeyClient,
    PortkeyError,
    RenderedPrompt,
)
from portkey_integrations._response import parse_result

# No example database: nothing is written into the working tree.
FEW = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
MANY = settings(max_examples=300, deadline=None, database=None)


leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(["assistant", "stop", "chat.completion", "text_completion"])
)
# Keys the models know, so that the generated shapes hit their validators.
keys = st.sampled_from(
    [
        "id", "object", "choices", "message", "content", "text", "role", "tool_calls",
        "function", "arguments", "name", "usage", "prompt_tokens", "total_tokens", "index",
        "finish_reason", "body", "data", "success", "messages", "prompt", "delta", "type",
    ]
) | st.text(max_size=4)  # fmt: skip
shapes = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=14,
)


@pytest.fixture(scope="module")
def parser() -> PortkeyClient:
    return PortkeyClient(base_url="http://127.0.0.1:9/v1", api_key="pk-unused")


def parse(client: PortkeyClient, body: bytes, model: type[Any]) -> Any:
    # What the clients run on every successful completion or render.
    response = httpx.Response(200, content=body, headers={"x-portkey-trace-id": "t-1"})
    return parse_result(response, model)


def check(client: PortkeyClient, body: bytes, model: type[Any]) -> None:
    try:
        result = parse(client, body, model)
    except PortkeyError as exc:
        assert isinstance(exc, APIResponseValidationError) and exc.trace_id == "t-1"
        assert exc.status_code == 200
        return
    assert isinstance(result, model)
    assert result.portkey.trace_id == "t-1"
    if isinstance(result, Completion):
        # What the adapters read from every completion must not raise either.
        assert isinstance(result.content, str)
        for choice in result.choices:
            assert isinstance(choice.content, str)


@pytest.mark.slow  # a heavy property run
@MANY
@given(shape=shapes, model=st.sampled_from([Completion, RenderedPrompt]))
def test_any_json_parses_or_is_a_package_error(
    parser: PortkeyClient, shape: Any, model: type[Any]
) -> None:
    if isinstance(shape, dict) and "body" in shape and not isinstance(shape["body"], dict):
        # A non-object envelope body is the bug pinned below.
        shape = {k: v for k, v in shape.items() if k != "body"}
    check(parser, json.dumps(shape).encode(), model)


@MANY
@given(raw=st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_any_bytes_parse_or_are_a_package_error(parser: PortkeyClient, raw: bytes) -> None:
    check(parser, raw, Completion)


@pytest.mark.parametrize("body", [5, "x", [1], {"choices": "not a list"}])
def test_a_malformed_envelope_body_is_a_package_error(parser: PortkeyClient, body: Any) -> None:
    check(parser, json.dumps({"status": 200, "body": body}).encode(), Completion)


@FEW
@given(shape=shapes, status=st.sampled_from([200, 246, 400, 404, 429, 500, 502]))
def test_over_http_any_body_is_a_completion_or_a_package_error(
    scripted: ScriptedServer, shape: Any, status: int
) -> None:
    if isinstance(shape, dict):
        shape.pop("body", None)
    scripted.push((json.dumps(shape).encode(),), status=status, content_type="application/json")
    with PortkeyClient(base_url=scripted.base_url, api_key="pk-x", max_retries=0) as client:
        try:
            result = client.complete(messages=[{"role": "user", "content": "hi"}], model="m")
        except PortkeyError as exc:
            if status >= 400:
                assert isinstance(exc, APIStatusError) and exc.status_code == status
            else:
                assert isinstance(exc, APIResponseValidationError) and exc.status_code == status
            return
    assert status < 400
    assert isinstance(result.content, str)
