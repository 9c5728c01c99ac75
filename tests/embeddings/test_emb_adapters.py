"""What both embedding classes do alike: routing headers, batching, base64, dimensions,
retries, typed errors and secrets, each case run on the LangChain and the LlamaIndex class."""

from __future__ import annotations

import json
import pickle
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.load import dumps

from portkey_integrations import BadRequestError, InternalServerError, PortkeyConfigError
from portkey_integrations._adapters.settings import PortkeyClientSettings
from portkey_integrations.langchain.embeddings import PortkeyEmbeddings
from portkey_integrations.llama_index.embedding import PortkeyEmbedding
from portkey_integrations.server import Fault, LocalPortkeyServer

from .conftest import PROVIDER_SECRET, SECRET, embedding_requests

TEXTS = ["one apple", "two pears", "three plums", "four figs", "five limes"]


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


@dataclass(frozen=True)
class Adapter:
    """One embedding class and its framework's names for the same operations."""

    cls: type[PortkeyClientSettings]
    batch_field: str
    documents: Callable[[Any, list[str]], list[list[float]]]
    adocuments: Callable[[Any, list[str]], Awaitable[list[list[float]]]]
    query: Callable[[Any, str], list[float]]


ADAPTERS = [
    Adapter(
        PortkeyEmbeddings,
        "chunk_size",
        lambda m, t: m.embed_documents(t),
        lambda m, t: m.aembed_documents(t),
        lambda m, t: m.embed_query(t),
    ),
    Adapter(
        PortkeyEmbedding,
        "embed_batch_size",
        lambda m, t: m.get_text_embedding_batch(t),
        lambda m, t: m.aget_text_embedding_batch(t),
        lambda m, t: m.get_query_embedding(t),
    ),
]


@pytest.fixture(params=ADAPTERS, ids=["langchain", "llama_index"])
def adapter(request: pytest.FixtureRequest) -> Adapter:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make(adapter: Adapter, server: LocalPortkeyServer) -> Callable[..., Any]:
    def build(**kwargs: Any) -> Any:
        return adapter.cls(base_url=server.base_url, api_key=SECRET, **kwargs)

    return build


def test_routing_options_reach_the_server_as_headers(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    model = make(
        model="emb-model",
        provider="openai",
        provider_api_key=PROVIDER_SECRET,
        virtual_key="vk-emb",
        config={"retry": {"attempts": 2}},
        trace_id="tr-emb",
        portkey_metadata={"team": "search"},
        cache_force_refresh=True,
        cache_namespace="ns-emb",
        default_headers={"x-extra": "1"},
    )
    adapter.query(model, "hello")
    (request,) = server.requests
    assert request.path == "/v1/embeddings"
    assert request.body == {"model": "emb-model", "input": ["hello"], "encoding_format": "float"}
    expected = {
        "x-portkey-api-key": SECRET,
        "x-portkey-provider": "openai",
        "authorization": f"Bearer {PROVIDER_SECRET}",
        "x-portkey-virtual-key": "vk-emb",
        "x-portkey-config": '{"retry":{"attempts":2}}',
        "x-portkey-trace-id": "tr-emb",
        "x-portkey-metadata": '{"team":"search"}',
        "x-portkey-cache-force-refresh": "true",
        "x-portkey-cache-namespace": "ns-emb",
        "x-extra": "1",
    }
    assert {name: request.headers.get(name) for name in expected} == expected


def test_batches_of_two_over_five_texts_are_three_requests_in_order(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    vectors = adapter.documents(make(**{adapter.batch_field: 2}), TEXTS)
    assert [body["input"] for body in embedding_requests(server)] == [
        TEXTS[0:2],
        TEXTS[2:4],
        TEXTS[4:5],
    ]
    singles = [adapter.query(make(), text) for text in TEXTS]
    assert vectors == singles


async def test_async_batches_keep_the_order_too(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    vectors = await adapter.adocuments(make(**{adapter.batch_field: 2}), TEXTS)
    inputs = sorted(tuple(body["input"]) for body in embedding_requests(server))
    assert inputs == sorted([tuple(TEXTS[0:2]), tuple(TEXTS[2:4]), tuple(TEXTS[4:5])])
    assert vectors == adapter.documents(make(), TEXTS)


def test_base64_answers_decode_to_the_float_answers(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    floats = adapter.documents(make(dimensions=24), TEXTS[:3])
    packed = adapter.documents(make(dimensions=24, encoding_format="base64"), TEXTS[:3])
    assert embedding_requests(server)[1]["encoding_format"] == "base64"
    assert all(isinstance(v, float) for vector in packed for v in vector)
    # base64 carries float32: exactly the float answer rounded to float32.
    assert [len(v) for v in packed] == [24, 24, 24]
    assert packed == [[_float32(x) for x in vector] for vector in floats]


def test_dimensions_are_sent_and_honoured(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    assert len(adapter.query(make(dimensions=12), "short")) == 12
    assert len(adapter.query(make(), "default")) == 256
    first, second = embedding_requests(server)
    assert first["dimensions"] == 12 and "dimensions" not in second


def test_a_one_shot_503_is_retried(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    server.add_fault(Fault(kind="status", status=503))
    assert len(adapter.query(make(), "retry me")) == 256
    assert len(embedding_requests(server)) == 2


async def test_errors_are_the_core_typed_errors(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    server.add_fault(Fault(kind="status", status=503))
    with pytest.raises(InternalServerError) as caught:
        await adapter.adocuments(make(max_retries=0), ["x"])
    assert caught.value.status_code == 503
    with pytest.raises(BadRequestError, match="dimensions"):
        adapter.query(make(model_kwargs={"dimensions": 99_999}), "too wide")


def test_bad_settings_fail_before_any_request(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    with pytest.raises(PortkeyConfigError, match="must not set input"):
        adapter.query(make(model_kwargs={"input": "sneaky"}), "x")
    with pytest.raises(PortkeyConfigError, match="did you mean 'dimensions'"):
        make(dimension=8)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        make(dimensions=0)
    assert server.requests == []


def test_unknown_keywords_are_sent_at_the_body_root(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    with pytest.warns(UserWarning, match="moved to model_kwargs"):
        model = make(input_type="search_document")
    adapter.query(model, "x")
    assert embedding_requests(server)[0]["input_type"] == "search_document"


def test_secrets_never_show(adapter: Adapter, make: Callable[..., Any]) -> None:
    model = make(provider_api_key=PROVIDER_SECRET, virtual_key="vk-secret-42")
    shown = [
        repr(model),
        str(model),
        str(model.model_dump()),
        model.model_dump_json(),
        dumps(model),
        str(pickle.loads(pickle.dumps(model)).model_dump()),
    ]
    if hasattr(model, "to_json"):
        shown += [model.to_json(), json.dumps(model.to_dict())]
    for text in shown:
        for secret in (SECRET, PROVIDER_SECRET, "vk-secret-42"):
            assert secret not in text
    assert model.api_key.get_secret_value() == SECRET


def test_no_texts_means_no_request(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    assert adapter.documents(make(), []) == []
    assert server.requests == []


def test_a_pickled_model_embeds_with_clients_of_its_own(
    adapter: Adapter, make: Callable[..., Any], server: LocalPortkeyServer
) -> None:
    model = make(dimensions=8)
    original = adapter.query(model, "worker text")  # the original has built its clients
    copy = pickle.loads(pickle.dumps(model))
    assert adapter.query(copy, "worker text") == original
    assert copy.client is not model.client
    assert len(embedding_requests(server)) == 2
