"""Template variables straight through: ``predict``, ``stream`` and ``structured_predict``.

LlamaIndex's query engines and synthesizers call ``llm.predict(template, **args)``; the
base ``LLM`` formats the template locally and sends the text. With a Portkey prompt the
template's variables are what the prompt needs, so these overrides keep LlamaIndex's
flow (events, callbacks, output parsers, programs) and hand the template's route
(which prompt, which variables: see :mod:`._routing`) to ``chat`` / ``complete`` under
a private keyword. The locally formatted messages still go to the callbacks, for
observability, and are what a template no prompt serves sends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.llm import LLMPredictEndEvent, LLMPredictStartEvent
from llama_index.core.llms.llm import (
    LLM,
    astream_chat_response_to_tokens,
    astream_completion_response_to_tokens,
    stream_chat_response_to_tokens,
    stream_completion_response_to_tokens,
)
from llama_index.core.prompts import BasePromptTemplate, PromptTemplate
from llama_index.core.types import Model, TokenAsyncGen, TokenGen
from pydantic import BaseModel

__all__ = ["TEMPLATE_VARIABLES", "TemplatePassThrough"]

dispatcher = get_dispatcher(__name__)

TEMPLATE_VARIABLES = "template_variables"
"""Call keyword: variables that replace the ones derived from the messages or prompt
(``predict`` and ``structured_predict`` send a template's variables this way)."""


class TemplatePassThrough(LLM):
    """An ``LLM`` whose prompt-template entry points pass the template's variables on.

    Subclasses say which variables to send (:meth:`_template_kwargs`, empty for none);
    with none, every method behaves exactly as LlamaIndex's own.
    """

    def _template_kwargs(
        self, prompt: BasePromptTemplate, prompt_args: dict[str, Any]
    ) -> dict[str, Any]:
        return {}

    def predict(self, prompt: BasePromptTemplate, **prompt_args: Any) -> str:
        """Predict; with a ``prompt_id`` the template's variables go to the prompt."""
        dispatcher.event(LLMPredictStartEvent(template=prompt, template_args=prompt_args))
        self._log_template_data(prompt, **prompt_args)
        extra = self._template_kwargs(prompt, prompt_args)
        if self.metadata.is_chat_model:
            messages = self._get_messages(prompt, **prompt_args)
            output = self.chat(messages, **extra).message.content or ""
        else:
            formatted = self._get_prompt(prompt, **prompt_args)
            output = self.complete(formatted, formatted=True, **extra).text
        parsed = self._parse_output(output)
        dispatcher.event(LLMPredictEndEvent(output=parsed))
        return parsed

    async def apredict(self, prompt: BasePromptTemplate, **prompt_args: Any) -> str:
        """Async :meth:`predict`."""
        dispatcher.event(LLMPredictStartEvent(template=prompt, template_args=prompt_args))
        self._log_template_data(prompt, **prompt_args)
        extra = self._template_kwargs(prompt, prompt_args)
        if self.metadata.is_chat_model:
            messages = self._get_messages(prompt, **prompt_args)
            output = (await self.achat(messages, **extra)).message.content or ""
        else:
            formatted = self._get_prompt(prompt, **prompt_args)
            output = (await self.acomplete(formatted, formatted=True, **extra)).text
        parsed = self._parse_output(output)
        dispatcher.event(LLMPredictEndEvent(output=parsed))
        return parsed

    def stream(self, prompt: BasePromptTemplate, **prompt_args: Any) -> TokenGen:
        """Stream tokens; with a ``prompt_id`` the template's variables go to the prompt."""
        self._log_template_data(prompt, **prompt_args)
        dispatcher.event(LLMPredictStartEvent(template=prompt, template_args=prompt_args))
        if prompt.output_parser is not None or self.output_parser is not None:
            raise NotImplementedError("Output parser is not supported for streaming.")
        extra = self._template_kwargs(prompt, prompt_args)
        if self.metadata.is_chat_model:
            messages = self._get_messages(prompt, **prompt_args)
            return stream_chat_response_to_tokens(self.stream_chat(messages, **extra))
        formatted = self._get_prompt(prompt, **prompt_args)
        return stream_completion_response_to_tokens(
            self.stream_complete(formatted, formatted=True, **extra)
        )

    async def astream(self, prompt: BasePromptTemplate, **prompt_args: Any) -> TokenAsyncGen:
        """Async :meth:`stream`."""
        self._log_template_data(prompt, **prompt_args)
        dispatcher.event(LLMPredictStartEvent(template=prompt, template_args=prompt_args))
        if prompt.output_parser is not None or self.output_parser is not None:
            raise NotImplementedError("Output parser is not supported for streaming.")
        extra = self._template_kwargs(prompt, prompt_args)
        if self.metadata.is_chat_model:
            messages = self._get_messages(prompt, **prompt_args)
            return await astream_chat_response_to_tokens(await self.astream_chat(messages, **extra))
        formatted = self._get_prompt(prompt, **prompt_args)
        return await astream_completion_response_to_tokens(
            await self.astream_complete(formatted, formatted=True, **extra)
        )

    def _structured_template_kwargs(
        self, output_cls: type[BaseModel], extra: dict[str, Any]
    ) -> dict[str, Any]:
        """What a structured call adds to :meth:`_template_kwargs` (the schema)."""
        return extra

    def _structured_kwargs(
        self,
        output_cls: type[BaseModel],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None,
        prompt_args: dict[str, Any],
    ) -> dict[str, Any]:
        # The program (function calling or text completion) forwards llm_kwargs to
        # chat / complete, which is where the template's route is picked up.
        extra = self._template_kwargs(prompt, prompt_args)
        return {**(llm_kwargs or {}), **self._structured_template_kwargs(output_cls, extra)}

    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Structured predict; with a ``prompt_id`` the template's variables go along."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        result: Model = super().structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
        return result

    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        result: Model = await super().astructured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
        return result

    def stream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        """Stream partial objects; with a ``prompt_id`` the template's variables go along."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        return super().stream_structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )

    async def astream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        """Async :meth:`stream_structured_predict`."""
        llm_kwargs = self._structured_kwargs(output_cls, prompt, llm_kwargs, prompt_args)
        return await super().astream_structured_predict(
            output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
        )
