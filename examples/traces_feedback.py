"""One Portkey trace per run, and feedback sent on it.

A chain that calls a Portkey prompt twice (a joke, then a rating of it) makes one
Portkey trace: both requests carry the run's trace id, each with its own span. The
trace id is in every answer's ``response_metadata``; feedback on the run goes to it.

With ``PORTKEY_API_KEY`` set this calls Portkey (use your own prompt ids); without a key
or base URL it opts into the embedded local Portkey-compatible server, says so, and
prints the feedback the server stored.

Run: ``python examples/traces_feedback.py``
"""

from __future__ import annotations

import os
import sys

import httpx
from langchain_core.runnables import RunnableLambda

from portkey_integrations import PortkeyClient
from portkey_integrations.langchain import PortkeyChatModel

OFFLINE = not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL")
if OFFLINE:
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")


def main() -> int:
    model = PortkeyChatModel(prompt_id=os.environ.get("PORTKEY_PROMPT_ID", "pp-joke"))
    trace_ids: list[str] = []

    def remember(message: object) -> object:
        trace_ids.append(message.response_metadata["portkey_trace_id"])  # type: ignore[attr-defined]
        return message

    joke = model | RunnableLambda(remember)
    chain = (
        joke
        | RunnableLambda(
            lambda message: {"adjective": "honest", "topic": f"this joke: {message.content}"}
        )
        | joke
    )
    answer = chain.invoke({"adjective": "dry", "topic": "owls"})
    print("answer:", answer.content)
    print("trace ids of the two calls:", trace_ids)
    if len(set(trace_ids)) != 1:
        print("the two calls did not share one trace", file=sys.stderr)
        return 1

    client = PortkeyClient()
    sent = client.feedback.create(trace_id=trace_ids[0], value=8, weight=1.0)
    print("feedback sent:", sent.status, sent.feedback_ids)
    if OFFLINE:
        # The local server keeps what it was sent, for tests: read it back.
        stored = httpx.get(client.base_url.removesuffix("/v1") + "/_local/feedback").json()
        for item in stored["feedback"]:
            print(f"stored: trace {item['trace_id']} value {item['value']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
