"""``PortkeyPromptLLM``: Portkey prompts and text completions as a LangChain LLM."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseLLM, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableBinding

from .._adapters.tracing import hook_results_dict
from .._errors import PortkeyError
from .._response import Completion
from ._base import PortkeyLangChainBase
from ._chunks import TextChunks, astream_chunks, stream_chunks
from ._errors import raise_langchain_error
from ._input import rename_bound_variables
from ._messages import MappedInput, dict_input, portkey_metadata, prompt_variables
from ._tracing import NO_RUN

__all__ = ["PortkeyPromptLLM"]

_MAX_CONCURRENCY = 16
"""Prompts of one ``generate`` / ``agenerate`` in flight at once (``batch`` with
``max_concurrency`` hands over at most that many)."""


# no-redef: the pydantic mypy plugin clashes the ``kwargs`` field with ``**kwargs``.
class PortkeyLLMBinding(RunnableBinding[LanguageModelInput, str]):  # type: ignore[no-redef]
    """The binding ``PortkeyPromptLLM.bind`` returns; serialized as ``RunnableBinding``."""

    @classmethod
    def lc_id(cls) -> list[str]:
        return [*cls.get_lc_namespace(), "RunnableBinding"]

    def bind(self, **kwargs: Any) -> Runnable[LanguageModelInput, str]:
        """Bind kwargs; ``variables`` merge with the variables bound before."""
        return super().bind(**rename_bound_variables(kwargs, self.kwargs))


class PortkeyPromptLLM(PortkeyLangChainBase, BaseLLM):
    """A Portkey prompt, or Portkey's text completions route, as a LangChain LLM.

    With ``prompt_id`` every call runs that saved prompt (chat or text template) and
    returns its text; without it, ``/completions`` with ``model`` and the prompt string.
    Several prompts (``batch``, ``generate``) run concurrently, at most 16 at once.

    Setup:
        ```bash
        pip install "portkey-integrations[langchain]"
        export PORTKEY_API_KEY="pk-..."
        ```

        ``base_url="local"`` runs against the embedded Portkey-compatible server (the
        ``server`` extra), as every example here does.

    Key init args:
        The same as :class:`PortkeyChatModel`'s: ``prompt_id``, ``variables``,
        ``input_variable`` (``"input"``), ``check_variables`` (the prompt text and any
        message list of a dict input need a slot in the template, else
        ``PromptMappingError`` before sending: see :class:`PortkeyChatModel`); ``model``,
        ``temperature``, ``max_tokens``, ``stop``, ... (body params); ``streaming``,
        ``stream_usage``; and every client option (``api_key``, ``base_url``,
        ``provider``, ``trace_id``, ``timeout``, ``max_retries``, ...).

    Instantiate:
        ```python
        from portkey_integrations.langchain import PortkeyPromptLLM

        llm = PortkeyPromptLLM(prompt_id="pp-text-complete", base_url="local", max_tokens=64)
        ```

    Invoke:
        A string goes into ``input_variable``; a dict is the variables. Variables set on
        the model, bound and passed per call merge, the most specific winning; every other
        keyword is a hyperparameter.

        ```python
        llm.invoke("Once upon a time")
        llm.invoke({"input": "Once upon a time"}, variables={"tone": "dry"})
        llm.batch(["a", "b", "c"])
        ```

    Stream:
        ```python
        for token in llm.stream("Once upon a time"):
            print(token, end="")
        ```

    Async:
        ```python
        await llm.ainvoke("Once upon a time")
        async for token in llm.astream("Once upon a time"):
            print(token, end="")
        await llm.abatch(["a", "b", "c"])
        ```

    Output:
        ``generate`` returns each text with ``generation_info`` holding
        ``finish_reason``, ``portkey_trace_id``, ``prompt_id`` and ``prompt_version``;
        ``llm_output["token_usage"]`` sums the usage of every prompt. LangChain's LLM
        cache tells apart calls with different variables.
    """

    @property
    def _llm_type(self) -> str:
        return "portkey-llm"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "portkey"
        model = kwargs.get("model") or self.model or self.full_prompt_id
        if model:
            params["ls_model_name"] = model
        self._add_prompt_ls_params(params, kwargs)
        return params

    @property
    def _identifying_params(self) -> dict[str, Any]:
        # BaseLLM keys its cache on these alone (not on call keywords): everything that
        # changes the request goes in, the call's variables included.
        params = super()._identifying_params
        params["variables"] = self.variables
        params["input_variable"] = self.input_variable
        pending = self._pending()
        if pending is not None and pending.variables_key is not None:
            params["call_variables"] = pending.variables_key
        return params

    def generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> LLMResult:
        """``BaseLLM.generate``, with the call's variables part of the cache key."""
        with self._starting(prompts, kwargs, cache_key=True):
            return super().generate(prompts, stop=stop, callbacks=callbacks, **kwargs)

    async def agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> LLMResult:
        """Async :meth:`generate`."""
        with self._starting(prompts, kwargs, cache_key=True):
            return await super().agenerate(prompts, stop=stop, callbacks=callbacks, **kwargs)

    def _dict_for_compat(self) -> dict[str, Any]:
        # BaseLLM's invocation params: during a call also the prompt's version and the
        # variables the call sends.
        params: dict[str, Any] = super()._dict_for_compat()
        pending = self._pending()
        ref = self.prompt_ref
        if pending is not None and pending.kwargs is not None and ref is not None:
            params["prompt_version"] = ref[1]
            params["variables"] = self._sent_variables(pending.kwargs)
        return params

    def _prepared_input(self, value: PromptValue) -> Any:
        return value.to_string()

    def _map_input(self, inputs: Any) -> MappedInput:
        marked = prompt_variables(inputs)
        if marked is not None:
            return dict_input(marked)
        # The mapping rule loads with the first call that maps an input (import budget).
        from .._adapters.mapping import text_pieces

        return MappedInput({self.input_variable: inputs}, text_pieces(inputs, self.input_variable))

    def bind(self, **kwargs: Any) -> PortkeyLLMBinding:
        """Bind kwargs; ``variables=`` are kept apart so call-time variables merge."""
        return PortkeyLLMBinding(bound=self, kwargs=rename_bound_variables(kwargs), config={})

    def _dict_input(self, inputs: Any) -> dict[str, Any] | None:
        return prompt_variables(inputs)

    def _direct_target(self, inputs: Any) -> dict[str, Any]:
        return {"prompt": str(inputs)}

    def _generations(self, completion: Completion) -> tuple[list[Generation], dict[str, Any]]:
        metadata = portkey_metadata(completion.portkey, self.prompt_ref)
        del metadata["model_provider"]
        metadata["model_name"] = completion.model
        metadata.update(hook_results_dict(completion.model_extra))
        generations = []
        for choice in completion.choices:
            info = {"finish_reason": choice.finish_reason, "logprobs": choice.logprobs}
            info.update(metadata)
            generations.append(Generation(text=choice.content, generation_info=info))
        usage = completion.usage.model_dump(exclude_none=True) if completion.usage else {}
        return generations, usage

    def _result(self, completions: list[Completion]) -> LLMResult:
        token_usage: dict[str, int] = {}
        generations = []
        model_name = self.model
        for completion in completions:
            gens, usage = self._generations(completion)
            generations.append(gens)
            model_name = completion.model or model_name
            for key, value in usage.items():
                if isinstance(value, int):
                    token_usage[key] = token_usage.get(key, 0) + value
        return LLMResult(
            generations=generations,
            llm_output={"token_usage": token_usage, "model_name": model_name},
        )

    def _complete_one(
        self,
        prompt: str,
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: Mapping[str, Any],
    ) -> Completion:
        call = self._build_call(
            prompt, stop, dict(kwargs), run_manager if run_manager is not None else NO_RUN
        )
        try:
            return self.client.send_call(call)
        except PortkeyError as exc:
            raise_langchain_error(exc)

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        if self.streaming and len(prompts) == 1:
            merged: GenerationChunk | None = None
            for chunk in self._stream(prompts[0], stop, run_manager, **kwargs):
                merged = chunk if merged is None else merged + chunk
            if merged is None:
                raise ValueError("the stream returned no chunks")
            return LLMResult(generations=[[merged]])
        if len(prompts) == 1:
            completions = [self._complete_one(prompts[0], stop, run_manager, kwargs)]
        else:
            # One request per prompt, run side by side: Portkey has no batch route.
            workers = min(len(prompts), _MAX_CONCURRENCY)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                # As in _agenerate: LangChain hands over the first prompt's run only.
                managers = [run_manager] + [None] * (len(prompts) - 1)
                futures = [
                    pool.submit(self._complete_one, p, stop, m, kwargs)
                    for p, m in zip(prompts, managers, strict=True)
                ]
                completions = [future.result() for future in futures]
        return self._result(completions)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        if self.streaming and len(prompts) == 1:
            merged: GenerationChunk | None = None
            async for chunk in self._astream(prompts[0], stop, run_manager, **kwargs):
                merged = chunk if merged is None else merged + chunk
            if merged is None:
                raise ValueError("the stream returned no chunks")
            return LLMResult(generations=[[merged]])
        limit = asyncio.Semaphore(_MAX_CONCURRENCY)

        async def one(prompt: str, manager: AsyncCallbackManagerForLLMRun | None) -> Completion:
            call = await self._abuild_call(
                prompt, stop, dict(kwargs), manager if manager is not None else NO_RUN
            )
            async with limit:
                try:
                    return await self.async_client.send_call(call)
                except PortkeyError as exc:
                    raise_langchain_error(exc)

        # LangChain hands ``_agenerate`` the first prompt's run only: the others go untraced.
        managers = [run_manager] + [None] * (len(prompts) - 1)
        completions = await asyncio.gather(
            *(one(p, m) for p, m in zip(prompts, managers, strict=True))
        )
        return self._result(list(completions))

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        call_kwargs = self._stream_kwargs(dict(kwargs), kwargs.get("stream_usage"))
        return stream_chunks(self, prompt, stop, call_kwargs, run_manager, TextChunks)

    def _astream(  # an async generator, returned as it is (see astream_chunks)
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        call_kwargs = self._stream_kwargs(dict(kwargs), kwargs.get("stream_usage"))
        return astream_chunks(self, prompt, stop, call_kwargs, run_manager, TextChunks)


# BaseLLM inspects ``_generate``'s signature on every call (does it take a
# run_manager?); a precomputed signature makes that lookup cheap.
for _method in (PortkeyPromptLLM._generate, PortkeyPromptLLM._agenerate):
    _method.__signature__ = inspect.signature(_method)  # type: ignore[union-attr]
