"""A conformance suite for LlamaIndex LLMs, run against both Portkey classes and both
routes (a Portkey prompt, and the OpenAI-compatible route) on the local server.

LlamaIndex ships no reusable LLM test suite; this one checks what its engines and
agents rely on: the eight call methods, metadata, callbacks and instrumentation
events, usage, template pass-through, typed errors and mid-stream failures.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.callbacks.token_counting import TokenCountingHandler
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
    LLMPredictEndEvent,
    LLMPredictStartEvent,
)
from llama_index.core.prompts import PromptTemplate

from portkey_integrations import (
    AuthenticationError,
    Completion,
    CompletionChunk,
    InternalServerError,
    PromptNotFoundError,
    RateLimitError,
    StreamError,
    TruncatedStreamError,
)
from portkey_integrations.llama_index import PortkeyLLMBase
from portkey_integrations.server import Fault, LocalPortkeyServer
from portkey_integrations.types import RawChunk

# The text-prompt case runs with check_variables="warn" (see make): pp-text-complete has
# no chat_history slot, and that loss is warned about; the wire is what is asserted.
pytestmark = pytest.mark.filterwarnings(
    "ignore:prompt 'pp-text-complete' has no slot"
    ":portkey_integrations._templates.checks.PromptVariablesWarning"
)

CONVERSATION = [
    ChatMessage(role="system", content="You are terse."),
    ChatMessage(role="user", content="hello"),
    ChatMessage(role="assistant", content="hi"),
    ChatMessage(role="user", content="how are you today"),
]


@dataclasses.dataclass(frozen=True)
class Case:
    kind: str  # "chat" (PortkeyChatModel) or "text" (PortkeyPromptLLM)
    route: str  # "prompt" (a Portkey prompt) or "direct" (OpenAI-compatible route)

    @property
    def prompt_id(self) -> str | None:
        if self.route == "direct":
            return None
        return "pp-assistant" if self.kind == "chat" else "pp-text-complete"

    @property
    def path(self) -> str:
        if self.route == "prompt":
            return f"/v1/prompts/{self.prompt_id}/completions"
        return "/v1/chat/completions" if self.kind == "chat" else "/v1/completions"

    @property
    def fault_route(self) -> str:
        if self.route == "prompt":
            return "prompt_completions"
        return "chat_completions" if self.kind == "chat" else "completions"

    @property
    def max_tokens_key(self) -> str:
        return "max_tokens" if self.path == "/v1/completions" else "max_completion_tokens"


CASES = [Case(kind, route) for kind in ("chat", "text") for route in ("prompt", "direct")]


@pytest.fixture(params=CASES, ids=lambda c: f"{c.kind}-{c.route}")
def case(request: pytest.FixtureRequest) -> Case:
    param: Case = request.param
    return param


@pytest.fixture
def make(
    case: Case, chat_model: Callable[..., Any], prompt_llm: Callable[..., Any]
) -> Callable[..., PortkeyLLMBase]:
    """Build the model of this case; keyword arguments override the defaults."""

    def build(**kwargs: Any) -> PortkeyLLMBase:
        if case.route == "prompt":
            kwargs.setdefault("prompt_id", case.prompt_id)
            if case.kind == "text":
                # pp-text-complete has no chat_history slot: the conversation's history
                # would be lost, which a prompt-mode call only does when told to.
                kwargs.setdefault("check_variables", "warn")
        else:
            kwargs.setdefault("model", "portkey-local")
        factory = chat_model if case.kind == "chat" else prompt_llm
        llm: PortkeyLLMBase = factory(**kwargs)
        return llm

    return build


@pytest.fixture
def llm(make: Callable[..., PortkeyLLMBase]) -> PortkeyLLMBase:
    return make()


class _NoSyncClient:
    """Stands in for the sync client in async tests: any use fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"async method used the sync client ({name})")


def _async_only(llm: PortkeyLLMBase) -> PortkeyLLMBase:
    llm._clients = (_NoSyncClient(), llm.async_client)  # type: ignore[assignment]
    return llm


