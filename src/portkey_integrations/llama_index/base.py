"""What both LlamaIndex models share: request building and the eight call methods.

:class:`PortkeyLLMBase` is a LlamaIndex ``LLM`` (with the template pass-through of
:mod:`._predict`) and a :class:`PortkeySettings`. The subclasses decide only what a
call without a ``prompt_id`` sends (chat messages or a text prompt) and what their
metadata says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
)
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.prompts import BasePromptTemplate
from pydantic import Field

from .._calls import direct_call, prompt_call
from .._response import Completion
from .._settings import PortkeySettings
from ._messages import (
    ChatStreamAssembler,
    CompletionStreamAssembler,
    chat_message_from_choice,
    logprobs_from_choice,
    response_kwargs,
    to_openai_messages,
)
from ._predict import TEMPLATE_VARIABLES, TemplatePassThrough
from ._templates import template_variables

__all__ = ["TEMPLATE_VARIABLES", "PortkeyLLMBase"]

_SECRET_FIELDS = ("api_key", "virtual_key", "provider_api_key")

PromptRef = tuple[str, "str | None"]


class PortkeyLLMBase(PortkeySettings, TemplatePassThrough):
    """Shared base of :class:`PortkeyChatModel` and :class:`PortkeyPromptLLM`.

    Per-call keywords of every call method: ``variables=`` (merged over the variables
    derived from the messages, prompt routes only), ``template_variables=`` (replacing
    them), ``options=`` (a :class:`~portkey_integrations.RequestOptions` for this call's
    headers); every other keyword is a hyperparameter at the request body's root::

        llm.chat(messages, variables={"tone": "dry"}, temperature=0, seed=7)
    """

    context_window: int = Field(
        default=DEFAULT_CONTEXT_WINDOW,
        gt=0,
        description="Context window of the model, in tokens (reported in metadata).",
    )
    stream_usage: bool = Field(
        default=True,
        description="Ask for a usage chunk at the end of streams (stream_options).",
    )

    # -- what a call without a prompt id sends ------------------------------------------

    def _direct_messages(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        raise NotImplementedError

    def _direct_prompt(self, prompt: str, formatted: bool) -> dict[str, Any]:
        raise NotImplementedError

    # -- request and response plumbing --------------------------------------------------

    def _request(
        self,
        kwargs: dict[str, Any],
        *,
        stream: bool,
        messages: Sequence[ChatMessage] | None = None,
        prompt: str = "",
        formatted: bool = False,
    ) -> dict[str, Any]:
        """Client keyword arguments for one call; ``kwargs`` is the call's own dict."""
        call_variables = kwargs.pop("variables", None)
        template = kwargs.pop(TEMPLATE_VARIABLES, None)
        options = kwargs.pop("options", None)
        if stream and self.stream_usage:
            kwargs.setdefault("stream_options", {"include_usage": True})
        if self.full_prompt_id is None:
            if messages is not None:
                target = self._direct_messages(messages)
            else:
                target = self._direct_prompt(prompt, formatted)
            request = direct_call(
                self,
                target,
                params=kwargs,
                variables_given=bool(call_variables or template is not None),
            )
        else:
            if template is None:
                openai = (
                    to_openai_messages(messages)
                    if messages is not None
                    else [{"role": "user", "content": prompt}]
                )
                template = self.messages_to_variables(openai)
            request = prompt_call(
                self, input_variables=template, call_variables=call_variables, params=kwargs
            )
        if options is not None:
            request["options"] = options
        return request

    def _chat_response(self, completion: Completion) -> ChatResponse:
        choice = completion.choices[0] if completion.choices else None
        return ChatResponse(
            message=chat_message_from_choice(choice),
            raw=completion,
            logprobs=logprobs_from_choice(choice),
            additional_kwargs=response_kwargs(
                completion.usage, completion.portkey, self.prompt_ref
            ),
        )

    def _completion_response(self, completion: Completion) -> CompletionResponse:
        choice = completion.choices[0] if completion.choices else None
        return CompletionResponse(
            text=completion.content,
            raw=completion,
            logprobs=logprobs_from_choice(choice),
            additional_kwargs=response_kwargs(
                completion.usage, completion.portkey, self.prompt_ref
            ),
        )

    def _iter_chat(self, request: dict[str, Any]) -> ChatResponseGen:
        # The request is sent on first iteration, as llama_index.llms.openai does; each
        # response is yielded as its chunk arrives, so a failure mid-stream raises only
        # after everything received before it.
        with self.client.stream(**request) as stream:
            assembler = ChatStreamAssembler(stream.portkey, self.prompt_ref)
            for chunk in stream:
                yield assembler.add(chunk)

    async def _aiter_chat(self, request: dict[str, Any]) -> ChatResponseAsyncGen:
        stream = await self.async_client.stream(**request)
        async with stream:
            assembler = ChatStreamAssembler(stream.portkey, self.prompt_ref)
            async for chunk in stream:
                yield assembler.add(chunk)

    def _iter_completion(self, request: dict[str, Any]) -> CompletionResponseGen:
        with self.client.stream(**request) as stream:
            assemble = CompletionStreamAssembler(stream.portkey, self.prompt_ref)
            for chunk in stream:
                yield assemble(chunk)

    async def _aiter_completion(self, request: dict[str, Any]) -> CompletionResponseAsyncGen:
        stream = await self.async_client.stream(**request)
        async with stream:
            assemble = CompletionStreamAssembler(stream.portkey, self.prompt_ref)
            async for chunk in stream:
                yield assemble(chunk)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Chat; a ``prompt_id`` turns the messages into prompt variables."""
        request = self._request(kwargs, stream=False, messages=messages)
        return self._chat_response(self.client.complete(**request))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream a chat; each response carries the whole message so far."""
        request = self._request(kwargs, stream=True, messages=messages)
        return self._iter_chat(request)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt; with a ``prompt_id`` the prompt is the input variable."""
        request = self._request(kwargs, stream=False, prompt=prompt, formatted=formatted)
        return self._completion_response(self.client.complete(**request))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion; ``text`` is cumulative, ``delta`` the new text."""
        request = self._request(kwargs, stream=True, prompt=prompt, formatted=formatted)
        return self._iter_completion(request)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`, on the async client."""
        request = self._request(kwargs, stream=False, messages=messages)
        return self._chat_response(await self.async_client.complete(**request))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`."""
        request = self._request(kwargs, stream=True, messages=messages)
        return self._aiter_chat(request)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        request = self._request(kwargs, stream=False, prompt=prompt, formatted=formatted)
        return self._completion_response(await self.async_client.complete(**request))

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        request = self._request(kwargs, stream=True, prompt=prompt, formatted=formatted)
        return self._aiter_completion(request)

    def _template_kwargs(
        self, prompt: BasePromptTemplate, prompt_args: dict[str, Any]
    ) -> dict[str, Any]:
        if self.prompt_id is None:
            return {}
        return {TEMPLATE_VARIABLES: template_variables(prompt, self, prompt_args)}

    # -- serialization ------------------------------------------------------------------

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """The model's settings without its secrets (API keys are never serialized)."""
        data = super().to_dict(**kwargs)
        for name in _SECRET_FIELDS:
            data.pop(name, None)
        return data
