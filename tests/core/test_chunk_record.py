"""What a stream keeps for ``StreamError.chunks`` when its consumer shares the answer.

The record must hand back exactly the chunks that were delivered, and, for the usual
ways a server writes its JSON, keep runs of chunks as the text around their content
rather than a second copy of the answer.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portkey_integrations._chunk_record import ChunkRecord, _Run
from portkey_integrations._response import CompletionChunk, ResponseInfo
from portkey_integrations._streaming import _Decoder


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


class Consumer:
    """A stream's decoder fed one event at a time, read by a consumer that keeps every
    chunk and, when ``share``, the answer it shares with the record."""

    def __init__(self, share: bool = True) -> None:
        self.decoder = _Decoder(ResponseInfo())
        self.pieces: list[str] = []
        self.delivered: list[CompletionChunk] = []
        if share:
            self.decoder.record.share_text(lambda: "".join(self.pieces))

    def feed(self, text: str) -> None:
        for chunk in self.decoder.feed(f"data: {text}\n\n"):
            self.delivered.append(chunk)
            self.pieces.append(chunk.choices[0].content if chunk.choices else "")


def record(texts: list[str], fold: bool = True) -> tuple[ChunkRecord, list[CompletionChunk]]:
    """Feed ``texts`` as a consumer that shares its answer would see them; then fold
    what is held, as a longer stream would."""
    consumer = Consumer()
    for text in texts:
        consumer.feed(text)
    if fold:
        consumer.decoder.record.fold()
    return consumer.decoder.record, consumer.delivered


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
    consumer = Consumer(share=False)
    texts = [json.dumps(chat_chunk(c)) for c in CONTENTS]
    for text in texts * 200:  # far past FOLD_AT: nothing is folded
        consumer.feed(text)
    kept = consumer.decoder.record
    assert kept.texts == texts * 200
    assert kept.kept == []
    assert kept.count == len(texts) * 200


def test_a_short_answer_is_never_folded_and_is_given_back() -> None:
    texts = [json.dumps(chat_chunk(c)) for c in CONTENTS]
    kept, delivered = record(texts, fold=False)
    assert kept.texts == texts
    assert kept.kept == []
    assert dumped(kept.chunks()) == dumped(delivered)


def test_held_text_is_folded_once_it_passes_fold_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ChunkRecord, "FOLD_AT", 300)
    usage = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    texts = [WRITERS["compact"](chat_chunk(c)) for c in CONTENTS * 6]
    texts.insert(20, json.dumps(usage))
    consumer = Consumer()
    kept = consumer.decoder.record
    for text in texts:
        consumer.feed(text)
        # Never more than FOLD_AT held, and every chunk so far given back whatever the
        # split between folded and held.
        assert kept.held <= 300
        assert dumped(kept.chunks()) == dumped(consumer.delivered)
    assert kept.count == len(texts)
    assert any(isinstance(entry, _Run) and len(entry.lengths) > 3 for entry in kept.kept)


@pytest.mark.parametrize("writer", list(WRITERS), ids=list(WRITERS))
def test_a_text_whose_middle_spans_other_fields_is_not_taken_for_content(writer: str) -> None:
    # Same ends as the run, but between them more than one string value.
    def chunk(delta: dict[str, str]) -> str:
        data = {"id": "c1", "choices": [{"index": 0, "delta": {**delta, "role": "assistant"}}]}
        return str(WRITERS[writer](data))

    first, other = chunk({"content": "x"}), chunk({"content": "y", "refusal": "q"})
    kept, delivered = record([first, other])
    run = kept.kept[0]
    assert isinstance(run, _Run)
    assert other.startswith(run.head) and other.endswith(run.tail)
    assert dumped(kept.chunks()) == dumped(delivered)
    assert kept.chunks()[1].choices[0].delta.refusal == "q"  # type: ignore[union-attr]


# Any stream a server might write: runs sharing an id, each written one way, broken by
# other events, folded after any number of characters.
_text = st.text(alphabet=st.sampled_from('ab é€😀"\\\n\t:'), max_size=6)


@st.composite
def _events(draw: st.DrawFn) -> list[str]:
    texts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        writer = WRITERS[draw(st.sampled_from(list(WRITERS)))]
        make = draw(st.sampled_from([chat_chunk, text_chunk]))
        texts += [str(writer(make(c))) for c in draw(st.lists(_text, max_size=8))]
        if draw(st.booleans()):
            texts.append(json.dumps({"id": "c1", "choices": [], "usage": {"total_tokens": 1}}))
    return texts


@settings(max_examples=150, deadline=None, database=None)
@given(texts=_events(), fold_at=st.integers(0, 600))
def test_any_stream_folded_anywhere_gives_back_what_arrived(texts: list[str], fold_at: int) -> None:
    with mock.patch.object(ChunkRecord, "FOLD_AT", fold_at):
        consumer = Consumer()
        for text in texts:
            consumer.feed(text)
            assert dumped(consumer.decoder.record.chunks()) == dumped(consumer.delivered)
    assert consumer.decoder.record.count == len(texts)
