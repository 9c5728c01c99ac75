"""LangChain: the version number that ran beside the version or label asked for, and a
version given twice that disagrees refused when the model is built."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import LLMResult

import portkey_integrations as pk
from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

JOKE = {"adjective": "dry", "topic": "owls"}
MODELS = [PortkeyChatModel, PortkeyPromptLLM]


def build(cls: type[Any], server: LocalPortkeyServer, **kwargs: Any) -> Any:
    return cls(base_url=server.base_url, api_key="pk-test", max_retries=0, **kwargs)


# (prompt_id, prompt_version) -> (asked for, number that ran): pp-joke publishes v1,
# its production label points at v2.
CASES = [
    (("pp-joke", None), (None, 1)),
    (("pp-joke", "production"), ("production", 2)),
    (("pp-joke@production", None), ("production", 2)),
    (("pp-joke", 1), ("1", 1)),
    (("pp-joke@2", 2), ("2", 2)),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_chat_invoke_names_the_version_that_ran(
    server: LocalPortkeyServer,
    given: tuple[str, int | str | None],
    expected: tuple[str | None, int],
) -> None:
    model = build(PortkeyChatModel, server, prompt_id=given[0], prompt_version=given[1])
    message = model.invoke(JOKE)
    assert isinstance(message, AIMessage)
    meta = message.response_metadata
    assert (meta["prompt_id"], meta["prompt_version"]) == ("pp-joke", expected[0])
    assert meta["prompt_version_number"] == expected[1]
    assert type(meta["prompt_version_number"]) is int
    assert server.requests[-1].variables == JOKE
    assert ("please" in str(message.content)) is (expected[1] == 2)  # v2 says please


def test_chat_stream_names_the_version_that_ran(server: LocalPortkeyServer) -> None:
    model = build(PortkeyChatModel, server, prompt_id="pp-joke@production")
    chunks = list(model.stream(JOKE))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    assert merged.response_metadata["prompt_version"] == "production"
    assert merged.response_metadata["prompt_version_number"] == 2
    assert "please" in str(merged.content)
    assert server.requests[-1].variables == JOKE


async def test_chat_async_invoke_and_stream(server: LocalPortkeyServer) -> None:
    model = build(PortkeyChatModel, server, prompt_id="pp-joke", prompt_version="production")
    message = await model.ainvoke(JOKE)
    assert message.response_metadata["prompt_version_number"] == 2
    merged: Any = None
    async for chunk in model.astream(JOKE):
        merged = chunk if merged is None else merged + chunk
    assert merged.response_metadata["prompt_version_number"] == 2


class Results(BaseCallbackHandler):
    """Keeps the ``LLMResult`` of every run (a stream's too, merged)."""

    def __init__(self) -> None:
        self.results: list[LLMResult] = []

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.results.append(response)


@pytest.mark.parametrize("streaming", [False, True])
def test_llm_invoke_and_stream_name_the_version_that_ran(
    server: LocalPortkeyServer, streaming: bool
) -> None:
    llm = build(PortkeyPromptLLM, server, prompt_id="pp-joke@production")
    seen = Results()
    if streaming:
        text = "".join(llm.stream(JOKE, config={"callbacks": [seen]}))
    else:
        text = llm.invoke(JOKE, config={"callbacks": [seen]})
    assert "please" in text
    info = seen.results[-1].generations[0][0].generation_info or {}
    assert info["prompt_version"] == "production" and info["prompt_version_number"] == 2
    assert server.requests[-1].variables == JOKE


def test_direct_calls_name_no_version(server: LocalPortkeyServer) -> None:
    model = build(PortkeyChatModel, server, model="portkey-local", provider="openai")
    meta = model.invoke("hi").response_metadata
    assert "prompt_version_number" not in meta and "prompt_id" not in meta


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
        build(cls, server, prompt_id=prompt_id, prompt_version=version)
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
    model = build(cls, server, prompt_id=prompt_id, prompt_version=version)
    expected = prompt_id if "@" in prompt_id else f"{prompt_id}@{version}"
    assert model.full_prompt_id == expected
