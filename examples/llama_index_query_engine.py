"""A LlamaIndex query engine answering from a Portkey prompt.

The Portkey prompt (``pp-rag-qa`` by default) is a chat template written with
``{{context_str}}`` and ``{{query_str}}``: the query engine's retrieved context and the
question arrive as those variables, so the prompt lives in Portkey, versioned, and the
code never repeats it.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``), which serves ``pp-rag-qa``
and answers offline. With a key, set ``PORTKEY_PROMPT_ID`` to your own prompt.
Embeddings are LlamaIndex's ``MockEmbedding``, so nothing leaves the machine; use a
real embedding model in practice.

    python examples/llama_index_query_engine.py
"""

from __future__ import annotations

import asyncio
import os

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import AsyncStreamingResponse, Response
from llama_index.core.embeddings import MockEmbedding

from portkey_integrations.llama_index import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

DOCUMENTS = [
    "Zephyr 2.0 shipped on 3 March. It replaced the disk cache with an in-memory one.",
    "Zephyr's in-memory cache keeps entries for ten minutes unless ZEPHYR_TTL is set.",
    "Yarrow, the release before Zephyr, had no cache; every request hit the database.",
]


PROMPT_IDS = {
    "refine": os.environ.get("PORTKEY_REFINE_PROMPT_ID", "pp-refine"),
    "summary": os.environ.get("PORTKEY_SUMMARY_PROMPT_ID", "pp-summary"),
}
"""LlamaIndex template types run by Portkey prompts of their own."""


def build_engine(streaming: bool = False, response_mode: str = "compact") -> BaseQueryEngine:
    index = VectorStoreIndex.from_documents(
        [Document(text=text) for text in DOCUMENTS],
        embed_model=MockEmbedding(embed_dim=16),
    )
    llm = PortkeyChatModel(
        prompt_id=os.environ.get("PORTKEY_PROMPT_ID", "pp-rag-qa"),
        prompt_ids=PROMPT_IDS,
        portkey_metadata={"_user": "example"},
    )
    return index.as_query_engine(
        llm=llm,
        similarity_top_k=3,
        streaming=streaming,
        response_mode=response_mode,  # type: ignore[arg-type]
    )


async def main() -> None:
    engine = build_engine()
    question = "How long does Zephyr keep cache entries?"
    response = engine.query(question)
    assert isinstance(response, Response)
    print(f"Q: {question}\nA: {response}\n")
    for source in response.source_nodes:
        print(f"  source ({source.score:.2f}): {source.node.get_content()}")

    # Other response modes run LlamaIndex's refine and summary templates: map them to
    # Portkey prompts too (the local server bundles pp-refine and pp-summary).
    for mode in ("refine", "tree_summarize"):
        mapped = build_engine(response_mode=mode)
        answer_text = str(mapped.query(question))
        print(f"\n{mode}: {answer_text.splitlines()[0][:90]}")

    # Streaming, async: tokens arrive as Portkey sends them.
    streaming = build_engine(streaming=True)
    answer = await streaming.aquery("What did Yarrow lack?")
    assert isinstance(answer, AsyncStreamingResponse)
    print("\nStreamed: ", end="")
    async for token in answer.async_response_gen():
        print(token, end="", flush=True)
    print()


if __name__ == "__main__":
    asyncio.run(main())
