"""``POST /v1/embeddings``: deterministic offline vectors, or the upstream's.

The offline vectors are feature hashing: every lower-cased word and every character
trigram of a word adds a signed weight to the slot a stable hash (blake2b) picks, then
the vector is L2-normalized. The same text always gives the same vector, on every
machine and run, and texts that share words (or word stems) point in closer
directions than unrelated ones, so a vector index over them retrieves sensibly.
"""

from __future__ import annotations

import array
import base64
import functools
import hashlib
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

from starlette.types import ASGIApp

from .pipeline import Incoming, Target
from .responses import json_out
from .validation import ModelError

__all__ = [
    "DEFAULT_DIMENSIONS",
    "EMBEDDINGS",
    "MAX_DIMENSIONS",
    "ROUTE",
    "embed_text",
    "embeddings_endpoint",
    "embeddings_response",
]

ROUTE = "embeddings"
"""The route name faults know this route by."""
EMBEDDINGS = Target(route=ROUTE)
"""What the pipeline knows of ``POST /v1/embeddings``."""
DEFAULT_DIMENSIONS = 256
MAX_DIMENSIONS = 8192
_MAX_INPUTS = 2048
_WORD = re.compile(r"\w+")
_TRIGRAMS_WEIGHT = 1.0
# Words that carry little meaning: they still count, but only a little, so "how" and
# "the" do not make unrelated sentences look alike.
_STOP_TEXT = (
    "a an and are as at be by for from has have how in is it its of on or that the "
    "this to was were what when where which who why will with does do did not no "
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_STOP_WEIGHT = 0.1


@functools.lru_cache(maxsize=1 << 16)
def _slot(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8, person=b"pk-local-emb").digest()
    value = int.from_bytes(digest, "little")
    # Signed hashing: collisions cancel out on average instead of adding up.
    return value % dimensions, (1.0 if value >> 63 else -1.0)


def _features(words: list[str]) -> Iterator[tuple[str, float]]:
    for word in words:
        if word in _STOP_WORDS:
            yield "w:" + word, _STOP_WEIGHT
            continue
        yield "w:" + word, 1.0
        padded = f"<{word}>"
        grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
        for gram in grams:
            yield "c:" + gram, _TRIGRAMS_WEIGHT / math.sqrt(len(grams))


def _words(text: str | list[int]) -> list[str]:
    if isinstance(text, str):
        return _WORD.findall(text.lower())
    return [f"#{token}" for token in text]


def embed_text(text: str | list[int], dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The offline vector of a text (or of a list of token ids): unit length."""
    vector = [0.0] * dimensions
    words = _words(text)
    features = _features(words) if words else iter([("<empty>", 1.0)])
    for feature, weight in features:
        index, sign = _slot(feature, dimensions)
        vector[index] += sign * weight
    norm = math.sqrt(math.fsum(v * v for v in vector))
    if norm == 0.0:  # every feature cancelled out: fall back to one fixed direction
        index, sign = _slot("<empty>", dimensions)
        vector[index], norm = sign, 1.0
    return [v / norm for v in vector]


def _encode_base64(vector: list[float]) -> str:
    values = array.array("f", vector)
    if sys.byteorder == "big":
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _inputs(value: Any) -> list[str | list[int]]:
    """The texts of ``input``: a string, strings, token ids or lists of token ids."""

    def tokens(item: Any) -> bool:
        return isinstance(item, list) and all(
            isinstance(t, int) and not isinstance(t, bool) for t in item
        )

    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and 0 < len(value) <= _MAX_INPUTS:
        if all(isinstance(item, str) for item in value):
            return list(value)
        if tokens(value):
            return [value]
        if all(tokens(item) and item for item in value):
            return list(value)
    raise ModelError(
        "Invalid value for 'input': expected a string, a list of 1 to "
        f"{_MAX_INPUTS} strings, or token ids.",
        "input",
    )


def embeddings_response(body: dict[str, Any]) -> dict[str, Any]:
    """The offline answer to an embeddings request body (raises :class:`ModelError`)."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ModelError("Missing or invalid 'model': expected a model name.", "model")
    texts = _inputs(body.get("input"))
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if dimensions is None:
        dimensions = DEFAULT_DIMENSIONS
    if (
        isinstance(dimensions, bool)
        or not isinstance(dimensions, int)
        or not 1 <= dimensions <= MAX_DIMENSIONS
    ):
        raise ModelError(
            f"Invalid value for 'dimensions': expected an integer from 1 to {MAX_DIMENSIONS}, "
            f"got {dimensions!r}.",
            "dimensions",
        )
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise ModelError(
            f"Invalid value for 'encoding_format': expected 'float' or 'base64', got {encoding!r}.",
            "encoding_format",
        )
    data = []
    tokens = 0
    for index, text in enumerate(texts):
        vector = embed_text(text, dimensions)
        tokens += max(1, len(_words(text)))
        embedding: Any = _encode_base64(vector) if encoding == "base64" else vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


async def embeddings_endpoint(incoming: Incoming) -> ASGIApp:
    """Serve ``POST /v1/embeddings`` after the pipeline (logged, authorized, routed, open to
    faults as route ``"embeddings"``): offline vectors, or the upstream's in upstream mode."""
    state, body, headers, fault = (
        incoming.state,
        incoming.body,
        incoming.reply_headers,
        incoming.fault,
    )
    if state.upstream is not None:
        return await state.upstream.forward("/embeddings", body, incoming.headers, headers, fault)
    try:
        result = embeddings_response(body)
    except ModelError as exc:
        return json_out(exc.status, exc.body(), headers)
    return json_out(200, result, headers, fault)
