"""What a stream keeps for ``StreamError.chunks`` when its consumer shares the answer.

The record must hand back exactly the chunks that were delivered, and, for the usual
ways a server writes its JSON, keep runs of chunks as the text around their content
rather than a second copy of the answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from portkey_integrations._chunk_record import ChunkRecord, _Run
from portkey_integrations._response import CompletionChunk


def chat_chunk(content: str | None, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def text_chunk(text: str) -> dict[str, Any]:
    return {"id": "t1", "object": "text_completion", "choices": [{"index": 0, "text": text}]}


CONTENTS = ["Hello", " wor", "ld", "", " é€😀", ' "quoted"', " back\\slash", "\nnew\tline"]
WRITERS = {
    "compact": lambda c: json.dumps(c, separators=(",", ":"), ensure_ascii=False),
    "compact-ascii": lambda c: json.dumps(c, separators=(",", ":")),
    "spaced": lambda c: json.dumps(c, ensure_ascii=False),
    "spaced-ascii": json.dumps,
}


def record(texts: list[str]) -> tuple[ChunkRecord, list[CompletionChunk]]:
    """Feed ``texts`` as a consumer that shares its answer would see them."""
    answer: list[str] = []
    kept = ChunkRecord()
    kept.share_text(lambda: "".join(answer))
    delivered = []
    for text in texts:
        chunk = CompletionChunk.model_validate_json(text)
        kept.add(chunk, text)
        delivered.append(chunk)
        answer.append(chunk.choices[0].content if chunk.choices else "")
    return kept, delivered


def dumped(chunks: list[CompletionChunk]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json", exclude_unset=True) for c in chunks]


@pytest.mark.parametrize("writer", list(WRITERS), ids=list(WRITERS))
@pytest.mark.parametrize("make", [chat_chunk, text_chunk], ids=["chat", "text"])
def test_runs_keep_the_text_around_the_content_and_give_back_what_arrived(
    writer: str, make: Any
) -> None:
    texts = [WRITERS[writer](make(c)) for c in CONTENTS]
    kept, delivered = record(texts)
    assert dumped(kept.chunks()) == dumped(delivered)
    assert [c.model_dump_json() for c in kept.chunks()] == [c.model_dump_json() for c in delivered]
    # No text kept whole: every chunk is in a run; the content is not held twice.
    assert all(isinstance(entry, _Run) for entry in kept.kept)
    assert kept.count == len(CONTENTS)


def test_events_without_content_are_kept_whole_and_end_the_run() -> None:
    usage = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    texts = [
        json.dumps(chat_chunk("", role="assistant")),
        json.dumps(chat_chunk("a")),
        json.dumps(chat_chunk("b")),
        json.dumps(chat_chunk(None)),  # finish: no content key
        json.dumps(usage),
        json.dumps(chat_chunk("c")),
    ]
    kept, delivered = record(texts)
    assert dumped(kept.chunks()) == dumped(delivered)
    assert [type(entry).__name__ for entry in kept.kept] == ["_Run", "_Run", "str", "str", "_Run"]


def test_a_chunk_that_differs_elsewhere_starts_a_new_run() -> None:
    texts = [json.dumps(chat_chunk(c)) for c in ("a", "b")]
    texts.append(json.dumps({**chat_chunk("c"), "id": "other"}))
    kept, delivered = record(texts)
    assert dumped(kept.chunks()) == dumped(delivered)
    assert [len(entry.lengths) for entry in kept.kept if isinstance(entry, _Run)] == [2, 1]


def test_without_a_shared_answer_every_text_is_kept() -> None:
    kept = ChunkRecord()
    texts = [json.dumps(chat_chunk(c)) for c in CONTENTS]
    for text in texts:
        kept.add(CompletionChunk.model_validate_json(text), text)
    assert kept.texts == texts
    assert kept.count == len(texts)
