"""Templates no prompt serves: LlamaIndex's own render, sent to the OpenAI-compatible route.

A refine, summary or condense step on a model whose ``prompt_id`` does not fit it is
rendered locally and run through ``/chat/completions`` (``/completions`` when the saved
prompt is a text prompt) with the saved prompt's model and parameters, or ``model=``.
The call carries routing, as Portkey requires on those routes: the model's own
``provider`` / ``config`` / ``virtual_key``, else the virtual key saved on the prompt,
else a model string naming an integration (``@openai-prod/gpt-4o``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.generic_utils import messages_to_prompt
from llama_index.core.base.llms.types import ChatMessage

from .._call import Call
from .._errors import PromptMappingError
from .._options import RequestOptions
from ._messages import to_openai_messages

if TYPE_CHECKING:
    from .._templates.cache import PromptTemplate
    from ._routing import TemplateRoute
    from .base import PortkeyLLMBase

__all__ = ["has_routing", "local_call"]

# Saved prompt fields that are not request parameters.
_NOT_PARAMS = frozenset({"model", "stream", "messages", "prompt"})


def has_routing(llm: PortkeyLLMBase, model: str | None) -> bool:
    """Whether a gateway call from ``llm`` says where to go without help."""
    return bool(
        llm.provider
        or llm.config
        or llm.virtual_key is not None
        or (model is not None and model.startswith("@") and "/" in model)
    )


def _how_to_map(route: TemplateRoute) -> str:
    return f"prompt_ids={{{route.template_type!r}: 'pp-...'}}"


def _lost(llm: PortkeyLLMBase, route: TemplateRoute, why: str, fix: str) -> PromptMappingError:
    # Not a ValueError: LlamaIndex's Refine and programs catch those and answer from
    # what they had, so this template's content would vanish from the answer silently.
    return PromptMappingError(
        f"LlamaIndex's {route.template_type!r} template cannot reach the model: {why}. Fix: {fix}",
        prompt_id=llm.full_prompt_id,
        piece=f"{route.template_type} template",
        fix=fix,
    )


def local_call(
    llm: PortkeyLLMBase,
    route: TemplateRoute,
    *,
    messages: Sequence[ChatMessage] | None,
    prompt: str,
    params: Mapping[str, Any],
    saved: PromptTemplate | None,
    options: RequestOptions | None,
) -> Call:
    """The call of a locally rendered template (see the module); ``options`` are the
    call's own, over the prompt's virtual key when that is its routing."""
    model = llm.model or (saved.model if saved is not None else None)
    if model is None:
        where = (
            f"the model saved on prompt {llm.full_prompt_id!r} could not be read"
            if llm.full_prompt_id
            else "the model has no prompt_id"
        )
        raise _lost(
            llm,
            route,
            f"it has no Portkey prompt and {where}",
            f"map it to a prompt ({_how_to_map(route)}) or pass model=... to render it "
            "locally on that model",
        )
    body: dict[str, Any] = {}
    if saved is not None:
        body.update({k: v for k, v in saved.parameters.items() if k not in _NOT_PARAMS})
    if not has_routing(llm, model):
        if saved is None or not saved.virtual_key:
            raise _lost(
                llm,
                route,
                f"it has no Portkey prompt, so it runs rendered on the gateway route with "
                f"model {model!r}, which needs routing",
                "set provider=, config= or virtual_key= on the model, save a virtual key on "
                f"prompt {llm.full_prompt_id!r}, or map it ({_how_to_map(route)})",
            )
        key = RequestOptions.make(virtual_key=saved.virtual_key)
        options = key if options is None else key.merged(options)
    body["model"] = model
    body.update(llm.merge_params(params))
    if saved is not None and saved.kind == "text":
        text = messages_to_prompt(messages) if messages is not None else prompt
        return Call(prompt=text, params=body, options=options)
    openai = (
        to_openai_messages(messages)
        if messages is not None
        else [{"role": "user", "content": prompt}]
    )
    return Call(messages=openai, params=body, options=options)
