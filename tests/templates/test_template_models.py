"""``include_model=True`` and the fallback recipes, checked by what reached the server."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from portkey_integrations import APIConnectionError, PortkeyClient
from portkey_integrations.langchain import PortkeyChatModel as LCChatModel
from portkey_integrations.langchain import pull_prompt as lc_pull
from portkey_integrations.langchain.templates import mark_fallback
from portkey_integrations.llama_index import PortkeyChatModel as LIChatModel
from portkey_integrations.llama_index import pull_prompt as li_pull
from portkey_integrations.llama_index.templates import (
    PulledPrompt,
    apredict_with_fallback,
    predict_with_fallback,
)
from portkey_integrations.server import LocalPortkeyServer

from .conftest import CASES, reference

SAVED = {
    "id": "pp-tpl-routed",
    "versions": [
        {
            "template": [{"role": "user", "content": "Route {{x}}"}],
            "model": "gpt-tpl",
            "parameters": {"temperature": 0.3, "max_tokens": 20, "logit_bias": {"50256": -100}},
            "virtual_key": "vk-tpl-saved",
        }
    ],
}
SAVED_TEXT = {
    "id": "pp-tpl-routed-text",
    "versions": [
        {"template": "Text {{x}}", "kind": "text", "model": "gpt-tpl-text", "virtual_key": "vk-t"}
    ],
}
CHAT = CASES[0]


@pytest.fixture
def routed(server: LocalPortkeyServer) -> Iterator[LocalPortkeyServer]:
    server.store.load_data(SAVED)
    server.store.load_data(SAVED_TEXT)
    yield server


def test_langchain_include_model_runs_the_saved_model_routed_by_its_virtual_key(
    routed: LocalPortkeyServer,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a saved hyperparameter that is no field: no warning
        chain = lc_pull("pp-tpl-routed", include_model=True, base_url=routed.base_url)
    answer = chain.invoke({"x": "me"})
    assert isinstance(answer, AIMessage)
    sent = routed.last_request
    assert sent is not None and sent.path == "/v1/chat/completions"
    assert sent.headers["x-portkey-virtual-key"] == "vk-tpl-saved"
    assert sent.body["model"] == "gpt-tpl" and sent.body["temperature"] == 0.3
    assert sent.body["max_completion_tokens"] == 20
    assert sent.body["logit_bias"] == {"50256": -100}
    assert sent.body["messages"] == [{"role": "user", "content": "Route me"}]


def test_langchain_include_model_for_a_text_prompt_uses_completions(
    routed: LocalPortkeyServer,
) -> None:
    chain = lc_pull("pp-tpl-routed-text", include_model=True, base_url=routed.base_url)
    chain.invoke({"x": "me"})
    sent = routed.last_request
    assert sent is not None and sent.path == "/v1/completions"
    assert sent.headers["x-portkey-virtual-key"] == "vk-t"
    assert (sent.body["model"], sent.body["prompt"]) == ("gpt-tpl-text", "Text me")


def test_llama_index_include_model_returns_the_template_and_the_saved_llm(
    routed: LocalPortkeyServer,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pulled = li_pull("pp-tpl-routed", include_model=True, base_url=routed.base_url)
    assert isinstance(pulled, PulledPrompt)
    template, llm = pulled
    assert llm.predict(template, x="you") == "Echo: Route you"
    sent = routed.last_request
    assert sent is not None and sent.headers["x-portkey-virtual-key"] == "vk-tpl-saved"
    assert sent.body["model"] == "gpt-tpl" and sent.body["temperature"] == 0.3
    assert sent.body["logit_bias"] == {"50256": -100}
    assert sent.body["messages"] == [{"role": "user", "content": "Route you"}]


def test_caller_options_win_over_the_saved_routing(routed: LocalPortkeyServer) -> None:
    chain = lc_pull(
        "pp-tpl-routed", include_model=True, base_url=routed.base_url, virtual_key="vk-mine"
    )
    chain.invoke({"x": "me"})
    assert routed.last_request is not None
    assert routed.last_request.headers["x-portkey-virtual-key"] == "vk-mine"


def test_langchain_fallback_answers_while_the_prompt_api_is_down(
    server: LocalPortkeyServer, client: PortkeyClient, pulled: Path, closed_url: str
) -> None:
    primary = LCChatModel(prompt_id=CHAT.id, base_url=closed_url, api_key="pk-x", max_retries=0)
    with pytest.raises(APIConnectionError):
        primary.invoke(CHAT.variables)
    offline = lc_pull(CHAT.id, folder=pulled)
    backup = LCChatModel(model="gpt-backup", base_url=server.base_url, provider="openai")
    chain = primary.with_fallbacks([offline | backup | mark_fallback(offline)])
    server.clear_requests()
    answer = chain.invoke(CHAT.variables)
    assert isinstance(answer, AIMessage) and answer.content == "Echo: Why?"
    assert answer.response_metadata["portkey_fallback"] is True
    assert answer.response_metadata["portkey_prompt_source"] == "folder"
    assert answer.response_metadata["portkey_prompt_version"] == 1
    sent = server.last_request
    assert sent is not None and sent.path == "/v1/chat/completions"
    assert sent.body["messages"] == reference(client, CHAT)


def test_langchain_primary_answers_when_the_prompt_api_is_up(
    server: LocalPortkeyServer, pulled: Path
) -> None:
    primary = LCChatModel(prompt_id=CHAT.id, base_url=server.base_url)
    offline = lc_pull(CHAT.id, folder=pulled)
    backup = LCChatModel(model="gpt-backup", base_url=server.base_url, provider="openai")
    answer = primary.with_fallbacks([offline | backup | mark_fallback(offline)]).invoke(
        CHAT.variables
    )
    assert "portkey_fallback" not in answer.response_metadata
    assert server.last_request is not None
    assert server.last_request.path == f"/v1/prompts/{CHAT.id}/completions"


def test_llama_index_fallback_answers_while_the_prompt_api_is_down(
    server: LocalPortkeyServer, client: PortkeyClient, pulled: Path, closed_url: str
) -> None:
    primary = LIChatModel(prompt_id=CHAT.id, base_url=closed_url, api_key="pk-x", max_retries=0)
    backup = LIChatModel(model="gpt-backup", base_url=server.base_url, provider="openai")
    template = li_pull(CHAT.id, folder=pulled)
    answer = predict_with_fallback(primary, template, backup, **CHAT.variables)
    assert answer.text == "Echo: Why?"
    assert answer.additional_kwargs["portkey_fallback"] is True
    assert answer.additional_kwargs["portkey_prompt_source"] == "folder"
    sent = server.last_request
    assert sent is not None and sent.path == "/v1/chat/completions"
    assert sent.body["messages"] == reference(client, CHAT)


async def test_llama_index_async_fallback_and_primary(
    server: LocalPortkeyServer, pulled: Path, closed_url: str
) -> None:
    backup = LIChatModel(model="gpt-backup", base_url=server.base_url, provider="openai")
    template = li_pull(CHAT.id, folder=pulled)
    down = LIChatModel(prompt_id=CHAT.id, base_url=closed_url, api_key="pk-x", max_retries=0)
    answer = await apredict_with_fallback(down, template, backup, **CHAT.variables)
    assert answer.additional_kwargs["portkey_fallback"] is True
    up = LIChatModel(prompt_id=CHAT.id, base_url=server.base_url)
    answer = await apredict_with_fallback(up, template, backup, **CHAT.variables)
    assert answer.additional_kwargs == {} and answer.text == "Echo: Why?"
    assert server.last_request is not None
    assert server.last_request.body["variables"] == CHAT.variables


def test_llama_index_query_engine_runs_the_pulled_template(
    server: LocalPortkeyServer, tmp_path: Path
) -> None:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding

    server.register(
        "pp-tpl-qa",
        [{"role": "user", "content": 'Context: {{context_str}} | Q: "{{query_str}}"'}],
    )
    qa, llm = li_pull("pp-tpl-qa", include_model=True, base_url=server.base_url, provider="openai")
    index = VectorStoreIndex.from_documents(
        [Document(text="Owls hunt at night.")], embed_model=MockEmbedding(embed_dim=8)
    )
    engine = index.as_query_engine(llm=llm)
    engine.update_prompts({"response_synthesizer:text_qa_template": qa})
    server.clear_requests()
    engine.query("When?")
    sent = server.last_request
    assert sent is not None and sent.path == "/v1/chat/completions"
    [message] = sent.body["messages"]
    assert message["content"].startswith("Context: ") and message["content"].endswith('Q: "When?"')
    assert "Owls hunt at night." in message["content"]
