"""PortkeyChatModel against the local server: routing, variables, output, streaming."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import LLMResult

from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

TOPIC = "pp-lc-topic"
AGENT = "pp-lc-agent"


class Recorder(BaseCallbackHandler):
    """Records what LangChain's callbacks saw."""

    def __init__(self) -> None:
        self.starts: list[list[Any]] = []
        self.tokens: list[str] = []
        self.ends: list[LLMResult] = []
        self.errors: list[BaseException] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.starts.append(messages)

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self.ends.append(response)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.errors.append(error)


def body(server: LocalPortkeyServer, index: int = -1) -> dict[str, Any]:
    received = server.requests[index].body
    assert isinstance(received, dict)
    return received


def model(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyChatModel:
    if "prompt_id" not in kwargs:
        kwargs.setdefault("provider", "openai")
    return PortkeyChatModel(base_url=server.base_url, api_key="pk-test", **kwargs)


# -- construction and routing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "path", "version"),
    [
        ({"prompt_id": TOPIC}, f"/v1/prompts/{TOPIC}/completions", None),
        ({"prompt_id": f"{TOPIC}@2"}, f"/v1/prompts/{TOPIC}@2/completions", "2"),
        (
            {"prompt_id": TOPIC, "prompt_version": "staging"},
            f"/v1/prompts/{TOPIC}@staging/completions",
            "staging",
        ),
    ],
)
def test_prompt_id_and_version_pick_the_route(
    server: LocalPortkeyServer, kwargs: dict[str, Any], path: str, version: str | None
) -> None:
    result = model(server, **kwargs).invoke({"topic": "owls"})
    assert server.requests[-1].path == path
    assert result.response_metadata["prompt_id"] == TOPIC
    assert result.response_metadata["prompt_version"] == version
    if version is None:
        assert "Talk about owls." in result.text
    else:
        assert "v2 about owls" in result.text


def test_without_prompt_id_runs_chat_completions(chat: PortkeyChatModel, server: Any) -> None:
    result = chat.invoke([SystemMessage("be brief"), HumanMessage("hi there")])
    assert server.requests[-1].path == "/v1/chat/completions"
    sent = body(server)
    assert sent["model"] == "portkey-local"
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi there"},
    ]
    assert "variables" not in sent
    assert "hi there" in result.text
    assert "prompt_id" not in result.response_metadata


def test_client_options_become_headers(server: LocalPortkeyServer) -> None:
    llm = model(
        server,
        prompt_id=TOPIC,
        virtual_key="vk-secret",
        config={"retry": {"attempts": 2}},
        provider="@openai-prod",
        provider_api_key="sk-provider",
        trace_id="trace-123",
        portkey_metadata={"_user": "u1", "team": "ml"},
        cache_force_refresh=True,
        cache_namespace="ns",
        gateway_timeout_ms=5000,
        default_headers={"X-Extra": "yes"},
    )
    result = llm.invoke({"topic": "x"})
    headers = server.requests[-1].headers
    assert headers["x-portkey-api-key"] == "pk-test"
    assert headers["x-portkey-virtual-key"] == "vk-secret"
    assert json.loads(headers["x-portkey-config"]) == {"retry": {"attempts": 2}}
    assert headers["x-portkey-provider"] == "@openai-prod"
    assert headers["authorization"] == "Bearer sk-provider"
    assert headers["x-portkey-trace-id"] == "trace-123"
    assert json.loads(headers["x-portkey-metadata"]) == {"_user": "u1", "team": "ml"}
    assert headers["x-portkey-cache-force-refresh"] == "true"
    assert headers["x-portkey-cache-namespace"] == "ns"
    assert headers["x-portkey-request-timeout"] == "5000"
    assert headers["x-extra"] == "yes"
    assert result.response_metadata["portkey_trace_id"] == "trace-123"


