"""Gateway mode: a chat model with no saved prompt, routed by a Portkey config, with a
trace id and metadata on every request.

Without ``prompt_id``, ``PortkeyChatModel(model=...)`` calls Portkey's
``/chat/completions``. Portkey must know where to send it: ``provider`` (a slug such
as ``"openai"`` or an ``@integration``), a ``virtual_key``, or a ``config`` with
targets. The ``config`` here adds retries on 429 and 503 and Portkey's simple cache;
``trace_id`` groups the requests in Portkey's logs and ``portkey_metadata`` tags them.
A per-call trace id comes from ``configurable_fields``.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``), routes with
``provider="openai"``, and prints the headers the server received. With a key, set
``PORTKEY_PROVIDER`` (or ``PORTKEY_VIRTUAL_KEY``) to route, and ``PORTKEY_MODEL``.

    python examples/gateway_config.py
"""

from __future__ import annotations

import os
import sys
import uuid

from langchain_core.runnables import ConfigurableField

from portkey_integrations.langchain import PortkeyChatModel

OFFLINE = not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL")
if OFFLINE:
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

CONFIG = {
    "retry": {"attempts": 3, "on_status_codes": [429, 503]},
    "cache": {"mode": "simple", "max_age": 60},
}


def main() -> int:
    trace_id = f"example-{uuid.uuid4().hex[:8]}"
    model = PortkeyChatModel(
        model=os.environ.get("PORTKEY_MODEL", "gpt-4o-mini"),
        # Offline the local server stands in for OpenAI; with a key, PORTKEY_PROVIDER
        # or PORTKEY_VIRTUAL_KEY routes (None leaves the environment's value).
        provider="openai" if OFFLINE else None,
        config=CONFIG,
        trace_id=trace_id,
        portkey_metadata={"_user": "example-user", "feature": "gateway-example"},
        temperature=0,
    )
    reply = model.invoke("Say hello to the gateway.")
    meta = reply.response_metadata
    print(f"answer: {reply.text}")
    print(f"trace id: {meta.get('portkey_trace_id')} (sent {trace_id})")
    print(f"cache: {meta.get('portkey_cache_status')}, provider: {meta.get('portkey_provider')}")

    # One trace id per request, chosen at call time.
    per_call = model.configurable_fields(trace_id=ConfigurableField(id="trace_id"))
    other = per_call.invoke("And again.", config={"configurable": {"trace_id": trace_id + "-2"}})
    print(f"per-call trace id: {other.response_metadata.get('portkey_trace_id')}")

    if OFFLINE:
        from portkey_integrations.server import embedded_server

        received = embedded_server().last_request
        print("headers the gateway received:")
        for name, value in sorted(received.headers.items() if received else ()):
            if name.startswith("x-portkey-"):
                print(f"  {name}: {value}")
    if meta.get("portkey_trace_id") != trace_id or not reply.text:
        print("the trace id did not come back, or the answer is empty", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
