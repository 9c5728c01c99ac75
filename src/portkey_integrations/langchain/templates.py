"""A Portkey prompt as a LangChain prompt template, online or from a pulled folder.

:func:`pull_prompt` returns a ``ChatPromptTemplate`` (chat prompts) or a
``PromptTemplate`` (text prompts) whose formatting is Portkey's own render: partials
resolved, quotes kept (not HTML-escaped), sections over lists, dotted names. Its
``input_variables`` come from the template analysis and its ``metadata`` names the
prompt and the version pulled, so a trace of ``prompt | model`` links to it::

    from portkey_integrations.langchain import PortkeyChatModel, pull_prompt

    prompt = pull_prompt("pp-support@production")
    chain = prompt | PortkeyChatModel(model="gpt-4o-mini", provider="openai")

When Portkey may be unreachable, keep a pulled folder as the fallback::

    primary = PortkeyChatModel(prompt_id="pp-support")
    offline = pull_prompt("pp-support", folder="prompts/")
    chain = primary.with_fallbacks([offline | backup_model | mark_fallback(offline)])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, overload

from langchain_core.messages import AIMessage, BaseMessage, convert_to_messages
from langchain_core.prompts import BasePromptTemplate, ChatPromptTemplate, PromptTemplate
from langchain_core.prompts.message import BaseMessagePromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._adapters.templates import (
    fallback_metadata,
    field_names,
    model_options,
    pull_template,
)
from .._templates.sources import PulledTemplate
from .._templates.template import PortkeyTemplate
from ._messages import openai_variables

__all__ = [
    "PortkeyChatPromptTemplate",
    "PortkeyMessages",
    "PortkeyTextPromptTemplate",
    "mark_fallback",
    "pull_prompt",
]


def _sync_metadata(prompt: BasePromptTemplate[Any], template: PortkeyTemplate) -> PortkeyTemplate:
    # A refreshed copy may hold another version: traces should name the one that ran.
    if prompt.metadata is not None:
        prompt.metadata.update(template.metadata)
    return template


def _rendered(template: PortkeyTemplate, values: dict[str, Any]) -> list[BaseMessage]:
    # Messages as variables go as the chat model sends them: OpenAI message dicts.
    return convert_to_messages(template.render_messages(openai_variables(values)))


class _Pulled:
    """What both prompt templates add over LangChain's: the live prompt source."""

    pulled: PulledTemplate

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Not serializable: it holds a live prompt source."""
        return False

    @property
    def portkey_template(self) -> PortkeyTemplate:
        """The current copy of the saved prompt (the core template object)."""
        return self.pulled.last


class PortkeyMessages(BaseMessagePromptTemplate):
    """The messages of a Portkey chat prompt as one message prompt, rendered by Portkey's
    render; it composes like any other (``pull_prompt(...) + ("human", "{more}")``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pulled: PulledTemplate = Field(exclude=True)
    """Where the template comes from (a pulled folder, or the prompt API's cache)."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Not serializable: it holds a live prompt source."""
        return False

    @property
    def input_variables(self) -> list[str]:
        """The variables read outside every section (the template analysis's)."""
        return list(self.pulled.last.input_variables)

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages Portkey renders for these variables."""
        return _rendered(self.pulled.current(), kwargs)

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Async :meth:`format_messages`."""
        return _rendered(await self.pulled.acurrent(), kwargs)

    def pretty_repr(self, html: bool = False) -> str:
        """The saved template text."""
        return self.pulled.last.template


class PortkeyChatPromptTemplate(_Pulled, ChatPromptTemplate):
    """A Portkey chat prompt as a ``ChatPromptTemplate``, formatted by Portkey's render.

    Build it with :func:`pull_prompt`. ``messages`` holds one :class:`PortkeyMessages`,
    which renders the saved template (``portkey_template.template``) on each format.
    """

    pulled: PulledTemplate = Field(exclude=True)
    """Where the template comes from (a pulled folder, or the prompt API's cache)."""

    @model_validator(mode="before")
    @classmethod
    def validate_input_variables(cls, values: Any) -> Any:
        """Keep the variables given (the template analysis's, optional ones apart)."""
        return values

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages Portkey renders for these variables."""
        _sync_metadata(self, self.pulled.current())
        return super().format_messages(**kwargs)

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Async :meth:`format_messages`."""
        _sync_metadata(self, await self.pulled.acurrent())
        return await super().aformat_messages(**kwargs)


class PortkeyTextPromptTemplate(_Pulled, PromptTemplate):
    """A Portkey text prompt as a ``PromptTemplate``, formatted by Portkey's render.

    Build it with :func:`pull_prompt`. ``template`` holds the saved text; formatting
    never uses LangChain's own Mustache (which drops partials and escapes quotes).
    """

    pulled: PulledTemplate = Field(exclude=True)
    """Where the template comes from (a pulled folder, or the prompt API's cache)."""

    @model_validator(mode="before")
    @classmethod
    def pre_init_validation(cls, values: Any) -> Any:
        """Keep the variables given (the template analysis's): ``PromptTemplate`` would
        recompute them with LangChain's Mustache, which knows nothing of partials."""
        return values

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """The schema of ``input_variables`` and ``optional_variables``, as for any
        template (not LangChain's Mustache schema of the text)."""
        return BasePromptTemplate.get_input_schema(self, config)

    def format(self, **kwargs: Any) -> str:
        """The text Portkey renders for these variables."""
        template = _sync_metadata(self, self.pulled.current())
        return template.render_text(
            openai_variables(self._merge_partial_and_user_variables(**kwargs))
        )

    async def aformat(self, **kwargs: Any) -> str:
        """Async :meth:`format`."""
        template = _sync_metadata(self, await self.pulled.acurrent())
        return template.render_text(
            openai_variables(self._merge_partial_and_user_variables(**kwargs))
        )


def template_for(pulled: PulledTemplate) -> PortkeyChatPromptTemplate | PortkeyTextPromptTemplate:
    """The LangChain template over a pulled Portkey template."""
    template = pulled.last
    common: dict[str, Any] = {
        "pulled": pulled,
        "input_variables": list(template.input_variables),
        "optional_variables": list(template.optional_variables),
        "metadata": dict(template.metadata),
    }
    if template.kind == "chat":
        return PortkeyChatPromptTemplate(messages=[PortkeyMessages(pulled=pulled)], **common)
    return PortkeyTextPromptTemplate(
        template=template.template, template_format="mustache", **common
    )


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
) -> Runnable[dict[str, Any], Any]: ...
def pull_prompt(
    prompt_id: str,
    *,
    folder: str | Path | None = None,
    include_model: bool = False,
    **client_options: Any,
) -> PortkeyChatPromptTemplate | PortkeyTextPromptTemplate | Runnable[dict[str, Any], Any]:
    """A Portkey prompt as a LangChain template: a ``ChatPromptTemplate`` for a chat
    prompt, a ``PromptTemplate`` for a text one.

    ``prompt_id`` is ``pp-x``, ``pp-x@3``, ``pp-x@latest`` or ``pp-x@production``.
    With ``folder``, the prompt is read from a folder written by ``portkey-prompts pull``
    (no network); otherwise through the prompt API with ``client_options`` (``api_key``,
    ``base_url``, ...), cached with a TTL and refreshed in the background.
    ``include_model=True`` returns ``prompt | model``: a :class:`PortkeyChatModel` (or
    :class:`PortkeyPromptLLM` for text) on the direct route with the saved model and
    hyperparameters, routed by the saved virtual key (``client_options`` win).
    """
    template = template_for(pull_template(prompt_id, folder, client_options))
    if not include_model:
        return template
    saved = template.portkey_template
    model: Runnable[Any, Any]
    if isinstance(template, PortkeyChatPromptTemplate):
        from .chat_models import PortkeyChatModel

        model = PortkeyChatModel(
            **model_options(saved, client_options, field_names(PortkeyChatModel))
        )
    else:
        from .llms import PortkeyPromptLLM

        model = PortkeyPromptLLM(
            **model_options(saved, client_options, field_names(PortkeyPromptLLM))
        )
    return template | model


def mark_fallback(prompt: BasePromptTemplate[Any]) -> Runnable[Any, Any]:
    """A step after a fallback model: the answer's ``response_metadata`` gets the pulled
    prompt's metadata and ``portkey_fallback: True`` (a text answer passes unchanged)."""
    source = getattr(prompt, "pulled", None)

    def mark(answer: Any) -> Any:
        if isinstance(answer, AIMessage) and isinstance(source, PulledTemplate):
            extra = fallback_metadata(source.last)
            return answer.model_copy(
                update={"response_metadata": {**answer.response_metadata, **extra}}
            )
        return answer

    return RunnableLambda(mark, name="mark_fallback")
