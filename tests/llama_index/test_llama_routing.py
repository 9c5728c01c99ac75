"""Prompt versions and labels, Portkey headers and per-call options, on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from llama_index.core.llms import ChatMessage

from portkey_integrations import RequestOptions
from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

JOKE = {"adjective": "dry", "topic": "caches"}
# The chat message fills {{input}}, which pp-joke never reads: these tests are about
# routing and options, not the variables check.
UNCHECKED = {"check_variables": "off"}


@pytest.mark.parametrize(
    ("prompt_id", "version", "sent", "reported", "runs_v2"),
    [
        ("pp-joke", None, "pp-joke", None, False),  # the published version, 1
        ("pp-joke", 2, "pp-joke@2", "2", True),
        ("pp-joke", "production", "pp-joke@production", "production", True),
        ("pp-joke@1", 1, "pp-joke@1", "1", False),  # the same version twice (differing: refused)
    ],
)
def test_versions_and_labels(
    prompt_id: str,
    version: int | str | None,
    sent: str,
    reported: str | None,
    runs_v2: bool,
    chat_model: Callable[..., PortkeyChatModel],
    server: LocalPortkeyServer,
) -> None:
    llm = chat_model(prompt_id=prompt_id, prompt_version=version, variables=JOKE, **UNCHECKED)
    response = llm.chat([ChatMessage(role="user", content="go")])
    assert server.requests[-1].prompt_id == sent
    assert response.additional_kwargs["prompt_id"] == "pp-joke"
    assert response.additional_kwargs["prompt_version"] == reported
    assert "Tell me a dry joke about caches" in (response.message.content or "")
    # Version 2 (also the production label) says "please"; version 1 does not.
    assert ("please" in (response.message.content or "")) is runs_v2


def test_portkey_headers_from_model_fields(
    prompt_llm: Callable[..., PortkeyPromptLLM], server: LocalPortkeyServer, secret: str
) -> None:
    llm = prompt_llm(
        prompt_id="pp-text-complete",
        trace_id="trace-li-1",
        portkey_metadata={"_user": "ada", "team": "search"},
        cache_namespace="li-tests",
        cache_force_refresh=True,
        gateway_timeout_ms=9000,
        config={"retry": {"attempts": 2}},
        provider="openai",
        forward_headers=["x-tenant"],
        default_headers={"x-tenant": "acme"},
    )
    response = llm.complete("hello")
    headers = server.requests[-1].headers
    assert headers["x-portkey-api-key"] == secret
    assert headers["x-portkey-trace-id"] == "trace-li-1"
    assert json.loads(headers["x-portkey-metadata"]) == {"_user": "ada", "team": "search"}
    assert headers["x-portkey-cache-namespace"] == "li-tests"
    assert headers["x-portkey-cache-force-refresh"] == "true"
    assert headers["x-portkey-request-timeout"] == "9000"
    assert json.loads(headers["x-portkey-config"]) == {"retry": {"attempts": 2}}
    assert headers["x-portkey-provider"] == "openai"
    assert headers["x-portkey-forward-headers"] == "x-tenant"
    assert headers["x-tenant"] == "acme"
    assert response.additional_kwargs["trace_id"] == "trace-li-1"


async def test_per_call_options_and_variables(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id="pp-joke", variables={"adjective": "dry", "topic": "x"}, **UNCHECKED)
    response = await llm.achat(
        [ChatMessage(role="user", content="go")],
        options=RequestOptions(trace_id="per-call"),
        variables={"topic": "pydantic"},
        max_tokens=4,
    )
    request = server.requests[-1]
    assert request.headers["x-portkey-trace-id"] == "per-call"
    assert request.body["variables"]["topic"] == "pydantic"
    assert request.body["max_completion_tokens"] == 4
    assert len((response.message.content or "").split()) == 4
    assert response.raw.choices[0].finish_reason == "length"