def test_constructible_from_environment(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTKEY_API_KEY", "pk-env")
    monkeypatch.setenv("PORTKEY_BASE_URL", server.base_url)
    llm = PortkeyChatModel(prompt_id=TOPIC)
    llm.invoke({"topic": "env"})
    assert server.requests[-1].headers["x-portkey-api-key"] == "pk-env"
    assert llm.api_key is not None and llm.api_key.get_secret_value() == "pk-env"


# -- inputs to variables -----------------------------------------------------------------


def test_string_input_fills_input_variable(server: LocalPortkeyServer) -> None:
    model(server, prompt_id=AGENT).invoke("what now?")
    assert body(server)["variables"] == {
        "input": "what now?",
        "chat_history": [],
        "agent_scratchpad": [],
    }


def test_input_variable_is_configurable(server: LocalPortkeyServer) -> None:
    llm = model(
        server,
        prompt_id=TOPIC,
        input_variable="topic",
        history_variable=None,
        scratchpad_variable=None,
    )
    result = llm.invoke("herons")
    assert body(server)["variables"] == {"topic": "herons"}
    assert "Talk about herons." in result.text


def test_messages_split_into_history_input_and_scratchpad(server: LocalPortkeyServer) -> None:
    call = {"name": "lookup", "args": {"q": "x"}, "id": "call_1", "type": "tool_call"}
    messages = [
        SystemMessage("sys"),
        HumanMessage("earlier"),
        AIMessage("reply"),
        HumanMessage("now"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("found", tool_call_id="call_1"),
    ]
    result = model(server, prompt_id=AGENT).invoke(messages)
    variables = body(server)["variables"]
    # Sent raw: lists of OpenAI message dicts, not JSON strings.
    assert variables["input"] == "now"
    assert variables["chat_history"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "reply"},
    ]
    assert variables["agent_scratchpad"] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                }
            ],
        },
        {"role": "tool", "content": "found", "tool_call_id": "call_1"},
    ]
    # The template spliced them: the model saw the tool result after the user turn.
    assert "Echo: now" in result.text
    assert "found" in result.text


def test_variables_mapper_replaces_the_mapping(server: LocalPortkeyServer) -> None:
    def mapper(messages: Any) -> dict[str, Any]:
        return {"topic": " + ".join(m["content"] for m in messages)}

    llm = model(server, prompt_id=TOPIC, variables_mapper=mapper)
    llm.invoke([HumanMessage("a"), HumanMessage("b")])
    assert body(server)["variables"] == {"topic": "a + b"}


def test_dict_input_may_carry_messages(server: LocalPortkeyServer) -> None:
    model(server, prompt_id=AGENT).invoke(
        {"input": "q", "chat_history": [HumanMessage("h")], "agent_scratchpad": []}
    )
    assert body(server)["variables"] == {
        "input": "q",
        "chat_history": [{"role": "user", "content": "h"}],
        "agent_scratchpad": [],
    }


def test_variables_merge_most_specific_wins(server: LocalPortkeyServer) -> None:
    llm = model(
        server,
        prompt_id=TOPIC,
        variables={"topic": "model", "style": "model", "audience": "model", "extra": "model"},
        check_variables="off",  # "extra" is never read: only the merge is under test here
    )
    bound = llm.bind(variables={"style": "bound", "audience": "bound"}).bind(
        variables={"audience": "bound2"}
    )
    bound.invoke({"topic": "input", "style": "input"}, variables={"style": "call"})
    assert body(server)["variables"] == {
        "topic": "input",
        "style": "call",
        "audience": "bound2",
        "extra": "model",
    }


def test_kwargs_are_hyperparameters_at_the_root(server: LocalPortkeyServer) -> None:
    llm = model(
        server, prompt_id=TOPIC, temperature=0.1, max_tokens=50, model_kwargs={"user": "u-1"}
    )
    llm.bind(top_p=0.5, seed=7).invoke({"topic": "x"}, temperature=0.2, stop=["zzz"])
    sent = body(server)
    assert sent["temperature"] == 0.2
    assert sent["top_p"] == 0.5
    assert sent["seed"] == 7
    assert sent["user"] == "u-1"
    assert sent["stop"] == ["zzz"]
    assert sent["max_completion_tokens"] == 50
    assert "max_tokens" not in sent
    assert "hyperparameters" not in sent
    assert sent["stream"] is False


