"""An image in the last user message reaches the model through input_parts."""

from __future__ import annotations

import warnings

import pytest
from langchain_core.messages import HumanMessage

from portkey_integrations import PromptMappingError
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def image_message() -> HumanMessage:
    return HumanMessage(content=[{"type": "text", "text": "What is in this picture?"}, IMAGE])


def test_the_parts_reach_the_rendered_user_message(server: LocalPortkeyServer) -> None:
    model = PortkeyChatModel(prompt_id="pp-assistant-vision", base_url=server.base_url)
    model.invoke([image_message()])
    sent = server.requests[-1].variables
    assert sent["input"] == "What is in this picture?"
    assert sent["input_parts"] == [{"type": "text", "text": "What is in this picture?"}, IMAGE]
    rendered = model.render([image_message()]).messages
    assert rendered is not None
    assert rendered[-1] == {"role": "user", "content": sent["input_parts"]}


def test_text_only_messages_keep_the_plain_input(server: LocalPortkeyServer) -> None:
    model = PortkeyChatModel(prompt_id="pp-assistant-vision", base_url=server.base_url)
    rendered = model.render("just text").messages
    assert rendered is not None and rendered[-1] == {"role": "user", "content": "just text"}
    model.invoke("just text")
    sent = server.requests[-1].variables
    assert sent["input"] == "just text" and "input_parts" not in sent


def test_a_prompt_without_a_slot_for_the_parts_raises(server: LocalPortkeyServer) -> None:
    model = PortkeyChatModel(prompt_id="pp-assistant", base_url=server.base_url)
    with pytest.raises(PromptMappingError, match="image_url part") as caught:
        model.invoke([image_message()])
    assert caught.value.prompt_id == "pp-assistant" and "input_parts" in caught.value.fix
    assert not server.requests  # failed before sending


def test_a_prompt_without_a_slot_for_the_parts_warns_when_told(
    server: LocalPortkeyServer,
) -> None:
    model = PortkeyChatModel(
        prompt_id="pp-assistant", base_url=server.base_url, check_variables="warn"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.invoke([image_message()])
    assert any("image_url part" in str(w.message) for w in caught)
    assert server.requests[-1].variables["input"] == "What is in this picture?"
