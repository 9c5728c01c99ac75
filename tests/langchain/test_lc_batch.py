"""``PortkeyChatModel(use_batch_api=True)`` and ``batch_api_*`` on the local server's
Batch API: the whole cycle, on a prompt id and on the gateway route, sync and async.

What reached the model is read from the job's input file (the lines the runner
uploaded) and the server's request log; the answers are compared with direct calls.
Polling tests hold the server's batch worker instead of timing anything.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import LLMResult
from pydantic import BaseModel, Field

from portkey_integrations import BatchError, BatchLineError
from portkey_integrations.langchain import BatchPolling, PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer
from portkey_integrations.types import Batch

TOPIC = "pp-lc-topic"
FAST = BatchPolling(initial_delay=0, max_delay=0)
TOPICS = ["owls", "rain", "tea"]


class Recorder(BaseCallbackHandler):
    """Records the callbacks LangChain fired."""

    def __init__(self) -> None:
        self.starts: list[Any] = []
        self.models: list[list[str]] = []
        self.ends: list[LLMResult] = []
        self.errors: list[BaseException] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.starts.append(kwargs.get("invocation_params", {}).get("variables"))
        self.models.append(serialized["id"])

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self.ends.append(response)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.errors.append(error)


def model(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyChatModel:
    if "prompt_id" not in kwargs:
        kwargs.setdefault("model", "portkey-local")
        kwargs.setdefault("provider", "openai")
    kwargs.setdefault("batch_api_polling", FAST)
    return PortkeyChatModel(base_url=server.base_url, api_key="pk-test", **kwargs)


def ran_lines(server: LocalPortkeyServer) -> dict[str, dict[str, Any]]:
    """What the server's worker sent to the model, by custom_id (from the request log)."""
    return {
        r.headers["x-portkey-local-batch"].split("/")[1]: r.body
        for r in server.requests
        if "x-portkey-local-batch" in r.headers
    }


def uploaded_lines(chat: PortkeyChatModel, job_id: str) -> list[dict[str, Any]]:
    """The lines of the job's input file, as the server stored them."""
    job = chat.batch_api_status(job_id)
    assert job.input_file_id is not None
    data = chat.client.files.content(job.input_file_id)
    return [json.loads(line) for line in data.decode().splitlines()]


def same_answer(got: Any, want: Any) -> None:
    """A batch answer matches the direct call's: text, tool calls, usage, prompt."""
    assert isinstance(got, AIMessage) and isinstance(want, AIMessage)
    assert got.content == want.content
    assert got.tool_calls == want.tool_calls
    assert got.usage_metadata == want.usage_metadata
    for key in ("model_name", "prompt_id", "prompt_version", "model_provider"):
        assert got.response_metadata.get(key) == want.response_metadata.get(key), key
    assert got.response_metadata["portkey_batch_id"].startswith("batch")


# -- the answers are the direct calls' answers --------------------------------------------


def test_prompt_batch_gives_the_direct_answers(server: LocalPortkeyServer) -> None:
    inputs = [{"topic": topic} for topic in TOPICS]
    direct = [model(server, prompt_id=TOPIC).invoke(value) for value in inputs]
    server.clear_requests()

    bulk = model(server, prompt_id=TOPIC, use_batch_api=True)
    answers = bulk.batch(inputs)

    for got, want in zip(answers, direct, strict=True):
        same_answer(got, want)
    # Each input was rendered by Portkey, then sent as one job: no prompt completions.
    paths = [request.path for request in server.requests]
    assert paths.count(f"/v1/prompts/{TOPIC}/render") == 3
    assert f"/v1/prompts/{TOPIC}/completions" not in paths
    ran = ran_lines(server)
    assert sorted(ran) == ["0", "1", "2"]
    assert ran["2"]["messages"][-1] == {"role": "user", "content": "Talk about tea."}
    job_id = answers[0].response_metadata["portkey_batch_id"]
    lines = uploaded_lines(bulk, job_id)
    assert [line["custom_id"] for line in lines] == ["0", "1", "2"]
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    first = lines[0]["body"]
    assert first["model"] == "portkey-local"
    assert first["temperature"] == 0.3  # the saved parameter
    assert first["messages"][-1] == {"role": "user", "content": "Talk about owls."}


def test_gateway_batch_gives_the_direct_answers(server: LocalPortkeyServer) -> None:
    inputs: list[Any] = [
        "Hello there",
        [SystemMessage("Be terse."), HumanMessage("Name a bird")],
        [HumanMessage("Count to three")],
    ]
    direct = [model(server, temperature=0).invoke(value) for value in inputs]
    bulk = model(server, temperature=0, use_batch_api=True)
    answers = bulk.batch(inputs)

    for got, want in zip(answers, direct, strict=True):
        same_answer(got, want)
    lines = uploaded_lines(bulk, answers[0].response_metadata["portkey_batch_id"])
    assert lines[1]["body"] == {
        "model": "portkey-local",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "Name a bird"},
        ],
    }


