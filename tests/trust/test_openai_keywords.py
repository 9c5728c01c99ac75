"""ChatOpenAI's constructor keywords on every model class: renamed to their Portkey
field, merged into the body, or refused by name; never sent as body keys."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.load import dumps
from llama_index.core.llms import ChatMessage
from pydantic import SecretStr

from portkey_integrations import PortkeyConfigError
from portkey_integrations._adapters.keywords import OPENAI_REFUSED
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.langchain.embeddings import PortkeyEmbeddings as LCEmbed
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyEmbedding as LIEmbed
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

OPENAI_KEY = "sk-secret-openai-0001"
LLMS = [LCChat, LCLLM, LIChat, LILLM]
ALL = [*LLMS, LCEmbed, LIEmbed]


def ids(cls: type) -> str:
    return f"{cls.__module__.split('.')[1]}.{cls.__name__}"


def call(model: Any) -> None:
    if isinstance(model, LCEmbed):
        model.embed_query("x")
    elif isinstance(model, LIEmbed):
        model.get_query_embedding("x")
    elif isinstance(model, (LCChat, LCLLM)):
        model.invoke("hello")
    else:
        model.chat([ChatMessage(role="user", content="hello")])


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_openai_api_key_is_the_provider_key(cls: type, server: LocalPortkeyServer) -> None:
    route: dict[str, Any] = {"provider": "openai"}
    if cls not in (LCEmbed, LIEmbed):
        route["model"] = "gpt-4o-mini"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a known keyword: no "moved to model_kwargs"
        model = cls(base_url=server.base_url, openai_api_key=OPENAI_KEY, **route)
    assert isinstance(model.provider_api_key, SecretStr)
    assert OPENAI_KEY not in repr(model) and OPENAI_KEY not in model.model_dump_json()
    if cls in (LCChat, LCLLM):
        assert OPENAI_KEY not in dumps(model)
    call(model)
    sent = server.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert OPENAI_KEY not in str(sent.body)
    assert "openai_api_key" not in str(sent.body)


@pytest.mark.parametrize("cls", LLMS, ids=ids)
def test_model_name_is_model_and_extra_body_is_merged(
    cls: type, server: LocalPortkeyServer
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = cls(
            base_url=server.base_url,
            provider="openai",
            model_name="gpt-4o-mini",
            extra_body={"seed": 5, "user": "u-1"},
            model_kwargs={"seed": 5},
        )
    assert model.model == "gpt-4o-mini"
    call(model)
    body = server.requests[-1].body
    assert body["model"] == "gpt-4o-mini"
    assert body["seed"] == 5 and body["user"] == "u-1"
    assert not {"model_name", "extra_body"} & set(body)


@pytest.mark.parametrize("cls", [LCEmbed, LIEmbed], ids=ids)
def test_extra_body_reaches_an_embeddings_body(cls: type, server: LocalPortkeyServer) -> None:
    model = cls(base_url=server.base_url, provider="openai", extra_body={"user": "u-2"})
    call(model)
    body = server.requests[-1].body
    assert body["user"] == "u-2" and "extra_body" not in body


@pytest.mark.parametrize("keyword", sorted(OPENAI_REFUSED))
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_openai_only_keywords_are_refused_by_name(cls: type, keyword: str) -> None:
    with pytest.raises(PortkeyConfigError, match=keyword) as info:
        cls(base_url="http://127.0.0.1:9/v1", **{keyword: True})
    assert OPENAI_REFUSED[keyword] in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"openai_api_key": "a", "provider_api_key": "b"}, "provider_api_key= only"),
        ({"model_name": "a", "model": "b"}, "model= only"),
        ({"extra_body": {"seed": 1}, "model_kwargs": {"seed": 2}}, "'seed'"),
        ({"extra_body": ["seed"]}, "extra_body must be a dict"),
    ],
)
@pytest.mark.parametrize("cls", [LCChat, LIChat], ids=ids)
def test_conflicting_openai_keywords_are_refused(
    cls: type, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(PortkeyConfigError, match=match):
        cls(base_url="http://127.0.0.1:9/v1", **kwargs)


def test_the_refused_messages_name_the_portkey_field() -> None:
    assert "base_url" in OPENAI_REFUSED["openai_api_base"]
    assert "custom_host" in OPENAI_REFUSED["openai_api_base"]
    assert "not supported" in OPENAI_REFUSED["use_responses_api"]
    assert "default_headers" in OPENAI_REFUSED["default_query"]
