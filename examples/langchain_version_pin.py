"""An LCEL chain pinned to a prompt version, streamed token by token.

A Portkey prompt id picks its version: ``pp-joke`` runs the published version,
``pp-joke@2`` pins version 2 whatever is published later, ``pp-joke@production`` runs
the version the ``production`` label points at, ``pp-joke@latest`` the newest.
``prompt_version=2`` is the same pin as a field. The chain streams each answer as it
arrives and then says which version Portkey ran.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``), whose bundled
``pp-joke`` has a published version 1 and a version 2 labelled ``production``. With a
key, set ``PORTKEY_PROMPT_ID`` to a prompt of yours with the variables ``adjective``
and ``topic``, and ``PORTKEY_PROMPT_VERSION`` to one of its versions.

    python examples/langchain_version_pin.py
"""

from __future__ import annotations

import os
import sys

from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import RunnableLambda

from portkey_integrations.langchain import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

PROMPT_ID = os.environ.get("PORTKEY_PROMPT_ID", "pp-joke")
VERSION = os.environ.get("PORTKEY_PROMPT_VERSION", "2")


def joke_variables(topic: str) -> dict[str, str]:
    """The prompt's variables for a topic."""
    return {"adjective": "dry", "topic": topic}


def stream_one(prompt_ref: str) -> tuple[str, int]:
    """Stream the chain once on ``prompt_ref``; returns the text and the chunk count."""
    model = PortkeyChatModel(prompt_id=prompt_ref, temperature=0.7)
    # The chain turns a topic into the prompt's variables; the model's tokens stream
    # through it as they arrive.
    chain = RunnableLambda(joke_variables) | model
    text, chunks = "", 0
    print(f"{prompt_ref:>22}: ", end="")
    last: AIMessageChunk | None = None
    for chunk in chain.stream("otters"):
        last = chunk if last is None else last + chunk
        piece = chunk.text
        print(piece, end="", flush=True)
        text, chunks = text + piece, chunks + 1
    ran = last.response_metadata.get("prompt_version") if last else None
    print(f"   [version: {ran or 'published'}, {chunks} chunks]")
    return text, chunks


def main() -> int:
    published, _ = stream_one(PROMPT_ID)
    pinned, chunks = stream_one(f"{PROMPT_ID}@{VERSION}")
    stream_one(f"{PROMPT_ID}@production")

    # The same pin as a field, read back from the model.
    model = PortkeyChatModel(prompt_id=PROMPT_ID, prompt_version=int(VERSION))
    print(f"prompt_version={VERSION} runs {model.full_prompt_id}")

    if not pinned.strip() or chunks < 2:
        print("the pinned version did not stream an answer", file=sys.stderr)
        return 1
    if os.environ.get("PORTKEY_BASE_URL") == "local" and pinned == published:
        print("version 2 answered like the published version 1", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
