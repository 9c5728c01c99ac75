"""``PortkeyChatModel``: Portkey prompts and chat completions as a LangChain chat model."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.exceptions import ModelAPIError
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from .._adapters.convert import normalize_tool_choice
from .._call import direct_call, prompt_call
from .._errors import PortkeyConfigError, PortkeyError
from .._response import Completion, RenderedPrompt
from ._base import PENDING, PendingCall, PortkeyLangChainBase, run_name_of
from ._chunks import ChatChunks, hook_metadata
from ._errors import raise_langchain_error
from ._input import (
    BOUND_VARIABLES,
    PortkeyChatBinding,
    VariablesPromptValue,
    marked_variables,
    openai_variables,
    rename_bound_variables,
)
from ._messages import ai_message, messages_to_dicts, portkey_metadata
from ._tracing import call_options

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool  # only annotated; importing it costs ~10 ms

__all__ = ["PortkeyChatModel"]


class PortkeyChatModel(PortkeyLangChainBase, BaseChatModel):
    """A Portkey prompt, or Portkey's chat completions route, as a LangChain chat model.

    With ``prompt_id`` every call runs that saved prompt (``/prompts/{id}/completions``);
    without it, ``/chat/completions`` with ``model`` and the messages given. The API key
    comes from ``PORTKEY_API_KEY``; with no key and no base URL the first call raises
    ``PortkeyConfigError``, and ``base_url="local"`` opts into the embedded local
    Portkey-compatible server.

    Inputs of a prompt call become its variables:

    - a dict is the variables: ``model.invoke({"topic": "cats"})``;
    - a string goes into ``input_variable`` (``"input"``);
    - a list of messages: the last human message's text goes into ``input_variable``,
      the messages before it into ``history_variable`` (``"chat_history"``) and those
      after it (an agent's tool calls and results) into ``scratchpad_variable``
      (``"agent_scratchpad"``), both as lists of OpenAI message dicts the template
      splices into its messages; ``variables_mapper`` can replace this mapping.

    Variables set on the model, bound with ``.bind(variables=...)`` and passed with
    ``invoke(..., variables=...)`` merge, the most specific winning. Every other call or
    bound keyword is a hyperparameter at the root of the request body.

    Example:
        ```python
        from langchain_core.output_parsers import StrOutputParser
        from portkey_integrations.langchain import PortkeyChatModel

        llm = PortkeyChatModel(prompt_id="pp-joke@production", temperature=0.2)
        chain = llm | StrOutputParser()
        chain.invoke({"topic": "otters"})

        for token in chain.stream({"topic": "otters"}):
            print(token, end="")

        chat = PortkeyChatModel(model="gpt-4o-mini", provider="@openai-prod")
        chat.bind_tools([get_weather]).invoke("What's the weather in Paris?")
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

    def _convert_input(self, model_input: LanguageModelInput) -> PromptValue:
        # A dict is the prompt's variables; the base class would reject it.
        value = (
            VariablesPromptValue.of(model_input)
            if isinstance(model_input, Mapping)
            else super()._convert_input(model_input)
        )
        # The stream methods ask for the invocation params right after this.
        PENDING.set(PendingCall(id(self), value.to_messages()))
        return value

    def generate(
        self,
        messages: list[list[BaseMessage]],
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``BaseChatModel.generate``, its callbacks seeing the variables sent."""
        one = messages[0] if len(messages) == 1 else None
        token = PENDING.set(PendingCall(id(self), one, run_name_of(kwargs)))
        try:
            return super().generate(messages, stop=stop, callbacks=callbacks, **kwargs)
        finally:
            PENDING.reset(token)

    async def agenerate(
        self,
        messages: list[list[BaseMessage]],
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Async :meth:`generate`."""
        one = messages[0] if len(messages) == 1 else None
        token = PENDING.set(PendingCall(id(self), one, run_name_of(kwargs)))
        try:
            return await super().agenerate(messages, stop=stop, callbacks=callbacks, **kwargs)
        finally:
            PENDING.reset(token)

    def _input_variables(self, inputs: Any) -> dict[str, Any]:
        marked = marked_variables(inputs)
        if marked is not None:
            return openai_variables(marked)
        return self.messages_to_variables(messages_to_dicts(inputs))

    # override: newer langchain-core types bind() with a private binding class; ours is
    # a public RunnableBinding subclass, the same at run time.
    def bind(self, **kwargs: Any) -> PortkeyChatBinding:  # type: ignore[override,unused-ignore]
        """Bind kwargs; ``variables=`` are kept apart so call-time variables merge."""
        return PortkeyChatBinding(bound=self, kwargs=rename_bound_variables(kwargs), config={})

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Keyword arguments for the core client's ``complete`` / ``stream``."""
        kwargs.pop("stream", None)
        kwargs.pop("stream_usage", None)  # a bound option of ours, not a hyperparameter
        options = self._pop_call_options(kwargs)
        request = self._route(messages, stop, kwargs)
        if options is not None:
            request["options"] = options
        return request

    def _route(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        call_variables = kwargs.pop("variables", None)
        bound_variables = kwargs.pop(BOUND_VARIABLES, None)
        if stop is not None:
            kwargs["stop"] = stop
        marked = marked_variables(messages)
        if self.full_prompt_id is None:
            return direct_call(
                self,
                {"messages": messages_to_dicts(messages)},
                params=kwargs,
                variables_given=bool(marked is not None or call_variables or bound_variables),
            )
        return prompt_call(
            self,
            input_variables=self._variables_of(messages),
            bound_variables=bound_variables,
            call_variables=call_variables,
            params=kwargs,
        )

    def _stream_request(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        stream_usage: bool | None,
    ) -> dict[str, Any]:
        return self._with_stream_usage(self._request(messages, stop, kwargs), stream_usage)

    # -- output -----------------------------------------------------------------------

    def _chat_result(self, completion: Completion) -> ChatResult:
        if not completion.choices:
            raise ModelAPIError(
                f"Portkey returned a completion without choices (trace id "
                f"{completion.portkey.trace_id})"
            )
        base = portkey_metadata(completion.portkey, self.prompt_ref)
        base.update(hook_metadata(completion.model_extra))
        generations = []
        for index in range(len(completion.choices)):
            message, info = ai_message(completion, index, base)
            generations.append(ChatGeneration(message=message, generation_info=info))
        usage = completion.usage
        llm_output = {
            "token_usage": usage.model_dump(exclude_none=True) if usage is not None else {},
            "model_name": completion.model,
            "system_fingerprint": completion.system_fingerprint,
        }
        return ChatResult(generations=generations, llm_output=llm_output)

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        totals: dict[str, int] = {}
        model_name = None
        for output in llm_outputs:
            if not output:
                continue
            model_name = model_name or output.get("model_name")
            for key, value in (output.get("token_usage") or {}).items():
                if isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
        return {"token_usage": totals, "model_name": model_name or self.model}

    # -- calls ------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = call_options(
            self, run_manager, self._request(messages, stop, kwargs), self._run_name()
        )
        try:
            completion = self.client.complete(**request)
        except PortkeyError as exc:
            raise_langchain_error(exc)
        return self._chat_result(completion)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = call_options(
            self, run_manager, self._request(messages, stop, kwargs), self._run_name()
        )
        try:
            completion = await self.async_client.complete(**request)
        except PortkeyError as exc:
            raise_langchain_error(exc)
        return self._chat_result(completion)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        *,
        stream_usage: bool | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._stream_request(messages, stop, kwargs, stream_usage)
        call_options(self, run_manager, request, self._run_name())
        try:
            stream = self.client.stream(**request)
            with stream:
                convert = ChatChunks(portkey_metadata(stream.portkey, self.prompt_ref))
                for event in stream:
                    chunk = convert(event)
                    if chunk is None:
                        continue
                    if run_manager is not None:
                        run_manager.on_llm_new_token(
                            chunk.text, chunk=chunk, logprobs=ChatChunks.logprobs(chunk)
                        )
                    yield chunk
                chunk = convert.last()
                if run_manager is not None:
                    run_manager.on_llm_new_token("", chunk=chunk)
                yield chunk
        except PortkeyError as exc:
            raise_langchain_error(exc)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        *,
        stream_usage: bool | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._stream_request(messages, stop, kwargs, stream_usage)
        call_options(self, run_manager, request, self._run_name())
        try:
            stream = await self.async_client.stream(**request)
            async with stream:
                convert = ChatChunks(portkey_metadata(stream.portkey, self.prompt_ref))
                async for event in stream:
                    chunk = convert(event)
                    if chunk is None:
                        continue
                    if run_manager is not None:
                        await run_manager.on_llm_new_token(
                            chunk.text, chunk=chunk, logprobs=ChatChunks.logprobs(chunk)
                        )
                    yield chunk
                chunk = convert.last()
                if run_manager is not None:
                    await run_manager.on_llm_new_token("", chunk=chunk)
                yield chunk
        except PortkeyError as exc:
            raise_langchain_error(exc)

    # -- render -----------------------------------------------------------------------

    def _render_request(self, model_input: LanguageModelInput, kwargs: dict[str, Any]) -> Any:
        if self.full_prompt_id is None:
            raise PortkeyConfigError("render needs a prompt_id")
        messages = self._convert_input(model_input).to_messages()
        return self._request(messages, kwargs.pop("stop", None), kwargs)

    def render(self, input: LanguageModelInput, **kwargs: Any) -> RenderedPrompt:
        """What Portkey would send for this input: the prompt's ``/render`` result.

        Takes the same inputs and keywords (``variables=``, hyperparameters) as
        ``invoke``; ``.messages`` holds the rendered messages, ``.params`` the merged
        parameters.
        """
        request = self._render_request(input, kwargs)
        try:
            return self.client.render(request.pop("prompt_id"), **request)
        except PortkeyError as exc:
            raise_langchain_error(exc)

    async def arender(self, input: LanguageModelInput, **kwargs: Any) -> RenderedPrompt:
        """Async :meth:`render`."""
        request = self._render_request(input, kwargs)
        try:
            return await self.async_client.render(request.pop("prompt_id"), **request)
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
