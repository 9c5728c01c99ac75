"""What a stream keeps of the chunks it delivered, so that an error can hand them back.

:class:`ChunkRecord` is the memory side of a stream (:mod:`._streaming` reads the
events): ``StreamError.chunks`` must hold every chunk delivered before the failure, and
keeping them should cost a stream next to nothing when nothing fails.
"""

from __future__ import annotations

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


class ChunkRecord:
    """What a stream keeps of the chunks it delivered, so that an error can hand them
    all back (:attr:`StreamError.chunks`).

    By default each event's JSON text: appending it costs nothing per event, a text is
    about an eighth of a parsed chunk's memory and no object the garbage collector
    tracks, and the chunks are parsed again only on an error. A consumer that
    accumulates the whole answer itself shares that text (:meth:`share_text`): then a
    run of events whose texts differ only in their content is kept as the text around
    the content and each content's length, so the stream holds no second copy of the
    answer. On an error each chunk is parsed again from exactly the text that arrived:
    the run's two ends around its content, cut from the shared answer.
    """

    __slots__ = ("kept", "run", "text", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.kept: list[str | _Run] = []  # a text: an event kept whole
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

    def add(self, chunk: CompletionChunk, data: str) -> None:
        """Keep ``chunk``, whose JSON text is ``data``."""
        if self.text is None:
            self.texts.append(data)
            return
        # Once per event, so the common case comes first, in as few steps as it takes.
        choices = chunk.choices
        if choices:
            choice = choices[0]
            delta = choice.delta
            content = (delta.content or "") if delta is not None else (choice.text or "")
            run = self.run
            if run is not None:
                # String comparisons only: the text is the run's ends around this content.
                written = content if run.encode is None else run.encode(content)
                head = run.head
                if (
                    len(data) == run.size + len(written)
                    and data.startswith(head)
                    and data.endswith(run.tail)
                    and data.startswith(written, len(head))
                ):
                    run.lengths.append(len(content))
                    return
            run = self.run = _start(data, content, "content" if delta is not None else "text")
            if run is not None:
                run.lengths.append(len(content))
                self.kept.append(run)
                return
        # Usage and other events without content, or content written in another way.
        self.kept.append(data)
        self.run = None

    def chunks(self) -> list[CompletionChunk]:
        """Every chunk delivered so far, parsed again from the text that arrived."""
        parse = CompletionChunk.model_validate_json
        if self.text is None:
            return [parse(data) for data in self.texts]
        answer = self.text()
        out: list[CompletionChunk] = []
        at = 0
        for entry in self.kept:
            if isinstance(entry, str):
                chunk = parse(entry)
                out.append(chunk)
                at += len(chunk.choices[0].content) if chunk.choices else 0
                continue
            for length in entry.lengths:
                out.append(parse(entry.text(answer[at : at + length])))
                at += length
        return out


def _start(data: str, content: str, key: str) -> _Run | None:
    """A run starting with ``data``, found around its ``key``'s value ``content``; ``None``
    when ``data`` does not hold it written in any of the ways a run reads."""
    for encode in _ENCODINGS:
        written = f'"{content}"' if encode is None else encode(content)
        # Compact JSON, or json.dumps's default separators.
        for name in (f'"{key}":', f'"{key}": '):
            at = data.find(name + written)
            if at >= 0:
                start = at + len(name)
                if encode is None:  # the quotes belong to the ends
                    return _Run(data[: start + 1], data[start + len(written) - 1 :], None)
                return _Run(data[:start], data[start + len(written) :], encode)
    return None
