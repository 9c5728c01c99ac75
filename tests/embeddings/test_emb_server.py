"""The local server's /v1/embeddings: deterministic offline vectors, faults, upstream mode."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from portkey_integrations.server import Fault, LocalPortkeyServer
from portkey_integrations.server.embeddings import DEFAULT_DIMENSIONS, embed_text

from .conftest import cosine


@pytest.fixture
def http(server: LocalPortkeyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        yield client


def _embed(http: httpx.Client, input: Any, **body: Any) -> list[list[float]]:
    response = http.post("/embeddings", json={"model": "m", "input": input, **body})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [item["index"] for item in data] == list(range(len(data)))
    return [item["embedding"] for item in data]


def test_the_same_text_gives_the_same_unit_vector(http: httpx.Client) -> None:
    first, again = _embed(http, ["Cache entries expire", "Cache entries expire"])
    (later,) = _embed(http, "Cache entries expire")
    assert first == again == later
    assert len(first) == DEFAULT_DIMENSIONS
    assert math.isclose(math.fsum(v * v for v in first), 1.0)


def test_dimensions_are_honoured(http: httpx.Client) -> None:
    for dimensions in (1, 3, 64, 1536):
        (vector,) = _embed(http, "some text", dimensions=dimensions)
        assert len(vector) == dimensions
        assert math.isclose(math.fsum(v * v for v in vector), 1.0)


def test_texts_sharing_words_are_closer_than_unrelated_ones(http: httpx.Client) -> None:
    query, related, stem, unrelated = _embed(
        http,
        [
            "How long does the cache keep entries?",
            "The cache keeps entries for ten minutes.",
            "Caching of entry data",
            "Invoices are emailed on the first working day of the month.",
        ],
    )
    assert cosine(query, related) > 0.5
    assert cosine(query, related) > cosine(query, stem) > cosine(query, unrelated)
    assert abs(cosine(query, unrelated)) < 0.2


def test_base64_answers_are_the_float_answers_as_float32(http: httpx.Client) -> None:
    floats = _embed(http, ["alpha", "beta gamma"], dimensions=16)
    response = http.post(
        "/embeddings",
        json={
            "model": "m",
            "input": ["alpha", "beta gamma"],
            "dimensions": 16,
            "encoding_format": "base64",
        },
    )
    encoded = [item["embedding"] for item in response.json()["data"]]
    assert all(isinstance(item, str) for item in encoded)
    decoded = [list(struct.unpack("<16f", base64.b64decode(item))) for item in encoded]
    as_float32 = [list(struct.unpack("<16f", struct.pack("<16f", *v))) for v in floats]
    assert decoded == as_float32


def test_token_id_inputs_are_embedded(http: httpx.Client) -> None:
    one = _embed(http, [101, 102, 103])
    many = _embed(http, [[101, 102, 103], [7]])
    assert len(one) == 1 and len(many) == 2 and one[0] == many[0]


def test_the_answer_has_the_openai_list_shape(http: httpx.Client) -> None:
    response = http.post("/embeddings", json={"model": "emb-x", "input": ["one two", "three"]})
    body = response.json()
    assert body["object"] == "list" and body["model"] == "emb-x"
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert {item["object"] for item in body["data"]} == {"embedding"}
    assert response.headers["x-portkey-provider"] == "portkey-local"
    assert response.headers["x-portkey-trace-id"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": [{"text": "x"}]}, "input"),
        ({"model": "m", "input": ["x"] * 2049}, "input"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "8"}, "dimensions"),
        ({"model": "m", "input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_invalid_requests_get_an_openai_shaped_400(
    http: httpx.Client, body: dict[str, Any], param: str
) -> None:
    response = http.post("/embeddings", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_unrouted_calls_are_answered_and_every_header_is_logged(
    server: LocalPortkeyServer, http: httpx.Client
) -> None:
    assert len(_embed(http, "unrouted")) == 1
    headers = {
        "x-portkey-virtual-key": "vk-1",
        "x-portkey-config": "pc-1",
        "x-portkey-trace-id": "tr-srv",
    }
    http.post("/embeddings", json={"model": "m", "input": "routed"}, headers=headers)
    unrouted, routed = server.requests
    assert unrouted.path == routed.path == "/v1/embeddings"
    assert "x-portkey-provider" not in unrouted.headers
    assert routed.body == {"model": "m", "input": "routed"}
    for name, value in headers.items():
        assert routed.headers[name] == value


def test_a_fault_header_and_a_registered_fault_strike(
    server: LocalPortkeyServer, http: httpx.Client
) -> None:
    response = http.post(
        "/embeddings",
        json={"model": "m", "input": "x"},
        headers={"x-portkey-local-fault": "status;status=429;retry_after=1"},
    )
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    server.add_fault(Fault(kind="non_json", status=502))
    assert http.post("/embeddings", json={"model": "m", "input": "x"}).status_code == 502
    assert http.post("/embeddings", json={"model": "m", "input": "x"}).status_code == 200


def test_a_server_with_an_api_key_rejects_calls_without_it() -> None:
    with LocalPortkeyServer(api_key="pk-right", include_bundled=False) as locked:
        url = f"{locked.base_url}/embeddings"
        body = {"model": "m", "input": "x"}
        assert httpx.post(url, json=body).status_code == 401
        ok = httpx.post(
            url,
            json=body,
            headers={"x-portkey-api-key": "pk-right", "x-portkey-provider": "openai"},
        )
        assert ok.status_code == 200


def test_upstream_mode_forwards_to_the_upstream_embeddings(server: LocalPortkeyServer) -> None:
    body = {"model": "m", "input": ["forwarded"], "dimensions": 8}
    with LocalPortkeyServer(upstream=server.base_url, include_bundled=False) as gateway:
        response = httpx.post(
            f"{gateway.base_url}/embeddings",
            json=body,
            headers={"authorization": "Bearer sk-up", "x-portkey-provider": "openai"},
        )
        assert gateway.requests[0].path == "/v1/embeddings"
    assert response.status_code == 200
    assert response.headers["x-portkey-provider"] == "openai"
    (upstream,) = server.requests
    assert upstream.path == "/v1/embeddings" and upstream.body == body
    assert upstream.headers["authorization"] == "Bearer sk-up"
    assert response.json()["data"][0]["embedding"] == embed_text("forwarded", 8)


def test_empty_text_still_has_a_unit_vector() -> None:
    vector = embed_text("", 32)
    assert math.isclose(math.fsum(v * v for v in vector), 1.0)
    assert embed_text("", 32) == vector != embed_text("a", 32)
