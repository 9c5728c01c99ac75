"""What a stream keeps of the chunks it delivered, so that an error can hand them back.

:class:`ChunkRecord` is the memory side of a stream (:mod:`._streaming` reads the
events): ``StreamError.chunks`` must hold every chunk delivered before the failure, and
keeping them should cost a stream next to nothing when nothing fails.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable
from json.encoder import encode_basestring, encode_basestring_ascii

from ._response import CompletionChunk

__all__ = ["ChunkRecord"]

# How a chunk's content may be written in its JSON text: as it is (no character needs
# escaping), or escaped as JSON.stringify writes it, or as Python's json.dumps does.
_Encoding = Callable[[str], str] | None
_ENCODINGS: tuple[_Encoding, ...] = (None, encode_basestring, encode_basestring_ascii)


class _Run:
    """Chunks in a row whose JSON texts differ only in their content: each text is
    ``head + content + tail`` (the content written by ``encode``, quotes included, when
    it is not ``None``); kept as the two ends and each content's length."""

    __slots__ = ("encode", "head", "lengths", "size", "tail")

    def __init__(self, head: str, tail: str, encode: _Encoding) -> None:
        self.head = head
        self.tail = tail
        self.size = len(head) + len(tail)
        self.encode = encode
        self.lengths = array("I")

    def text(self, content: str) -> str:
        """The JSON text of this run's chunk whose content is ``content``."""
        return self.head + (content if self.encode is None else self.encode(content)) + self.tail

    def content(self, data: str) -> str | None:
        """The content of ``data`` if it is this run's ends around a content written as
        the run writes it (so :meth:`text` gives ``data`` back), else ``None``."""
        head, tail = self.head, self.tail
        if len(data) < self.size or not data.startswith(head) or not data.endswith(tail):
            return None
        written = data[len(head) : len(data) - len(tail)]
        if self.encode is None:
            # Between the quotes: a string value only if nothing in it is escaped.
            return None if '"' in written or "\\" in written else written
        try:
            content = json.loads(written)
        except ValueError:
            return None
        return content if type(content) is str and self.encode(content) == written else None


class ChunkRecord:
    """What a stream keeps of the chunks it delivered, so that an error can hand them
    all back (:attr:`StreamError.chunks`).

    The stream's decoder appends each event's JSON text to :attr:`texts` as it arrives
    (for a shared answer also adding its length to :attr:`held`, and calling
    :meth:`fold` past :data:`FOLD_AT`). That costs nothing per event; a text is about an
    eighth of a parsed chunk's memory and no object the garbage collector tracks; and the
    chunks are parsed again only on an error.

    A consumer that accumulates the whole answer itself shares that text
    (:meth:`share_text`). Then, once the texts held pass :data:`FOLD_AT` characters,
    they are folded: a run of events whose texts differ only in their content is kept as
    the text around the content and each content's length, so a long stream holds no
    second copy of the answer. On an error each chunk is parsed again from exactly the
    text that arrived: the run's two ends around its content, cut from the shared answer.
    """

    __slots__ = ("held", "kept", "run", "text", "texts")

    FOLD_AT = 16_384
    """Characters of event text held before a shared-answer record folds them: a short
    answer is never folded, and a long one holds at most this much beside the answer."""

    def __init__(self) -> None:
        self.texts: list[str] = []  # events not folded, in order
        self.held = 0  # their characters (shared answer only)
        self.kept: list[str | _Run] = []  # folded events; a text: an event kept whole
        self.run: _Run | None = None
        self.text: Callable[[], str] | None = None

    @property
    def count(self) -> int:
        """How many chunks were kept."""
        runs = sum(len(entry.lengths) for entry in self.kept if isinstance(entry, _Run))
        return len(self.texts) + runs + sum(isinstance(entry, str) for entry in self.kept)

    def share_text(self, text: Callable[[], str]) -> None:
        """Read content from ``text()`` (see :meth:`Stream.share_text`)."""
        if self.texts or self.kept:
            raise RuntimeError("share_text must be called before the stream is read")
        self.text = text

    def fold(self) -> None:
        """Fold the texts held into runs (see the class docstring)."""
        for data in self.texts:
            run = self.run
            if run is not None:
                content = run.content(data)
                if content is not None:
                    run.lengths.append(len(content))
                    continue
            self.run = run = _start(CompletionChunk.model_validate_json(data), data)
            if run is None:
                # Usage and other events without content, or content written otherwise.
                self.kept.append(data)
            else:
                self.kept.append(run)
        self.texts = []
        self.held = 0

    def chunks(self) -> list[CompletionChunk]:
        """Every chunk delivered so far, parsed again from the text that arrived."""
        parse = CompletionChunk.model_validate_json
        if self.text is None:
            return [parse(data) for data in self.texts]
        answer = self.text()
        out: list[CompletionChunk] = []
        at = 0
        for entry in [*self.kept, *self.texts]:
            if isinstance(entry, str):
                chunk = parse(entry)
                out.append(chunk)
                at += len(chunk.choices[0].content) if chunk.choices else 0
                continue
            for length in entry.lengths:
                out.append(parse(entry.text(answer[at : at + length])))
                at += length
        return out


def _start(chunk: CompletionChunk, data: str) -> _Run | None:
    """A run starting with ``chunk``, whose text is ``data``, found around its content;
    ``None`` when it has none or ``data`` does not hold it written in any way a run reads."""
    if not chunk.choices:
        return None
    choice = chunk.choices[0]
    key = "content" if choice.delta is not None else "text"
    content = choice.content
    for encode in _ENCODINGS:
        written = f'"{content}"' if encode is None else encode(content)
        # Compact JSON, or json.dumps's default separators.
        for name in (f'"{key}":', f'"{key}": '):
            at = data.find(name + written)
            if at >= 0:
                start = at + len(name)
                if encode is None:  # the quotes belong to the ends
                    run = _Run(data[: start + 1], data[start + len(written) - 1 :], None)
                else:
                    run = _Run(data[:start], data[start + len(written) :], encode)
                run.lengths.append(len(content))
                return run
    return None
