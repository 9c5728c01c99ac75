"""Portkey's ``POST /embeddings``: the request builder, the response models with base64
decoding, and the batching both framework adapters share.

A request is built once (:func:`embeddings_request`) and parsed once
(:func:`parse_embeddings`); :func:`embed_texts` and :func:`aembed_texts` split a list of
texts into batches and differ only in how the batches are sent: one after the other, or
concurrently up to a bound.
"""

from __future__ import annotations

import array
import asyncio
import base64
import binascii
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._base_client import BaseClient, parse_model
from .._errors import APIStatusError, PortkeyConfigError
from .._options import RequestOptions
from .._response import Usage, _Wire, _WithInfo

if TYPE_CHECKING:
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "MAX_INPUTS",
    "Embedding",
    "EmbeddingFields",
    "EmbeddingResponse",
    "EncodingFormat",
    "aembed_texts",
    "decode_base64_embedding",
    "embed_texts",
    "embeddings_request",
    "parse_embeddings",
]

DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
MAX_INPUTS = 2048
"""The most inputs one ``/embeddings`` request may carry (OpenAI's and Portkey's limit)."""

EncodingFormat = Literal["float", "base64"]
_FORMATS = ("float", "base64")


def decode_base64_embedding(data: str) -> list[float]:
    """A base64 embedding (little-endian float32, as OpenAI sends it) as floats."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"embedding is not valid base64: {exc}") from None
    if len(raw) % 4:
        raise ValueError(f"base64 embedding has {len(raw)} bytes, not a multiple of 4")
    values = array.array("f")
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


class Embedding(_Wire):
    """One ``embedding`` object; a base64 ``embedding`` is decoded to floats."""

    index: int = 0
    object: str = "embedding"
    embedding: list[float]

    @field_validator("embedding", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        return decode_base64_embedding(value) if isinstance(value, str) else value


class EmbeddingResponse(_WithInfo):
    """The ``list`` answer of ``/embeddings``, its ``data`` ordered by ``index``."""

    object: str = "list"
    model: str | None = None
    data: list[Embedding] = []
    usage: Usage | None = None

    @model_validator(mode="after")
    def _order(self) -> EmbeddingResponse:
        # Providers may answer out of order; callers pair vectors with inputs by position.
        self.data.sort(key=lambda item: item.index)
        return self

    @property
    def vectors(self) -> list[list[float]]:
        """The embeddings, in input order."""
        return [item.embedding for item in self.data]


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise PortkeyConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise PortkeyConfigError(f"{name} must be at most {high}, got {value!r}")


def _check_input(input: Any) -> str | list[str]:
    if isinstance(input, str):
        return input
    if not isinstance(input, Sequence) or isinstance(input, (bytes, bytearray)):
        raise PortkeyConfigError(
            f"embedding input must be a string or a list of strings, got {type(input).__name__}"
        )
    texts = list(input)
    if not texts:
        raise PortkeyConfigError("embedding input must not be an empty list")
    if len(texts) > MAX_INPUTS:
        raise PortkeyConfigError(
            f"one embeddings request takes at most {MAX_INPUTS} inputs, got {len(texts)}: "
            "split them into batches"
        )
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise PortkeyConfigError(
                f"embedding input {position} must be a string, got {type(text).__name__}"
            )
    return texts


def embeddings_request(
    client: BaseClient,
    stream: bool,
    /,
    input: str | Sequence[str],
    *,
    model: str,
    dimensions: int | None = None,
    encoding_format: EncodingFormat | None = None,
    user: str | None = None,
    options: RequestOptions | None = None,
    **params: Any,
) -> httpx.Request:
    """Embed a text or a list of texts (``/embeddings``) with ``model``.

    ``dimensions`` shortens the vectors (models that support it); ``encoding_format``
    ``"base64"`` makes the answer smaller on the wire and is decoded to floats;
    every other keyword goes at the body's root; ``options`` override the client's
    routing headers for this call.
    """
    if not isinstance(model, str) or not model:
        raise PortkeyConfigError("an embeddings request needs a model name")
    body: dict[str, Any] = {**params, "model": model, "input": _check_input(input)}
    if dimensions is not None:
        _check_int("dimensions", dimensions, 1)
        body["dimensions"] = dimensions
    if encoding_format is not None:
        if encoding_format not in _FORMATS:
            raise PortkeyConfigError(
                f"encoding_format must be 'float' or 'base64', got {encoding_format!r}"
            )
        body["encoding_format"] = encoding_format
    if user is not None:
        body["user"] = user
    return client._request("POST", "/embeddings", body, options, False)


def parse_embeddings(response: httpx.Response) -> EmbeddingResponse:
    """The :class:`EmbeddingResponse` of a ``/embeddings`` answer, with its Portkey
    response headers (``.portkey.trace_id``)."""
    result = parse_model(response, EmbeddingResponse)
    result._info = BaseClient._info(response)
    return result


# --- batching ----------------------------------------------------------------------


def _batches(
    client: BaseClient, texts: Sequence[str], batch_size: int, kwargs: Mapping[str, Any]
) -> list[tuple[httpx.Request, int]]:
    _check_int("batch size", batch_size, 1, MAX_INPUTS)
    if isinstance(texts, str):
        raise PortkeyConfigError("texts must be a list of strings, not one string")
    chunks = [list(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    # Every request is built (and checked) before the first is sent.
    return [(embeddings_request(client, False, chunk, **kwargs), len(chunk)) for chunk in chunks]


def _join(responses: Sequence[EmbeddingResponse], sizes: Sequence[int]) -> list[list[float]]:
    vectors: list[list[float]] = []
    for response, size in zip(responses, sizes, strict=True):
        if len(response.data) != size:
            info = response.portkey
            raise APIStatusError(
                f"the embeddings response has {len(response.data)} vectors for {size} inputs",
                status_code=info.status_code,
                trace_id=info.trace_id,
            )
        vectors.extend(response.vectors)
    return vectors


def embed_texts(
    client: PortkeyClient, texts: Sequence[str], *, batch_size: int, **kwargs: Any
) -> list[list[float]]:
    """Embed ``texts`` in batches of at most ``batch_size``, one request after the other;
    the vectors come back in the order of the texts. ``kwargs`` as
    :func:`embeddings_request`."""
    batches = _batches(client, texts, batch_size, kwargs)
    responses = [client._fetch(request, parse_embeddings) for request, _ in batches]
    return _join(responses, [size for _, size in batches])


async def aembed_texts(
    client: AsyncPortkeyClient,
    texts: Sequence[str],
    *,
    batch_size: int,
    max_concurrency: int = 4,
    **kwargs: Any,
) -> list[list[float]]:
    """Async :func:`embed_texts`: at most ``max_concurrency`` batches in flight at once."""
    _check_int("max_concurrency", max_concurrency, 1)
    batches = _batches(client, texts, batch_size, kwargs)
    limit = asyncio.Semaphore(max_concurrency)

    async def send(request: httpx.Request) -> EmbeddingResponse:
        async with limit:
            return await client._fetch(request, parse_embeddings)

    tasks = [asyncio.ensure_future(send(request)) for request, _ in batches]
    try:
        responses = await asyncio.gather(*tasks)
    except BaseException:
        # One failed batch fails the call: stop the others instead of leaving them running.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return _join(responses, [size for _, size in batches])


# --- the fields both adapters share ------------------------------------------------

_RESERVED = frozenset({"input", "options"})


class EmbeddingFields(BaseModel):
    """The options of both embedding classes beside the connection and routing ones.

    Mixed in before :class:`~.._adapters.settings.PortkeyClientSettings`; the adapters add the
    model name under their framework's name for it (``model`` in LangChain,
    ``model_name`` in LlamaIndex) and the batch size.
    """

    model_config = ConfigDict(protected_namespaces=())

    dimensions: int | None = Field(default=None, ge=1)
    """Length of the vectors, for models that can shorten them."""
    encoding_format: EncodingFormat = "float"
    """How vectors travel: ``"float"`` or ``"base64"`` (smaller; decoded transparently)."""
    user: str | None = None
    """An end-user id sent with every request."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Any other body parameter, sent at the request body's root."""

    if TYPE_CHECKING:
        # Provided by PortkeyClientSettings, which every subclass also derives from.
        @property
        def client(self) -> PortkeyClient: ...

        @property
        def async_client(self) -> AsyncPortkeyClient: ...

    def _embedding_kwargs(self, model: str) -> dict[str, Any]:
        reserved = _RESERVED & set(self.model_kwargs)
        if reserved:
            raise PortkeyConfigError(
                f"model_kwargs must not set {', '.join(sorted(reserved))}: pass texts to the "
                "embed methods and routing options as fields"
            )
        kwargs = {**self.model_kwargs, "model": model, "encoding_format": self.encoding_format}
        # An unset field leaves a value given in model_kwargs alone.
        if self.dimensions is not None:
            kwargs["dimensions"] = self.dimensions
        if self.user is not None:
            kwargs["user"] = self.user
        return kwargs

    def _embed(self, texts: Sequence[str], model: str, batch_size: int) -> list[list[float]]:
        if not texts:
            return []
        kwargs = self._embedding_kwargs(model)
        return embed_texts(self.client, texts, batch_size=batch_size, **kwargs)

    async def _aembed(
        self, texts: Sequence[str], model: str, batch_size: int, max_concurrency: int
    ) -> list[list[float]]:
        if not texts:
            return []
        return await aembed_texts(
            self.async_client,
            texts,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            **self._embedding_kwargs(model),
        )
