"""Request building: prompt ids, variables, hyperparameters, headers."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from portkey_integrations import (
    PortkeyClient,
    PortkeyConfigError,
    RequestOptions,
    VariableEncodingError,
)
from portkey_integrations._call import Call
from portkey_integrations._request import (
    build_body,
    call_body,
    encode_value,
    encode_variables,
    prompt_path,
)
from portkey_integrations.server import LocalPortkeyServer


@pytest.mark.parametrize(
    ("prompt_id", "path"),
    [
        ("pp-abc", "/prompts/pp-abc/completions"),
        ("pp-abc@12", "/prompts/pp-abc@12/completions"),
        ("pp-abc@latest", "/prompts/pp-abc@latest/completions"),
        ("pp-abc@production", "/prompts/pp-abc@production/completions"),
        ("../chat/completions", "/prompts/..%2Fchat%2Fcompletions/completions"),
        ("a b?c#d", "/prompts/a%20b%3Fc%23d/completions"),
        ("100%", "/prompts/100%25/completions"),
        ("..", "/prompts/%2E%2E/completions"),
        (
            "0c9bd0a4-3c1f-4b1a-9a0e-6f1f5f9d2c11",
            "/prompts/0c9bd0a4-3c1f-4b1a-9a0e-6f1f5f9d2c11/completions",
        ),
    ],
)
def test_prompt_id_is_one_safe_path_segment(prompt_id: str, path: str) -> None:
    assert prompt_path(prompt_id, "completions") == path
    assert prompt_path(prompt_id, "completions").count("/") == 3


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_empty_prompt_id_is_rejected(bad: Any) -> None:
    with pytest.raises(PortkeyConfigError, match="prompt_id"):
        prompt_path(bad, "completions")


class Color(enum.Enum):
    RED = "red"


class Mood(str, enum.Enum):
    CALM = "calm"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Point:
    x: int
    y: int


class User(pydantic.BaseModel):
    name: str
    born: datetime.date


# (value, what goes on the wire): the one rule, decided without the template.
ENCODING = [
    ("text", "text"),
    ("", ""),
    (3, 3),
    (1.5, 1.5),
    (False, False),
    (None, None),
    # Plain text, as LangChain's and LlamaIndex's f-strings render them: never quoted.
    (datetime.date(2024, 1, 2), "2024-01-02"),
    (datetime.datetime(2024, 1, 2, 3, 4), "2024-01-02 03:04:00"),
    (datetime.time(9, 30), "09:30:00"),
    (Decimal("9.99"), "9.99"),
    (Decimal("1.10"), "1.10"),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    (Color.RED, "Color.RED"),
    (Mood.CALM, f"{Mood.CALM}"),  # "Mood.CALM" on Python 3.11+, "calm" before
    (Level.HIGH, "3"),
    (b"bytes", "bytes"),
    # Lists and objects: JSON values, for sections, dotted names and splices alike.
    ({"a": [1, "x"]}, {"a": [1, "x"]}),
    ([1, 2], [1, 2]),
    ((1, "b"), [1, "b"]),
    ([], []),
    ({}, {}),
    ({"k": "é"}, {"k": "é"}),
    (User(name="Ann", born=datetime.date(2000, 1, 2)), {"name": "Ann", "born": "2000-01-02"}),
    (Point(1, 2), {"x": 1, "y": 2}),
    # Inside lists and objects, values are JSON data (pydantic's JSON mode).
    ({"due": datetime.date(2024, 1, 2), "c": Color.RED}, {"due": "2024-01-02", "c": "red"}),
    ([Decimal("9.99"), uuid.UUID(int=2)], ["9.99", "00000000-0000-0000-0000-000000000002"]),
]


@pytest.mark.parametrize(("value", "wire"), ENCODING, ids=lambda v: repr(v)[:40])
def test_one_encoding_rule(value: Any, wire: Any) -> None:
    sent = encode_value(value)
    assert sent == wire and type(sent) is type(wire)
    assert encode_variables({"v": value}) == {"v": wire}


def test_a_total_reads_as_text_not_json() -> None:
    # The issue's own example: no quotes around the amount or the date.
    sent = encode_variables({"total": Decimal("9.99"), "due": datetime.date(2024, 1, 2)})
    body = build_body("prompt", {}, stream=False, variables=sent)
    from portkey_integrations._templates.mustache import render

    text = render("Total: {{total}} EUR due {{due}}", body["variables"])
    assert text == "Total: 9.99 EUR due 2024-01-02"


def test_unserializable_variable_names_the_variable() -> None:
    with pytest.raises(VariableEncodingError, match="'handle'") as info:
        encode_variables({"ok": 1, "handle": object()})
    assert info.value.variable == "handle"
    assert isinstance(info.value, PortkeyConfigError)


def test_body_for_prompt_route() -> None:
    body = build_body(
        "prompt",
        {"temperature": 0.2, "max_tokens": 5, "custom_thing": {"a": 1}},
        stream=False,
        variables=None,
        hyperparameters={"top_p": 0.5, "temperature": 0.9},
    )
    assert body == {
        "variables": {},
        "top_p": 0.5,
        "temperature": 0.2,
        "max_completion_tokens": 5,
        "custom_thing": {"a": 1},
        "stream": False,
    }
    assert "hyperparameters" not in body


def test_body_keeps_max_tokens_on_text_route_and_stream_explicit() -> None:
    body = build_body("text", {"prompt": "x", "max_tokens": 7}, stream=True)
    assert body == {"prompt": "x", "max_tokens": 7, "stream": True}
    chat = build_body("chat", {"messages": [], "max_tokens": 7}, stream=True)
    assert chat["max_completion_tokens"] == 7 and "max_tokens" not in chat


def test_explicit_max_completion_tokens_wins_over_max_tokens() -> None:
    body = build_body("chat", {"max_tokens": 7, "max_completion_tokens": 9}, stream=False)
    assert body["max_completion_tokens"] == 9


def test_stream_options_dropped_when_not_streaming() -> None:
    opts = {"stream_options": {"include_usage": True}}
    assert "stream_options" not in build_body("prompt", dict(opts), stream=False)
    assert build_body("prompt", dict(opts), stream=True)["stream_options"] == {
        "include_usage": True
    }


MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("call", "stream", "route", "body"),
    [
        (
            Call(prompt_id="pp-x", variables={"a": 1}, params={"max_tokens": 3}),
            False,
            "prompt",
            {"variables": {"a": 1}, "max_completion_tokens": 3, "stream": False},
        ),
        (
            Call(messages=MESSAGES, params={"model": "m"}),
            True,
            "chat",
            {"model": "m", "messages": MESSAGES, "stream": True},
        ),
        (
            Call(prompt="say", params={"max_tokens": 3}),
            False,
            "text",
            {"max_tokens": 3, "prompt": "say", "stream": False},
        ),
    ],
)
def test_call_body(call: Call, stream: bool, route: str, body: dict[str, Any]) -> None:
    # One body per call: the client's request and a batch job's line both read it.
    assert call_body(call, stream=stream) == (route, body)


def test_options_say_whether_they_route() -> None:
    assert not RequestOptions(trace_id="t", metadata={"a": "b"}).routed
    assert RequestOptions(provider="openai").routed
    assert RequestOptions(config="pc-x").routed
    assert RequestOptions.make(virtual_key="vk").routed


def test_variables_rejected_outside_prompt_routes() -> None:
    with pytest.raises(PortkeyConfigError, match="prompt_id"):
        build_body("chat", {}, stream=False, variables={"a": 1})


def test_headers_from_options() -> None:
    opts = RequestOptions.make(
        api_key="pk-secret",
        virtual_key="vk-1",
        config={"retry": {"attempts": 2}},
        provider="openai",
        provider_api_key="sk-openai",
        custom_host="http://127.0.0.1:9/v1",
        trace_id="t-1",
        metadata={"_user": "ann"},
        cache_force_refresh=True,
        cache_namespace="ns",
        gateway_timeout_ms=1500,
        forward_headers=["x-a", "x-b"],
        strict_open_ai_compliance=False,
        extra_headers={"X-Extra": "1"},
    )
    assert opts.headers() == {
        "x-portkey-api-key": "pk-secret",
        "x-portkey-virtual-key": "vk-1",
        "x-portkey-config": '{"retry":{"attempts":2}}',
        "x-portkey-provider": "openai",
        "authorization": "Bearer sk-openai",
        "x-portkey-custom-host": "http://127.0.0.1:9/v1",
        "x-portkey-trace-id": "t-1",
        "x-portkey-metadata": '{"_user":"ann"}',
        "x-portkey-cache-force-refresh": "true",
        "x-portkey-cache-namespace": "ns",
        "x-portkey-request-timeout": "1500",
        "x-portkey-forward-headers": "x-a,x-b",
        "x-portkey-strict-open-ai-compliance": "false",
        "x-extra": "1",
    }
    assert "pk-secret" not in repr(opts) and "sk-openai" not in repr(opts)


def test_plain_string_keys_are_wrapped_when_built_directly(
    server: LocalPortkeyServer,
) -> None:
    # Untyped code passes strings to the constructor, not only to ``make``.
    opts = RequestOptions(api_key="pk-direct", virtual_key="vk-direct")  # type: ignore[arg-type]
    assert isinstance(opts.api_key, pydantic.SecretStr)
    assert "vk-direct" not in repr(opts) and "pk-direct" not in repr(opts)
    with PortkeyClient(base_url=server.base_url, api_key="pk-client") as client:
        client.complete(messages=[{"role": "user", "content": "hi"}], options=opts)
    headers = server.requests[-1].headers
    assert headers["x-portkey-virtual-key"] == "vk-direct"
    assert headers["x-portkey-api-key"] == "pk-direct"


def test_config_id_is_sent_as_is() -> None:
    assert RequestOptions(config="pc-abc").headers() == {"x-portkey-config": "pc-abc"}


def test_merged_options_prefer_the_call() -> None:
    base = RequestOptions.make(api_key="k", trace_id="a", extra_headers={"x-1": "1"})
    merged = base.merged(RequestOptions(trace_id="b", extra_headers={"x-2": "2"}))
    headers = merged.headers()
    assert headers["x-portkey-trace-id"] == "b"
    assert headers["x-portkey-api-key"] == "k"
    assert headers["x-1"] == "1" and headers["x-2"] == "2"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"a": 1}, "must be a string"),
        ({"a": "x" * 129}, "129 characters"),
        ({"a": None}, "must be a string"),
    ],
)
def test_bad_metadata_is_rejected(metadata: dict[str, Any], message: str) -> None:
    with pytest.raises(PortkeyConfigError, match=message):
        RequestOptions(metadata=metadata).headers()


def test_metadata_at_the_limit_passes() -> None:
    header = RequestOptions(metadata={"a": "x" * 128}).headers()["x-portkey-metadata"]
    assert json.loads(header) == {"a": "x" * 128}
