"""An error event ends a stream at once: nothing after it is read, sync or async."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from portkey_integrations import StreamError
from portkey_integrations._response import ResponseInfo
from portkey_integrations._streaming import AsyncStream, Stream

EVENTS = [
    b'data: {"choices": [{"index": 0, "delta": {"content": "a"}}]}\n\n',
    b'data: {"choices": [{"index": 0, "delta": {"content": "b"}}]}\n\n',
    b'data: {"error": {"message": "boom"}}\n\n',
]


def _body() -> Iterator[bytes]:
    yield from EVENTS  # one event per piece: the decoder's one-event path
    raise AssertionError("read past the error event")


async def _abody() -> AsyncIterator[bytes]:
    for event in EVENTS:
        yield event
    raise AssertionError("read past the error event")


HEADERS = {"content-type": "text/event-stream"}


def test_an_error_event_is_raised_before_more_is_read() -> None:
    stream = Stream(httpx.Response(200, headers=HEADERS, content=_body()), ResponseInfo())
    texts = []
    with pytest.raises(StreamError, match="boom") as raised:
        for chunk in stream:
            texts.append(chunk.choices[0].content)
            assert stream.last_json == EVENTS[len(texts) - 1].decode()[6:-2]
    assert texts == ["a", "b"]
    assert [c.choices[0].content for c in raised.value.chunks] == ["a", "b"]


def test_an_error_event_is_raised_before_more_is_read_async() -> None:
    async def read() -> tuple[list[str], StreamError]:
        response = httpx.Response(200, headers=HEADERS, content=_abody())
        stream, texts = AsyncStream(response, ResponseInfo()), []
        try:
            async for chunk in stream:
                texts.append(chunk.choices[0].content)
                assert stream.last_json == EVENTS[len(texts) - 1].decode()[6:-2]
        except StreamError as exc:
            return texts, exc
        raise AssertionError("no error raised")

    texts, error = asyncio.run(read())
    assert texts == ["a", "b"] and "boom" in str(error)
    assert [c.choices[0].content for c in error.chunks] == ["a", "b"]
