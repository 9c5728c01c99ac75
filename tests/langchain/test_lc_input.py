"""Dict inputs, bound variables and error classification, without a server."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessage, HumanMessage

import portkey_integrations as pk
from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.langchain._errors import to_langchain_error
from portkey_integrations.langchain._input import (
    BOUND_VARIABLES,
    VariablesPromptValue,
    rename_bound_variables,
)
from portkey_integrations.langchain._messages import (
    marked_variables,
    openai_variables,
    prompt_variables,
)


def test_variables_prompt_value_carries_the_dict() -> None:
    variables = {"topic": "otters", "n": 2}
    value = VariablesPromptValue.of(variables)
    messages = value.to_messages()
    assert marked_variables(messages) == variables
    # Tracing sees readable text.
    assert messages[0].content == '{"topic": "otters", "n": 2}'
    text = value.to_string()
    assert text == '{"topic": "otters", "n": 2}'
    assert prompt_variables(text) == variables
    assert prompt_variables("plain") is None


def test_marker_needs_a_single_message() -> None:
    marker = VariablesPromptValue.of({"a": 1}).to_messages()[0]
    assert marked_variables([HumanMessage("x"), marker]) is None
    assert marked_variables([HumanMessage("x")]) is None


def test_openai_variables_converts_message_lists() -> None:
    got = openai_variables({"chat_history": [HumanMessage("hi"), AIMessage("yo")], "k": [1]})
    assert got == {
        "chat_history": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"},
        ],
        "k": [1],
    }


def test_rename_bound_variables_merges() -> None:
    assert rename_bound_variables({"temperature": 1}) == {"temperature": 1}
    first = rename_bound_variables({"variables": {"a": 1, "b": 1}})
    assert first == {BOUND_VARIABLES: {"a": 1, "b": 1}}
    second = rename_bound_variables({"variables": {"b": 2}}, first)
    assert second == {BOUND_VARIABLES: {"a": 1, "b": 2}}


@pytest.mark.parametrize("cls", [PortkeyChatModel, PortkeyPromptLLM])
def test_bind_keeps_variables_apart_and_merges_across_binds(cls: type) -> None:
    model = cls(prompt_id="pp-x", api_key="k")
    bound = model.bind(variables={"a": 1, "b": 1}, temperature=0.5).bind(variables={"b": 2})
    assert bound.kwargs == {BOUND_VARIABLES: {"a": 1, "b": 2}, "temperature": 0.5}


def test_dict_input_is_accepted_by_convert_input() -> None:
    model = PortkeyChatModel(prompt_id="pp-x", api_key="k")
    value = model._convert_input({"topic": "x"})
    assert isinstance(value, VariablesPromptValue)
    assert model._convert_input("hi").to_messages() == [HumanMessage("hi")]


def test_chat_route_rejects_variables() -> None:
    model = PortkeyChatModel(model="m", api_key="k")
    with pytest.raises(pk.PortkeyConfigError, match="need a prompt_id"):
        model.invoke({"topic": "x"})


def _status(cls: type[pk.APIStatusError], status: int) -> pk.APIStatusError:
    return cls("boom", status_code=status, trace_id="t-9", body={"m": 1})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_status(pk.AuthenticationError, 401), ModelAuthenticationError),
        (_status(pk.PermissionDeniedError, 403), ModelPermissionDeniedError),
        (_status(pk.BudgetExceededError, 412), ModelPermissionDeniedError),
        (_status(pk.BadRequestError, 400), ModelInvalidRequestError),
        (_status(pk.MissingVariableError, 400), ModelInvalidRequestError),
        (_status(pk.GuardrailError, 446), ModelInvalidRequestError),
        (_status(pk.NotFoundError, 404), ModelNotFoundError),
        (_status(pk.PromptNotFoundError, 404), ModelNotFoundError),
        (_status(pk.RateLimitError, 429), ModelRateLimitError),
        (_status(pk.RequestTimeoutError, 408), ModelTimeoutError),
        (_status(pk.InternalServerError, 503), ModelAPIError),
        (_status(pk.APIStatusError, 418), ModelError),
        (pk.APIConnectionError("down"), ModelConnectionError),
        (pk.APITimeoutError("slow"), ModelTimeoutError),
        (pk.TruncatedStreamError("cut", chunks=[1, 2]), ModelAPIError),
    ],
)
def test_errors_become_langchain_model_errors(
    error: pk.PortkeyError, expected: type[ModelError]
) -> None:
    twin = to_langchain_error(error)
    assert isinstance(twin, expected)
    # Still the core's class, with every attribute and the same message.
    assert isinstance(twin, type(error))
    assert twin.__dict__ == error.__dict__
    assert str(twin) == str(error)


def test_config_errors_pass_through() -> None:
    error = pk.PortkeyConfigError("bad")
    assert to_langchain_error(error) is error
