"""What both LlamaIndex models share: planning a call and the eight call methods.

:class:`PortkeyLLMBase` is a LlamaIndex ``LLM`` (with the template pass-through of
:mod:`._predict`) and a :class:`PortkeySettings`. Each public call method is
instrumented by LlamaIndex's callbacks and delegates to its private twin, which plans
one typed :class:`~portkey_integrations._call.Call` (:meth:`PortkeyLLMBase._call`: a
template's route, the prompt route, or the model's own route) and hands it to the
client; :mod:`._responses` turns what comes back into LlamaIndex responses. The
subclasses decide only what a call without a ``prompt_id`` sends (chat messages or a
text prompt) and what their metadata says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.prompts import BasePromptTemplate
from pydantic import Field, PrivateAttr

from .._adapters.settings import PortkeySettings
from .._call import Call, direct_call, prompt_call
from .._options import SECRET_OPTIONS
from ._messages import to_openai_messages
from ._models import llm_metadata, max_tokens, seen_prompt
from ._predict import TEMPLATE_VARIABLES, TemplatePassThrough
from ._responses import (
    ChatStream,
    CompletionStream,
    aiter_stream,
    chat_response,
    completion_response,
    iter_stream,
)
from ._routing import (
    TEMPLATE_ROUTE,
    TemplateRoute,
    check_prompt_ids,
    plan_template,
    recognise_formatted,
)
from ._tracing import announce, call_options, install_spans

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate

__all__ = ["TEMPLATE_VARIABLES", "PortkeyLLMBase"]

_Kwargs = dict[str, Any]
_Msgs = Sequence[ChatMessage] | None
_Saved: TypeAlias = "PromptTemplate | None"


class PortkeyLLMBase(PortkeySettings, TemplatePassThrough):
    """Shared base of :class:`PortkeyChatModel` and :class:`PortkeyPromptLLM`.

    Per-call keywords of every call method: ``variables=`` (merged over the variables
    derived from the messages, prompt routes only), ``template_variables=`` (replacing
    them), ``options=`` (a :class:`~portkey_integrations.RequestOptions` for this call's
    headers); every other keyword is a hyperparameter at the request body's root::

        llm.chat(messages, variables={"tone": "dry"}, temperature=0, seed=7)
    """

    prompt_ids: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Portkey prompt ids by LlamaIndex template type ('refine', 'summary', "
            "'tree_summarize', 'condense', 'context', ...), beside prompt_id."
        ),
    )
    """Portkey prompt ids by LlamaIndex template type, for the templates ``prompt_id``
    does not serve (``{"refine": "pp-refine", "condense": "pp-condense"}``)."""
    context_window: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Context window in tokens; by default that of model=, else of the prompt's "
            "saved model once a call has read it, else LlamaIndex's default."
        ),
    )
    """Tokens LlamaIndex may fill; by default the window of ``model=``, else of the
    prompt's saved model once a call has read it, else LlamaIndex's default."""
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Sent at the request body's root on every call (call keywords win).",
    )
    """Body keys sent on every call, at the root (call keywords win)."""
    chat_model: ClassVar[bool] = False
    """A chat model (``metadata.is_chat_model``); :class:`PortkeyChatModel` is one."""
    stream_usage: bool = Field(
        default=True,
        description="Ask for a usage chunk at the end of streams (stream_options).",
    )
    """Ask for a usage chunk at the end of streams (``stream_options``)."""

    # What metadata was built from that a field assignment does not reset (the saved
    # template, the max tokens in ``model_kwargs``, a dict changed in place), and the
    # metadata (see ``metadata``).
    _metadata: tuple[PromptTemplate | None, int | None, LLMMetadata] | None = PrivateAttr(
        default=None
    )

    def __init__(self, **data: Any) -> None:
        # Checked before pydantic, which would wrap the error in a ValidationError.
        check_prompt_ids(data.get("prompt_ids") or {})
        super().__init__(**data)
        install_spans()  # the first model built hooks the tracing in, never an import

    # -- what a call without a prompt id sends ------------------------------------------

    def _direct_messages(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        raise NotImplementedError

    def _direct_prompt(self, prompt: str, formatted: bool) -> dict[str, Any]:
        raise NotImplementedError

    # -- metadata ---------------------------------------------------------------------

    @property
    def metadata(self) -> LLMMetadata:
        """Context window, room for the answer, chat or text, tool support; no I/O
        (see :func:`._models.llm_metadata`). The same object until a field changes or a
        call reads another saved version: LlamaIndex reads it on every call."""
        saved, limit = seen_prompt(self), max_tokens(self.model_kwargs)
        private = self.__pydantic_private__  # not self._metadata: see _ensure_clients
        memo: tuple[PromptTemplate | None, int | None, LLMMetadata] | None
        memo = private["_metadata"]  # type: ignore[index]
        if memo is not None and memo[0] is saved and memo[1] == limit:
            return memo[2]
        metadata = llm_metadata(self, saved)
        private["_metadata"] = (saved, limit, metadata)  # type: ignore[index]
        return metadata

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            self._metadata = None  # the next read builds it from the fields

    # -- request and response plumbing --------------------------------------------------

    def _template_ref(
        self, kwargs: dict[str, Any], messages: Sequence[ChatMessage] | None, prompt: str
    ) -> str | None:
        """The prompt whose saved template this call needs (a local render's model, the
        check of content parts). On the way, the call's template route lands in
        ``kwargs``: the one a ``predict`` left for it, or a formatted built-in template
        recognised in ``prompt``."""
        self._take_pending(kwargs)
        route = kwargs.get(TEMPLATE_ROUTE)
        if route is None and messages is None and TEMPLATE_VARIABLES not in kwargs:
            route = recognise_formatted(self, prompt)
            if route is not None:
                kwargs[TEMPLATE_ROUTE] = route
        if route is not None:
            # A local render needs the saved model; a prompt route, the slots its
            # template has for what the route carries (read once per process).
            return self.full_prompt_id if route.prompt_id is None else route.prompt_id
        # The conversation's slots are checked against the saved template (read once
        # per process, as the variables check does), unless checks are off.
        conversation = self.full_prompt_id is not None and TEMPLATE_VARIABLES not in kwargs
        if conversation and self.mapping_check != "off":
            return self.full_prompt_id
        return None

    def _saved_for(self, kwargs: _Kwargs, messages: _Msgs = None, text: str = "") -> _Saved:
        ref = self._template_ref(kwargs, messages, text)
        return None if ref is None else self.client._prompt_template(ref)

    async def _asaved_for(self, kwargs: _Kwargs, messages: _Msgs = None, text: str = "") -> _Saved:
        ref = self._template_ref(kwargs, messages, text)
        return None if ref is None else await self.async_client._aprompt_template(ref)

    def _call(
        self,
        kwargs: dict[str, Any],
        *,
        stream: bool,
        messages: Sequence[ChatMessage] | None = None,
        prompt: str = "",
        formatted: bool = False,
        saved: PromptTemplate | None = None,
    ) -> Call:
        """The typed call of one call method; ``kwargs`` is that method's own dict, from
        which the package's keywords are taken (the rest are body parameters)."""
        call_variables = kwargs.pop("variables", None)
        template = kwargs.pop(TEMPLATE_VARIABLES, None)
        route: TemplateRoute | None = kwargs.pop(TEMPLATE_ROUTE, None)
        options = call_options(self, kwargs.pop("options", None))
        params = {**self.additional_kwargs, **kwargs}
        if stream and self.stream_usage:
            params.setdefault("stream_options", {"include_usage": True})
        if route is not None and route.prompt_id is None:
            from ._conserve import local_call  # a template rendered here: only some calls

            call = local_call(
                self,
                route,
                messages=messages,
                prompt=prompt,
                params=params,
                saved=saved,
                options=options,
            )
        elif route is not None:
            from ._conserve import fit_variables  # the prompt route's checks: loaded once

            call = prompt_call(
                self,
                prompt_id=route.prompt_id,
                input_variables=fit_variables(self, route, saved),
                call_variables=call_variables,
                params={**route.structured, **params},
                options=options,
                mapped=route.pieces,  # judged by fit_variables: no second warning
                template=saved,  # read for route.prompt_id: the core reads it no more
            )
        elif self.full_prompt_id is None:
            if messages is not None:
                target = self._direct_messages(messages)
            else:
                target = self._direct_prompt(prompt, formatted)
            call = direct_call(
                self,
                target,
                params=params,
                variables_given=bool(call_variables or template is not None),
                options=options,
            )
        else:
            mapped: frozenset[str] = frozenset()
            if template is None:
                openai = (
                    to_openai_messages(messages)
                    if messages is not None
                    else [{"role": "user", "content": prompt}]
                )
                template = self.messages_to_variables(openai)
                from ._conserve import check_conversation

                # The template was read unless checks are off (see _template_ref).
                trigger = bool(call_variables)  # the caller's own variables= (see there)
                mapped = check_conversation(self, saved, openai, trigger=trigger)
            call = prompt_call(
                self,
                input_variables=template,
                call_variables=call_variables,
                params=params,
                options=options,
                mapped=mapped,  # judged by the mapping rule: no second warning
                template=saved,  # read for full_prompt_id (or None: the core reads it)
            )
        announce(call)
        return call

    # -- the eight call methods: instrumented, each delegating to its private twin ------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Chat; a ``prompt_id`` turns the messages into prompt variables."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream a chat; each response carries the whole message so far."""
        return self._stream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt; with a ``prompt_id`` the prompt is the input variable."""
        return self._complete(prompt, formatted, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion; ``text`` is cumulative, ``delta`` the new text."""
        return self._stream_complete(prompt, formatted, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`, on the async client."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`."""
        return await self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        return await self._acomplete(prompt, formatted, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return await self._astream_complete(prompt, formatted, **kwargs)

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        saved = self._saved_for(kwargs, messages)
        call = self._call(kwargs, stream=False, messages=messages, saved=saved)
        return chat_response(self.client.send_call(call), call)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        saved = self._saved_for(kwargs, messages)
        call = self._call(kwargs, stream=True, messages=messages, saved=saved)
        return iter_stream(self.client, call, ChatStream)

    def _complete(self, prompt: str, formatted: bool, **kwargs: Any) -> CompletionResponse:
        saved = self._saved_for(kwargs, text=prompt)
        call = self._call(kwargs, stream=False, prompt=prompt, formatted=formatted, saved=saved)
        return completion_response(self.client.send_call(call), call)

    def _stream_complete(
        self, prompt: str, formatted: bool, **kwargs: Any
    ) -> CompletionResponseGen:
        saved = self._saved_for(kwargs, text=prompt)
        call = self._call(kwargs, stream=True, prompt=prompt, formatted=formatted, saved=saved)
        return iter_stream(self.client, call, CompletionStream)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        saved = await self._asaved_for(kwargs, messages)
        call = self._call(kwargs, stream=False, messages=messages, saved=saved)
        return chat_response(await self.async_client.send_call(call), call)

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        saved = await self._asaved_for(kwargs, messages)
        call = self._call(kwargs, stream=True, messages=messages, saved=saved)
        return aiter_stream(self.async_client, call, ChatStream)

    async def _acomplete(self, prompt: str, formatted: bool, **kwargs: Any) -> CompletionResponse:
        saved = await self._asaved_for(kwargs, text=prompt)
        call = self._call(kwargs, stream=False, prompt=prompt, formatted=formatted, saved=saved)
        return completion_response(await self.async_client.send_call(call), call)

    async def _astream_complete(
        self, prompt: str, formatted: bool, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        saved = await self._asaved_for(kwargs, text=prompt)
        call = self._call(kwargs, stream=True, prompt=prompt, formatted=formatted, saved=saved)
        return aiter_stream(self.async_client, call, CompletionStream)

    def _template_kwargs(
        self, prompt: BasePromptTemplate, prompt_args: dict[str, Any]
    ) -> dict[str, Any]:
        route = plan_template(self, prompt, prompt_args)
        return {TEMPLATE_ROUTE: route} if route is not None else {}

    # -- serialization ------------------------------------------------------------------

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """The model's settings without its secrets (API keys are never serialized)."""
        data = super().to_dict(**kwargs)
        for name in SECRET_OPTIONS:
            data.pop(name, None)
        return data