class _Events(BaseEventHandler):
    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyTestEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    def of(self, kind: type[BaseEvent]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def events() -> Iterator[_Events]:
    handler = _Events(events=[])
    root = get_dispatcher()
    root.add_event_handler(handler)
    try:
        yield handler
    finally:
        root.event_handlers.remove(handler)


def _assert_usage_and_trace(response: ChatResponse | CompletionResponse) -> None:
    raw = response.raw
    # A streamed response keeps its chunk's JSON; ``chunk`` types it.
    if isinstance(raw, RawChunk):
        assert raw == json.loads(raw.chunk.model_dump_json(exclude_unset=True))
        raw = raw.chunk
    assert isinstance(raw, (Completion, CompletionChunk))
    assert raw.usage is not None and raw.usage.total_tokens > 0
    extra = response.additional_kwargs
    assert extra["prompt_tokens"] == raw.usage.prompt_tokens
    assert extra["completion_tokens"] == raw.usage.completion_tokens
    assert extra["total_tokens"] == raw.usage.total_tokens
    assert extra["trace_id"]
    assert extra["provider"] == "portkey-local"


class TestConformance:
    def test_metadata(self, case: Case, make: Callable[..., Any]) -> None:
        # The saved model is read by the variables check, so this model keeps it on.
        llm = make(check_variables="warn") if case.route == "prompt" else make()
        meta = llm.metadata
        assert meta.is_chat_model is (case.kind == "chat")
        assert meta.is_function_calling_model is (case.kind == "chat")
        assert meta.model_name == (case.prompt_id or "portkey-local")
        assert meta.num_output == 256  # LlamaIndex's default room for the answer
        if case.route == "prompt":
            # metadata does no I/O: the saved model is known once a call has read it.
            assert meta.context_window == DEFAULT_CONTEXT_WINDOW
            llm.complete("hello there")
            meta = llm.metadata
        assert meta.context_window == 128_000  # the local offline model's entry
        meta = make(max_tokens=64, context_window=32000).metadata
        assert (meta.num_output, meta.context_window) == (64, 32000)

    def test_complete(self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer) -> None:
        response = llm.complete("hello there", temperature=0.5, seed=7)
        assert "hello there" in response.text
        _assert_usage_and_trace(response)
        request = server.requests[-1]
        assert request.path == case.path
        assert (request.body["temperature"], request.body["seed"]) == (0.5, 7)
        assert request.body["stream"] is False
        if case.route == "prompt":
            assert request.body["variables"]["input"] == "hello there"
            assert response.additional_kwargs["prompt_id"] == case.prompt_id

    async def test_acomplete(
        self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer
    ) -> None:
        response = await _async_only(llm).acomplete("hello async", top_p=0.9)
        assert "hello async" in response.text
        _assert_usage_and_trace(response)
        assert server.requests[-1].path == case.path
        assert server.requests[-1].body["top_p"] == 0.9

    def test_stream_complete(
        self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer
    ) -> None:
        responses = list(llm.stream_complete("one two three four"))
        assert len(responses) > 3
        assert "".join(r.delta or "" for r in responses) == responses[-1].text
        for before, after in itertools.pairwise(responses):
            assert after.text.startswith(before.text)
        assert "one two three four" in responses[-1].text
        _assert_usage_and_trace(responses[-1])
        body = server.requests[-1].body
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}

    async def test_astream_complete(self, llm: PortkeyLLMBase) -> None:
        gen = await _async_only(llm).astream_complete("one two three")
        responses = [r async for r in gen]
        assert "".join(r.delta or "" for r in responses) == responses[-1].text
        assert "one two three" in responses[-1].text
        _assert_usage_and_trace(responses[-1])

    def test_chat(self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer) -> None:
        response = llm.chat(CONVERSATION)
        assert response.message.role == "assistant"
        assert "how are you today" in (response.message.content or "")
        _assert_usage_and_trace(response)
        body = server.requests[-1].body
        if case.route == "prompt":
            variables = body["variables"]
            assert variables["input"] == "how are you today"
            assert [m["content"] for m in variables["chat_history"]] == [
                "You are terse.",
                "hello",
                "hi",
            ]
        elif case.kind == "chat":
            assert body["messages"][0] == {"role": "system", "content": "You are terse."}
            assert body["messages"][-1] == {"role": "user", "content": "how are you today"}
        else:
            assert "hello" in body["prompt"] and "how are you today" in body["prompt"]

    async def test_achat(self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer) -> None:
        response = await _async_only(llm).achat(CONVERSATION)
        assert "how are you today" in (response.message.content or "")
        _assert_usage_and_trace(response)
        assert server.requests[-1].path == case.path

    def test_stream_chat(self, llm: PortkeyLLMBase) -> None:
        responses = list(llm.stream_chat(CONVERSATION))
        contents = [r.message.content or "" for r in responses]
        assert "".join(r.delta or "" for r in responses) == contents[-1]
        for before, after in itertools.pairwise(contents):
            assert after.startswith(before)
        assert "how are you today" in contents[-1]
        _assert_usage_and_trace(responses[-1])

    async def test_astream_chat(self, llm: PortkeyLLMBase) -> None:
        gen = await _async_only(llm).astream_chat(CONVERSATION)
        responses = [r async for r in gen]
        assert "".join(r.delta or "" for r in responses) == responses[-1].message.content
        assert "how are you today" in (responses[-1].message.content or "")
        _assert_usage_and_trace(responses[-1])

    def test_model_fields_are_hyperparameters(
        self, case: Case, make: Callable[..., PortkeyLLMBase], server: LocalPortkeyServer
    ) -> None:
        llm = make(temperature=0.2, max_tokens=3, stop=["never"], model_kwargs={"seed": 11})
        response = llm.complete("alpha beta gamma delta epsilon")
        body = server.requests[-1].body
        assert body["temperature"] == 0.2
        assert body[case.max_tokens_key] == 3
        assert (body["stop"], body["seed"]) == (["never"], 11)
        assert len(response.text.split()) == 3

    def test_without_stream_usage(
        self, make: Callable[..., PortkeyLLMBase], server: LocalPortkeyServer
    ) -> None:
        responses = list(make(stream_usage=False).stream_complete("hi there"))
        assert "stream_options" not in server.requests[-1].body
        assert "total_tokens" not in responses[-1].additional_kwargs

    def test_token_counting_callback_reads_usage(self, make: Callable[..., PortkeyLLMBase]) -> None:
        counter = TokenCountingHandler(tokenizer=lambda text: text.split())
        debug = LlamaDebugHandler()
        llm = make(callback_manager=CallbackManager([counter, debug]))
        response = llm.chat(CONVERSATION)
        streamed = list(llm.stream_complete("count these words"))[-1]
        first, second = counter.llm_token_counts
        assert first.prompt_token_count == response.additional_kwargs["prompt_tokens"]
        assert first.completion_token_count == response.additional_kwargs["completion_tokens"]
        assert second.prompt_token_count == streamed.additional_kwargs["prompt_tokens"]
        assert second.completion_token_count == streamed.additional_kwargs["completion_tokens"]
        assert len(debug.get_event_pairs(CBEventType.LLM)) == 2

    async def test_instrumentation_events(
        self, llm: PortkeyLLMBase, events: _Events, secret: str
    ) -> None:
        llm.chat(CONVERSATION)
        list(llm.stream_chat(CONVERSATION))
        await llm.acomplete("hi")
        [r async for r in await llm.astream_complete("hi")]
        assert len(events.of(LLMChatStartEvent)) == 2
        ends = events.of(LLMChatEndEvent)
        assert len(ends) == 2 and all(e.response is not None for e in ends)
        assert len(events.of(LLMCompletionStartEvent)) == 2
        assert len(events.of(LLMCompletionEndEvent)) == 2
        for event in events.events:
            assert secret not in event.model_dump_json()
        assert events.of(LLMChatStartEvent)[0].model_dict["class_name"] == llm.class_name()

    async def test_predict_family(
        self,
        case: Case,
        make: Callable[..., PortkeyLLMBase],
        server: LocalPortkeyServer,
        events: _Events,
    ) -> None:
        prompt_id = None
        if case.route == "prompt":
            prompt_id = "pp-li-topic" if case.kind == "chat" else "pp-li-topic-text"
        llm = make(prompt_id=prompt_id) if prompt_id else make()
        template = PromptTemplate("Tell me about {topic}.")
        outputs = [
            llm.predict(template, topic="cats"),
            await llm.apredict(template, topic="cats"),
            "".join(llm.stream(template, topic="cats")),
            "".join([t async for t in await llm.astream(template, topic="cats")]),
        ]
        for output in outputs:
            assert "Tell me about cats." in output
        for request in server.requests[-4:]:
            if prompt_id is not None:
                # The template's variables go to the Portkey prompt, nothing else.
                assert request.body["variables"] == {"topic": "cats"}
            elif case.kind == "chat":
                assert request.body["messages"][-1]["content"] == "Tell me about cats."
            else:
                assert request.body["prompt"] == "Tell me about cats."
        starts = events.of(LLMPredictStartEvent)
        assert len(starts) == 4
        assert len(events.of(LLMPredictEndEvent)) == 2  # streams end without one, as in LlamaIndex
        # Each call opens its own instrumentation span, as LlamaIndex's own methods do.
        spans = [str(e.span_id).split("-")[0] for e in starts]
        assert [s.rsplit(".", 1)[-1] for s in spans] == ["predict", "apredict", "stream", "astream"]

    def test_status_errors_are_the_core_types(
        self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer
    ) -> None:
        server.add_fault(Fault(kind="status", status=429, route=case.fault_route))
        with pytest.raises(RateLimitError) as info:
            llm.chat(CONVERSATION)
        assert info.value.status_code == 429
        server.add_fault(Fault(kind="status", status=401, route=case.fault_route))
        with pytest.raises(AuthenticationError):
            list(llm.stream_complete("hi"))

    async def test_async_status_errors(
        self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer
    ) -> None:
        server.add_fault(Fault(kind="status", status=503, route=case.fault_route))
        with pytest.raises(InternalServerError):
            await llm.acomplete("hi")
        server.add_fault(Fault(kind="status", status=503, route=case.fault_route))
        with pytest.raises(InternalServerError):
            [r async for r in await llm.astream_chat(CONVERSATION)]

    def test_unknown_prompt(self, case: Case, make: Callable[..., PortkeyLLMBase]) -> None:
        llm = make(prompt_id="pp-does-not-exist")
        with pytest.raises(PromptNotFoundError) as info:
            llm.complete("hi")
        assert info.value.status_code == 404

    def test_mid_stream_disconnect_keeps_what_was_yielded(
        self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer
    ) -> None:
        server.add_fault(Fault(kind="disconnect", after_chunks=3, route=case.fault_route))
        received: list[ChatResponse] = []
        with pytest.raises(TruncatedStreamError) as info:
            for response in llm.stream_chat([ChatMessage(role="user", content="a b c d e f g h")]):
                received.append(response)
        assert received, "responses before the failure were delivered"
        assert len(info.value.chunks) >= len(received)
        text = received[-1].message.content or ""
        assert text == "".join(r.delta or "" for r in received)
        # The stream kept only lengths and read the chunks' text back from the answer.
        assert "".join(c.choices[0].content for c in info.value.chunks) == text
        assert "Echo: a b c d e f g h".startswith(text.strip()) or text.strip().startswith("Echo")

    async def test_async_mid_stream_error_event(
        self, case: Case, llm: PortkeyLLMBase, server: LocalPortkeyServer
    ) -> None:
        server.add_fault(Fault(kind="error_event", after_chunks=2, route=case.fault_route))
        received: list[CompletionResponse] = []
        with pytest.raises(StreamError) as info:
            async for response in await llm.astream_complete("a b c d e f"):
                received.append(response)
        assert len(received) == 2
        assert received[-1].text == "".join(r.delta or "" for r in received)
        assert "error event" in str(info.value)
