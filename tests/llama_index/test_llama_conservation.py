"""Prompt mode loses nothing LlamaIndex hands the model: it reaches the model (what the
local server received, or Portkey's render of it) or the call fails before sending with
PromptMappingError, which LlamaIndex's Refine and programs cannot swallow."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.chat_engine.types import ChatMode
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.output_parsers import PydanticOutputParser
from llama_index.core.program import FunctionCallingProgram, LLMTextCompletionProgram
from llama_index.core.prompts import PromptTemplate
from llama_index.core.query_engine import CitationQueryEngine
from llama_index.core.selectors import PydanticSingleSelector
from llama_index.core.tools import ToolMetadata
from pydantic import BaseModel

from portkey_integrations import PortkeyConfigError, PromptMappingError
from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer, ReceivedRequest

DOCS = [
    "The Zephyr release shipped on 3 March with a rewritten cache.",
    "Zephyr's cache keeps entries for ten minutes by default.",
    "The previous release, Yarrow, had no cache at all.",
]
QUESTION = "How long does Zephyr keep cache entries?"
SYSTEM = "Answer like a pirate."
# A QA prompt whose saved model has a virtual key: templates no prompt serves run on it.
SAVED_QA = {
    "id": "pp-li-cons-qa",
    "kind": "chat",
    "model": "gpt-4o-mini",
    "virtual_key": "vk-openai-local",
    "template": [{"role": "user", "content": "{{context_str}}\nQ: {{query_str}}"}],
}
CHAT_IDS = {"context": "pp-context-chat", "condense": "pp-condense"}


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    embed = MockEmbedding(embed_dim=8)
    return VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)


@pytest.fixture
def saved(server: LocalPortkeyServer) -> LocalPortkeyServer:
    if SAVED_QA["id"] not in set(server.store.ids()):
        server.store.load_data(SAVED_QA)
    return server


UNREAD = "pp-li-cons-unread"


@pytest.fixture
def unreadable(server: LocalPortkeyServer, secret: str) -> Iterator[str]:
    """A QA prompt the model's key may run but not read (no prompts.read): its saved
    model and virtual key are unknown, so a template rendered locally has no routing."""
    if UNREAD not in set(server.store.ids()):
        server.store.register(
            UNREAD, [{"role": "user", "content": "{{context_str}} {{query_str}}"}]
        )
    server.set_api_keys({secret: set()})
    try:
        yield UNREAD
    finally:
        server.set_api_keys({})


def _vars(request: ReceivedRequest) -> dict[str, Any]:
    assert isinstance(request.variables, dict)
    return request.variables


def _sent_text(request: ReceivedRequest) -> str:
    body = request.body
    if "messages" in body:
        return "\n".join(str(m.get("content")) for m in body["messages"])
    return str(body.get("prompt", ""))


async def _ask(engine: Any, text: str, use_async: bool) -> str:
    if use_async:
        return str(await engine.aquery(text))
    return str(engine.query(text))


# -- Refine: the error reaches query(), or every chunk reaches the model --------------


def test_the_mapping_error_is_no_value_error() -> None:
    # Refine, structured and program paths catch these three and carry on.
    assert not issubclass(PromptMappingError, (ValueError, TypeError))
    assert not issubclass(PromptMappingError, PortkeyConfigError)


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("model", [None, "portkey-local"])
async def test_refine_without_routing_fails_query_instead_of_answering_from_one_chunk(
    use_async: bool,
    model: str | None,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    unreadable: str,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id=unreadable, model=model)  # no provider, no saved routing
    engine = index.as_query_engine(llm=llm, response_mode="refine", similarity_top_k=3)
    why = "needs routing" if model else "could not be read"
    with pytest.raises(PromptMappingError, match=f"'refine' template.*{why}") as caught:
        await _ask(engine, QUESTION, use_async)
    assert caught.value.prompt_id == unreadable and "prompt_ids={'refine'" in caught.value.fix
    sent = [r for r in server.requests if r.path.endswith("/completions")]
    (first,) = sent  # the first chunk's answer; no refine step was sent
    assert first.prompt_id == unreadable


def _long_index() -> VectorStoreIndex:
    # Three chunks that do not fit one pack of a 1200-token window.
    texts = [
        f"{doc} " + " ".join(f"filler{i}-{n}" for n in range(120)) for i, doc in enumerate(DOCS)
    ]
    embed = MockEmbedding(embed_dim=8)
    return VectorStoreIndex.from_documents([Document(text=t) for t in texts], embed_model=embed)


@pytest.mark.parametrize("use_async", [False, True])
async def test_compact_overflowing_one_pack_fails_without_routing(
    use_async: bool,
    server: LocalPortkeyServer,
    unreadable: str,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id=unreadable, context_window=1200, max_tokens=64)
    engine = _long_index().as_query_engine(llm=llm, response_mode="compact", similarity_top_k=3)
    with pytest.raises(PromptMappingError, match="'refine' template"):
        await _ask(engine, QUESTION, use_async)
    assert len([r for r in server.requests if r.path.endswith("/completions")]) == 1


@pytest.mark.parametrize("mode", ["refine", "compact"])
@pytest.mark.parametrize("use_async", [False, True])
async def test_with_routing_every_chunk_reaches_the_model(
    mode: str,
    use_async: bool,
    saved: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id=SAVED_QA["id"], context_window=1200, max_tokens=64)
    engine = _long_index().as_query_engine(llm=llm, response_mode=mode, similarity_top_k=3)
    await _ask(engine, QUESTION, use_async)
    first, *steps = saved.requests
    assert first.prompt_id == SAVED_QA["id"] and steps
    for step in steps:  # rendered locally, on the saved prompt's virtual key
        assert step.path == "/v1/chat/completions"
        assert step.headers["x-portkey-virtual-key"] == "vk-openai-local"
    sent = _vars(first)["context_str"] + "".join(_sent_text(s) for s in steps)
    assert all(doc in sent for doc in DOCS)


# -- chat engines: system_prompt and the default engine's user message ------------------


@pytest.mark.parametrize("mode", [ChatMode.CONTEXT, ChatMode.CONDENSE_PLUS_CONTEXT])
@pytest.mark.parametrize("use_async", [False, True])
async def test_a_chat_engines_system_prompt_reaches_the_model(
    mode: ChatMode,
    use_async: bool,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id="pp-assistant", prompt_ids=CHAT_IDS)
    engine = index.as_chat_engine(chat_mode=mode, llm=llm, system_prompt=SYSTEM)
    await (engine.achat(QUESTION) if use_async else _sync(engine.chat, QUESTION))
    request = server.requests[-1]
    assert request.prompt_id == "pp-context-chat"
    variables = _vars(request)
    assert variables["chat_history"][0] == {"role": "system", "content": SYSTEM}
    rendered = llm.client.render(
        "pp-context-chat", variables=variables, raw_variables=["chat_history"]
    )
    assert any(m["content"] == SYSTEM for m in rendered.messages)


async def _sync(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


@pytest.mark.parametrize("mode", [ChatMode.CONTEXT, ChatMode.CONDENSE_PLUS_CONTEXT])
def test_a_system_prompt_without_a_slot_fails_before_sending(
    mode: ChatMode,
    index: VectorStoreIndex,
    saved: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id="pp-assistant", prompt_ids={"context": SAVED_QA["id"]})
    engine = index.as_chat_engine(chat_mode=mode, llm=llm, system_prompt=SYSTEM)
    with pytest.raises(PromptMappingError, match=r"system_prompt.*pp-li-cons-qa") as caught:
        engine.chat(QUESTION)
    assert "{{system_prompt}}" in caught.value.fix and "check_variables='warn'" in caught.value.fix
    assert all(r.prompt_id != SAVED_QA["id"] for r in saved.requests)
    # Accepted knowingly: warned, sent without it.
    llm = chat_model(
        prompt_id="pp-assistant", prompt_ids={"context": SAVED_QA["id"]}, check_variables="warn"
    )
    engine = index.as_chat_engine(chat_mode=mode, llm=llm, system_prompt=SYSTEM)
    with pytest.warns(UserWarning, match="system_prompt"):
        engine.chat(QUESTION)
    assert "system_prompt" not in _vars(saved.requests[-1])


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_system_prompt_on_an_unreadable_prompt_fails_the_same_way_each_time(
    use_async: bool,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    unreadable: str,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    # Whether the prompt has a slot for the system prompt cannot be told: refused, as a
    # LangChain system message is, with the fix to let the key read prompts.
    llm = chat_model(
        prompt_id="pp-assistant", provider="openai", prompt_ids={"context": unreadable}
    )
    engine = index.as_chat_engine(chat_mode=ChatMode.CONTEXT, llm=llm, system_prompt=SYSTEM)
    for _ in range(2):
        with pytest.raises(PromptMappingError, match="could not be read") as caught:
            await (engine.achat(QUESTION) if use_async else _sync(engine.chat, QUESTION))
        assert caught.value.prompt_id == unreadable and "prompts.read" in caught.value.fix
    assert not [r for r in server.requests if r.prompt_id == unreadable]


@pytest.mark.parametrize("use_async", [False, True])
async def test_the_default_chat_engine_sends_the_users_message_to_input(
    use_async: bool,
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    # pp-assistant reads input and chat_history; the condense step renders locally on
    # its saved model, routed by the provider.
    llm = chat_model(prompt_id="pp-assistant", provider="openai")
    engine = index.as_chat_engine(llm=llm, similarity_top_k=3)
    for turn in (QUESTION, "And Yarrow?"):
        await (engine.achat(turn) if use_async else _sync(engine.chat, turn))
        variables = _vars(server.requests[-1])
        assert variables["input"] == turn
        # The retrieved context leads the conversation the prompt splices.
        assert variables["chat_history"][0]["role"] == "system"
        assert any(doc in variables["chat_history"][0]["content"] for doc in DOCS)
    rendered = llm.client.render(
        "pp-assistant", variables=variables, raw_variables=["chat_history", "agent_scratchpad"]
    )
    assert rendered.messages[-1] == {"role": "user", "content": "And Yarrow?"}
    assert QUESTION in [m["content"] for m in rendered.messages]  # the first turn


# -- built-in custom-typed templates: citations and selectors --------------------------


@pytest.mark.parametrize("use_async", [False, True])
async def test_citation_instructions_reach_the_model_on_the_saved_prompts_model(
    use_async: bool,
    index: VectorStoreIndex,
    saved: LocalPortkeyServer,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    llm = chat_model(prompt_id=SAVED_QA["id"])
    engine = CitationQueryEngine.from_args(index, llm=llm, similarity_top_k=3)
    await _ask(engine, QUESTION, use_async)
    request = saved.requests[-1]
    assert request.prompt_id is None and request.path == "/v1/chat/completions"
    assert request.headers["x-portkey-virtual-key"] == "vk-openai-local"
    text = _sent_text(request)
    assert "cite the appropriate source" in text and "Source 1:" in text and QUESTION in text


def test_citation_template_maps_through_prompt_ids(
    index: VectorStoreIndex, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    llm = chat_model(prompt_id="pp-assistant", prompt_ids={"citation_qa": "pp-rag-qa"})
    CitationQueryEngine.from_args(index, llm=llm, similarity_top_k=3).query(QUESTION)
    request = server.requests[-1]
    assert request.prompt_id == "pp-rag-qa"
    assert _vars(request)["query_str"] == QUESTION and "Source 1:" in _vars(request)["context_str"]


def test_citation_without_routing_fails_before_sending(
    index: VectorStoreIndex,
    server: LocalPortkeyServer,
    unreadable: str,
    chat_model: Callable[..., PortkeyChatModel],
) -> None:
    engine = CitationQueryEngine.from_args(index, llm=chat_model(prompt_id=unreadable))
    with pytest.raises(PromptMappingError, match="'citation_qa' template"):
        engine.query(QUESTION)
    assert not [r for r in server.requests if r.path.endswith("/completions")]


CHOICES = [
    ToolMetadata(name="zephyr", description="Questions about the Zephyr release"),
    ToolMetadata(name="yarrow", description="Questions about the Yarrow release"),
]


def test_the_selector_template_is_rendered_locally_not_sent_as_input(
    saved: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    selector = PydanticSingleSelector.from_defaults(llm=chat_model(prompt_id=SAVED_QA["id"]))
    # The offline model's arguments may not fit the selection; the request is what counts.
    with contextlib.suppress(ValueError, TypeError):
        selector.select(CHOICES, QUESTION)
    (request,) = saved.requests
    assert request.prompt_id is None and request.path == "/v1/chat/completions"
    assert request.headers["x-portkey-virtual-key"] == "vk-openai-local"
    text = _sent_text(request)
    assert "Questions about the Zephyr release" in text and QUESTION in text


async def test_an_async_selector_fails_before_sending(
    saved: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    # LlamaIndex opens no span around a program's acall, so its template is not seen:
    # the rendered text would go as input, which the QA prompt has no slot for.
    selector = PydanticSingleSelector.from_defaults(llm=chat_model(prompt_id=SAVED_QA["id"]))
    with pytest.raises(PromptMappingError, match="'input'"):
        await selector.aselect(CHOICES, QUESTION)
    assert saved.requests == []


def test_the_selector_without_routing_fails_before_sending(
    server: LocalPortkeyServer, unreadable: str, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    selector = PydanticSingleSelector.from_defaults(llm=chat_model(prompt_id=unreadable))
    with pytest.raises(PromptMappingError, match="'single_select' template"):
        selector.select(CHOICES, QUESTION)
    assert not [r for r in server.requests if r.path.endswith("/completions")]


# -- programs called directly ------------------------------------------------------------

EXTRACT = "Extract the person from: {text}"


def test_function_calling_program_sends_the_templates_variables(
    server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    program = FunctionCallingProgram.from_defaults(
        output_cls=Person, prompt_template_str=EXTRACT, llm=chat_model(prompt_id="pp-li-extract")
    )
    person = program(text="Ada, 36")
    assert isinstance(person, Person)
    body = server.requests[-1].body
    assert body["variables"] == {"text": "Ada, 36"}
    assert body["tools"][0]["function"]["name"] == "Person"


def test_text_completion_program_sends_variables_and_format_instructions(
    server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    server.store.register(
        "pp-li-cons-extract",
        [{"role": "user", "content": "Extract the person from: {{text}}\n{{format_instructions}}"}],
    )
    program = LLMTextCompletionProgram.from_defaults(
        output_cls=Person,
        prompt_template_str=EXTRACT,
        llm=chat_model(prompt_id="pp-li-cons-extract"),
    )
    # The offline model echoes; parsing its answer is not the point here.
    with contextlib.suppress(ValueError):
        program(text="Ada, 36")
    variables = _vars(server.requests[-1])
    assert variables["text"] == "Ada, 36"
    assert '"age"' in variables["format_instructions"]
    rendered = server.requests[-1]
    assert "input" not in _vars(rendered)


@pytest.mark.parametrize("kind", ["function", "text"])
async def test_async_programs_called_directly_fail_before_sending(
    kind: str, server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    # LlamaIndex opens no span around acall: the template is not seen, and its rendered
    # text has no slot in pp-li-extract. llm.astructured_predict routes it instead.
    cls = FunctionCallingProgram if kind == "function" else LLMTextCompletionProgram
    llm = chat_model(prompt_id="pp-li-extract")
    program = cls.from_defaults(output_cls=Person, prompt_template_str=EXTRACT, llm=llm)
    with pytest.raises(PromptMappingError, match="the user message's text"):
        await program.acall(text="Ada, 36")
    assert server.requests == []
    person = await llm.astructured_predict(Person, PromptTemplate(EXTRACT), text="Ada, 36")
    assert isinstance(person, Person)
    assert server.requests[-1].body["variables"]["text"] == "Ada, 36"


def test_format_instructions_without_a_slot_fail_before_sending(
    server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    program = LLMTextCompletionProgram.from_defaults(
        output_cls=Person, prompt_template_str=EXTRACT, llm=chat_model(prompt_id="pp-li-extract")
    )
    with pytest.raises(PromptMappingError, match="format instructions") as caught:
        program(text="Ada, 36")
    assert caught.value.piece == "the output parser's format instructions"
    assert server.requests == []


def test_a_template_with_an_output_parser_keeps_its_instructions(
    server: LocalPortkeyServer, chat_model: Callable[..., PortkeyChatModel]
) -> None:
    template = PromptTemplate(EXTRACT, output_parser=PydanticOutputParser(Person))
    with pytest.raises(PromptMappingError, match="format instructions"):
        chat_model(prompt_id="pp-li-extract").predict(template, text="Ada")
    assert server.requests == []


# -- structured_predict on a text prompt -------------------------------------------------


def test_prompt_llm_structured_predict_on_a_text_prompt(
    server: LocalPortkeyServer, prompt_llm: Callable[..., PortkeyPromptLLM]
) -> None:
    server.store.register(
        "pp-li-cons-text-extract", "Extract the person from: {{text}}", kind="text"
    )
    llm = prompt_llm(prompt_id="pp-li-cons-text-extract")
    person = llm.structured_predict(Person, PromptTemplate(EXTRACT), text="Ada, 36")
    assert isinstance(person, Person)
    body = server.requests[-1].body
    assert (
        body["variables"]["text"] == "Ada, 36" and body["response_format"]["type"] == "json_schema"
    )
    # The schema reaches the model as response_format; the prompt has no place for the
    # format instructions, so they are not sent.
    assert "format_instructions" not in body["variables"]
