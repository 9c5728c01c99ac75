"""The core of /embeddings: one request builder, the response models, base64, batching."""

from __future__ import annotations

import base64
import struct
from typing import Any

import httpx
import pytest

from portkey_integrations import (
    APIResponseValidationError,
    APIStatusError,
    AsyncPortkeyClient,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    PortkeyClient,
    PortkeyConfigError,
)
from portkey_integrations.resources.embeddings import (
    EmbeddingResponse,
    aembed_texts,
    decode_base64_embedding,
    embed_texts,
    embeddings_request,
    parse_embeddings,
)
from portkey_integrations.server import Fault, LocalPortkeyServer

from .conftest import SECRET, embedding_requests

TEXTS = ["alpha beta", "beta gamma", "gamma delta", "delta epsilon", "epsilon zeta"]


def _b64(*values: float) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def test_request_carries_the_documented_fields_and_the_client_headers(
    server: LocalPortkeyServer,
) -> None:
    client = PortkeyClient(base_url=server.base_url, api_key=SECRET, provider="openai")
    request = embeddings_request(
        client,
        False,
        ["a", "b"],
        model="text-embedding-3-small",
        dimensions=8,
        encoding_format="base64",
        user="u-1",
        extra_param=1,
    )
    assert request.method == "POST" and request.url.path == "/v1/embeddings"
    assert request.headers["x-portkey-api-key"] == SECRET
    assert request.headers["x-portkey-provider"] == "openai"
    result = client._fetch(request, parse_embeddings)
    assert [len(v) for v in result.vectors] == [8, 8]
    assert embedding_requests(server) == [
        {
            "extra_param": 1,
            "model": "text-embedding-3-small",
            "input": ["a", "b"],
            "dimensions": 8,
            "encoding_format": "base64",
            "user": "u-1",
        }
    ]


def test_one_string_is_sent_as_a_string(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url)
    result = client._fetch(embeddings_request(client, False, "solo", model="m"), parse_embeddings)
    assert len(result.vectors) == 1
    assert embedding_requests(server) == [{"model": "m", "input": "solo"}]


@pytest.mark.parametrize(
    ("input", "kwargs", "message"),
    [
        (5, {}, "a string or a list of strings"),
        ([], {}, "empty list"),
        (["ok", 3], {}, "input 1 must be a string"),
        (["x"] * 2049, {}, "at most 2048"),
        (["x"], {"dimensions": 0}, "dimensions must be an integer >= 1"),
        (["x"], {"dimensions": True}, "dimensions must be an integer"),
        (["x"], {"encoding_format": "hex"}, "encoding_format must be 'float' or 'base64'"),
        (["x"], {"model": ""}, "needs a model name"),
    ],
)
def test_bad_input_raises_a_typed_error_before_any_request(
    server: LocalPortkeyServer, input: Any, kwargs: dict[str, Any], message: str
) -> None:
    client = PortkeyClient(base_url=server.base_url)
    kwargs = {"model": "m", **kwargs}
    with pytest.raises(PortkeyConfigError, match=message):
        embeddings_request(client, False, input, **kwargs)
    assert server.requests == []


def test_batch_size_and_one_string_for_texts_are_rejected(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url)
    with pytest.raises(PortkeyConfigError, match="batch size must be an integer >= 1"):
        embed_texts(client, ["a"], batch_size=0, model="m")
    with pytest.raises(PortkeyConfigError, match="not one string"):
        embed_texts(client, "abc", batch_size=2, model="m")
    assert server.requests == []


def test_base64_is_little_endian_float32() -> None:
    assert decode_base64_embedding(_b64(1.5, -2.25, 0.0, 3e-3)) == [
        1.5,
        -2.25,
        0.0,
        struct.unpack("<f", struct.pack("<f", 3e-3))[0],
    ]
    with pytest.raises(ValueError, match="not valid base64"):
        decode_base64_embedding("not base64!")
    with pytest.raises(ValueError, match="multiple of 4"):
        decode_base64_embedding(base64.b64encode(b"abcdef").decode())


def test_response_is_ordered_by_index_with_usage_and_trace_id() -> None:
    body = {
        "object": "list",
        "model": "m",
        "data": [
            {"object": "embedding", "index": 1, "embedding": _b64(0.5, 0.25)},
            {"object": "embedding", "index": 0, "embedding": [1.0, 2.0]},
        ],
        "usage": {"prompt_tokens": 7, "total_tokens": 7},
    }
    response = httpx.Response(200, json=body, headers={"x-portkey-trace-id": "tr-emb"})
    result = parse_embeddings(response)
    assert isinstance(result, EmbeddingResponse)
    assert result.vectors == [[1.0, 2.0], [0.5, 0.25]]
    assert [item.index for item in result.data] == [0, 1]
    assert result.usage is not None and result.usage.prompt_tokens == 7
    assert result.portkey.trace_id == "tr-emb" and result.model == "m"


