"""``batch_chat`` and its submit / retrieve helpers on the local server's Batch API, for
the LlamaIndex ``PortkeyChatModel``: the whole cycle on a prompt id and on the gateway
route, sync and async; the answers compared with direct ``chat`` calls; what reached the
model read from the job's input file."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatResponse
from llama_index.core.llms import ChatMessage

from portkey_integrations import BatchError, BatchLineError, PortkeyConfigError
from portkey_integrations.llama_index import (
    BatchPolling,
    PortkeyChatModel,
    abatch_chat,
    abatch_chat_retrieve,
    abatch_chat_submit,
    batch_cancel,
    batch_chat,
    batch_chat_retrieve,
    batch_chat_submit,
    batch_status,
)
from portkey_integrations.server import LocalPortkeyServer

AGENT = "pp-li-agent"
FAST = BatchPolling(initial_delay=0, max_delay=0)
QUESTIONS = ["What is 2 + 2?", "Name a prime.", "Spell cat."]
Make = Callable[..., PortkeyChatModel]


def chats(*texts: str) -> list[list[ChatMessage]]:
    return [[ChatMessage(role="user", content=text)] for text in texts or QUESTIONS]


def uploaded_lines(llm: PortkeyChatModel, job_id: str) -> list[dict[str, Any]]:
    job = batch_status(llm, job_id)
    assert job.input_file_id is not None
    data = llm.client.files.content(job.input_file_id)
    return [json.loads(line) for line in data.decode().splitlines()]


def same_answer(got: Any, want: ChatResponse) -> None:
    assert isinstance(got, ChatResponse)
    assert got.message.content == want.message.content
    for key in ("prompt_id", "prompt_version", "prompt_tokens", "completion_tokens"):
        assert got.additional_kwargs.get(key) == want.additional_kwargs.get(key), key
    assert got.additional_kwargs["portkey_batch_id"].startswith("batch")


@pytest.mark.parametrize("route", ["prompt", "gateway"])
def test_batch_chat_gives_the_direct_answers(
    route: str, chat_model: Make, server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id=AGENT) if route == "prompt" else chat_model(model="portkey-local")
    direct = [llm.chat(messages) for messages in chats()]
    server.clear_requests()

    answers = batch_chat(llm, chats(), polling=FAST)

    for got, want in zip(answers, direct, strict=True):
        same_answer(got, want)
    lines = uploaded_lines(llm, answers[0].additional_kwargs["portkey_batch_id"])
    assert [line["custom_id"] for line in lines] == ["0", "1", "2"]
    body = lines[1]["body"]
    assert body["model"] == "portkey-local"
    assert body["messages"][-1] == {"role": "user", "content": "Name a prime."}
    # What the server's worker sent to the model, line by line (its request log).
    ran = {
        r.headers["x-portkey-local-batch"].split("/")[1]: r.body
        for r in server.requests
        if "x-portkey-local-batch" in r.headers
    }
    assert ran["2"]["messages"] == lines[2]["body"]["messages"]
    if route == "prompt":
        assert body["messages"][0]["content"] == "You are a careful calculator."
        paths = [request.path for request in server.requests]
        assert paths.count(f"/v1/prompts/{AGENT}/render") == 3


async def test_abatch_chat_gives_the_direct_answers(chat_model: Make) -> None:
    llm = chat_model(prompt_id=AGENT)
    direct = [await llm.achat(messages) for messages in chats()]
    answers = await abatch_chat(llm, chats(), polling=FAST)
    for got, want in zip(answers, direct, strict=True):
        same_answer(got, want)


def test_hyperparameters_reach_every_line(chat_model: Make) -> None:
    llm = chat_model(prompt_id=AGENT, temperature=0.1)
    answers = batch_chat(llm, chats("a", "b"), polling=FAST, max_tokens=7)
    for line in uploaded_lines(llm, answers[0].additional_kwargs["portkey_batch_id"]):
        assert line["body"]["temperature"] == 0.1
        assert line["body"]["max_completion_tokens"] == 7


def test_a_failed_line_is_an_exception_at_its_index(
    chat_model: Make, server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id=AGENT)
    server.batch_faults(fail_lines={"0"})
    answers = batch_chat(llm, chats(), polling=FAST, return_exceptions=True)
    assert isinstance(answers[0], BatchLineError) and answers[0].custom_id == "0"
    assert all(isinstance(answer, ChatResponse) for answer in answers[1:])

    server.batch_faults(fail_lines={"0"})
    with pytest.raises(BatchLineError):
        batch_chat(llm, chats(), polling=FAST)


def test_an_expired_job_raises_batch_error(chat_model: Make, server: LocalPortkeyServer) -> None:
    server.batch_faults(expire=True)
    with pytest.raises(BatchError) as info:
        batch_chat(chat_model(prompt_id=AGENT), chats(), polling=FAST, return_exceptions=True)
    assert info.value.status == "expired"


def test_submit_with_one_model_retrieve_with_another(chat_model: Make) -> None:
    job_id = batch_chat_submit(chat_model(prompt_id=AGENT), chats())
    fresh = chat_model(prompt_id=AGENT)
    answers = batch_chat_retrieve(fresh, job_id, polling=FAST)
    for got, want in zip(answers, [fresh.chat(m) for m in chats()], strict=True):
        same_answer(got, want)


async def test_async_submit_and_retrieve(chat_model: Make) -> None:
    job_id = await abatch_chat_submit(chat_model(prompt_id=AGENT), chats("Say hi."))
    answers = await abatch_chat_retrieve(chat_model(prompt_id=AGENT), job_id, polling=FAST)
    assert "Say hi." in str(answers[0].message.content)


def test_status_and_cancel(chat_model: Make, server: LocalPortkeyServer) -> None:
    server.hold_batches()
    llm = chat_model(prompt_id=AGENT)
    job_id = batch_chat_submit(llm, chats())
    assert not batch_status(llm, job_id).done
    assert batch_cancel(llm, job_id).status in ("cancelling", "cancelled")
    server.release_batches()
    with pytest.raises(BatchError) as info:
        batch_chat_retrieve(llm, job_id, polling=FAST)
    assert info.value.status == "cancelled"


def test_a_list_of_messages_is_not_a_list_of_chats(chat_model: Make) -> None:
    with pytest.raises(PortkeyConfigError, match="list of chats"):
        batch_chat(chat_model(prompt_id=AGENT), [ChatMessage(role="user", content="x")])  # type: ignore[list-item]
