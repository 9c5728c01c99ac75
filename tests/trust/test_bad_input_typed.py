"""Hostile input gets a typed error before anything is sent, on every surface: the core
clients, LangChain's models and LlamaIndex's models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from portkey_integrations import (
    AsyncPortkeyClient,
    PortkeyClient,
    PortkeyConfigError,
    RequestOptions,
    VariableEncodingError,
)
from portkey_integrations._options import _check_header_value
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer


def _circular() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "loop"}
    value["self"] = value
    return value


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


# A value for the ``topic`` variable, and what the error must say.
BAD_VARIABLES: dict[str, tuple[Any, str]] = {
    "int over 4,300 digits": (10**5000, "4300 digits"),
    "circular value": (_circular(), "circular"),
    "5,000-deep value": (_deep(5000), "nested too deeply"),
    "nested huge int": ({"n": 10**5000}, "4300 digits"),
    "lone surrogate": ("\ud800", "surrogate"),
    "NaN": (float("nan"), "not valid JSON"),
}

# Headers, and what the error must say.
BAD_HEADERS: dict[str, tuple[dict[str, str], str]] = {
    "non-ASCII name": ({"x-naïve": "1"}, "not a valid HTTP header name"),
    "name with a space": ({"x bad": "1"}, "not a valid HTTP header name"),
    "name with a colon": ({"x-a:b": "1"}, "not a valid HTTP header name"),
    "empty name": ({"": "1"}, "not a valid HTTP header name"),
    "line break in a value": ({"x-a": "1\r\nx-b: 2"}, "line breaks"),
    "control character in a value": ({"x-a": "a\x01b"}, "control characters"),
    "non-ASCII value": ({"x-a": "é"}, "must be ASCII"),
}


def _lc(cls: type) -> Callable[[str, dict[str, Any], dict[str, str]], Any]:
    def call(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
        return cls(prompt_id="pp-joke", base_url=url, default_headers=headers).invoke(variables)

    return call


def _li_chat(cls: type) -> Callable[[str, dict[str, Any], dict[str, str]], Any]:
    def call(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
        model = cls(prompt_id="pp-joke", base_url=url, default_headers=headers)
        return model.chat([ChatMessage(role="user", content="hi")], variables=variables)

    return call


def _li_complete(cls: type) -> Callable[[str, dict[str, Any], dict[str, str]], Any]:
    def call(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
        model = cls(prompt_id="pp-joke", base_url=url, default_headers=headers)
        return model.complete("hi", variables=variables)

    return call


def _core(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
    return PortkeyClient(base_url=url, default_headers=headers).complete(
        prompt_id="pp-joke", variables=variables
    )


def _core_stream(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
    return list(
        PortkeyClient(base_url=url, default_headers=headers).stream(
            prompt_id="pp-joke", variables=variables
        )
    )


def _core_async(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
    async def run() -> Any:
        client = AsyncPortkeyClient(base_url=url, default_headers=headers)
        return await client.complete(prompt_id="pp-joke", variables=variables)

    return asyncio.run(run())


def _per_call_options(url: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
    # Headers given for one call, not the client: checked when that call's options apply.
    return PortkeyClient(base_url=url).complete(
        prompt_id="pp-joke", variables=variables, options=RequestOptions(extra_headers=headers)
    )


SURFACES: dict[str, Callable[[str, dict[str, Any], dict[str, str]], Any]] = {
    "core": _core,
    "core stream": _core_stream,
    "core async": _core_async,
    "core per-call options": _per_call_options,
    "LangChain chat invoke": _lc(LCChat),
    "LangChain LLM invoke": _lc(LCLLM),
    "LlamaIndex chat model chat": _li_chat(LIChat),
    "LlamaIndex chat model complete": _li_complete(LIChat),
    "LlamaIndex prompt LLM chat": _li_chat(LILLM),
    "LlamaIndex prompt LLM complete": _li_complete(LILLM),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case", BAD_VARIABLES)
def test_a_bad_variable_is_a_typed_error_and_nothing_is_sent(
    server: LocalPortkeyServer, surface: str, case: str
) -> None:
    value, says = BAD_VARIABLES[case]
    with pytest.raises(VariableEncodingError, match=says) as info:
        SURFACES[surface](server.base_url, {"adjective": "dry", "topic": value}, {})
    assert info.value.variable == "topic"
    assert server.requests == []


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case", BAD_HEADERS)
def test_a_bad_header_is_a_typed_error_and_nothing_is_sent(
    server: LocalPortkeyServer, surface: str, case: str
) -> None:
    headers, says = BAD_HEADERS[case]
    with pytest.raises(PortkeyConfigError, match=says):
        SURFACES[surface](server.base_url, {"adjective": "dry", "topic": "owls"}, headers)
    assert server.requests == []


def test_a_bad_header_fails_when_the_client_is_built() -> None:
    with pytest.raises(PortkeyConfigError, match="'x bad'"):
        PortkeyClient(api_key="k", default_headers={"x bad": "1"})


def test_a_non_ascii_value_is_not_echoed() -> None:
    # Header values may be credentials: the error names the header, not its value.
    with pytest.raises(PortkeyConfigError) as info:
        _check_header_value("authorization", "Bearer sk-sécret")
    assert "sécret" not in str(info.value) and "'authorization'" in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["x-portkey-api-key", "X-Custom_Header", "x.y", "a!#$%&'*+-.^_`|~z"],
)
def test_valid_header_names_pass(name: str) -> None:
    assert _check_header_value(name, "v") == "v"
