"""The LlamaIndex chat model: Portkey prompts and the chat route, with tool calling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from pydantic import Field

from .._adapters.convert import normalize_tool_choice
from ._messages import to_openai_messages, tool_selections
from .base import PortkeyLLMBase

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["PortkeyChatModel"]


class PortkeyChatModel(PortkeyLLMBase, FunctionCallingLLM):
    """A Portkey prompt, or Portkey's chat completions route, as a LlamaIndex chat model.

    With ``prompt_id`` every call runs that saved prompt (``/prompts/{id}/completions``):
    the last user message's text becomes ``input_variable``, the messages before it
    ``history_variable`` and those after it (tool calls and results)
    ``scratchpad_variable``. Query engines that call ``predict`` send their template's
    variables instead (``context_str``, ``query_str``), and ``prompt_ids`` maps other
    LlamaIndex templates (refine, condense, ...) to prompts of their own. Without a
    ``prompt_id``, calls go to ``/chat/completions`` with ``model``.

    Setup:
        Install the extra and set your Portkey API key:

        ```bash
        pip install "portkey-integrations[llama-index]"
        export PORTKEY_API_KEY="pk-..."
        ```

    Key init args (prompt):
        - ``prompt_id``: the saved prompt (``"pp-abc"``, ``"pp-abc@12"``,
          ``"pp-abc@production"``); ``prompt_version`` adds the version or label.
        - ``prompt_ids``: prompts by LlamaIndex template type (``{"refine": "pp-r"}``).
        - ``variables``: variables sent on every call (call variables win).
        - ``check_variables``: ``None`` (default: content LlamaIndex hands the model
          with no slot in the template raises ``PromptMappingError``, your own extra
          variables warn), ``"warn"``, ``"error"`` or ``"off"``.

    Key init args (model and routing):
        - ``model``: the model on the chat route, or an override of the prompt's.
        - ``temperature``, ``max_tokens``, ``top_p``, ``seed``, ... and
          ``additional_kwargs``: sent at the body's root (call keywords win).
        - ``context_window``: tokens LlamaIndex may fill (see ``metadata``).
        - ``provider`` / ``virtual_key`` / ``config``: Portkey routing.
        - ``api_key``, ``base_url``, ``timeout``, ``max_retries``: the client.

    Instantiate:
        ```python
        from portkey_integrations.llama_index import PortkeyChatModel

        llm = PortkeyChatModel(prompt_id="pp-assistant@production", temperature=0)
        direct = PortkeyChatModel(model="gpt-4o-mini", provider="@openai-prod")
        ```

    Chat:
        ```python
        from llama_index.core.llms import ChatMessage

        response = llm.chat([ChatMessage(role="user", content="Hello")])
        print(response.message.content)
        print(response.additional_kwargs["prompt_id"], response.additional_kwargs["trace_id"])
        ```

    Complete:
        ```python
        print(llm.complete("Hello", variables={"tone": "dry"}).text)
        ```

    Stream:
        ```python
        for r in llm.stream_chat([ChatMessage(role="user", content="Tell me a story")]):
            print(r.delta, end="")
        ```

    Async:
        ```python
        response = await llm.achat([ChatMessage(role="user", content="Hello")])
        async for r in await llm.astream_complete("Hello"):
            print(r.delta, end="")
        ```

    Query engines:
        ```python
        engine = index.as_query_engine(llm=PortkeyChatModel(prompt_id="pp-rag-qa"))
        print(engine.query("What changed in v2?"))
        ```

    Tool calling:
        ```python
        from llama_index.core.tools import FunctionTool

        def add(a: int, b: int) -> int:
            '''Add two integers.'''
            return a + b

        response = direct.chat_with_tools([FunctionTool.from_defaults(add)], "What is 2 + 3?")
        print(direct.get_tool_calls_from_response(response))
        ```

    Structured prediction:
        ```python
        from llama_index.core.prompts import PromptTemplate
        from pydantic import BaseModel

        class Person(BaseModel):
            name: str
            age: int

        extract = PortkeyChatModel(prompt_id="pp-extract")  # reads {{text}}
        person = extract.structured_predict(
            Person, PromptTemplate("Extract the person from: {text}"), text="Ada, 36"
        )
        ```

    Metadata:
        ``metadata`` does no I/O. Its ``context_window`` is ``context_window=``, else
        that of ``model=``, else that of the model saved on the prompt once a call of
        this model has read it (calls read it to check variables), else LlamaIndex's
        default (3900). Query engines size their prompts when they are built, so set
        ``context_window=`` (or ``model=``) for an engine built before any call.
    """

    is_function_calling_model: bool = Field(
        default=True,
        description="Whether the model behind the prompt or route supports tool calling.",
    )
    """Whether the model behind the prompt or route supports tool calling (LlamaIndex's
    agents and structured programs choose function calling when it does)."""

    chat_model: ClassVar[bool] = True
    """A chat model, in LlamaIndex's ``metadata``."""

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyChatModel"

    def _direct_messages(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        return {"messages": to_openai_messages(messages)}

    def _direct_prompt(self, prompt: str, formatted: bool) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": prompt}]}

    # -- tools --------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments for a call with tools (OpenAI tool format)."""
        specs = [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]
        if strict:
            for spec in specs:
                spec["function"]["strict"] = True
                spec["function"]["parameters"]["additionalProperties"] = False
        messages = list(chat_history or [])  # never mutate the caller's history
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        chat_kwargs: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            # Without tools nothing is sent: on a prompt route an explicit null would
            # replace the prompt's saved tools.
            names = [spec["function"]["name"] for spec in specs]
            if tool_choice is None:
                tool_choice = "required" if tool_required else "auto"
            chat_kwargs["tools"] = specs
            chat_kwargs["tool_choice"] = normalize_tool_choice(tool_choice, names)
            chat_kwargs["parallel_tool_calls"] = allow_parallel_tool_calls
        return chat_kwargs

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call unless parallel calls were allowed."""
        if not allow_parallel_tool_calls:
            _force_single_tool_call(response)
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The response's tool calls; malformed arguments become ``{}``."""
        return tool_selections(response, error_on_no_tool_call=error_on_no_tool_call)


def _force_single_tool_call(response: ChatResponse) -> None:
    message = response.message
    calls = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
    if len(calls) > 1:
        message.blocks = [b for b in message.blocks if not isinstance(b, ToolCallBlock)]
        message.blocks.append(calls[0])
    raw_calls = message.additional_kwargs.get("tool_calls")
    if isinstance(raw_calls, list) and len(raw_calls) > 1:
        message.additional_kwargs["tool_calls"] = raw_calls[:1]
