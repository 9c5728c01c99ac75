"""The files one warm call walks through, from the public method to the wire.

``python -m benchmarks.walk`` runs a LangChain ``invoke`` and a LlamaIndex query engine on
a prompt id against the local server, and prints, for each, the package files the second
call passes through in first-visit order (``sys.setprofile``, so only Python frames).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import portkey_integrations
from portkey_integrations.server import LocalPortkeyServer

ROOT = Path(portkey_integrations.__file__).parent


def walk(call: Callable[[], object]) -> list[str]:
    """Package files ``call`` enters, in first-visit order, server code excluded."""
    seen: dict[str, None] = {}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        name = frame.f_code.co_filename
        if event == "call" and name.startswith(str(ROOT)) and "/server/" not in name:
            seen.setdefault(str(Path(name).relative_to(ROOT)), None)

    call()  # warm: caches, pools, first-model hooks
    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return list(seen)


def main() -> None:
    with LocalPortkeyServer() as server:
        server.register("pp-walk", [{"role": "user", "content": "{{input}}"}])
        qa = "Context: {{context_str}}\nQuestion: {{query_str}}"
        server.register("pp-walk-qa", [{"role": "user", "content": qa}])
        url, key = server.base_url, "pk-walk"
        runs: dict[str, Callable[[], object]] = {}
        try:
            from portkey_integrations.langchain import PortkeyChatModel as LC

            lc = LC(prompt_id="pp-walk", base_url=url, api_key=key)
            runs["LangChain PortkeyChatModel.invoke"] = lambda: lc.invoke("hello")
        except ImportError:
            pass
        try:
            from llama_index.core import Document, SummaryIndex

            from portkey_integrations.llama_index import PortkeyChatModel as LI

            li = LI(prompt_ids={"text_qa": "pp-walk-qa"}, base_url=url, api_key=key)
            engine = SummaryIndex.from_documents([Document(text="a fact")]).as_query_engine(llm=li)
            runs["LlamaIndex query engine .query"] = lambda: engine.query("what?")
        except ImportError:
            pass
        for title, run in runs.items():
            files = walk(run)
            print(f"{title}: {len(files)} files")
            for name in files:
                print(f"  {name}")


if __name__ == "__main__":
    main()
