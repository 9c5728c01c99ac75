"""Tools and structured output on PortkeyChatModel, against the local server."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from portkey_integrations import PortkeyConfigError
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"sunny in {city}"


class Lookup(BaseModel):
    """Look up a term."""

    term: str = Field(description="what to look up")


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


RAW_TOOL = {
    "type": "function",
    "function": {
        "name": "ping",
        "description": "Ping a host.",
        "parameters": {
            "type": "object",
            "properties": {"host": {"type": "string"}},
            "required": ["host"],
        },
    },
}


class Answer(BaseModel):
    """An answer with a confidence."""

    text: str
    confidence: int = Field(ge=0, le=10)


class AnswerDict(TypedDict):
    """An answer."""

    text: str


def sent(server: LocalPortkeyServer) -> dict[str, Any]:
    body = server.requests[-1].body
    assert isinstance(body, dict)
    return body


def test_bind_tools_formats_every_kind(chat: PortkeyChatModel, server: LocalPortkeyServer) -> None:
    chat.bind_tools([get_weather, Lookup, add, RAW_TOOL]).invoke("hello")
    tools = sent(server)["tools"]
    assert [t["function"]["name"] for t in tools] == ["get_weather", "Lookup", "add", "ping"]
    assert tools[2]["function"]["parameters"]["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "integer"},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        ("add", {"type": "function", "function": {"name": "add"}}),
        (True, "required"),
    ],
)
def test_tool_choice_forms(
    chat: PortkeyChatModel, server: LocalPortkeyServer, choice: Any, expected: Any
) -> None:
    chat.bind_tools([get_weather, add], tool_choice=choice, parallel_tool_calls=False).invoke("hi")
    body = sent(server)
    assert body["tool_choice"] == expected
    assert body["parallel_tool_calls"] is False


def test_tool_choice_true_with_one_tool_forces_it(
    chat: PortkeyChatModel, server: LocalPortkeyServer
) -> None:
    result = chat.bind_tools([add], tool_choice=True).invoke("hi")
    assert sent(server)["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert result.tool_calls[0]["name"] == "add"


def test_unknown_tool_choice_is_rejected(chat: PortkeyChatModel) -> None:
    with pytest.raises(PortkeyConfigError):
        chat.bind_tools([add], tool_choice="nope")


def test_tool_calls_are_parsed(chat: PortkeyChatModel) -> None:
    result = chat.bind_tools([get_weather, add]).invoke("use get_weather for Oslo")
    assert isinstance(result, AIMessage)
    assert result.response_metadata["finish_reason"] == "tool_calls"
    [call] = result.tool_calls
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "use get_weather for Oslo"}
    assert call["id"]
    assert [b["type"] for b in result.content_blocks] == ["tool_call"]


def test_tools_on_the_prompt_route_go_to_the_root(
    agent_chat: PortkeyChatModel, server: LocalPortkeyServer
) -> None:
    result = agent_chat.bind_tools([add], tool_choice="add").invoke("sum please")
    body = sent(server)
    assert body["tools"][0]["function"]["name"] == "add"
    assert body["variables"]["input"] == "sum please"
    assert result.tool_calls[0]["name"] == "add"


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_pydantic(
    chat: PortkeyChatModel, server: LocalPortkeyServer, method: Any
) -> None:
    result = chat.with_structured_output(Answer, method=method).invoke("q")
    assert isinstance(result, Answer)
    body = sent(server)
    if method == "function_calling":
        assert body["tool_choice"] == {"type": "function", "function": {"name": "Answer"}}
        assert body["parallel_tool_calls"] is False
    else:
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Answer"
        assert "tools" not in body


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_typeddict_and_strict(
    chat: PortkeyChatModel, server: LocalPortkeyServer, method: Any
) -> None:
    result = chat.with_structured_output(AnswerDict, method=method, strict=True).invoke("q")
    assert result == {"text": "q"}
    body = sent(server)
    if method == "json_schema":
        assert body["response_format"]["json_schema"]["strict"] is True
    else:
        assert body["tools"][0]["function"]["strict"] is True


def test_structured_output_json_mode(chat: PortkeyChatModel, server: LocalPortkeyServer) -> None:
    result = chat.with_structured_output(method="json_mode").invoke("reply in JSON")
    assert sent(server)["response_format"] == {"type": "json_object"}
    assert result == {"answer": "Echo: reply in JSON"}


def test_structured_output_include_raw(chat: PortkeyChatModel) -> None:
    result = chat.with_structured_output(Answer, include_raw=True).invoke("q")
    assert isinstance(result, dict)
    assert isinstance(result["raw"], AIMessage)
    assert isinstance(result["parsed"], Answer)
    assert result["parsing_error"] is None
    # JSON mode's reply ({"answer": ...}) is not an Answer: the error comes back, not raised.
    failing = chat.with_structured_output(Answer, method="json_mode", include_raw=True)
    outcome = failing.invoke("q")
    assert outcome["parsed"] is None
    assert isinstance(outcome["parsing_error"], Exception)
    assert outcome["raw"].text == '{"answer": "Echo: q"}'


def test_structured_output_on_a_prompt_with_dict_input(
    server: LocalPortkeyServer,
) -> None:
    llm = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url, api_key="k")
    result = llm.with_structured_output(Answer).invoke({"topic": "x", "adjective": "y"})
    assert isinstance(result, Answer)
    assert sent(server)["variables"] == {"topic": "x", "adjective": "y"}
