"""What a stream keeps of the chunks it delivered, so that an error can hand them back.

:class:`ChunkRecord` is the memory side of a stream (:mod:`._streaming` reads the
events): ``StreamError.chunks`` must hold every chunk delivered before the failure, and
keeping them should cost a stream next to nothing when nothing fails.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from pydantic import BaseModel

from ._response import ChunkChoice, CompletionChunk, Delta

__all__ = ["ChunkRecord"]


class _Run:
    """Chunks in a row that differ only in their delta content: the first one, and each
    one's content length (the content is in the consumer's shared text)."""

    __slots__ = ("lengths", "shape", "template")

    def __init__(self, template: CompletionChunk, shape: tuple[Any, ...]) -> None:
        self.template = template
        self.shape = shape
        self.lengths = array("I")


class ChunkRecord:
    """What a stream keeps of the chunks it delivered, so that an error can hand them
    all back (:attr:`StreamError.chunks`).

    By default each event's JSON text: appending it costs nothing per event, a text is
    about an eighth of a parsed chunk's memory and no object the garbage collector
    tracks, and the chunks are parsed again only on an error. A consumer that
    accumulates the whole answer itself shares that text (:meth:`share_text`): then a
    run of chunks that differ only in their delta content is kept as its first chunk and
    each one's content length, and the chunks are built again from the shared text on
    an error, so the stream holds no second copy of the answer.
    """

    __slots__ = ("count", "kept", "run", "text", "texts")

    def __init__(self) -> None:
        self.count = 0
        self.texts: list[str] = []
        self.kept: list[CompletionChunk | _Run] = []
        self.run: _Run | None = None
        self.text: Callable[[], str] | None = None

    def share_text(self, text: Callable[[], str]) -> None:
        """Read content from ``text()`` (see :meth:`Stream.share_text`)."""
        if self.count:
            raise RuntimeError("share_text must be called before the stream is read")
        self.text = text

    def add(self, chunk: CompletionChunk, data: str) -> None:
        self.count += 1
        if self.text is None:
            self.texts.append(data)
            return
        key = _run_key(chunk)
        if key is None:  # role, finish, usage, tool calls: few, kept whole
            self.kept.append(chunk)
            self.run = None
            return
        content, shape = key
        run = self.run
        if run is None or run.shape != shape:
            run = self.run = _Run(chunk, shape)
            self.kept.append(run)
        run.lengths.append(len(content))

    def chunks(self) -> list[CompletionChunk]:
        """Every chunk delivered so far, built again."""
        if self.text is None:
            return [CompletionChunk.model_validate_json(data) for data in self.texts]
        text = self.text()
        out: list[CompletionChunk] = []
        at = 0
        for entry in self.kept:
            if isinstance(entry, _Run):
                for length in entry.lengths:
                    out.append(_with_content(entry.template, text[at : at + length]))
                    at += length
            else:
                out.append(entry)
                at += len(entry.choices[0].content) if entry.choices else 0
        return out


def _getter(model: type[BaseModel], skip: str) -> Callable[[dict[str, Any]], Any]:
    return itemgetter(*(name for name in model.model_fields if name != skip))


_TOP, _CHOICE, _DELTA = (
    _getter(CompletionChunk, "choices"),
    _getter(ChunkChoice, "delta"),
    _getter(Delta, "content"),
)


def _run_key(chunk: CompletionChunk) -> tuple[str, tuple[Any, ...]] | None:
    """A one-choice chat chunk's delta content, and everything else pydantic's equality
    and an ``exclude_unset`` dump look at (one call per event); ``None`` for others."""
    choices = chunk.choices
    if len(choices) != 1:
        return None
    choice = choices[0]
    delta = choice.delta
    if delta is None or type(content := delta.content) is not str:
        return None
    return content, (
        _TOP(chunk.__dict__),
        _CHOICE(choice.__dict__),
        _DELTA(delta.__dict__),
        chunk.__pydantic_fields_set__,
        choice.__pydantic_fields_set__,
        delta.__pydantic_fields_set__,
        chunk.__pydantic_extra__,
        choice.__pydantic_extra__,
        delta.__pydantic_extra__,
    )


def _with_content(template: CompletionChunk, content: str) -> CompletionChunk:
    choice = template.choices[0]
    assert choice.delta is not None
    delta = choice.delta.model_copy()
    delta.__dict__["content"] = content
    new_choice = choice.model_copy()
    new_choice.__dict__["delta"] = delta
    chunk = template.model_copy()
    chunk.__dict__["choices"] = [new_choice]
    return chunk
