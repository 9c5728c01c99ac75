"""Peak extra memory while streaming a 5 MB answer, as a multiple of the answer size.

A small Starlette server (``benchmarks._servers big``, in its own process) streams the
answer as 1000-character OpenAI chat chunks. The consumer keeps nothing but a running
length, so the peak (``tracemalloc``, client process, after one untraced warm-up
stream) is what the client itself holds. Target: at most 3x the answer.
Run alone: ``python -m benchmarks.bench_memory``.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from ._harness import Row, Server, Settings, serve

Consumer = Callable[[], int]


def _count(texts: Iterable[str]) -> int:
    return sum(len(text) for text in texts)


def _consumers(url: str) -> dict[str, dict[str, Consumer]]:
    from langchain_core.messages import HumanMessage
    from llama_index.core.llms import ChatMessage

    from portkey_integrations import PortkeyClient
    from portkey_integrations.langchain import PortkeyChatModel as LangChainModel
    from portkey_integrations.llama_index import PortkeyChatModel as LlamaModel

    from ._floors import FloorChatModel, FloorLlamaLLM

    raw = httpx.Client()
    body = json.dumps({"model": "big", "messages": [{"role": "user", "content": "go"}]})
    body = body[:-1] + ', "stream": true}'

    def raw_stream() -> int:
        total = 0
        with raw.stream("POST", f"{url}/chat/completions", content=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    choices = json.loads(line[6:])["choices"]
                    total += len(choices[0]["delta"].get("content") or "") if choices else 0
        return total

    client = PortkeyClient(base_url=url, api_key="pk-bench")
    messages = [{"role": "user", "content": "go"}]

    def core_stream() -> int:
        with client.stream(model="big", messages=messages) as chunks:
            return _count(c.choices[0].content or "" for c in chunks if c.choices)

    options: dict[str, Any] = {"model": "big", "base_url": url, "api_key": "pk-bench"}
    lc, lc_floor = LangChainModel(**options), FloorChatModel(base_url=url, model_name="big")
    li, li_floor = LlamaModel(**options), FloorLlamaLLM(base_url=url, model_name="big")
    lc_input = [HumanMessage("go")]
    li_input = [ChatMessage(role="user", content="go")]

    def lc_stream(model: Any) -> Consumer:
        return lambda: _count(chunk.text for chunk in model.stream(lc_input))

    def li_stream(model: Any) -> Consumer:
        return lambda: _count(response.delta or "" for response in model.stream_chat(li_input))

    return {
        "PortkeyClient.stream": {"ours": core_stream, "peer": raw_stream},
        "langchain PortkeyChatModel.stream": {"ours": lc_stream(lc), "peer": lc_stream(lc_floor)},
        "llama-index PortkeyChatModel.stream_chat": {
            "ours": li_stream(li),
            "peer": li_stream(li_floor),
        },
    }


def _peak(consume: Consumer) -> tuple[int, int]:
    """(characters received, peak traced bytes above the start)."""
    consume()  # untraced warm-up: imports, pools, caches
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        received = consume()
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    return received, peak


def memory_rows(server: Server, names: list[str] | None = None) -> list[Row]:
    """One row per consumer: peak / answer size, against raw httpx or the floor."""
    rows = []
    for name, sides in _consumers(server.base_url).items():
        if names is not None and name not in names:
            continue
        size, ours = _peak(sides["ours"])
        peer_size, theirs = _peak(sides["peer"])
        assert size == peer_size > 0, (name, size, peer_size)
        core = name.startswith("PortkeyClient")
        peer_name = "raw httpx" if core else "floor"
        rows.append(
            Row(
                "memory",
                f"{name}, {size / 1e6:.1f} MB answer",
                ours / size,
                theirs / size,
                peer_name,
                "x answer",
                # The core holds at most 3x the answer; an adapter no more than its
                # floor, which holds what the framework itself keeps.
                target=3.0 if core else 1.05,
                target_on_ours=core,
                note="tracemalloc peak in the client process",
            )
        )
    return rows


def run(settings: Settings) -> list[Row]:
    """Every memory row (quick: the core client on a 1 MB answer)."""
    megabytes = "1" if settings.quick else "5"
    with serve("big", "--mb", megabytes) as server:
        return memory_rows(server, ["PortkeyClient.stream"] if settings.quick else None)


if __name__ == "__main__":
    from ._harness import table_lines

    print("\n".join(table_lines(run(Settings()))))