async def test_abatch_gives_the_direct_answers(server: LocalPortkeyServer) -> None:
    inputs = [{"topic": topic} for topic in TOPICS]
    direct = [await model(server, prompt_id=TOPIC).ainvoke(value) for value in inputs]
    answers = await model(server, prompt_id=TOPIC, use_batch_api=True).abatch(inputs)
    for got, want in zip(answers, direct, strict=True):
        same_answer(got, want)


def test_without_the_flag_batch_calls_the_model_per_input(server: LocalPortkeyServer) -> None:
    model(server, prompt_id=TOPIC).batch([{"topic": "owls"}, {"topic": "rain"}])
    paths = [request.path for request in server.requests]
    assert paths.count(f"/v1/prompts/{TOPIC}/completions") == 2
    assert not any("batches" in path for path in paths)


def test_callbacks_fire_per_input_as_batch_fires_them(server: LocalPortkeyServer) -> None:
    recorder = Recorder()
    bulk = model(server, prompt_id=TOPIC, use_batch_api=True)
    answers = bulk.batch([{"topic": "owls"}, {"topic": "rain"}], config={"callbacks": [recorder]})
    assert recorder.starts == [{"topic": "owls"}, {"topic": "rain"}]
    # The callbacks see the model they know (its class path, as invoke shows it).
    direct = Recorder()
    bulk.invoke({"topic": "owls"}, config={"callbacks": [direct]})
    assert recorder.models == direct.models * 2
    assert [end.generations[0][0].message for end in recorder.ends[:2]] == answers  # type: ignore[attr-defined]
    assert recorder.errors == []


def test_a_streaming_model_batches_through_the_job_too(server: LocalPortkeyServer) -> None:
    bulk = model(server, prompt_id=TOPIC, use_batch_api=True, streaming=True)
    answers = bulk.batch([{"topic": "owls"}])
    assert "Talk about owls." in answers[0].text
    assert f"/v1/prompts/{TOPIC}/completions" not in [r.path for r in server.requests]


def test_bound_kwargs_reach_every_line(server: LocalPortkeyServer) -> None:
    bulk = model(server, prompt_id=TOPIC, use_batch_api=True)
    answers = bulk.bind(temperature=0.9, variables={"style": "dry"}).batch(
        [{"topic": "owls"}, {"topic": "rain"}]
    )
    lines = uploaded_lines(bulk, answers[0].response_metadata["portkey_batch_id"])
    for line in lines:
        assert line["body"]["temperature"] == 0.9
        assert line["body"]["messages"][0]["content"].startswith("Style: dry.")


class Answer(BaseModel):
    """An answer with a confidence."""

    text: str
    confidence: int = Field(ge=0, le=10)


def test_chains_and_structured_output_batch_through_one_job(server: LocalPortkeyServer) -> None:
    bulk = model(server, use_batch_api=True)
    texts = (bulk | StrOutputParser()).batch(["one", "two"])
    assert texts == [model(server).invoke(text).text for text in ("one", "two")]

    structured = bulk.with_structured_output(Answer)
    answers = structured.batch(["q1", "q2"])
    assert answers == [model(server).with_structured_output(Answer).invoke(q) for q in ("q1", "q2")]
    created = [r for r in server.requests if r.path == "/v1/batches" and r.method == "POST"]
    assert len(created) == 2  # one job per batch call
    lines = ran_lines(server)
    assert lines["0"]["tools"][0]["function"]["name"] == "Answer"  # the bound tool went along


# -- failures --------------------------------------------------------------------------


def test_a_failed_line_is_an_exception_at_its_index(server: LocalPortkeyServer) -> None:
    server.batch_faults(fail_lines={"1"})
    recorder = Recorder()
    bulk = model(server, prompt_id=TOPIC, use_batch_api=True)
    inputs = [{"topic": topic} for topic in TOPICS]
    answers = bulk.batch(inputs, config={"callbacks": [recorder]}, return_exceptions=True)

    assert isinstance(answers[0], AIMessage) and isinstance(answers[2], AIMessage)
    assert isinstance(answers[1], BatchLineError)
    assert answers[1].custom_id == "1"
    assert len(recorder.ends) == 2 and recorder.errors == [answers[1]]

    server.batch_faults(fail_lines={"1"})
    with pytest.raises(BatchLineError):
        bulk.batch(inputs)


