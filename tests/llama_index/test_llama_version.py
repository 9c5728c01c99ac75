"""LlamaIndex: the version number that ran beside the version or label asked for, and a
version given twice that disagrees refused when the model is built."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

import portkey_integrations as pk
from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

JOKE = {"adjective": "dry", "topic": "owls"}
# The chat message or completion text fills {{input}}, which pp-joke never reads: these
# tests are about the metadata, not the variables check.
UNCHECKED: dict[str, Any] = {"variables": JOKE, "check_variables": "off"}
HI = [ChatMessage(role="user", content="go")]
MODELS = [PortkeyChatModel, PortkeyPromptLLM]


def assert_ran(kwargs: dict[str, Any], asked: str | None, number: int) -> None:
    assert kwargs["prompt_id"] == "pp-joke" and kwargs["prompt_version"] == asked
    assert kwargs["prompt_version_number"] == number
    assert type(kwargs["prompt_version_number"]) is int


@pytest.mark.parametrize(
    ("prompt_id", "version", "asked", "number"),
    [
        ("pp-joke", None, None, 1),
        ("pp-joke", "production", "production", 2),
        ("pp-joke@production", None, "production", 2),
        ("pp-joke@2", 2, "2", 2),
    ],
)
def test_chat_names_the_version_that_ran(
    chat_model: Callable[..., PortkeyChatModel],
    server: LocalPortkeyServer,
    prompt_id: str,
    version: int | str | None,
    asked: str | None,
    number: int,
) -> None:
    llm = chat_model(prompt_id=prompt_id, prompt_version=version, **UNCHECKED)
    response = llm.chat(HI)
    assert_ran(response.additional_kwargs, asked, number)
    assert response.raw.portkey.prompt_version == number
    assert server.requests[-1].variables["topic"] == "owls"
    assert ("please" in (response.message.content or "")) is (number == 2)


def test_stream_chat_names_the_version_that_ran(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id="pp-joke@production", **UNCHECKED)
    responses = list(llm.stream_chat(HI))
    assert responses and "please" in (responses[-1].message.content or "")
    for response in responses:
        assert_ran(response.additional_kwargs, "production", 2)
    assert server.requests[-1].variables["adjective"] == "dry"


async def test_async_chat_and_stream_chat(
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id="pp-joke", prompt_version="production", **UNCHECKED)
    assert_ran((await llm.achat(HI)).additional_kwargs, "production", 2)
    last = None
    async for last in await llm.astream_chat(HI):
        assert_ran(last.additional_kwargs, "production", 2)
    assert last is not None


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_complete_and_stream_complete_name_the_version_that_ran(
    server: LocalPortkeyServer, cls: type[Any]
) -> None:
    llm = cls(
        base_url=server.base_url,
        api_key="pk-test",
        prompt_id="pp-joke@production",
        max_retries=0,
        **UNCHECKED,
    )
    response = llm.complete("go")
    assert_ran(response.additional_kwargs, "production", 2)
    assert "please" in response.text
    streamed = list(llm.stream_complete("go"))
    assert streamed and "please" in streamed[-1].text
    for response in streamed:
        assert_ran(response.additional_kwargs, "production", 2)
    assert server.requests[-1].variables["topic"] == "owls"


async def test_async_complete(prompt_llm: Callable[..., PortkeyPromptLLM]) -> None:
    llm = prompt_llm(prompt_id="pp-joke@production", **UNCHECKED)
    assert_ran((await llm.acomplete("go")).additional_kwargs, "production", 2)


def test_direct_calls_name_no_version(chat_model: Callable[..., PortkeyChatModel]) -> None:
    kwargs = chat_model(model="portkey-local").chat(HI).additional_kwargs
    assert "prompt_version_number" not in kwargs and "prompt_id" not in kwargs


# --- a version given twice ------------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("prompt_id", "version"),
    [("pp-joke@2", 1), ("pp-joke@2", "1"), ("pp-joke@production", 2), ("pp-joke@1", "staging")],
)
def test_a_version_given_twice_that_disagrees_is_refused(
    server: LocalPortkeyServer, cls: type[Any], prompt_id: str, version: int | str
) -> None:
    with pytest.raises(pk.PortkeyConfigError) as caught:
        cls(base_url=server.base_url, prompt_id=prompt_id, prompt_version=version)
    assert prompt_id in str(caught.value) and repr(version) in str(caught.value)
    assert not server.requests  # refused before anything is sent


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("prompt_id", "version"),
    [("pp-joke@2", 2), ("pp-joke@2", "2"), ("pp-joke@production", "production"), ("pp-joke", 1)],
)
def test_the_same_version_twice_is_fine(
    server: LocalPortkeyServer, cls: type[Any], prompt_id: str, version: int | str
) -> None:
    llm = cls(base_url=server.base_url, prompt_id=prompt_id, prompt_version=version)
    assert llm.full_prompt_id == (prompt_id if "@" in prompt_id else f"{prompt_id}@{version}")
