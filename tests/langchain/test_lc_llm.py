"""PortkeyPromptLLM: the BaseLLM counterpart of the standard chat model suite."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelAPIError, ModelRateLimitError
from langchain_core.load import dumps
from langchain_core.outputs import LLMResult

import portkey_integrations as pk
from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations.langchain import PortkeyPromptLLM
from portkey_integrations.server import Fault, LocalPortkeyServer

TEXT = "pp-text-complete"


def llm(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyPromptLLM:
    kwargs.setdefault("max_retries", 0)
    if "prompt_id" not in kwargs:
        kwargs.setdefault("provider", "openai")
    return PortkeyPromptLLM(base_url=server.base_url, api_key="pk-test", **kwargs)


def body(server: LocalPortkeyServer) -> dict[str, Any]:
    received = server.requests[-1].body
    assert isinstance(received, dict)
    return received


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.prompts: list[list[str]] = []
        self.tokens: list[str] = []
        self.ends: list[LLMResult] = []
        self.errors: list[BaseException] = []

    def on_llm_start(self, serialized: Any, prompts: list[str], **kwargs: Any) -> None:
        self.prompts.append(prompts)

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.ends.append(response)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.errors.append(error)


def test_invoke_text_prompt(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    out = llm(server, prompt_id=TEXT).invoke("Once upon", config={"callbacks": [recorder]})
    assert server.requests[-1].path == f"/v1/prompts/{TEXT}/completions"
    assert body(server)["variables"] == {"input": "Once upon"}
    assert isinstance(out, str) and "Once upon" in out
    assert recorder.prompts == [["Once upon"]]
    [end] = recorder.ends
    usage = end.llm_output["token_usage"] if end.llm_output else {}
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_dict_input_and_chat_prompt(server: LocalPortkeyServer) -> None:
    out = llm(server, prompt_id="pp-joke").invoke({"topic": "eels", "adjective": "wet"})
    assert body(server)["variables"] == {"topic": "eels", "adjective": "wet"}
    assert out == "Echo: Tell me a wet joke about eels."


def test_variables_merge(server: LocalPortkeyServer) -> None:
    model = llm(
        server,
        prompt_id="pp-joke",
        variables={"adjective": "model", "topic": "model"},
        check_variables="warn",  # pp-joke never reads the text: accept that knowingly
    )
    with pytest.warns(UserWarning, match="the prompt text"):
        model.bind(variables={"adjective": "bound"}).invoke("ignored", variables={"topic": "call"})
    assert body(server)["variables"] == {"adjective": "bound", "topic": "call", "input": "ignored"}


def test_without_prompt_id_runs_completions(server: LocalPortkeyServer) -> None:
    out = llm(server, model="portkey-local", max_tokens=20).invoke("Say hi", temperature=0.1)
    assert server.requests[-1].path == "/v1/completions"
    sent = body(server)
    assert sent["prompt"] == "Say hi"
    assert sent["max_tokens"] == 20  # /completions keeps max_tokens
    assert sent["temperature"] == 0.1
    assert "Say hi" in out


def test_stream_with_callbacks_and_usage(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    model = llm(server, prompt_id="pp-joke")
    chunks = list(model.stream({"topic": "a", "adjective": "b"}, config={"callbacks": [recorder]}))
    assert body(server)["stream_options"] == {"include_usage": True}
    assert len([c for c in chunks if c]) > 2
    assert "".join(chunks) == "Echo: Tell me a b joke about a."
    assert [t for t in recorder.tokens if t] == [c for c in chunks if c]
    [end] = recorder.ends
    info = end.generations[0][0].generation_info or {}
    assert info["finish_reason"] == "stop"
    assert info["token_usage"]["completion_tokens"] > 0
    assert info["portkey_trace_id"]


async def test_astream_and_ainvoke(server: LocalPortkeyServer) -> None:
    model = llm(server, prompt_id=TEXT)
    chunks = [c async for c in model.astream("one two three")]
    assert len(chunks) > 2 and "one two three" in "".join(chunks)
    assert "four" in await model.ainvoke("four")


def test_streaming_true_streams_invoke(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    out = llm(server, prompt_id=TEXT, streaming=True).invoke(
        "a b c", config={"callbacks": [recorder]}
    )
    assert body(server)["stream"] is True
    assert "a b c" in out
    assert len([t for t in recorder.tokens if t]) > 2


def test_stop_is_sent(server: LocalPortkeyServer) -> None:
    llm(server, prompt_id=TEXT, stop=["x"]).invoke("hi")
    assert body(server)["stop"] == ["x"]
    llm(server, prompt_id=TEXT).invoke("hi", stop=["y"])
    assert body(server)["stop"] == ["y"]


def test_batch_and_generate_metadata(server: LocalPortkeyServer) -> None:
    model = llm(server, prompt_id=TEXT)
    assert model.batch(["a", "b", "c"]) == [model.invoke(x) for x in ("a", "b", "c")]
    result = model.generate(["x", "y"])
    assert len(result.generations) == 2
    info = result.generations[0][0].generation_info or {}
    assert info["prompt_id"] == TEXT
    assert info["model_name"] == "portkey-local"
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["total_tokens"] > 0


async def test_abatch(server: LocalPortkeyServer) -> None:
    out = await llm(server, prompt_id="pp-joke").abatch(
        [{"topic": "a", "adjective": "x"}, {"topic": "b", "adjective": "y"}]
    )
    assert out == ["Echo: Tell me a x joke about a.", "Echo: Tell me a y joke about b."]


def test_several_prompts_run_concurrently(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = threading.Barrier(3, timeout=10)
    original = PortkeyClient.complete

    def complete(self: PortkeyClient, *args: Any, **kwargs: Any) -> Any:
        barrier.wait()  # only passes when three requests are in flight at once
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PortkeyClient, "complete", complete)
    result = llm(server, prompt_id=TEXT).generate(["p1", "p2", "p3"])
    assert [g[0].text for g in result.generations] == ["Echo: p1", "Echo: p2", "Echo: p3"]


async def test_several_prompts_run_concurrently_async(
    server: LocalPortkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = asyncio.Barrier(3)
    original = AsyncPortkeyClient.complete

    async def complete(self: AsyncPortkeyClient, *args: Any, **kwargs: Any) -> Any:
        await asyncio.wait_for(barrier.wait(), timeout=10)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncPortkeyClient, "complete", complete)
    result = await llm(server, prompt_id=TEXT).agenerate(["p1", "p2", "p3"])
    assert len(result.generations) == 3


def test_errors(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    server.add_fault(Fault(kind="status", status=429))
    with pytest.raises(ModelRateLimitError) as info:
        llm(server, prompt_id=TEXT).invoke("x", config={"callbacks": [recorder]})
    assert isinstance(info.value.__cause__, pk.RateLimitError)
    assert recorder.errors


def test_mid_stream_error_keeps_chunks(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=3))
    got: list[str] = []
    with pytest.raises(ModelAPIError):
        for chunk in llm(server, prompt_id=TEXT).stream("one two three four five"):
            got.append(chunk)
    assert "".join(got)


def test_identity_and_secrets() -> None:
    model = PortkeyPromptLLM(prompt_id="pp-a", api_key="pk-secret", temperature=0.2)
    assert model._llm_type == "portkey-llm"
    params = model._get_ls_params()
    assert params["ls_provider"] == "portkey"
    assert params["ls_model_name"] == "pp-a"
    assert params["ls_model_type"] == "llm"
    assert "pk-secret" not in dumps(model) + repr(model)
