"""An LCEL chain that answers from a Portkey prompt.

``pp-joke`` is a saved Portkey prompt with the variables ``adjective`` and ``topic``;
the dict given to the chain is those variables. With ``PORTKEY_API_KEY`` set, this
calls Portkey (use one of your own prompt ids: ``PORTKEY_PROMPT_ID=pp-...``). Without
a key or base URL it opts into the embedded local Portkey-compatible server
(``base_url="local"``), says so, and its bundled ``pp-joke`` answers deterministically.

Run: ``python examples/langchain_chain.py``
"""

from __future__ import annotations

import os

from langchain_core.output_parsers import StrOutputParser

from portkey_integrations.langchain import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")


def main() -> None:
    prompt_id = os.environ.get("PORTKEY_PROMPT_ID", "pp-joke")
    llm = PortkeyChatModel(prompt_id=prompt_id, temperature=0.7)
    chain = llm | StrOutputParser()

    variables = {"adjective": "dry", "topic": "otters"}
    print("answer:", chain.invoke(variables))

    # The same chain, streamed: tokens print as they arrive.
    print("streamed: ", end="")
    for token in chain.stream({"adjective": "silly", "topic": "penguins"}):
        print(token, end="", flush=True)
    print()

    # Several inputs at once run concurrently.
    for answer in chain.batch([{"adjective": "short", "topic": t} for t in ("tea", "rain")]):
        print("batch:", answer)


if __name__ == "__main__":
    main()
