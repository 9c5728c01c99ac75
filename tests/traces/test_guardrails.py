"""Guardrail results reach response metadata (246, streams); a 446 raises GuardrailError."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from portkey_integrations import GuardrailError
from portkey_integrations.langchain import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.llama_index import PortkeyChatModel as LlamaChatModel
from portkey_integrations.server import Fault, LocalPortkeyServer

from .conftest import SECRET


def _lc(server: LocalPortkeyServer) -> PortkeyChatModel:
    return PortkeyChatModel(prompt_id="pp-assistant", base_url=server.base_url, api_key=SECRET)


def _li(server: LocalPortkeyServer) -> LlamaChatModel:
    return LlamaChatModel(
        prompt_id="pp-assistant", base_url=server.base_url, api_key=SECRET, max_retries=0
    )


def _checks(hooks: Any) -> list[str]:
    return [c["id"] for h in hooks["before_request_hooks"] for c in h["checks"]]


def test_langchain_246_puts_hook_results_in_response_metadata(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="hook_results"))
    reply = _lc(server).invoke("hi")
    assert reply.content == "Echo: hi"
    assert _checks(reply.response_metadata["hook_results"]) == ["default.regexMatch"]


def test_langchain_stream_carries_hook_results(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="hook_results"))
    chunks = list(_lc(server).stream("hi"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content == "Echo: hi"
    assert _checks(merged.response_metadata["hook_results"]) == ["default.regexMatch"]


def test_langchain_llm_246(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="hook_results"))
    llm = PortkeyPromptLLM(prompt_id="pp-text-complete", base_url=server.base_url, api_key=SECRET)
    result = llm.generate(["Once"])
    info = result.generations[0][0].generation_info or {}
    assert _checks(info["hook_results"]) == ["default.regexMatch"]


def test_llama_index_246_and_stream(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="hook_results", times=2))
    reply = _li(server).chat([ChatMessage(role="user", content="hi")])
    assert _checks(reply.additional_kwargs["hook_results"]) == ["default.regexMatch"]
    last = None
    for last in _li(server).stream_chat([ChatMessage(role="user", content="hi")]):
        assert "hook_results" in last.additional_kwargs
    assert last is not None and last.message.content == "Echo: hi"


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_446_raises_guardrail_error_with_hook_results(
    server: LocalPortkeyServer, framework: str
) -> None:
    server.add_fault(Fault(kind="status", status=446))
    with pytest.raises(GuardrailError) as caught:
        if framework == "langchain":
            _lc(server).invoke("blocked")
        else:
            _li(server).chat([ChatMessage(role="user", content="blocked")])
    error = caught.value
    assert error.status_code == 446 and error.type == "hooks_failed"
    hooks = error.body["hook_results"]
    assert hooks["before_request_hooks"][0]["deny"] is True
    assert error.hook_results == hooks