def test_a_field_set_after_a_call_is_sent_by_the_next(server: LocalPortkeyServer) -> None:
    # The model keeps its set generation fields between calls: an assignment drops them.
    llm = model(server, prompt_id=TOPIC, temperature=0.1, stop="zzz")
    llm.invoke({"topic": "x"})
    assert (body(server)["temperature"], body(server)["stop"]) == (0.1, ["zzz"])
    llm.temperature = 0.7
    llm.stop = None
    llm.model_kwargs["seed"] = 3  # changed in place
    llm.invoke({"topic": "x"})
    sent = body(server)
    assert (sent["temperature"], sent["seed"]) == (0.7, 3) and "stop" not in sent
    llm.model_copy(update={"top_p": 0.5}).invoke({"topic": "x"})
    assert (body(server)["top_p"], body(server)["temperature"]) == (0.5, 0.7)
    llm.invoke({"topic": "x"})
    assert "top_p" not in body(server)


def test_render_returns_what_portkey_would_send(server: LocalPortkeyServer) -> None:
    llm = model(server, prompt_id=TOPIC, variables={"style": "dry"})
    rendered = llm.render({"topic": "moths", "audience": "kids"}, temperature=0.5)
    assert server.requests[-1].path == f"/v1/prompts/{TOPIC}/render"
    assert rendered.messages == [
        {"role": "system", "content": "Style: dry. Audience: kids."},
        {"role": "user", "content": "Talk about moths."},
    ]
    assert rendered.params["temperature"] == 0.5


async def test_arender(server: LocalPortkeyServer) -> None:
    rendered = await model(server, prompt_id=AGENT).arender([HumanMessage("hey")])
    assert rendered.messages is not None
    assert rendered.messages[-1] == {"role": "user", "content": "hey"}


# -- output --------------------------------------------------------------------------------


def test_output_metadata_and_usage(server: LocalPortkeyServer) -> None:
    result = model(server, prompt_id=TOPIC, trace_id="t-42").invoke({"topic": "x"})
    meta = result.response_metadata
    assert meta["model_name"] == "portkey-local"
    assert meta["finish_reason"] == "stop"
    assert meta["id"].startswith("chatcmpl-")
    assert meta["system_fingerprint"]
    assert meta["portkey_trace_id"] == "t-42"
    assert meta["portkey_cache_status"] == "DISABLED"
    assert meta["portkey_retry_attempt_count"] == 0
    assert meta["portkey_provider"]
    assert meta["prompt_id"] == TOPIC
    usage = result.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage.get("input_token_details") == {"cache_read": 0}
    assert usage.get("output_token_details") == {"reasoning": 0}
    assert result.content_blocks == [{"type": "text", "text": result.text}]


def test_logprobs_in_metadata(chat: PortkeyChatModel) -> None:
    result = chat.invoke("hi", logprobs=True, top_logprobs=1)
    assert result.response_metadata["logprobs"]["content"]


def test_n_gives_several_generations(chat: PortkeyChatModel) -> None:
    result = chat.generate([[HumanMessage("hi")]], n=2)
    assert len(result.generations[0]) == 2


# -- streaming -----------------------------------------------------------------------------


