"""/embeddings follows Portkey's routing rule like the other gateway routes."""

from __future__ import annotations

import pytest

from portkey_integrations import BadRequestError
from portkey_integrations.langchain.embeddings import PortkeyEmbeddings
from portkey_integrations.llama_index import PortkeyEmbedding
from portkey_integrations.server import LocalPortkeyServer


@pytest.mark.parametrize("cls", [PortkeyEmbeddings, PortkeyEmbedding])
def test_unrouted_embeddings_are_refused_and_routed_ones_answered(
    cls: type, portkey_local: LocalPortkeyServer
) -> None:
    bare = cls(model="text-embedding-3-small", base_url=portkey_local.base_url, max_retries=0)
    embed = bare.embed_query if cls is PortkeyEmbeddings else bare.get_query_embedding
    with pytest.raises(BadRequestError, match="x-portkey-provider header is required"):
        embed("hello")
    routed = cls(model="text-embedding-3-small", base_url=portkey_local.base_url, provider="openai")
    vector = (routed.embed_query if cls is PortkeyEmbeddings else routed.get_query_embedding)(
        "hello"
    )
    assert len(vector) == 256
    assert portkey_local.requests[-1].headers["x-portkey-provider"] == "openai"
