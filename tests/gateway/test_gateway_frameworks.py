"""The LangChain and LlamaIndex models through Portkey's open-source gateway.

Gateway mode (``model=`` and no ``prompt_id``): chat models call ``/chat/completions``,
the prompt LLMs ``/completions``; routing, retries and timeouts come from the gateway.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.exceptions import ModelAPIError, ModelTimeoutError
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage
from llama_index.core.llms import ChatMessage

from portkey_integrations import RequestTimeoutError, TruncatedStreamError
from portkey_integrations import langchain as lc
from portkey_integrations import llama_index as li
from portkey_integrations.server import Fault, LocalPortkeyServer

pytestmark = pytest.mark.slow  # a Node gateway process, and its own retry backoff

ANSWER = "Echo: how are the owls"
RETRY_503 = {"retry": {"attempts": 1, "on_status_codes": [503]}}


def chat_paths(server: LocalPortkeyServer) -> list[str]:
    return [r.path for r in server.requests]


def test_langchain_chat_invoke_and_stream(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    model = lc.PortkeyChatModel(model="portkey-local", temperature=0, **via_gateway)
    messages = [SystemMessage("be brief"), HumanMessage("how are the owls")]
    reply = model.invoke(messages)
    assert reply.content == ANSWER
    assert reply.response_metadata["model_provider"] == "portkey"
    chunks = list(model.stream(messages))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(str(c.content) for c in chunks) == ANSWER
    plain, streamed = upstream.requests
    assert plain.path == streamed.path == "/v1/chat/completions"
    assert plain.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "how are the owls"},
    ]
    assert (plain.body["stream"], streamed.body["stream"]) == (False, True)


async def test_langchain_prompt_llm_async(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    llm = lc.PortkeyPromptLLM(model="portkey-local", **via_gateway)
    assert await llm.ainvoke("say hello") == "Echo: say hello"
    assert "".join([t async for t in llm.astream("say more")]) == "Echo: say more"
    assert chat_paths(upstream) == ["/v1/completions", "/v1/completions"]
    assert upstream.requests[0].body["prompt"] == "say hello"


def test_langchain_retry_config(via_gateway: dict[str, Any], upstream: LocalPortkeyServer) -> None:
    upstream.add_fault(Fault(kind="status", status=503))
    model = lc.PortkeyChatModel(model="portkey-local", config=RETRY_503, **via_gateway)
    assert model.invoke("how are the owls").content == ANSWER
    assert chat_paths(upstream) == ["/v1/chat/completions"] * 2


def test_langchain_gateway_timeout_is_a_model_timeout(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="slow", delay=3))
    model = lc.PortkeyChatModel(model="portkey-local", gateway_timeout_ms=200, **via_gateway)
    with pytest.raises(ModelTimeoutError) as info:
        model.invoke("how are the owls")
    assert isinstance(info.value, RequestTimeoutError)
    assert info.value.status_code == 408


def test_langchain_mid_stream_failure_after_the_chunks(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="disconnect", after_chunks=3))
    model = lc.PortkeyChatModel(model="portkey-local", **via_gateway)
    delivered: list[str] = []
    with pytest.raises(ModelAPIError) as info:
        for chunk in model.stream("how are the owls"):
            delivered.append(str(chunk.content))
    assert isinstance(info.value, TruncatedStreamError)
    assert "".join(delivered) == "Echo: how"


def test_llama_index_chat_and_stream(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    llm = li.PortkeyChatModel(model="portkey-local", **via_gateway)
    messages = [ChatMessage(role="user", content="how are the owls")]
    assert llm.chat(messages).message.content == ANSWER
    deltas = [r.delta for r in llm.stream_chat(messages)]
    assert "".join(d or "" for d in deltas) == ANSWER
    assert chat_paths(upstream) == ["/v1/chat/completions"] * 2
    assert upstream.requests[1].body["stream"] is True


async def test_llama_index_prompt_llm_async(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    llm = li.PortkeyPromptLLM(model="portkey-local", **via_gateway)
    assert (await llm.acomplete("say hello")).text == "Echo: say hello"
    responses = [r async for r in await llm.astream_complete("say more")]
    assert responses[-1].text == "Echo: say more"
    assert "".join(r.delta or "" for r in responses) == "Echo: say more"
    assert chat_paths(upstream) == ["/v1/completions", "/v1/completions"]


def test_llama_index_fallback_and_trace(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer, closed_url: str
) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "sk-first", "custom_host": closed_url},
            {"provider": "openai", "api_key": "sk-second", "custom_host": upstream.base_url},
        ],
    }
    options = {k: v for k, v in via_gateway.items() if k not in ("provider", "custom_host")}
    llm = li.PortkeyChatModel(model="portkey-local", config=config, trace_id="li-1", **options)
    response = llm.chat([ChatMessage(role="user", content="how are the owls")])
    assert response.message.content == ANSWER
    assert str(response.additional_kwargs.get("trace_id", "")).endswith("li-1")
    (received,) = upstream.requests
    assert received.headers["authorization"] == "Bearer sk-second"


def test_llama_index_mid_stream_failure_after_the_chunks(
    via_gateway: dict[str, Any], upstream: LocalPortkeyServer
) -> None:
    upstream.add_fault(Fault(kind="abort", after_chunks=3))
    llm = li.PortkeyPromptLLM(model="portkey-local", **via_gateway)
    delivered: list[str] = []
    with pytest.raises(TruncatedStreamError) as info:
        for response in llm.stream_complete("how are the owls"):
            delivered.append(response.delta or "")
    # A text stream has no role chunk: the upstream sent "Echo:", " how" and " are" before
    # aborting. The gateway may not pass on all three before the abort reaches it, but
    # every chunk that did arrive was delivered, and the error holds exactly those.
    text = "".join(delivered)
    assert text and "Echo: how are".startswith(text)
    carried = "".join(chunk.choices[0].content for chunk in info.value.chunks)
    assert carried == text and 1 <= len(info.value.chunks) <= 3
