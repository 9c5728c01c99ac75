"""Structured output, images, metadata and routing on prompt ids: what reached the model."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.prompts import PromptTemplate
from llama_index.core.prompts.default_prompts import DEFAULT_REFINE_PROMPT
from pydantic import BaseModel

from portkey_integrations import BadRequestError, PortkeyConfigError, PromptMappingError
from portkey_integrations._templates.checks import PromptVariablesWarning
from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

UNREAD = "pp-li-paths-unread"

UNROUTED = "Either x-portkey-config or x-portkey-provider header is required"
MINI = {
    "id": "pp-li-mini",
    "kind": "chat",
    "model": "gpt-4o-mini",
    "template": [{"role": "user", "content": "{{context_str}}\nQ: {{query_str}}"}],
}
MINI_VARIABLES = {"context_str": "Entries expire.", "query_str": "Why?"}


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int


EXTRACT = PromptTemplate("Extract the person from: {text}")
IMAGE = ImageBlock(url="https://example.com/cat.png")


def _image_message() -> ChatMessage:
    return ChatMessage(role="user", blocks=[TextBlock(text="What is in it?"), IMAGE])


# -- structured output -----------------------------------------------------------------


def test_as_structured_llm_on_a_prompt_id_sends_the_message_and_the_schema(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    structured = chat_model(prompt_id="pp-assistant").as_structured_llm(Person)
    response = structured.chat([ChatMessage(role="user", content="Ada is 36")])
    assert isinstance(response.raw, Person)
    body = server.requests[-1].body
    assert body["variables"]["input"] == "Ada is 36"  # not variables: {}
    assert body["tools"][0]["function"]["name"] == "Person"
    structured.complete("Grace is 45")
    assert server.requests[-1].body["variables"]["input"] == "Grace is 45"


async def test_async_structured_llm_on_a_prompt_id(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    structured = chat_model(prompt_id="pp-assistant").as_structured_llm(Person)
    response = await structured.achat([ChatMessage(role="user", content="Alan is 41")])
    assert isinstance(response.raw, Person)
    assert server.requests[-1].body["variables"]["input"] == "Alan is 41"


def test_prompt_llm_structured_predict_on_a_prompt_id_sends_schema_and_instructions(
    prompt_llm: Callable[..., PortkeyPromptLLM], server: LocalPortkeyServer
) -> None:
    # pp-li-extract does not place {{format_instructions}}: the schema goes as
    # response_format and the instructions, which have no place, are not sent.
    person = prompt_llm(prompt_id="pp-li-extract").structured_predict(
        Person, EXTRACT, text="Ada, 36"
    )
    assert isinstance(person, Person)
    body = server.requests[-1].body
    assert body["variables"] == {"text": "Ada, 36"}
    assert body["response_format"]["json_schema"]["schema"] == Person.model_json_schema()
    # A text prompt that places them gets them.
    server.store.register(
        "pp-li-extract-placed",
        "Extract the person from: {{text}}\n{{format_instructions}}",
        kind="text",
    )
    prompt_llm(prompt_id="pp-li-extract-placed").structured_predict(Person, EXTRACT, text="Ada, 36")
    assert '"age"' in server.requests[-1].body["variables"]["format_instructions"]


async def test_prompt_llm_as_structured_llm_async_on_a_prompt_id(
    prompt_llm: Callable[..., PortkeyPromptLLM], server: LocalPortkeyServer
) -> None:
    # pp-assistant does not place {{format_instructions}}: what is sent is under test.
    structured = prompt_llm(prompt_id="pp-assistant", check_variables="off").as_structured_llm(
        Person
    )
    response = await structured.acomplete("Linus is 29")
    assert isinstance(response.raw, Person)
    body = server.requests[-1].body
    assert body["variables"]["input"] == "Linus is 29"
    assert body["response_format"]["type"] == "json_schema"


def test_prompt_llm_structured_predict_on_the_text_route_sends_llama_index_instructions(
    prompt_llm: Callable[..., PortkeyPromptLLM], server: LocalPortkeyServer
) -> None:
    # /completions: LlamaIndex's own flow, its JSON instructions in the prompt text. The
    # offline text model only echoes, so parsing fails after the request was made.
    with pytest.raises(ValueError):
        prompt_llm(model="portkey-local").structured_predict(Person, EXTRACT, text="Ada")
    prompt = server.requests[-1].body["prompt"]
    assert prompt.startswith("Extract the person from: Ada") and '"age"' in prompt


# -- images ------------------------------------------------------------------------------


def test_an_image_in_the_last_message_reaches_the_model(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id="pp-assistant-vision")
    llm.chat([_image_message()])
    variables = server.requests[-1].body["variables"]
    assert variables["input"] == "What is in it?"
    parts = variables["input_parts"]  # a JSON value, spliced as the message's content
    assert parts[1] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    rendered = llm.client.render(
        "pp-assistant-vision", variables=variables, raw_variables=["chat_history", "input_parts"]
    )
    assert rendered.messages[-1] == {"role": "user", "content": parts}


def test_a_prompt_without_a_parts_slot_fails_or_warns_when_told(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    with pytest.raises(PromptMappingError, match=r"image_url part.*'input_parts'") as caught:
        chat_model(prompt_id="pp-assistant").chat([_image_message()])
    assert caught.value.prompt_id == "pp-assistant" and server.requests == []
    llm = chat_model(prompt_id="pp-assistant", check_variables="warn")
    with pytest.warns(PromptVariablesWarning, match=r"image_url part.*'input_parts'"):
        llm.chat([_image_message()])
    assert "input_parts" in server.requests[-1].body["variables"]  # sent all the same


# -- metadata ----------------------------------------------------------------------------


def test_context_window_comes_from_the_model_that_runs(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    if MINI["id"] not in set(server.store.ids()):
        server.store.load_data(MINI)
    llm = chat_model(prompt_id=MINI["id"])
    llm.chat([ChatMessage(role="user", content="hi")], template_variables=MINI_VARIABLES)
    assert llm.metadata.context_window == 128_000  # the saved model, read by the call
    assert chat_model(model="gpt-4").metadata.context_window == 8_192
    assert chat_model(model="gpt-4o-2024-08-06").metadata.context_window == 128_000
    assert chat_model(model="someones-own-model").metadata.context_window == 3_900
    assert chat_model(model="gpt-4", context_window=999).metadata.context_window == 999
    assert chat_model(model="gpt-4", max_tokens=50).metadata.num_output == 50


def test_metadata_sends_no_request(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    if MINI["id"] not in set(server.store.ids()):
        server.store.load_data(MINI)
    server.reset()
    llm = chat_model(prompt_id=MINI["id"])
    meta = llm.metadata
    assert (server.requests, server.admin_requests) == ([], [])
    # Nothing read yet: LlamaIndex's default, until a call reads the saved model.
    assert (meta.context_window, meta.model_name) == (DEFAULT_CONTEXT_WINDOW, MINI["id"])
    llm.chat([ChatMessage(role="user", content="hi")], template_variables=MINI_VARIABLES)
    sent = len(server.requests) + len(server.admin_requests)
    assert llm.metadata.context_window == 128_000
    assert len(server.requests) + len(server.admin_requests) == sent


def test_a_top_5_query_makes_one_call(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    if MINI["id"] not in set(server.store.ids()):
        server.store.load_data(MINI)
    docs = [Document(text=f"Fact {i}: " + "cache entries expire. " * 100) for i in range(5)]
    index = VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))
    index.as_query_engine(llm=chat_model(prompt_id=MINI["id"]), similarity_top_k=5).query("Why?")
    assert len(server.requests) == 1
    assert all(
        f"Fact {i}:" in server.requests[0].body["variables"]["context_str"] for i in range(5)
    )


def test_additional_kwargs_go_to_the_body_root(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id="pp-assistant", additional_kwargs={"user": "u-1", "seed": 3})
    llm.chat([ChatMessage(role="user", content="hi")], seed=4)
    body = server.requests[-1].body
    assert (body["user"], body["seed"]) == ("u-1", 4)


def test_unknown_prompt_type_keys_are_refused() -> None:
    with pytest.raises(PortkeyConfigError, match="'refien' is not a LlamaIndex template type"):
        PortkeyChatModel(prompt_id="pp-x", prompt_ids={"refien": "pp-refine"})


# -- routing -----------------------------------------------------------------------------


def test_the_server_refuses_unrouted_gateway_calls_as_portkey(
    server: LocalPortkeyServer,
) -> None:
    body = {"model": "portkey-local", "messages": [{"role": "user", "content": "hi"}]}
    for path in ("/chat/completions", "/completions"):
        r = httpx.post(server.base_url + path, json=body)
        assert r.status_code == 400
        assert r.json() == {"status": "failure", "message": UNROUTED}
    routed = httpx.post(
        server.base_url + "/chat/completions", json={**body, "model": "@openai-prod/gpt-4o"}
    )
    assert routed.status_code == 200
    with pytest.raises(BadRequestError, match=UNROUTED):
        PortkeyChatModel(model="portkey-local", base_url=server.base_url, api_key="k").chat(
            [ChatMessage(role="user", content="hi")]
        )


def test_a_local_render_without_routing_is_refused_before_any_request(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer, secret: str
) -> None:
    # Saved prompts carry a virtual key, which routes a local render; a prompt the key
    # may run but not read (no prompts.read) has none the model can know of.
    if UNREAD not in set(server.store.ids()):
        server.store.register(UNREAD, [{"role": "user", "content": "{{context_str}}"}])
    args = {"query_str": "q", "existing_answer": "a", "context_msg": "c"}
    server.set_api_keys({secret: set()})
    try:
        llm = chat_model(prompt_id=UNREAD, model="portkey-local")  # no provider, no key
        with pytest.raises(PromptMappingError, match=r"needs routing.*prompt_ids=\{'refine'"):
            llm.predict(DEFAULT_REFINE_PROMPT, **args)
    finally:
        server.set_api_keys({})
    assert server.requests == []
    chat_model(prompt_id="pp-rag-qa", provider="openai").predict(DEFAULT_REFINE_PROMPT, **args)
    (sent,) = server.requests
    assert sent.path == "/v1/chat/completions" and sent.headers["x-portkey-provider"] == "openai"
    assert sent.body["model"] == "portkey-local"  # the model saved on pp-rag-qa


def test_a_local_render_without_a_known_model_names_the_template(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id="pp-li-not-saved", provider="openai")
    with pytest.raises(PromptMappingError, match=r"'refine' template.*prompt_ids=.*model="):
        llm.predict(DEFAULT_REFINE_PROMPT, query_str="q", existing_answer="a", context_msg="c")
    assert server.requests == []
