"""The adapters against the frameworks' own OpenAI integrations, on the same local route.

Targets: ``PortkeyChatModel.invoke`` <= 0.6x ``ChatOpenAI.invoke``, ``.stream`` <= 0.4x
``ChatOpenAI.stream``; the LlamaIndex ``PortkeyChatModel.chat`` <= 0.6x llama-index's
``OpenAI.chat``. Needs the dev extra (langchain-openai, llama-index-llms-openai).
Run: ``python benchmarks/bench_frameworks.py``.
"""

from __future__ import annotations

import sys

from _harness import compare, report, serve

QUESTION = "What is the tallest mountain on the moon and why is it so tall"


def main() -> int:
    from langchain_core.messages import HumanMessage
    from langchain_openai import ChatOpenAI
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai import OpenAI

    from portkey_integrations.langchain import PortkeyChatModel as LCPortkey
    from portkey_integrations.llama_index import PortkeyChatModel as LIPortkey

    ok = True
    with serve() as url:
        lc_messages = [HumanMessage(QUESTION)]
        lc_openai = ChatOpenAI(model="portkey-local", base_url=url, api_key="sk-x", max_retries=0)
        lc_portkey = LCPortkey(model="portkey-local", base_url=url, api_key="pk-x", max_retries=0)
        assert QUESTION in lc_openai.invoke(lc_messages).text
        assert QUESTION in lc_portkey.invoke(lc_messages).text

        def drain_openai() -> object:
            return [c for c in lc_openai.stream(lc_messages)]

        def drain_portkey() -> object:
            return [c for c in lc_portkey.stream(lc_messages)]

        ok &= report(
            "LangChain chat model invoke, /chat/completions",
            compare(
                {
                    "ChatOpenAI.invoke": lambda: lc_openai.invoke(lc_messages),
                    "PortkeyChatModel.invoke": lambda: lc_portkey.invoke(lc_messages),
                },
                calls=100,
            ),
            "ChatOpenAI.invoke",
            {"PortkeyChatModel.invoke": 0.6},
        )
        ok &= report(
            "LangChain chat model stream, /chat/completions",
            compare(
                {"ChatOpenAI.stream": drain_openai, "PortkeyChatModel.stream": drain_portkey},
                calls=60,
            ),
            "ChatOpenAI.stream",
            {"PortkeyChatModel.stream": 0.4},
        )

        li_messages = [ChatMessage(role="user", content=QUESTION)]
        li_openai = OpenAI(model="gpt-4o-mini", api_base=url, api_key="sk-x", max_retries=0)
        li_portkey = LIPortkey(model="portkey-local", base_url=url, api_key="pk-x", max_retries=0)
        assert QUESTION in (li_openai.chat(li_messages).message.content or "")
        assert QUESTION in (li_portkey.chat(li_messages).message.content or "")
        ok &= report(
            "LlamaIndex chat, /chat/completions",
            compare(
                {
                    "OpenAI.chat": lambda: li_openai.chat(li_messages),
                    "PortkeyChatModel.chat": lambda: li_portkey.chat(li_messages),
                },
                calls=100,
            ),
            "OpenAI.chat",
            {"PortkeyChatModel.chat": 0.6},
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
