"""A saved Portkey prompt as a template object that renders offline, exactly as Portkey.

:class:`PortkeyTemplate` holds one prompt version: its template text, kind, saved model,
parameters and virtual key, and the text of the partials it names. :meth:`~PortkeyTemplate.render`
runs the steps of Portkey's prompt routes (the local server's ``/render`` calls the same
functions): the variables are encoded as the client sends them (objects and lists the
template reads as sections, loops or dotted names stay JSON, others become JSON text),
each partial is rendered with the variables alone and escaped into a JSON string, the
template is rendered with Portkey's Mustache dialect, and a chat template's text is
parsed into messages.

The framework adapters build their own template types on this object; see
:mod:`.sources` for loading one from the prompt API or a pulled folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Literal

from .._errors import PromptRenderError
from .._request import encode_variables
from .jsvalues import js_stringify, js_to_string
from .mustache import MustacheError, RenderBudget, RenderLimitError, render, template_details

if TYPE_CHECKING:
    from .analysis import TemplateInfo

__all__ = ["PortkeyTemplate", "PromptRenderError", "Rendered", "render_prompt"]

Rendered = list[dict[str, Any]] | str
"""A rendered prompt: the messages of a chat template, the text of a text one."""


@lru_cache(maxsize=512)
def _partial_names(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # Read on every render (the local server renders per request): once per template.
    details = template_details(template)
    return tuple(details["partials"]), tuple(details["variablePartials"])


def _partial_texts(
    template: str,
    variables: Mapping[str, Any],
    partials: Mapping[str, str],
    budget: RenderBudget | None,
) -> dict[str, str]:
    # As Portkey: static partials, then the partials named by variables ({{>>name}}).
    static, by_variable = _partial_names(template)
    names: list[Any] = list(static)
    unset = [name for name in by_variable if name not in variables]
    if unset:
        raise PromptRenderError(f"Missing variable partials: {', '.join(unset)}", "partials")
    for name in by_variable:
        if variables[name] not in names:
            names.append(variables[name])
    # A variable may name anything (a number, a list): only strings name partials.
    texts = [(n, partials.get(n) if isinstance(n, str) else None) for n in names]
    missing = [js_to_string(n) for n, text in texts if text is None]
    if missing:
        raise PromptRenderError(f"Missing prompt partials: {', '.join(missing)}", "partials")
    # Pre-rendered without partials of their own, then escaped to sit in a JSON string.
    return {
        name: js_stringify(render(text, variables, {}, budget=budget))[1:-1]
        for name, text in texts
        if text is not None
    }


def render_prompt(
    template: str,
    kind: Literal["chat", "text"],
    variables: Mapping[str, Any],
    partials: Mapping[str, str],
    *,
    budget: RenderBudget | None = None,
) -> Rendered:
    """Render a saved template with wire-encoded ``variables`` as Portkey's prompt routes do.

    ``partials`` maps each partial reference (``pl-x``, ``pl-x@2``) to its template text
    (any ``Mapping``: the local server passes one that looks partials up in its store).
    Returns the messages (chat) or the text. Raises :class:`PromptRenderError` with
    Portkey's message for a missing partial, a template the renderer rejects, or a chat
    template that renders to invalid JSON; a render past ``budget`` raises
    :class:`~.mustache.RenderLimitError`.
    """
    try:
        texts = _partial_texts(template, variables, partials, budget)
        rendered = render(template, variables, texts, budget=budget)
    except RenderLimitError:
        raise
    except MustacheError as exc:
        raise PromptRenderError(f"Error in parsing prompt template: {exc}") from None
    if kind == "text":
        return rendered
    try:
        # strict=False keeps raw newlines of string variables, as Portkey does.
        messages = json.loads(rendered, strict=False)
    except json.JSONDecodeError as exc:
        raise PromptRenderError(str(exc), "json") from None  # Portkey's message, as is
    if not isinstance(messages, list):
        raise PromptRenderError("a chat template must render to a JSON array of messages", "json")
    return messages


@dataclass(frozen=True)
class PortkeyTemplate:
    """One saved prompt version, renderable offline exactly as Portkey renders it.

    Get one with :func:`~portkey_integrations.load_template` (the prompt API, cached) or
    :func:`~portkey_integrations.template_from_folder` (a folder written by
    ``portkey-prompts pull``); the LangChain and LlamaIndex ``pull_prompt`` wrap it.
    """

    prompt_id: str
    """The reference asked for (``pp-x``, ``pp-x@2``, ``pp-x@production``)."""
    template: str
    """The template text: a JSON messages array (chat) or plain text, with Mustache tags."""
    kind: Literal["chat", "text"]
    model: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """The saved hyperparameters (``temperature``, ``max_tokens``, ...)."""
    tools: list[Any] | None = None
    version: int | None = None
    """The version number this copy holds."""
    virtual_key: str | None = None
    partials: Mapping[str, str] = field(default_factory=dict)
    """The text of each partial the template names that could be had, by reference."""
    unresolved_partials: tuple[str, ...] = ()
    """Partials named in the template whose text was not fetched."""
    source: Literal["api", "folder"] = "api"
    """Where this copy came from: the prompt API or a pulled folder."""

    @property
    def info(self) -> TemplateInfo | None:
        """What the template and its partials read (``None`` if it cannot be analysed);
        see :class:`~portkey_integrations._templates.analysis.TemplateInfo`."""
        from .checks import template_info

        return template_info(self)

    @property
    def id(self) -> str:
        """The prompt id, without the version selector."""
        return self.prompt_id.partition("@")[0]

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """Every variable the template (with its partials) reads, in order of use."""
        info = self.info
        return info.names if info is not None else ()

    @cached_property
    def input_variables(self) -> tuple[str, ...]:
        """The variables read as a value outside every section: missing, they render empty."""
        info = self.info
        return info.required if info is not None else ()

    @cached_property
    def optional_variables(self) -> tuple[str, ...]:
        """The variables read only as sections or inside them."""
        required = set(self.input_variables)
        return tuple(name for name in self.variables if name not in required)

    @property
    def metadata(self) -> dict[str, Any]:
        """What a trace needs to link to this version: id, reference, version, source."""
        return {
            "portkey_prompt_id": self.id,
            "portkey_prompt_ref": self.prompt_id,
            "portkey_prompt_version": self.version,
            "portkey_prompt_source": self.source,
        }

    def wire_variables(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """``variables`` as the client sends them (the same for every template)."""
        return encode_variables(variables)

    def render(self, variables: Mapping[str, Any] | None = None, /, **more: Any) -> Rendered:
        """The messages (chat) or text Portkey would render for these variables."""
        values = {**(variables or {}), **more}
        return render_prompt(self.template, self.kind, self.wire_variables(values), self.partials)

    def render_messages(
        self, variables: Mapping[str, Any] | None = None, /, **more: Any
    ) -> list[dict[str, Any]]:
        """:meth:`render` for a chat template (a text one becomes one user message)."""
        rendered = self.render(variables, **more)
        return [{"role": "user", "content": rendered}] if isinstance(rendered, str) else rendered

    def render_text(self, variables: Mapping[str, Any] | None = None, /, **more: Any) -> str:
        """:meth:`render` for a text template; a chat template is an error here."""
        rendered = self.render(variables, **more)
        if not isinstance(rendered, str):
            raise PromptRenderError(f"prompt {self.prompt_id!r} is a chat prompt, not text")
        return rendered

    def model_params(self) -> dict[str, Any]:
        """The saved model, hyperparameters and tools, as a direct call sends them."""
        params: dict[str, Any] = {
            k: v for k, v in self.parameters.items() if k not in ("stream", "model")
        }
        if self.model:
            params["model"] = self.model
        if self.tools:
            params["tools"] = list(self.tools)
        return params
