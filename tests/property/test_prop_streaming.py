"""Properties of stream decoding, over real HTTP from a server that splits bytes anywhere.

The same events give the same chunks however the bytes are cut (inside a UTF-8
character, between ``\\r`` and ``\\n``, inside ``data:``), in any order, with unknown
fields, comments, ids, retries and empty events mixed in; a stream without ``[DONE]``
raises :class:`TruncatedStreamError` only after every chunk was delivered.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prop_scripted import ScriptedServer

from portkey_integrations import (
    AsyncPortkeyClient,
    PortkeyClient,
    PortkeyError,
    StreamError,
    TruncatedStreamError,
)
from portkey_integrations._chunk_record import ChunkRecord

# No example database: nothing is written into the working tree.
FEW = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
MESSAGES = [{"role": "user", "content": "hi"}]
KNOWN = {"id", "object", "created", "model", "choices", "usage", "system_fingerprint", "error"}

words = st.text(alphabet=st.sampled_from('ab é€😀"\\\n\t:'), max_size=8)
json_leaf = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | words
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=6,
)
unknown_fields = st.dictionaries(
    st.text(alphabet="xyz_", min_size=1, max_size=6).filter(lambda k: k not in KNOWN),
    json_value,
    max_size=2,
)


@st.composite
def chunks(draw: st.DrawFn) -> dict[str, Any]:
    """A chunk dict in one of the shapes the gateway sends, with unknown fields."""
    kind = draw(st.sampled_from(["delta", "role", "text", "usage", "finish"]))
    choice: dict[str, Any] = {"index": draw(st.integers(0, 2))}
    if kind == "delta":
        choice["delta"] = {"content": draw(words), **draw(unknown_fields)}
    elif kind == "role":
        choice["delta"] = {"role": "assistant", "content": ""}
    elif kind == "text":
        choice["text"] = draw(words)
    elif kind == "finish":
        choice.update(delta={}, finish_reason=draw(st.sampled_from(["stop", "end_turn"])))
    chunk: dict[str, Any] = {"id": draw(words), "object": "chat.completion.chunk"}
    if kind == "usage":
        chunk["choices"] = []
        chunk["usage"] = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    else:
        chunk["choices"] = [choice]
    chunk.update(draw(unknown_fields))
    return chunk


newline = st.sampled_from(["\n", "\r\n", "\r"])
noise = st.sampled_from(
    [": keep-alive", "event: ping", "id: 7", "retry: 1000", "data:", "event: message"]
)


@st.composite
def event_text(draw: st.DrawFn, chunk: dict[str, Any]) -> str:
    """One SSE event carrying ``chunk``: one or several data lines, optional fields."""
    end = draw(newline)
    lines = draw(st.lists(st.sampled_from([": note", "id: 1", "event: message"]), max_size=2))
    prefix = draw(st.sampled_from(["data: ", "data:"]))
    if draw(st.booleans()):
        # Pretty-printed JSON over several data lines: joined with \n it parses the same.
        lines += [prefix + part for part in json.dumps(chunk, indent=1).split("\n")]
    else:
        lines.append(prefix + json.dumps(chunk, ensure_ascii=draw(st.booleans())))
    return "".join(line + end for line in lines) + end


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bytes, bool]:
    """(the chunks, the whole body, whether it ends with [DONE])."""
    items = draw(st.lists(chunks(), max_size=6))
    parts: list[str] = []
    for item in items:
        parts.extend(draw(noise) + draw(newline) * 2 for _ in range(draw(st.integers(0, 1))))
        parts.append(draw(event_text(item)))
    done = draw(st.booleans())
    if done:
        parts.append("data: [DONE]" + draw(newline) * 2)
        # Whatever follows [DONE] is ignored.
        parts.append(draw(st.sampled_from(["", 'data: {"id": "late"}\n\n', "junk\n\n"])))
    return items, "".join(parts).encode("utf-8"), done


def split(data: bytes, cuts: list[int]) -> tuple[bytes, ...]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return tuple(data[a:b] for a, b in itertools.pairwise(points))


def dumped(chunk: Any) -> dict[str, Any]:
    return chunk.model_dump(mode="json", exclude_unset=True)  # type: ignore[no-any-return]


class Reader:
    """A consumer that keeps every chunk and, when ``share``, the answer it shares with
    the stream (which then builds the error's ``chunks`` again from it)."""

    def __init__(self, share: bool) -> None:
        self.share = share
        self.delivered: list[Any] = []
        self.pieces: list[str] = []

    def answer(self) -> str:
        return "".join(self.pieces)

    def start(self, stream: Any) -> None:
        if self.share:
            stream.share_text(self.answer)

    def take(self, chunk: Any) -> None:
        self.delivered.append(chunk)
        self.pieces.append(chunk.choices[0].content if chunk.choices else "")


def read_sync(
    server: ScriptedServer, share: bool = False
) -> tuple[list[Any], BaseException | None]:
    reader = Reader(share)
    with PortkeyClient(base_url=server.base_url, api_key="pk-x", max_retries=0) as client:
        try:
            with client.stream(messages=MESSAGES, model="m") as stream:
                reader.start(stream)
                for chunk in stream:
                    reader.take(chunk)
        except PortkeyError as exc:
            return reader.delivered, exc
    return reader.delivered, None


async def read_async(
    server: ScriptedServer, share: bool = False
) -> tuple[list[Any], BaseException | None]:
    reader = Reader(share)
    async with AsyncPortkeyClient(base_url=server.base_url, api_key="pk-x", max_retries=0) as c:
        try:
            async with await c.stream(messages=MESSAGES, model="m") as stream:
                reader.start(stream)
                async for chunk in stream:
                    reader.take(chunk)
        except PortkeyError as exc:
            return reader.delivered, exc
    return reader.delivered, None


@pytest.mark.slow  # a heavy property run
@pytest.mark.parametrize("share", ["kept", "shared", "folded"])
@FEW
@given(stream=streams(), cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_any_split_of_any_events_gives_the_same_chunks(
    scripted: ScriptedServer,
    share: str,
    stream: tuple[list[dict[str, Any]], bytes, bool],
    cuts: list[int],
) -> None:
    # "folded": a shared answer whose record folds after every event or two, as a long
    # answer's does.
    expected, data, done = stream
    pieces = split(data, cuts)
    assert b"".join(pieces) == data
    fold_at = 64 if share == "folded" else ChunkRecord.FOLD_AT
    with mock.patch.object(ChunkRecord, "FOLD_AT", fold_at):
        scripted.push(pieces)
        sync_chunks, sync_error = read_sync(scripted, share != "kept")
        scripted.push(pieces)
        async_chunks, async_error = asyncio.run(read_async(scripted, share != "kept"))
    for delivered, error in ((sync_chunks, sync_error), (async_chunks, async_error)):
        assert [dumped(c) for c in delivered] == expected
        if done:
            assert error is None
        else:
            assert isinstance(error, TruncatedStreamError)
            assert [dumped(c) for c in error.chunks] == expected


@FEW
@given(
    before=st.lists(chunks(), max_size=3),
    data=st.sampled_from(
        [
            'event: error\ndata: {"error": {"message": "boom"}}',
            'data: {"error": {"message": "boom", "code": "x"}}',
            "data: not json at all",
            "data: [1, 2]",
            'data: {"choices": "nope"}',
            'data: {"error": "flat"}',
        ]
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=10),
    share=st.booleans(),
)
def test_error_and_malformed_events_are_stream_errors_after_the_chunks(
    scripted: ScriptedServer,
    before: list[dict[str, Any]],
    data: str,
    cuts: list[int],
    share: bool,
) -> None:
    # Events that arrive with the error in one piece are delivered before it is raised,
    # and its chunks hold them, also when they are built again from a shared answer.
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in before) + data + "\n\n"
    scripted.push(split(body.encode(), cuts))
    delivered, error = read_sync(scripted, share)
    assert isinstance(error, StreamError)
    assert [dumped(c) for c in delivered] == before
    assert [dumped(c) for c in error.chunks] == before


@pytest.mark.slow  # a property run
@FEW
@given(stream=streams(), cuts=st.lists(st.integers(0, 10_000), max_size=20))
def test_a_compressed_body_gives_the_chunks_of_the_plain_one(
    scripted: ScriptedServer, stream: tuple[list[dict[str, Any]], bytes, bool], cuts: list[int]
) -> None:
    # A compressed body goes through httpx's decompression; a plain one is read raw.
    expected, data, done = stream
    pieces = split(gzip.compress(data), cuts)
    for read in (read_sync, lambda s: asyncio.run(read_async(s))):
        scripted.push(pieces, headers=(("content-encoding", "gzip"),))
        delivered, error = read(scripted)
        assert [dumped(c) for c in delivered] == expected
        assert (error is None) is done


# The UTF-8 ones skip httpx's charset parsing: they must read as httpx would read them.
CONTENT_TYPES = [
    "text/event-stream",
    "text/event-stream; charset=utf-8",
    "text/event-stream;charset=UTF-8",
    "text/event-stream; charset=latin-1",
    "text/event-stream; charset=utf-16",
]


@FEW
@given(
    text=st.text(alphabet=st.sampled_from("ab \u00e9\u00ff\u00e0\u20ac"), max_size=12),
    kind=st.sampled_from(CONTENT_TYPES),
    cut=st.integers(min_value=0),
)
def test_a_declared_charset_decodes_the_body_as_httpx_would(
    scripted: ScriptedServer, text: str, kind: str, cut: int
) -> None:
    if "latin-1" in kind:
        text = text.replace("\u20ac", "e")  # not in latin-1
    event = {"choices": [{"index": 0, "delta": {"content": text}}]}
    body = f"data: {json.dumps(event, ensure_ascii=False)}\n\ndata: [DONE]\n\n"
    encoding = httpx.Response(200, headers={"content-type": kind}).encoding
    data = body.encode(encoding or "utf-8")
    assert httpx.Response(200, headers={"content-type": kind}, content=data).text == body
    for read in (read_sync, lambda s: asyncio.run(read_async(s))):
        scripted.push(split(data, [cut % (len(data) + 1)]), content_type=kind)
        delivered, error = read(scripted)
        assert error is None and [c.choices[0].content for c in delivered] == [text]
