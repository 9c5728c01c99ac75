"""LangChain's LLM cache tells apart models that would send different requests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from langchain_core.caches import InMemoryCache
from langchain_core.globals import set_llm_cache

from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture
def cache() -> Iterator[InMemoryCache]:
    cache = InMemoryCache()
    set_llm_cache(cache)
    yield cache
    set_llm_cache(None)


def to_topic(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"topic": "owls", "adjective": "first"}


def to_other_topic(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"topic": "otters", "adjective": "second"}


def test_models_differing_only_in_mapper_do_not_share_entries(
    cache: InMemoryCache, server: LocalPortkeyServer
) -> None:
    first = PortkeyChatModel(
        prompt_id="pp-joke", base_url=server.base_url, variables_mapper=to_topic
    )
    second = PortkeyChatModel(
        prompt_id="pp-joke", base_url=server.base_url, variables_mapper=to_other_topic
    )
    a = first.invoke("hello").content
    b = second.invoke("hello").content
    assert "owls" in a and "otters" in b
    assert len(server.requests) == 2
    assert first.invoke("hello").content == a  # a hit, not a request
    assert len(server.requests) == 2


def test_bound_and_model_variables_are_part_of_the_key(
    cache: InMemoryCache, server: LocalPortkeyServer
) -> None:
    base = PortkeyChatModel(prompt_id="pp-joke", base_url=server.base_url)
    # The input is pp-joke's own variable (it has no slot for a text); the bound one
    # completes it and is what differs between the calls.
    one = base.bind(variables={"topic": "owls"}).invoke({"adjective": "dry"}).content
    two = base.bind(variables={"topic": "kites"}).invoke({"adjective": "dry"}).content
    three = (
        PortkeyChatModel(
            prompt_id="pp-joke",
            base_url=server.base_url,
            variables={"topic": "moles"},
            check_variables="off",
        )
        .invoke({})
        .content
    )
    assert "owls" in one and "kites" in two and "moles" in three
    assert len(server.requests) == 3


def test_llm_cache_keys_follow_variables_too(
    cache: InMemoryCache, server: LocalPortkeyServer
) -> None:
    llm = PortkeyPromptLLM(prompt_id="pp-joke", base_url=server.base_url)
    # pp-joke's own variables: the input gives one, the call's variables the other.
    assert "owls" in llm.invoke({"adjective": "dry"}, variables={"topic": "owls"})
    assert "kites" in llm.invoke({"adjective": "dry"}, variables={"topic": "kites"})
    assert len(server.requests) == 2
