"""A chat with history: each turn sends the conversation so far to a Portkey prompt.

``PortkeyChatModel`` maps a list of messages onto the prompt's variables: the last
user message goes into ``input`` and the messages before it into ``chat_history``, a
list the template splices into its messages array::

    [{"role": "system", "content": "You are a helpful assistant."},
     {{#chat_history}}{{{.}}},{{/chat_history}}
     {"role": "user", "content": "{{input}}"}]

The history is a plain list kept by the program, as LangChain 1.x recommends
(``RunnableWithMessageHistory`` is deprecated there; LangGraph's checkpointers are the
other way). At the end the script renders the next turn, showing the messages Portkey
would send to the model.

Run it as it is: with neither ``PORTKEY_API_KEY`` nor ``PORTKEY_BASE_URL`` set, it opts
into the embedded local Portkey-compatible server (``base_url="local"``), whose bundled
``pp-assistant`` has that template. With a key, save the template as a Portkey chat
prompt and set ``PORTKEY_PROMPT_ID``.

    python examples/langchain_chat_history.py
"""

from __future__ import annotations

import os
import sys

from langchain_core.messages import BaseMessage, HumanMessage

from portkey_integrations.langchain import PortkeyChatModel

if not os.environ.get("PORTKEY_API_KEY") and not os.environ.get("PORTKEY_BASE_URL"):
    # Offline: opt into the local Portkey-compatible server explicitly; the package
    # never falls back to it by itself.
    os.environ["PORTKEY_BASE_URL"] = "local"
    print("PORTKEY_API_KEY is not set: running offline on the local server (base_url='local')")

TURNS = ["My name is Ann and I keep bees.", "What is a good name for a queen bee?"]


def main() -> int:
    model = PortkeyChatModel(prompt_id=os.environ.get("PORTKEY_PROMPT_ID", "pp-assistant"))
    history: list[BaseMessage] = []
    for text in TURNS:
        question = HumanMessage(text)
        reply = model.invoke([*history, question])
        history += [question, reply]
        print(f"user: {text}\nassistant: {reply.text}\n")

    # What the next turn would send: the system message, every earlier turn, the question.
    rendered = model.render([*history, HumanMessage("What is my name?")])
    messages = rendered.data.get("messages", [])
    print(f"the next turn sends {len(messages)} messages:")
    for message in messages:
        print(f"  {message['role']:>9}: {message['content']}")

    if len(messages) < len(history) + 1:
        print("the history did not reach the prompt", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
