"""A conversation on a prompt id loses nothing either: history, tool results and content
blocks reach the model or the call fails before sending with PromptMappingError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, TextBlock, VideoBlock
from llama_index.core.prompts import PromptTemplate

from portkey_integrations import PromptMappingError
from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer, ReceivedRequest


def _vars(request: ReceivedRequest) -> dict[str, Any]:
    assert isinstance(request.variables, dict)
    return request.variables


async def _sync(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


# -- content the request cannot carry ---------------------------------------------------


@pytest.mark.parametrize("prompt_id", [None, "pp-assistant"])
async def test_a_block_the_request_cannot_carry_fails_before_sending(
    prompt_id: str | None, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="what is this?"), VideoBlock(url="https://x.test/v.mp4")],
    )
    llm = chat_model(prompt_id=prompt_id) if prompt_id else chat_model(model="portkey-local")
    with pytest.raises(PromptMappingError, match="VideoBlock") as caught:
        await llm.achat([message])
    assert (
        not isinstance(caught.value, ValueError)
        and caught.value.piece == "VideoBlock content block"
    )
    assert not [r for r in server.requests if r.path.endswith("/completions")]


# -- a conversation on prompt_id: history and tool results need their slots --------------

TOOL_LOOP = [
    ChatMessage(role="user", content="add 1 and 2"),
    ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
            ]
        },
    ),
    ChatMessage(role="tool", content="3", additional_kwargs={"tool_call_id": "c1"}),
]


@pytest.mark.parametrize("use_async", [False, True])
async def test_tool_results_without_a_scratchpad_slot_fail_instead_of_looping(
    use_async: bool, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    server.store.register(
        "pp-li-cons-no-pad",
        '[{{#chat_history}}{{{.}}}, {{/chat_history}}{"role": "user", "content": "{{input}}"}]',
    )
    llm = chat_model(prompt_id="pp-li-cons-no-pad")
    with pytest.raises(PromptMappingError, match="'agent_scratchpad'") as caught:
        await (llm.achat(TOOL_LOOP) if use_async else _sync(llm.chat, TOOL_LOOP))
    # The fix splices the tool turns after the user message, as pp-assistant does.
    assert "{{#agent_scratchpad}},{{{.}}}{{/agent_scratchpad}}" in caught.value.fix
    assert not [r for r in server.requests if r.path.endswith("/completions")]
    await chat_model(prompt_id="pp-li-agent").achat(TOOL_LOOP)  # a prompt with the slot
    assert _vars(server.requests[-1])["agent_scratchpad"][1]["content"] == "3"


def test_a_question_goes_to_input_on_a_prompt_that_reads_input_and_context(
    server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    server.store.register(
        "pp-li-cons-input", [{"role": "user", "content": "{{context_str}}\nQ: {{input}}"}]
    )
    llm = chat_model(prompt_id="pp-li-cons-input")
    llm.predict(PromptTemplate("{context_str}\n{query_str}"), context_str="ctx", query_str="why?")
    assert _vars(server.requests[-1]) == {"context_str": "ctx", "input": "why?"}