def test_an_invalid_input_fails_before_anything_is_sent(server: LocalPortkeyServer) -> None:
    bulk = model(server, use_batch_api=True)  # the gateway route takes no variables
    with pytest.raises(ValueError, match="need a prompt_id"):
        bulk.batch(["fine", {"topic": "owls"}])
    assert not any("batches" in r.path or "files" in r.path for r in server.requests)

    answers = bulk.batch(["fine", {"topic": "owls"}], return_exceptions=True)
    assert isinstance(answers[0], AIMessage)
    assert isinstance(answers[1], ValueError)
    lines = uploaded_lines(bulk, answers[0].response_metadata["portkey_batch_id"])
    assert [line["custom_id"] for line in lines] == ["0"]


def test_an_expired_job_raises_batch_error(server: LocalPortkeyServer) -> None:
    server.batch_faults(expire=True)
    bulk = model(server, prompt_id=TOPIC, use_batch_api=True)
    with pytest.raises(BatchError) as info:
        bulk.batch([{"topic": "owls"}], return_exceptions=True)
    assert info.value.status == "expired"


# -- jobs that outlive the process -------------------------------------------------------


def test_submit_in_one_model_retrieve_in_another(server: LocalPortkeyServer) -> None:
    inputs = [{"topic": topic} for topic in TOPICS]
    job_id = model(server, prompt_id=TOPIC).batch_api_submit(inputs)
    assert isinstance(job_id, str)

    fresh = model(server, prompt_id=TOPIC)  # as a new process would build it
    answers = fresh.batch_api_retrieve(job_id)
    direct = [fresh.invoke(value) for value in inputs]
    for got, want in zip(answers, direct, strict=True):
        same_answer(got, want)
    assert fresh.batch_api_status(job_id).status == "completed"


async def test_async_submit_and_retrieve(server: LocalPortkeyServer) -> None:
    job_id = await model(server, prompt_id=TOPIC).abatch_api_submit([{"topic": "owls"}])
    answers = await model(server, prompt_id=TOPIC).abatch_api_retrieve(job_id)
    assert "Talk about owls." in answers[0].text
    assert (await model(server, prompt_id=TOPIC).abatch_api_status(job_id)).done


def test_polling_reports_progress_until_the_job_ends(
    server: LocalPortkeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.hold_batches()
    seen: list[str] = []

    def progress(job: Batch) -> None:
        seen.append(job.status)
        if len(seen) == 3:
            server.release_batches()  # the job may run now

    chat = model(server, prompt_id=TOPIC)
    job_id = chat.batch_api_submit([{"topic": "owls"}])
    polling = BatchPolling(initial_delay=0, max_delay=0, on_progress=progress)
    with caplog.at_level(logging.INFO, logger="portkey_integrations"):
        answers = chat.batch_api_retrieve(job_id, polling=polling)

    assert "Talk about owls." in answers[0].text
    assert len(seen) > 3 and seen[-1] == "completed"
    assert all(status != "completed" for status in seen[:3])
    logged = [r.getMessage() for r in caplog.records if job_id in r.getMessage()]
    assert logged[-1].startswith(f"batch {job_id}: completed")


def test_a_timeout_leaves_the_job_running(server: LocalPortkeyServer) -> None:
    server.hold_batches()
    chat = model(server, prompt_id=TOPIC)
    job_id = chat.batch_api_submit([{"topic": "owls"}])
    with pytest.raises(TimeoutError, match=job_id):
        chat.batch_api_retrieve(job_id, polling=BatchPolling(timeout=0))
    assert not chat.batch_api_status(job_id).done
    server.release_batches()
    assert "Talk about owls." in chat.batch_api_retrieve(job_id)[0].text


def test_cancel(server: LocalPortkeyServer) -> None:
    server.hold_batches()
    chat = model(server, prompt_id=TOPIC)
    job_id = chat.batch_api_submit([{"topic": "owls"}])
    assert chat.batch_api_cancel(job_id).status in ("cancelling", "cancelled")
    server.release_batches()
    with pytest.raises(BatchError) as info:
        chat.batch_api_retrieve(job_id)
    assert info.value.status == "cancelled"


def test_a_prompt_job_runs_on_the_saved_virtual_key(server: LocalPortkeyServer) -> None:
    chat = model(server, prompt_id=TOPIC)  # no provider, config or virtual key
    chat.batch_api_submit([{"topic": "owls"}])
    created = [r for r in server.requests if r.path == "/v1/batches" and r.method == "POST"]
    assert created[-1].headers["x-portkey-virtual-key"] == "vk-portkey-local"


def test_batch_api_polling_must_be_a_batch_polling() -> None:
    from pydantic import ValidationError

    polling = BatchPolling(initial_delay=0.5)
    model = PortkeyChatModel(prompt_id="pp-x", base_url="local", batch_api_polling=polling)
    assert model.batch_api_polling is polling
    assert "batch_api_polling" not in model.model_dump()  # a callback is no setting to dump
    with pytest.raises(ValidationError, match="batch_api_polling must be a BatchPolling, not int"):
        PortkeyChatModel(prompt_id="pp-x", base_url="local", batch_api_polling=3)
