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

from portkey_integrations import PortkeyConfigError, RequestOptions, VariableEncodingError
from portkey_integrations._request import build_body, encode_variables, prompt_path


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


@dataclasses.dataclass
class Point:
    x: int
    y: int


class User(pydantic.BaseModel):
    name: str
    born: datetime.date


def test_variables_encoding_rules() -> None:
    encoded = encode_variables(
        {
            "s": "text",
            "empty": "",
            "i": 3,
            "f": 1.5,
            "b": False,
            "none": None,
            "d": {"a": [1, "x"]},
            "l": [1, 2],
            "model": User(name="Ann", born=datetime.date(2000, 1, 2)),
            "dc": Point(1, 2),
            "date": datetime.date(2024, 5, 6),
            "enum": Color.RED,
            "dec": Decimal("1.10"),
            "uid": uuid.UUID(int=1),
            "unicode": {"k": "é"},
        }
    )
    assert encoded["s"] == "text"
    assert encoded["empty"] == ""
    assert encoded["i"] == 3 and encoded["f"] == 1.5 and encoded["b"] is False
    assert encoded["none"] is None
    assert encoded["d"] == '{"a": [1, "x"]}'
    assert encoded["l"] == "[1, 2]"
    assert json.loads(encoded["model"]) == {"name": "Ann", "born": "2000-01-02"}
    assert json.loads(encoded["dc"]) == {"x": 1, "y": 2}
    assert encoded["date"] == '"2024-05-06"'
    assert encoded["enum"] == '"red"'
    assert encoded["dec"] == '"1.10"'
    assert encoded["uid"] == json.dumps(str(uuid.UUID(int=1)))
    assert encoded["unicode"] == '{"k": "é"}'


def test_raw_variables_are_sent_as_json_values() -> None:
    history = [{"role": "user", "content": "hi"}, User(name="B", born=datetime.date(2001, 1, 1))]
    encoded = encode_variables({"chat_history": history, "other": [1]}, raw={"chat_history"})
    assert encoded["chat_history"] == [
        {"role": "user", "content": "hi"},
        {"name": "B", "born": "2001-01-01"},
    ]
    assert encoded["other"] == "[1]"


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