@pytest.mark.parametrize(
    "content",
    [b"<html>bad gateway</html>", b'{"data": [{"index": 0, "embedding": "!!"}]}'],
)
def test_a_body_that_is_no_embedding_list_is_a_response_validation_error(content: bytes) -> None:
    with pytest.raises(APIResponseValidationError, match="not a valid EmbeddingResponse"):
        parse_embeddings(httpx.Response(200, content=content))


def test_trace_id_comes_back_from_the_server(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url, trace_id="tr-core")
    result = client._fetch(embeddings_request(client, False, ["a"], model="m"), parse_embeddings)
    assert result.portkey.trace_id == "tr-core"
    assert result.usage is not None and result.usage.total_tokens == 1


def test_sync_and_async_batch_alike_and_keep_order(server: LocalPortkeyServer) -> None:
    import asyncio

    sync = embed_texts(PortkeyClient(base_url=server.base_url), TEXTS, batch_size=2, model="m")
    assert [body["input"] for body in embedding_requests(server)] == [
        TEXTS[0:2],
        TEXTS[2:4],
        TEXTS[4:5],
    ]
    server.clear_requests()
    client = AsyncPortkeyClient(base_url=server.base_url)
    concurrent = asyncio.run(aembed_texts(client, TEXTS, batch_size=2, model="m"))
    assert len(embedding_requests(server)) == 3
    one_by_one = embed_texts(
        PortkeyClient(base_url=server.base_url), TEXTS, batch_size=1, model="m"
    )
    assert sync == concurrent == one_by_one
    assert len({tuple(v) for v in sync}) == len(TEXTS)


class _CountingTransport(httpx.AsyncBaseTransport):
    """Counts how many requests are in flight at once."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.in_flight -= 1


async def test_async_batches_run_concurrently_up_to_the_bound(server: LocalPortkeyServer) -> None:
    # Every answer is held back, so all batches the bound admits are in flight together.
    server.add_fault(Fault(kind="slow", times=None, delay=0.2))
    transport = _CountingTransport()
    async with httpx.AsyncClient(transport=transport) as http:
        client = AsyncPortkeyClient(base_url=server.base_url, http_client=http)
        vectors = await aembed_texts(client, TEXTS, batch_size=1, max_concurrency=2, model="m")
    assert transport.most == 2
    assert len(vectors) == 5 and len(embedding_requests(server)) == 5
    server.clear_faults()
    expected = embed_texts(PortkeyClient(base_url=server.base_url), TEXTS, batch_size=5, model="m")
    assert vectors == expected


def test_a_one_shot_503_is_retried(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=503))
    vectors = embed_texts(PortkeyClient(base_url=server.base_url), ["a"], batch_size=1, model="m")
    assert len(vectors) == 1
    assert len(embedding_requests(server)) == 2


async def test_a_503_without_retries_is_an_internal_server_error(
    server: LocalPortkeyServer,
) -> None:
    server.add_fault(Fault(kind="status", status=503))
    client = AsyncPortkeyClient(base_url=server.base_url, max_retries=0)
    with pytest.raises(InternalServerError) as caught:
        await aembed_texts(client, ["a"], batch_size=1, model="m")
    assert caught.value.status_code == 503
    assert len(embedding_requests(server)) == 1


def test_server_rejections_are_typed_and_not_retried(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url)
    with pytest.raises(BadRequestError, match="dimensions"):
        embed_texts(client, ["a"], batch_size=1, model="m", dimensions=100_000)
    assert len(embedding_requests(server)) == 1
    server.add_fault(Fault(kind="status", status=401))
    with pytest.raises(AuthenticationError):
        embed_texts(client, ["a"], batch_size=1, model="m")


def test_a_response_with_too_few_vectors_is_an_error(server: LocalPortkeyServer) -> None:
    body = {"object": "list", "model": "m", "data": [{"index": 0, "embedding": [1.0]}]}
    server.add_fault(Fault(kind="status", status=200, body=body))
    with pytest.raises(APIStatusError, match="1 vectors for 2 inputs"):
        embed_texts(PortkeyClient(base_url=server.base_url), ["a", "b"], batch_size=2, model="m")
