"""``PortkeyChatModel``: Portkey prompts and chat completions as a LangChain chat model."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from .._adapters.convert import normalize_tool_choice
from .._errors import PortkeyConfigError, PortkeyError
from .._response import RenderedPrompt
from ._base import PortkeyLangChainBase
from ._batch import BatchAPIChatModel
from ._errors import raise_langchain_error
from ._input import PortkeyChatBinding, rename_bound_variables
from ._messages import (
    MappedInput,
    chat_result,
    combine_llm_outputs,
    dict_input,
    marked_variables,
    messages_to_dicts,
)

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool  # only annotated; importing it costs ~10 ms

__all__ = ["PortkeyChatModel"]


class PortkeyChatModel(PortkeyLangChainBase, BatchAPIChatModel):
    """A Portkey prompt, or Portkey's chat completions route, as a LangChain chat model.

    With ``prompt_id`` every call runs that saved prompt (``/prompts/{id}/completions``)
    and the input becomes the prompt's variables; without it, ``/chat/completions`` with
    ``model`` and the messages given.

    Setup:
        ``pip install "portkey-integrations[langchain]"`` and set ``PORTKEY_API_KEY``.
        With no key and no base URL the first call raises ``PortkeyConfigError``;
        ``base_url="local"`` runs against the embedded Portkey-compatible server (the
        ``server`` extra), as every example here does.

    Key init args — prompt:
        ``prompt_id`` (with ``@version`` or ``@label``: ``"pp-joke@2"``); ``variables``
        sent with every call; ``input_variable`` / ``history_variable`` /
        ``scratchpad_variable``, where a string or messages go (see *Invoke*), or a
        ``variables_mapper``; ``check_variables`` against the template (``None`` by
        default: a lost piece raises, your own extra variables warn).

    Key init args — completion params:
        ``model`` (overrides the prompt's saved one), ``temperature``, ``max_tokens``,
        ``top_p``, ``stop``, ``seed``, ... and ``model_kwargs``: sent at the body's root,
        over the prompt's saved values. ``streaming`` (stream every call) and
        ``stream_usage`` (usage in streams, on by default).

    Key init args — client params:
        Every option of the core client under its name (``api_key`` from
        ``PORTKEY_API_KEY``, ``base_url``, ``virtual_key``, ``config``, ``provider``,
        ``trace_id``, ``portkey_metadata``, ...), ``timeout`` (alias
        ``request_timeout``), ``connect_timeout`` and ``max_retries``.

    Instantiate:
        ```python
        from portkey_integrations.langchain import PortkeyChatModel

        model = PortkeyChatModel(prompt_id="pp-joke", base_url="local", temperature=0.2)
        chat = PortkeyChatModel(model="gpt-4o-mini", provider="@openai-prod")  # no prompt
        ```

    Invoke:
        A dict is the variables; a string goes into ``input_variable``; in a list of
        messages the last human message's text goes into ``input_variable``, the messages
        before it into ``history_variable`` and those after it (an agent's tool calls
        and results) into ``scratchpad_variable``, as OpenAI message dicts the template
        splices into its messages. Variables set on the model, bound with
        ``.bind(variables=...)`` and passed with ``invoke(..., variables=...)`` merge, the
        most specific winning; every other keyword is a hyperparameter.

        Nothing LangChain hands the model is dropped: before sending, each piece (the
        text, its images and other parts, the system message, earlier turns, an agent's
        tool calls and results, message lists such as ``RunnableWithMessageHistory``'s)
        must have a slot in the saved template, or the call raises
        ``PromptMappingError`` naming the piece and the slot to add (an agent stops at
        the call that would lose the tool results instead of looping).
        ``check_variables="warn"`` accepts such a loss with a warning; ``"off"`` checks
        nothing. When the template cannot be read (a key without ``prompts.read``),
        every piece but the text raises the same way each time.

        ```python
        model.invoke({"adjective": "dry", "topic": "owls"})
        model.bind(temperature=0).invoke({"topic": "owls"}, variables={"adjective": "wry"})
        model.render({"adjective": "dry", "topic": "owls"})  # what Portkey would send
        ```

    Stream:
        ```python
        for chunk in model.stream({"adjective": "silly", "topic": "cats"}):
            print(chunk.text, end="")
        ```

    Async:
        ```python
        await model.ainvoke({"adjective": "dry", "topic": "owls"})
        async for chunk in model.astream({"adjective": "dry", "topic": "owls"}):
            print(chunk.text, end="")
        ```

    Tool calling:
        ```python
        from langchain_core.tools import tool


        @tool
        def get_weather(city: str) -> str:
            \"\"\"Get the weather for a city.\"\"\"
            return "sunny"


        assistant = PortkeyChatModel(prompt_id="pp-assistant", base_url="local")
        reply = assistant.bind_tools([get_weather]).invoke("Weather in Lisbon?")
        reply.tool_calls  # [{"name": "get_weather", "args": {"city": "Lisbon"}, ...}]
        ```

        ``create_agent(PortkeyChatModel(prompt_id=...), tools=[...])`` runs an agent
        whose every turn is the saved prompt.

    Structured output:
        ```python
        from pydantic import BaseModel


        class Joke(BaseModel):
            setup: str
            punchline: str


        model.with_structured_output(Joke).invoke({"adjective": "dry", "topic": "owls"})
        ```

        ``method="function_calling"`` (default), ``"json_schema"`` or ``"json_mode"``.
        Replies carry ``portkey_trace_id``, ``prompt_id`` and ``prompt_version`` in
        ``response_metadata`` and the token counts in ``usage_metadata``.

    Batch API:
        ``use_batch_api=True`` sends ``batch`` / ``abatch`` as one job on Portkey's Batch
        API (each input rendered to the saved prompt's messages) and returns what
        ``batch`` would; ``batch_api_submit`` / ``batch_api_retrieve`` let the job
        outlive the process (see ``docs/batch.md``).

        ```python
        bulk = PortkeyChatModel(prompt_id="pp-joke", base_url="local", use_batch_api=True)
        replies = bulk.batch([{"adjective": "dry", "topic": t} for t in topics])
        job_id = bulk.batch_api_submit(inputs)  # ... later, anywhere:
        replies = bulk.batch_api_retrieve(job_id)
        ```
    """

    @property
    def _llm_type(self) -> str:
        return "portkey-chat"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        model = kwargs.get("model") or self.model or self.full_prompt_id or "portkey"
        params = LangSmithParams(ls_provider="portkey", ls_model_name=model, ls_model_type="chat")
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        ls_stop = stop or kwargs.get("stop") or self.stop
        if ls_stop:
            params["ls_stop"] = [ls_stop] if isinstance(ls_stop, str) else list(ls_stop)
        self._add_prompt_ls_params(params, kwargs)
        return params

    # -- input ------------------------------------------------------------------------

    def _prepared_input(self, value: PromptValue) -> Any:
        return value.to_messages()

    def generate(
        self,
        messages: list[list[BaseMessage]],
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``BaseChatModel.generate``, its callbacks seeing the variables sent."""
        with self._starting(messages, kwargs):
            return super().generate(messages, stop=stop, callbacks=callbacks, **kwargs)

    async def agenerate(
        self,
        messages: list[list[BaseMessage]],
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Async :meth:`generate`."""
        with self._starting(messages, kwargs):
            return await super().agenerate(messages, stop=stop, callbacks=callbacks, **kwargs)

    def _map_input(self, inputs: Any) -> MappedInput:
        marked = marked_variables(inputs)
        if marked is not None:
            return dict_input(marked)
        messages = messages_to_dicts(inputs)
        variables = self.messages_to_variables(messages)
        if self.variables_mapper is not None:
            # The caller's own mapping: its variables are checked as the caller's own
            # (a warning for one the template never reads), not as framework pieces.
            return MappedInput(variables, [])
        # The mapping rule loads with the first call that maps an input (import budget).
        from .._adapters.mapping import conversation_pieces

        pieces = conversation_pieces(
            messages,
            input_variable=self.input_variable,
            history_variable=self.history_variable,
            scratchpad_variable=self.scratchpad_variable,
        )
        return MappedInput(variables, pieces)

    # override: newer langchain-core types bind() with a private binding class; ours is
    # a public RunnableBinding subclass, the same at run time.
    def bind(self, **kwargs: Any) -> PortkeyChatBinding:  # type: ignore[override,unused-ignore]
        """Bind kwargs; ``variables=`` are kept apart so call-time variables merge."""
        return PortkeyChatBinding(bound=self, kwargs=rename_bound_variables(kwargs), config={})

    def _dict_input(self, inputs: Any) -> dict[str, Any] | None:
        return marked_variables(inputs)

    def _direct_target(self, inputs: Any) -> dict[str, Any]:
        return {"messages": messages_to_dicts(inputs)}

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        return combine_llm_outputs(llm_outputs, self.model)

    # -- calls ------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._build_call(messages, stop, kwargs, run_manager)
        try:
            completion = self.client.send_call(call)
        except PortkeyError as exc:
            raise_langchain_error(exc)
        return chat_result(completion, self.prompt_ref)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = await self._abuild_call(messages, stop, kwargs, run_manager)
        try:
            completion = await self.async_client.send_call(call)
        except PortkeyError as exc:
            raise_langchain_error(exc)
        return chat_result(completion, self.prompt_ref)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        *,
        stream_usage: bool | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from ._chunks import ChatChunks, stream_chunks  # streams only: not at import

        kwargs = self._stream_kwargs(kwargs, stream_usage)
        return stream_chunks(self, messages, stop, kwargs, run_manager, ChatChunks)

    def _astream(  # an async generator, returned as it is (see astream_chunks)
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        *,
        stream_usage: bool | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        from ._chunks import ChatChunks, astream_chunks  # streams only: not at import

        kwargs = self._stream_kwargs(kwargs, stream_usage)
        return astream_chunks(self, messages, stop, kwargs, run_manager, ChatChunks)

    # -- render -----------------------------------------------------------------------

    def _render_messages(self, model_input: LanguageModelInput) -> list[BaseMessage]:
        if self.full_prompt_id is None:
            raise PortkeyConfigError("render needs a prompt_id")
        return self._convert_input(model_input).to_messages()

    def render(self, input: LanguageModelInput, **kwargs: Any) -> RenderedPrompt:
        """What Portkey would send for this input: the prompt's ``/render`` result.

        Takes the same inputs and keywords (``variables=``, hyperparameters) as
        ``invoke``; ``.messages`` holds the rendered messages, ``.params`` the merged
        parameters.
        """
        messages = self._render_messages(input)
        call = self._build_call(messages, kwargs.pop("stop", None), kwargs)
        try:
            return self.client.render_call(call)
        except PortkeyError as exc:
            raise_langchain_error(exc)

    async def arender(self, input: LanguageModelInput, **kwargs: Any) -> RenderedPrompt:
        """Async :meth:`render`."""
        messages = self._render_messages(input)
        call = await self._abuild_call(messages, kwargs.pop("stop", None), kwargs)
        try:
            return await self.async_client.render_call(call)
        except PortkeyError as exc:
            raise_langchain_error(exc)

    # -- tools and structured output --------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, pydantic models, functions, OpenAI tool dicts).

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"`` / ``"required"`` / ``True``
        (call some tool), or a tool name (call that tool).
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        names = [tool["function"]["name"] for tool in formatted if "function" in tool]
        choice = normalize_tool_choice(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        tools: list[Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A runnable that returns output matching ``schema`` (pydantic class, TypedDict
        or JSON schema).

        ``method``: ``"function_calling"`` (default: forced tool call, the most widely
        supported across Portkey's providers), ``"json_schema"`` (``response_format``
        with the schema) or ``"json_mode"`` (``{"type": "json_object"}``; say the
        format in the prompt). ``include_raw=True`` returns
        ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``.
        """
        from ._structured import structured_output

        return structured_output(
            self,
            schema,
            method=method,
            include_raw=include_raw,
            strict=strict,
            tools=tools,
            kwargs=kwargs,
        )


# BaseChatModel inspects ``_generate``'s signature on every call (does it take a
# run_manager?); a precomputed signature makes that lookup cheap.
for _method in (PortkeyChatModel._generate, PortkeyChatModel._agenerate):
    _method.__signature__ = inspect.signature(_method)  # type: ignore[union-attr]
