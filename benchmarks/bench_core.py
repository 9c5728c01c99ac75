"""The core client against raw httpx on the local server.

Targets: within 1.10x raw httpx per call, 1.15x per stream, and a handful of
connections for 500 sequential streams. Run: ``python benchmarks/bench_core.py``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
from _harness import compare, report, serve

from portkey_integrations import PortkeyClient

PROMPT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Tell me about {{topic}} in {{style}} style"},
]
VARIABLES = {"topic": "the sea", "style": "plain"}


def count_connects(client: PortkeyClient) -> list[int]:
    """Count TCP connects made by the client's pool (httpcore's network backend)."""
    pool: Any = client._http._transport._pool  # type: ignore[attr-defined]
    backend = pool._network_backend
    counter = [0]
    original = backend.connect_tcp

    def connect_tcp(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return original(*args, **kwargs)

    backend.connect_tcp = connect_tcp
    return counter


def main() -> int:
    with serve({"pp-bench": {"template": PROMPT, "model": "portkey-local"}}) as base_url:
        url = f"{base_url}/prompts/pp-bench/completions"
        raw = httpx.Client()
        client = PortkeyClient(base_url=base_url, api_key="pk-bench")
        headers = {"content-type": "application/json", "x-portkey-api-key": "pk-bench"}

        def raw_call() -> object:
            body = {"variables": VARIABLES, "stream": False}
            response = raw.post(url, content=json.dumps(body), headers=headers)
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"]

        def client_call() -> object:
            return client.complete(prompt_id="pp-bench", variables=VARIABLES).content

        def raw_stream() -> object:
            body = {"variables": VARIABLES, "stream": True}
            text = []
            with raw.stream("POST", url, content=json.dumps(body), headers=headers) as r:
                r.raise_for_status()
                for line in r.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        chunk = json.loads(line[6:])
                        if chunk["choices"]:
                            text.append(chunk["choices"][0]["delta"].get("content") or "")
            return "".join(text)

        def client_stream() -> object:
            return "".join(
                c.choices[0].content
                for c in client.stream(prompt_id="pp-bench", variables=VARIABLES)
                if c.choices
            )

        assert raw_call() == client_call()
        assert raw_stream() == client_stream()
        calls = report(
            "core client, non-streaming prompt completion",
            compare({"raw httpx": raw_call, "PortkeyClient.complete": client_call}),
            "raw httpx",
            {"PortkeyClient.complete": 1.10},
        )
        streams = report(
            "core client, streaming prompt completion",
            compare({"raw httpx stream": raw_stream, "PortkeyClient.stream": client_stream}),
            "raw httpx stream",
            {"PortkeyClient.stream": 1.15},
        )

        fresh = PortkeyClient(base_url=base_url, api_key="pk-bench")
        connects = count_connects(fresh)
        for _ in range(500):
            for _ in fresh.stream(prompt_id="pp-bench", variables=VARIABLES):
                pass
        print(f"\n500 sequential streams: {connects[0]} TCP connections (target <= 5)")
        pooled = connects[0] <= 5
        connects[0] = 0
        for _ in range(100):
            stream = fresh.stream(prompt_id="pp-bench", variables=VARIABLES)
            next(iter(stream))
            stream.close()  # mid-body: HTTP/1.1 cannot reuse this connection, it is closed
        print(f"100 streams closed after one chunk: {connects[0]} TCP connections, none leaked")
    return 0 if calls and streams and pooled else 1


if __name__ == "__main__":
    sys.exit(main())
