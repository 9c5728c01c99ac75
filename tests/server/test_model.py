"""The offline model over the OpenAI-compatible routes (non-streaming)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .helpers import chat


def complete(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/chat/completions", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_echo_and_completion_fields(client: httpx.Client) -> None:
    body = chat(
        [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hello  big world"},
        ]
    )
    body["model"] = "gpt-4o-mini"
    out = complete(client, body)
    assert out["id"].startswith("chatcmpl-")
    assert out["object"] == "chat.completion"
    assert isinstance(out["created"], int)
    assert out["model"] == "gpt-4o-mini"
    assert out["system_fingerprint"] == "fp_portkey_local"
    assert out["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Echo: hello  big world", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert out["usage"] == {
        "prompt_tokens": 6,
        "completion_tokens": 4,
        "total_tokens": 10,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def test_model_defaults_and_no_provider_header_needed(client: httpx.Client) -> None:
    out = complete(client, {"messages": [{"role": "user", "content": "x"}]})
    assert out["model"] == "portkey-local"


def test_last_user_message_with_content_parts(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "old"},
        {"role": "assistant", "content": "reply"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}],
        },
    ]
    assert (
        complete(client, chat(messages))["choices"][0]["message"]["content"]
        == "Echo: part one\npart two"
    )


def test_without_a_user_message_the_last_message_is_echoed(client: httpx.Client) -> None:
    out = complete(client, chat([{"role": "system", "content": "only system"}]))
    assert out["choices"][0]["message"]["content"] == "Echo: only system"


@pytest.mark.parametrize("key", ["max_completion_tokens", "max_tokens"])
def test_max_tokens_truncates(client: httpx.Client, key: str) -> None:
    out = complete(client, chat("one two three four", **{key: 3}))
    choice = out["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("Echo: one two", "length")
    assert out["usage"]["completion_tokens"] == 3


def test_max_tokens_not_reached(client: httpx.Client) -> None:
    out = complete(client, chat("one two", max_completion_tokens=3))
    assert out["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("stop", "content"),
    [
        ("three", "Echo: one two "),
        (["four", "two"], "Echo: one "),
        (["absent"], "Echo: one two three four"),
    ],
)
def test_stop_sequences(client: httpx.Client, stop: Any, content: str) -> None:
    out = complete(client, chat("one two three four", stop=stop))
    assert out["choices"][0]["message"]["content"] == content
    assert out["choices"][0]["finish_reason"] == "stop"


def test_n_choices(client: httpx.Client) -> None:
    out = complete(client, chat("a b", n=3))
    assert [c["index"] for c in out["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in out["choices"]} == {"Echo: a b"}
    assert out["usage"]["completion_tokens"] == 9


def test_seed_makes_the_id_deterministic(client: httpx.Client) -> None:
    first = complete(client, chat("x", seed=42))["id"]
    assert complete(client, chat("x", seed=42))["id"] == first
    assert complete(client, chat("x", seed=43))["id"] != first
    assert complete(client, chat("x"))["id"] != complete(client, chat("x"))["id"]


def test_logprobs(client: httpx.Client) -> None:
    out = complete(client, chat("alpha beta", logprobs=True, top_logprobs=3))
    choice = out["choices"][0]
    content = choice["logprobs"]["content"]
    assert "".join(t["token"] for t in content) == choice["message"]["content"]
    for entry in content:
        assert entry["logprob"] < 0
        assert entry["bytes"] == list(entry["token"].encode())
        assert len(entry["top_logprobs"]) == 3
        assert entry["top_logprobs"][0]["token"] == entry["token"]
    assert (
        complete(client, chat("x", logprobs=True))["choices"][0]["logprobs"]["content"][0][
            "top_logprobs"
        ]
        == []
    )


def test_json_object_mode(client: httpx.Client) -> None:
    out = complete(client, chat('say "json"', response_format={"type": "json_object"}))
    assert json.loads(out["choices"][0]["message"]["content"]) == {"answer": 'Echo: say "json"'}


def test_json_schema_mode(client: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "score": {"type": "integer", "minimum": 5},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "ok": {"type": "boolean"},
        },
        "required": ["title", "score", "tags", "ok"],
        "additionalProperties": False,
    }
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "r", "schema": schema, "strict": True},
    }
    out = complete(client, chat("the title", response_format=response_format))
    assert json.loads(out["choices"][0]["message"]["content"]) == {
        "title": "the title",
        "score": 5,
        "tags": ["a"],
        "ok": True,
    }


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"n": 0}, "n"),
        ({"n": 1.5}, "n"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"max_completion_tokens": "10"}, "max_completion_tokens"),
        ({"max_completion_tokens": True}, "max_completion_tokens"),
        ({"max_completion_tokens": 0}, "max_completion_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": 5}, "stop"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": "yes"}, "logprobs"),
        ({"tools": [{"type": "function"}]}, "tools"),
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"content": "no role"}]}, "messages[0]"),
    ],
)
def test_bad_hyperparameters_get_openai_errors(
    client: httpx.Client, params: dict[str, Any], param: str
) -> None:
    r = client.post("/chat/completions", json={**chat("x"), **params})
    assert r.status_code == 400
    error = r.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, None)
    assert error["message"]


def test_null_hyperparameters_are_accepted(client: httpx.Client) -> None:
    complete(client, chat("x", temperature=None, n=None, stop=None, max_tokens=None))


def test_prompt_route_errors_from_the_model(client: httpx.Client) -> None:
    r = client.post("/prompts/pp-joke/completions", json={"variables": {}, "temperature": 9})
    assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"


def test_text_completions(client: httpx.Client) -> None:
    r = client.post(
        "/completions", json={"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test"}
    )
    out = r.json()
    assert out["object"] == "text_completion" and out["id"].startswith("cmpl-")
    assert out["model"] == "gpt-3.5-turbo-instruct"
    assert out["choices"] == [
        {"text": "Echo: Say this is a test", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]
    assert (out["usage"]["prompt_tokens"], out["usage"]["completion_tokens"]) == (5, 6)


def test_text_completion_options(client: httpx.Client) -> None:
    out = client.post(
        "/completions", json={"prompt": ["a b c", "d"], "max_tokens": 2, "n": 2}
    ).json()
    assert [(c["index"], c["text"], c["finish_reason"]) for c in out["choices"]] == [
        (0, "Echo: a", "length"),
        (1, "Echo: a", "length"),
        (2, "Echo: d", "stop"),
        (3, "Echo: d", "stop"),
    ]
    out = client.post(
        "/completions", json={"prompt": "p q", "echo": True, "stop": "q", "logprobs": 2}
    ).json()
    choice = out["choices"][0]
    assert choice["text"] == "p qEcho: p "
    assert "".join(choice["logprobs"]["tokens"]) == choice["text"]
    assert len(choice["logprobs"]["top_logprobs"][0]) == 2
    r = client.post("/completions", json={"prompt": "x", "logprobs": 9})
    assert r.status_code == 400 and r.json()["error"]["param"] == "logprobs"
    r = client.post("/completions", json={"model": "m"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"


@pytest.mark.parametrize("key", ["max_completion_tokens", "max_tokens"])
def test_text_prompt_honours_either_token_limit(client: httpx.Client, key: str) -> None:
    response = client.post(
        "/prompts/pp-text-complete/completions",
        json={"variables": {"input": "one two three four"}, key: 2},
    )
    choice = response.json()["choices"][0]
    assert (choice["text"], choice["finish_reason"]) == ("Echo: one", "length")


def test_json_object_mode_uses_the_keys_the_user_names(client: httpx.Client) -> None:
    ask = "A joke as JSON with 'setup' and \"punchline\" keys."
    out = complete(client, chat(ask, response_format={"type": "json_object"}))
    content = json.loads(out["choices"][0]["message"]["content"])
    assert set(content) == {"setup", "punchline"}
    assert content["setup"] == f"Echo: {ask}"