def test_stream_yields_tokens_as_they_come(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    llm = model(server, prompt_id=TOPIC)
    chunks = list(llm.stream({"topic": "rain"}, config={"callbacks": [recorder]}))
    sent = body(server)
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 2  # word by word, not one blob
    assert "".join(texts) == "Echo: Talk about rain."
    assert [t for t in recorder.tokens if t] == texts
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    full = chunks[0]
    for c in chunks[1:]:
        full += c
    assert full.response_metadata["portkey_trace_id"]
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.response_metadata["model_name"] == "portkey-local"
    assert full.usage_metadata is not None and full.usage_metadata["output_tokens"] > 0


def test_stream_usage_can_be_turned_off(server: LocalPortkeyServer) -> None:
    chunks = list(model(server, prompt_id=TOPIC, stream_usage=False).stream({"topic": "x"}))
    assert "stream_options" not in body(server)
    assert not any(c.usage_metadata for c in chunks)


def test_streaming_true_makes_invoke_stream(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    result = model(server, prompt_id=TOPIC, streaming=True).invoke(
        {"topic": "fog"}, config={"callbacks": [recorder]}
    )
    assert body(server)["stream"] is True
    assert result.text == "Echo: Talk about fog."
    assert len([t for t in recorder.tokens if t]) > 2
    assert result.usage_metadata is not None


async def test_astream_and_astream_events(server: LocalPortkeyServer) -> None:
    llm = model(server, prompt_id=TOPIC)
    texts = [c.text async for c in llm.astream({"topic": "sun"})]
    assert "".join(texts) == "Echo: Talk about sun."
    events = [e async for e in llm.astream_events({"topic": "sun"}, version="v2")]
    streamed = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert len([e for e in streamed if e["data"]["chunk"].text]) > 2
    assert events[-1]["event"] == "on_chat_model_end"


def test_stream_tool_call_chunks(chat: PortkeyChatModel) -> None:
    def lookup(query: str) -> str:
        """Look something up."""
        return query

    chunks = list(chat.bind_tools([lookup], tool_choice="lookup").stream("find cats"))
    with_calls = [c for c in chunks if c.tool_call_chunks]
    assert with_calls
    assert all(tc["index"] == 0 for c in with_calls for tc in c.tool_call_chunks)
    full = chunks[0]
    for c in chunks[1:]:
        full += c
    assert full.tool_calls[0]["name"] == "lookup"
    assert full.tool_calls[0]["args"] == {"query": "find cats"}


# -- identity and serialization ----------------------------------------------------------


def test_ls_params() -> None:
    by_prompt = PortkeyChatModel(prompt_id="pp-a@3", api_key="k", temperature=0.5, stop="x")
    assert by_prompt._get_ls_params() == {
        "ls_provider": "portkey",
        "ls_model_name": "pp-a@3",
        "ls_model_type": "chat",
        "ls_temperature": 0.5,
        "ls_stop": ["x"],
        "ls_prompt_id": "pp-a",
        "ls_prompt_version": "3",
        "ls_prompt_variables": {},
    }
    by_model = PortkeyChatModel(model="gpt-x", api_key="k", max_tokens=9)
    params = by_model._get_ls_params(model="gpt-y")
    assert params["ls_model_name"] == "gpt-y"
    assert params["ls_max_tokens"] == 9


def test_secrets_never_leak() -> None:
    llm = PortkeyChatModel(
        prompt_id="pp-a",
        api_key="pk-secret-1",
        virtual_key="vk-secret-2",
        provider_api_key="sk-secret-3",
    )
    assert PortkeyChatModel.is_lc_serializable()
    text = dumps(llm) + repr(llm) + str(llm) + repr(llm.client)
    for secret in ("pk-secret-1", "vk-secret-2", "sk-secret-3"):
        assert secret not in text
    kwargs = dumpd(llm)["kwargs"]
    assert kwargs["api_key"] == {"lc": 1, "type": "secret", "id": ["PORTKEY_API_KEY"]}
    assert kwargs["virtual_key"]["id"] == ["PORTKEY_VIRTUAL_KEY"]
    assert kwargs["provider_api_key"]["id"] == ["PORTKEY_PROVIDER_API_KEY"]


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_load_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = PortkeyChatModel(prompt_id="pp-a", api_key="pk-1", temperature=0.3, variables={"a": 1})
    monkeypatch.setenv("PORTKEY_API_KEY", "pk-1")
    loaded = load(
        dumpd(llm),
        valid_namespaces=["portkey_integrations"],
        allowed_objects=[PortkeyChatModel],
        secrets_from_env=True,
    )
    assert isinstance(loaded, PortkeyChatModel)
    assert loaded.asdict() == llm.asdict()
    assert loaded.variables == {"a": 1}
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == "pk-1"


def test_chain_with_dict_input_invoke_and_batch(server: LocalPortkeyServer) -> None:
    chain = model(server, prompt_id="pp-joke") | StrOutputParser()
    assert chain.invoke({"topic": "cats", "adjective": "dry"}) == (
        "Echo: Tell me a dry joke about cats."
    )
    answers = chain.batch([{"topic": "a", "adjective": "x"}, {"topic": "b", "adjective": "y"}])
    assert answers == ["Echo: Tell me a x joke about a.", "Echo: Tell me a y joke about b."]


def test_abandoned_streams_release_their_connections(server: LocalPortkeyServer) -> None:
    # httpx pools at most 100 connections: leaking one per abandoned stream would
    # exhaust the pool (PoolTimeout) well before the loop ends.
    llm = model(server, prompt_id=TOPIC, timeout=5)
    for _ in range(110):
        chunks = llm.stream({"topic": "one two three four"})
        assert next(chunks).text
        chunks.close()
    assert llm.invoke({"topic": "ok"}).text == "Echo: Talk about ok."
