"""Tool calling of the offline model: which tool, when, and arguments that validate."""

from __future__ import annotations

import datetime
import enum
import json
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel, Field, TypeAdapter

from portkey_integrations.server.tools import plan_tool_calls, sample_schema

from .helpers import chat


def tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "description": f"the {name} tool"}
    if parameters is not None:
        spec["parameters"] = parameters
    return {"type": "function", "function": spec}


CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = tool("get_weather", CITY)
TIME = tool("get_time", CITY)
NOTES = tool("take_notes")
W, T, N = "get_weather", "get_time", "take_notes"
FORCE_NOTES = {"type": "function", "function": {"name": N}}


def names(calls: list[dict[str, Any]]) -> list[str]:
    return [c["function"]["name"] for c in calls]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def called(*tool_names: str) -> list[dict[str, Any]]:
    """An assistant turn calling these tools, then their results."""
    calls = [
        {"id": f"c-{n}", "type": "function", "function": {"name": n, "arguments": "{}"}}
        for n in tool_names
    ]
    results = [
        {"role": "tool", "tool_call_id": f"c-{n}", "content": f"{n} result"} for n in tool_names
    ]
    return [{"role": "assistant", "content": None, "tool_calls": calls}, *results]


@pytest.mark.parametrize(
    ("messages", "choice", "parallel", "expected"),
    [
        ([user("What is the weather?")], None, False, [W]),
        ([user("use get_time please")], "auto", False, [T]),
        ([user("GET_TIME and get_weather")], None, False, [W]),
        ([user("get_time and get_weather")], None, True, [W, T]),
        ([user("get_weather then get_time"), *called(W)], None, False, [T]),
        ([user("get_weather then get_time"), *called(W, T)], None, False, []),
        ([user("hello"), *called(W)], None, False, [T]),
        ([user("hello"), *called(W), *called(T), *called(N)], None, False, []),
        ([user("get_weather"), *called(W)], None, False, []),
        ([user("get_weather"), *called(W), user("get_weather again")], None, False, [W]),
        ([user("get_weather"), *called(W)], "required", False, [W]),
        ([user("hi"), *called(W, T, N)], "required", False, [W]),
        ([user("get_weather")], "none", False, []),
        ([user("get_weather"), *called(N)], FORCE_NOTES, False, [N]),
    ],
)  # fmt: skip
def test_tool_choice_rules(
    messages: list[Any], choice: Any, parallel: bool, expected: list[str]
) -> None:
    assert names(plan_tool_calls(messages, [WEATHER, TIME, NOTES], choice, parallel)) == expected


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    number: int = Field(ge=10, le=20)


class Person(BaseModel):
    name: str = Field(min_length=3, max_length=5)
    age: int = Field(gt=17)
    height: float
    admin: bool
    colour: Colour
    kind: Literal["x", "y"]
    nickname: str | None = None
    addresses: list[Address]
    home: Address
    tags: dict[str, int] = {}
    born: datetime.date
    seen: datetime.datetime
    ratio: float = Field(multiple_of=0.5, gt=1)


@pytest.mark.parametrize("model", [Person, Address, list[Address], tuple[int, str], int | str])
def test_sampled_values_validate_against_pydantic_schemas(model: Any) -> None:
    adapter = TypeAdapter(model)
    value = sample_schema(adapter.json_schema(), "some text")
    adapter.validate_json(json.dumps(value))


def test_sampled_strings_come_from_the_text() -> None:
    assert sample_schema(
        {"type": "object", "properties": {"q": {"type": "string"}}}, "find cats"
    ) == {"q": "find cats"}
    assert sample_schema({}, "t") == "t"
    assert sample_schema({"type": ["null", "number"]}, "t") == 1
    assert sample_schema({"const": 3}, "t") == 3
    assert sample_schema({"type": "object", "required": ["free"]}, "t") == {"free": "t"}
    assert sample_schema({"type": "string", "format": "email"}, "t") == "user@example.com"


def test_tool_call_response_shape(client: httpx.Client) -> None:
    out = client.post(
        "/chat/completions", json=chat("weather in Oslo", tools=[WEATHER, TIME])
    ).json()
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["role"] == "assistant" and message["content"] is None
    (call,) = message["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "weather in Oslo"}
    assert out["usage"]["completion_tokens"] > 0


def test_agent_loop_calls_tools_one_turn_at_a_time_then_answers(client: httpx.Client) -> None:
    messages: list[dict[str, Any]] = [user("check get_time and get_weather")]
    seen = []
    for _ in range(5):
        message = client.post(
            "/chat/completions", json=chat(messages, tools=[WEATHER, TIME, NOTES])
        ).json()
        message = message["choices"][0]["message"]
        if not message.get("tool_calls"):
            break
        messages.append(message)
        for call in message["tool_calls"]:
            seen.append(call["function"]["name"])
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "content": f"{call['function']['name']}=ok",
                }
            )
    assert seen == ["get_weather", "get_time"]
    expected = (
        "Echo: check get_time and get_weather\nget_weather: get_weather=ok\nget_time: get_time=ok"
    )
    assert message["content"] == expected


def test_parallel_tool_calls(client: httpx.Client) -> None:
    body = chat("get_time and get_weather", tools=[WEATHER, TIME], parallel_tool_calls=True)
    calls = client.post("/chat/completions", json=body).json()["choices"][0]["message"][
        "tool_calls"
    ]
    assert names(calls) == ["get_weather", "get_time"]
    assert len({c["id"] for c in calls}) == 2


def test_forced_tool_and_none(client: httpx.Client) -> None:
    forced = {"type": "function", "function": {"name": "get_time"}}
    out = client.post(
        "/chat/completions", json=chat("get_weather", tools=[WEATHER, TIME], tool_choice=forced)
    ).json()
    assert names(out["choices"][0]["message"]["tool_calls"]) == ["get_time"]
    out = client.post(
        "/chat/completions", json=chat("get_weather", tools=[WEATHER], tool_choice="none")
    ).json()
    assert out["choices"][0]["message"]["content"] == "Echo: get_weather"
    assert "tool_calls" not in out["choices"][0]["message"]


def test_tool_without_parameters_gets_an_empty_object(client: httpx.Client) -> None:
    out = client.post("/chat/completions", json=chat("take_notes", tools=[NOTES])).json()
    assert out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_saved_tools_of_a_prompt_are_used(server: Any, client: httpx.Client) -> None:
    server.register(
        "pp-tooly",
        [{"role": "user", "content": "{{q}}"}],
        tools=[WEATHER],
        parameters={"tool_choice": "auto"},
    )
    out = client.post("/prompts/pp-tooly/completions", json={"variables": {"q": "weather?"}}).json()
    assert names(out["choices"][0]["message"]["tool_calls"]) == ["get_weather"]
    out = client.post(
        "/prompts/pp-tooly/completions", json={"variables": {"q": "weather?"}, "tools": None}
    ).json()
    assert out["choices"][0]["message"]["content"] == "Echo: weather?"


def test_numbers_in_tool_arguments_come_from_the_user_text() -> None:
    from portkey_integrations.server.tools import sample_schema

    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "x": {"type": "number", "maximum": 2}},
        "required": ["n", "x"],
    }
    assert sample_schema(schema, "call it with 3 please") == {"n": 3, "x": 2}
    assert sample_schema(schema, "add 2 and 0.5") == {"n": 2, "x": 0.5}
    assert sample_schema(schema, "no numbers here") == {"n": 1, "x": 1}
    assert sample_schema({"type": "number"}, "ratio 0.25") == 0.25
