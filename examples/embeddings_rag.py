"""Retrieval over Portkey embeddings, answered by a Portkey prompt.

``PortkeyEmbedding`` embeds the documents and the question through Portkey's
``/embeddings``; a LlamaIndex ``VectorStoreIndex`` picks the closest document and
``PortkeyChatModel(prompt_id="pp-rag-qa")`` answers from it (the prompt's
``{{context_str}}`` and ``{{query_str}}`` receive the retrieved text and the question).

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server, whose offline vectors are
deterministic feature hashes (texts sharing words come out close). With a key, set
``PORTKEY_PROVIDER`` (or a virtual key / config) so Portkey can route the embeddings,
and ``PORTKEY_EMBEDDING_MODEL`` / ``PORTKEY_PROMPT_ID`` to your own.

    python examples/embeddings_rag.py
"""

from __future__ import annotations

import os
import sys

from llama_index.core import Document, VectorStoreIndex

from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.llama_index.embedding import PortkeyEmbedding

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local server explicitly; the package never falls back to it.
    os.environ["PORTKEY_BASE_URL"] = "local"
    # Embeddings go through Portkey's gateway route, which needs routing: with a key, set
    # PORTKEY_PROVIDER (or a virtual key or config) to your own.
    os.environ.setdefault("PORTKEY_PROVIDER", "openai")
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

DOCUMENTS = {
    "cache.md": "Zephyr's in-memory cache keeps entries for ten minutes unless ZEPHYR_TTL is set.",
    "release.md": "Zephyr 2.0 shipped on 3 March and replaced the disk cache with memory.",
    "billing.md": "Invoices are emailed on the first working day of every month.",
    "team.md": "The platform team meets on Thursdays to plan the next sprint.",
}
QUESTION = "How long does the cache keep entries?"


def main() -> int:
    embed_model = PortkeyEmbedding(
        model=os.environ.get("PORTKEY_EMBEDDING_MODEL", "text-embedding-3-small"),
        portkey_metadata={"_user": "example"},
    )
    documents = [Document(text=text, metadata={"source": name}) for name, text in DOCUMENTS.items()]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
    llm = PortkeyChatModel(prompt_id=os.environ.get("PORTKEY_PROMPT_ID", "pp-rag-qa"))
    engine = index.as_query_engine(llm=llm, similarity_top_k=1)

    response = engine.query(QUESTION)
    if not response.source_nodes or not str(response).strip():
        print("no source was retrieved or the answer is empty", file=sys.stderr)
        return 1
    top = response.source_nodes[0]
    print(f"Question: {QUESTION}")
    source, text = top.node.metadata["source"], top.node.get_content()
    print(f"Retrieved: {source} (score {top.score:.2f}): {text}")
    print(f"Answer: {response}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
