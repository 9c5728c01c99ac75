"""The stream converter's inline path for content-only events, and the invocation params
read without LangChain's deprecated ``dict()`` detour."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk, HumanMessage

from portkey_integrations._response import CompletionChunk
from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.langchain._chunks import ChatChunks, chunk_message
from portkey_integrations.server import LocalPortkeyServer


def event(choice: dict[str, Any] | None = None, **top: Any) -> CompletionChunk:
    data = {"id": "c1", "object": "chat.completion.chunk", "model": "m", **top}
    data.setdefault("choices", [] if choice is None else [{"index": 0, **choice}])
    return CompletionChunk.model_validate_json(json.dumps(data))


TOOL_DELTA = {"tool_calls": [{"index": 0, "id": "t1", "function": {"name": "f"}}]}
USAGE = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


@pytest.mark.parametrize(
    ("case", "given"),
    [
        ("text", event({"delta": {"content": "hi"}})),
        ("role only", event({"delta": {"role": "assistant", "content": ""}})),
        ("no content", event({"delta": {}})),
        ("null content", event({"delta": {"content": None}})),
        ("refusal beside text", event({"delta": {"content": "no", "refusal": "no"}})),
        ("finish", event({"delta": {}, "finish_reason": "stop"})),
        ("finish with text", event({"delta": {"content": "."}, "finish_reason": "stop"})),
        ("logprobs", event({"delta": {"content": "a"}, "logprobs": {"content": []}})),
        ("tool call", event({"delta": TOOL_DELTA})),
        ("usage only", event(usage=USAGE)),
        ("text and usage", event({"delta": {"content": "a"}}, usage=USAGE)),
        ("text completion", event({"text": "a"})),
        (
            "two choices",
            event(choices=[{"index": 0, "delta": {"content": "a"}}, {"index": 1, "delta": {}}]),
        ),
    ],
)
def test_each_event_converts_as_the_general_path_does(case: str, given: CompletionChunk) -> None:
    # The inline path must agree with chunk_message on every event shape it could see.
    convert = ChatChunks({})
    chunk = convert(given)
    message, usage, info = chunk_message(given)
    if message is None:
        assert chunk is None, case
        last = convert.last().message
        assert last.usage_metadata == usage, case
        assert (convert.last().generation_info or None) == (info or None), case
        return
    assert chunk is not None, case
    if usage is not None:
        message.usage_metadata = usage
    assert chunk.message == message, case
    assert chunk.generation_info == info, case


def test_the_first_text_chunk_carries_the_metadata_once() -> None:
    convert = ChatChunks({"model_provider": "portkey", "portkey_trace_id": "t"})
    assert convert(event({"delta": {"role": "assistant", "content": ""}})) is None
    first = convert(event({"delta": {"content": "a"}}))
    second = convert(event({"delta": {"content": "b"}}))
    assert first is not None and second is not None
    assert first.message.response_metadata == {"model_provider": "portkey", "portkey_trace_id": "t"}
    assert second.message == AIMessageChunk(content="b")


class Params(BaseCallbackHandler):
    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.params.append(kwargs["invocation_params"])


class OwnDict(PortkeyChatModel):
    """A subclass still overriding the deprecated ``dict()``: LangChain's compat holds."""

    def dict(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return {**self.asdict(), "own": True}


@pytest.mark.parametrize("cls", [PortkeyChatModel, OwnDict])
def test_invocation_params_are_the_models_dict(
    server: LocalPortkeyServer, cls: type[PortkeyChatModel]
) -> None:
    model = cls(
        model="portkey-local",
        provider="openai",
        base_url=server.base_url,
        api_key="pk-test",
        temperature=0.5,
    )
    seen = Params()
    chunks = list(model.stream([HumanMessage("hi")], config={"callbacks": [seen]}))
    assert server.requests[-1].body["temperature"] == 0.5
    assert "".join(c.text for c in chunks) == "Echo: hi"
    params = seen.params[0]
    assert params["_type"] == "portkey-chat"
    assert params["model"] == "portkey-local"
    assert params["temperature"] == 0.5
    assert params["stop"] is None
    assert params.get("own") is (True if cls is OwnDict else None)


@pytest.mark.parametrize("how", ["stream", "invoke"])
def test_a_prompt_call_maps_its_input_once_and_sends_what_callbacks_saw(
    server: LocalPortkeyServer, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LangChain converts the input again for ``_stream`` (new, equal messages): the
    # mapping made for the callbacks is the one the call sends.
    calls: list[Any] = []
    original = PortkeyChatModel._map_input

    def counted(self: PortkeyChatModel, inputs: Any) -> Any:
        calls.append(inputs)
        return original(self, inputs)

    monkeypatch.setattr(PortkeyChatModel, "_map_input", counted)
    model = PortkeyChatModel(prompt_id="pp-lc-agent", base_url=server.base_url, api_key="pk-test")
    seen = Params()
    config: Any = {"callbacks": [seen]}
    if how == "stream":
        text = "".join(c.text for c in model.stream("otters", config=config))
    else:
        text = model.invoke("otters", config=config).text
    assert len(calls) == 1
    sent = server.requests[-1].body["variables"]
    assert sent["input"] == "otters" and seen.params[0]["variables"] == sent
    assert "otters" in text


def test_inputs_are_the_same_when_their_messages_are_equal() -> None:
    from portkey_integrations.langchain._base import _same

    first = [HumanMessage("hi"), AIMessageChunk(content="yo")]
    assert _same(first, [HumanMessage("hi"), AIMessageChunk(content="yo")])
    assert not _same(first, [HumanMessage("hi"), AIMessageChunk(content="no")])
    assert not _same(first, [HumanMessage("hi")])
    assert not _same([HumanMessage("hi")], [AIMessageChunk(content="hi")])
    assert _same("hi", "hi") and not _same("hi", [HumanMessage("hi")])
