"""A Portkey prompt as a LlamaIndex prompt template, online or from a pulled folder.

:func:`pull_prompt` returns a ``ChatPromptTemplate`` (chat prompts) or a
``PromptTemplate`` (text prompts) whose formatting is Portkey's own render: partials
resolved, quotes kept, sections over lists, dotted names. ``template_vars`` come from
the template analysis and ``metadata`` names the prompt and the version pulled. It
drops in wherever LlamaIndex takes a template::

    from portkey_integrations.llama_index import pull_prompt

    engine.update_prompts({"response_synthesizer:text_qa_template": pull_prompt("pp-qa")})

``include_model=True`` returns a :class:`PulledPrompt` ``(template, llm)``: the template
and a :class:`PortkeyChatModel` (or :class:`PortkeyPromptLLM` for text prompts) on the
direct route with the saved model and hyperparameters, routed by the saved virtual key.

LlamaIndex has no ``with_fallbacks``; :func:`predict_with_fallback` is the recipe for
when Portkey is unreachable: the primary model (on the prompt id) answers, and on a
connection error a backup model answers with the template from a pulled folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, overload

from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    ImageBlock,
    TextBlock,
)
from llama_index.core.llms import LLM
from llama_index.core.prompts import BasePromptTemplate, ChatPromptTemplate, PromptTemplate
from pydantic import PrivateAttr

from .._adapters.templates import (
    fallback_metadata,
    field_names,
    model_options,
    pull_template,
)
from .._errors import APIConnectionError
from .._templates.sources import PulledTemplate
from .._templates.template import PortkeyTemplate

__all__ = [
    "PortkeyChatPromptTemplate",
    "PortkeyTextPromptTemplate",
    "PulledPrompt",
    "apredict_with_fallback",
    "predict_with_fallback",
    "pull_prompt",
]


def _block(part: Any) -> TextBlock | ImageBlock:
    if isinstance(part, dict) and part.get("type") == "image_url":
        image = part.get("image_url")
        url, detail = (
            (image.get("url"), image.get("detail")) if isinstance(image, dict) else (image, None)
        )
        return ImageBlock(url=url, detail=detail)
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return TextBlock(text=part["text"])
    return TextBlock(text=json.dumps(part, ensure_ascii=False))


def _message(data: dict[str, Any]) -> ChatMessage:
    """An OpenAI message dict, as Portkey renders it, as a LlamaIndex ``ChatMessage``:
    content parts become blocks, the other keys (``tool_calls``, ``tool_call_id``,
    ``name``) ``additional_kwargs``, where the models read them back."""
    extra = {k: v for k, v in data.items() if k not in ("role", "content")}
    role, content = data.get("role", "user"), data.get("content")
    if isinstance(content, list):
        blocks: list[Any] = [_block(part) for part in content]
        return ChatMessage(role=role, blocks=blocks, additional_kwargs=extra)
    return ChatMessage(role=role, content=content, additional_kwargs=extra)


def _values(prompt: BasePromptTemplate, kwargs: dict[str, Any]) -> dict[str, Any]:
    # As LlamaIndex's own format: bound values, then function mappings (computed from
    # those values), then variable mappings.
    values: dict[str, Any] = {**prompt.kwargs, **kwargs}
    functions = prompt.function_mappings or {}
    values.update({name: fn(**values) for name, fn in functions.items()})
    mappings = prompt.template_var_mappings or {}
    return {mappings.get(name, name): value for name, value in values.items()}


class _Pulled:
    """What both LlamaIndex template classes add: the pulled source and its metadata."""

    _pulled: PulledTemplate

    @property
    def pulled(self) -> PulledTemplate:
        """Where the template comes from (a pulled folder, or the prompt API's cache)."""
        return self._pulled

    @property
    def portkey_template(self) -> PortkeyTemplate:
        """The current copy of the saved prompt (the core template object)."""
        return self._pulled.last

    def _current(self) -> PortkeyTemplate:
        template = self._pulled.current()
        metadata: dict[str, Any] = self.metadata  # type: ignore[attr-defined]
        metadata.update(template.metadata)  # a refreshed copy may hold another version
        return template


# The pydantic plugin trips on the base's field named "kwargs" beside **kwargs.
class PortkeyChatPromptTemplate(_Pulled, ChatPromptTemplate):  # type: ignore[no-redef]
    """A Portkey chat prompt as a LlamaIndex ``ChatPromptTemplate``, formatted by
    Portkey's render. Build it with :func:`pull_prompt`."""

    _pulled: PulledTemplate = PrivateAttr()

    def __init__(self, pulled: PulledTemplate, **options: Any) -> None:
        """``options`` as ``ChatPromptTemplate``'s, but for ``message_templates``."""
        super().__init__(message_templates=[], **options)
        self._pulled = pulled
        self.template_vars = list(pulled.last.variables)

    def format_messages(self, llm: BaseLLM | None = None, **variables: Any) -> list[ChatMessage]:
        """The messages Portkey renders for these variables."""
        rendered = self._current().render_messages(_values(self, variables))
        messages = [_message(item) for item in rendered]
        if self.output_parser is not None:
            messages = self.output_parser.format_messages(messages)
        return messages

    def get_template(self, llm: BaseLLM | None = None) -> str:
        """The saved template text."""
        return self._pulled.last.template


class PortkeyTextPromptTemplate(_Pulled, PromptTemplate):  # type: ignore[no-redef]
    """A Portkey text prompt as a LlamaIndex ``PromptTemplate``, formatted by Portkey's
    render. Build it with :func:`pull_prompt`."""

    _pulled: PulledTemplate = PrivateAttr()

    def __init__(self, pulled: PulledTemplate, **options: Any) -> None:
        """``options`` as ``PromptTemplate``'s, but for ``template`` (the saved text)."""
        super().__init__(pulled.last.template, **options)
        self._pulled = pulled
        self.template_vars = list(pulled.last.variables)

    def format(
        self, llm: BaseLLM | None = None, completion_to_prompt: Any = None, **variables: Any
    ) -> str:
        """The text Portkey renders for these variables."""
        text = self._current().render_text(_values(self, variables))
        if self.output_parser is not None:
            text = self.output_parser.format(text)
        return completion_to_prompt(text) if completion_to_prompt is not None else text


class PulledPrompt(NamedTuple):
    """``pull_prompt(..., include_model=True)``: the template and the saved model."""

    template: PortkeyChatPromptTemplate | PortkeyTextPromptTemplate
    llm: LLM


def template_for(pulled: PulledTemplate) -> PortkeyChatPromptTemplate | PortkeyTextPromptTemplate:
    """The LlamaIndex template over a pulled Portkey template."""
    cls = PortkeyChatPromptTemplate if pulled.last.kind == "chat" else PortkeyTextPromptTemplate
    return cls(pulled, metadata=dict(pulled.last.metadata))


@overload
def pull_prompt(
    prompt_id: str,
    *,
    folder: str | Path | None = ...,
    include_model: Literal[False] = ...,
    **client_options: Any,
) -> PortkeyChatPromptTemplate | PortkeyTextPromptTemplate: ...
@overload
def pull_prompt(
    prompt_id: str,
    *,
    folder: str | Path | None = ...,
    include_model: Literal[True],
    **client_options: Any,
) -> PulledPrompt: ...
def pull_prompt(
    prompt_id: str,
    *,
    folder: str | Path | None = None,
    include_model: bool = False,
    **client_options: Any,
) -> PortkeyChatPromptTemplate | PortkeyTextPromptTemplate | PulledPrompt:
    """A Portkey prompt as a LlamaIndex template (chat or text).

    ``prompt_id`` is ``pp-x``, ``pp-x@3``, ``pp-x@latest`` or ``pp-x@production``.
    With ``folder``, the prompt is read from a folder written by ``portkey-prompts pull``
    (no network); otherwise through the prompt API with ``client_options``, cached with a
    TTL and refreshed in the background. ``include_model=True`` returns
    ``PulledPrompt(template, llm)``.
    """
    template = template_for(pull_template(prompt_id, folder, client_options))
    if not include_model:
        return template
    saved = template.portkey_template
    llm: LLM
    if isinstance(template, PortkeyChatPromptTemplate):
        from .chat_models import PortkeyChatModel

        llm = PortkeyChatModel(
            **model_options(saved, client_options, field_names(PortkeyChatModel))
        )
    else:
        from .llms import PortkeyPromptLLM

        llm = PortkeyPromptLLM(
            **model_options(saved, client_options, field_names(PortkeyPromptLLM))
        )
    return PulledPrompt(template, llm)


def _fallback_answer(text: str, template: Any) -> CompletionResponse:
    extra = fallback_metadata(template.portkey_template) if isinstance(template, _Pulled) else {}
    return CompletionResponse(text=text, additional_kwargs=extra)


def predict_with_fallback(
    primary: LLM,
    template: PortkeyChatPromptTemplate | PortkeyTextPromptTemplate,
    backup: LLM,
    *,
    errors: Sequence[type[BaseException]] = (APIConnectionError,),
    **variables: Any,
) -> CompletionResponse:
    """``primary.predict(template, **variables)``, else, on one of ``errors``,
    ``backup.predict(template, **variables)``.

    ``primary`` is typically a model on the prompt id (its variables go to Portkey);
    ``template`` a :func:`pull_prompt` over a pulled folder, rendered locally for the
    backup. The answer's ``additional_kwargs`` carry the prompt's metadata and
    ``portkey_fallback: True`` when the backup answered.
    """
    try:
        return CompletionResponse(text=primary.predict(template, **variables))
    except tuple(errors):
        return _fallback_answer(backup.predict(template, **variables), template)


async def apredict_with_fallback(
    primary: LLM,
    template: PortkeyChatPromptTemplate | PortkeyTextPromptTemplate,
    backup: LLM,
    *,
    errors: Sequence[type[BaseException]] = (APIConnectionError,),
    **variables: Any,
) -> CompletionResponse:
    """Async :func:`predict_with_fallback`."""
    try:
        return CompletionResponse(text=await primary.apredict(template, **variables))
    except tuple(errors):
        return _fallback_answer(await backup.apredict(template, **variables), template)
