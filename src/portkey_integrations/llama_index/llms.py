"""The LlamaIndex text-completion model: Portkey text prompts and ``/completions``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import (
    messages_to_prompt as generic_messages_to_prompt,
)
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.output_parsers import PydanticOutputParser
from pydantic import BaseModel

from ._routing import TEMPLATE_ROUTE, TemplateRoute
from .base import PortkeyLLMBase

__all__ = ["FORMAT_INSTRUCTIONS_VARIABLE", "PortkeyPromptLLM"]

FORMAT_INSTRUCTIONS_VARIABLE = "format_instructions"
"""The variable a structured call on a prompt route fills with LlamaIndex's JSON
instructions (the schema as text), for a text prompt to place."""


class PortkeyPromptLLM(PortkeyLLMBase):
    """A Portkey prompt, or Portkey's completions route, as a LlamaIndex completion model.

    With ``prompt_id`` every call runs that saved prompt (a text or a chat template):
    ``complete(text)`` sends ``text`` as ``input_variable``, and a query engine's
    ``predict`` sends its template's variables, so a prompt written with
    ``{{context_str}}`` and ``{{query_str}}`` answers the engine directly. Without it,
    calls go to ``/completions`` with ``model`` (``chat`` turns the messages into one
    text with ``messages_to_prompt``).

    Setup:
        Install the extra and set your Portkey API key:

        ```bash
        pip install "portkey-integrations[llama-index]"
        export PORTKEY_API_KEY="pk-..."
        ```

    Key init args:
        As :class:`~portkey_integrations.llama_index.PortkeyChatModel`: ``prompt_id``,
        ``prompt_version``, ``prompt_ids``, ``variables``, ``model``, the
        hyperparameters, ``context_window``, the routing and client options; and
        LlamaIndex's ``completion_to_prompt`` / ``messages_to_prompt`` for the
        completions route.

    Instantiate:
        ```python
        from portkey_integrations.llama_index import PortkeyPromptLLM

        llm = PortkeyPromptLLM(prompt_id="pp-rag-qa", prompt_version="production")
        direct = PortkeyPromptLLM(model="gpt-3.5-turbo-instruct", provider="@openai-prod")
        ```

    Complete:
        ```python
        response = llm.complete("What does the report conclude?")
        print(response.text, response.additional_kwargs["prompt_version"])
        ```

    Chat:
        ```python
        from llama_index.core.llms import ChatMessage

        print(llm.chat([ChatMessage(role="user", content="Hello")]).message.content)
        ```

    Stream:
        ```python
        for r in llm.stream_complete("Tell me a story"):
            print(r.delta, end="")
        ```

    Async:
        ```python
        response = await llm.acomplete("Hello")
        async for r in await llm.astream_complete("Hello"):
            print(r.delta, end="")
        ```

    Query engines:
        ```python
        engine = VectorStoreIndex.from_documents(docs).as_query_engine(llm=llm)
        print(engine.query("What does the report conclude?"))
        ```

    Tool calling:
        Not a function-calling model (``metadata.is_function_calling_model`` is false):
        use :class:`~portkey_integrations.llama_index.PortkeyChatModel` for tools.

    Structured prediction:
        On a prompt, the schema goes as ``response_format`` and LlamaIndex's JSON
        instructions as the ``format_instructions`` variable, for a text prompt to place:

        ```python
        from llama_index.core.prompts import PromptTemplate
        from pydantic import BaseModel

        class Person(BaseModel):
            name: str
            age: int

        extract = PortkeyPromptLLM(prompt_id="pp-extract")  # reads {{text}}
        person = extract.structured_predict(
            Person, PromptTemplate("Extract the person from: {text}"), text="Ada, 36"
        )
        ```

    Metadata:
        ``metadata`` does no I/O; ``context_window`` is known as on
        :class:`~portkey_integrations.llama_index.PortkeyChatModel`.
    """

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyPromptLLM"

    def _structured_template_kwargs(
        self, output_cls: type[BaseModel], extra: dict[str, Any]
    ) -> dict[str, Any]:
        # LlamaIndex appends its JSON instructions to the locally formatted text, which a
        # prompt route never sends: the schema goes as response_format, and the
        # instructions in a variable a text prompt can place.
        route: TemplateRoute | None = extra.get(TEMPLATE_ROUTE)
        if route is None or route.prompt_id is None:
            return extra
        instructions = PydanticOutputParser(output_cls).get_format_string(escape_json=False)
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": output_cls.__name__, "schema": output_cls.model_json_schema()},
        }
        structured = dataclasses.replace(
            route,
            variables={**route.variables, FORMAT_INSTRUCTIONS_VARIABLE: instructions.strip()},
            structured={"response_format": response_format},
        )
        return {**extra, TEMPLATE_ROUTE: structured}

    def _direct_messages(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        to_prompt = self.messages_to_prompt or generic_messages_to_prompt
        return {"prompt": to_prompt(messages)}

    def _direct_prompt(self, prompt: str, formatted: bool) -> dict[str, Any]:
        if not formatted and self.completion_to_prompt is not None:
            prompt = self.completion_to_prompt(prompt)
        return {"prompt": prompt}
