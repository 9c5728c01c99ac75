"""Constructor keywords that are no field of a Portkey model class.

:func:`route_unknown_keywords` never drops one: ``ChatOpenAI``'s own keywords are
translated (below), a near miss of a field name raises, anything else is warned about
and sent as a hyperparameter (``model_kwargs``).

Code written for ``ChatOpenAI`` (or ``OpenAIEmbeddings``) passes keywords the Portkey
classes name differently. Each one is renamed to its Portkey field, merged, or refused
with a :class:`PortkeyConfigError` naming the Portkey field (or saying it is
unsupported); none of them is ever sent as a body key, where a key would leak into the
request body and a flag would be ignored by the provider.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel

from .._errors import PortkeyConfigError

__all__ = [
    "OPENAI_REFUSED",
    "OPENAI_RENAMED",
    "route_unknown_keywords",
    "translate_openai_keywords",
]

OPENAI_RENAMED: dict[str, str] = {
    "openai_api_key": "provider_api_key",
    "model_name": "model",
}
"""ChatOpenAI's keyword -> the Portkey field that means the same."""

_RESPONSES = "the Responses API is not supported: Portkey prompts run on chat completions"
_AZURE = "use provider='azure-openai' (or a config) and custom_host"
_OWN_CONNECTION = (
    "not supported: the model builds its own connection (set timeout, connect_timeout, "
    "max_retries; proxies come from HTTPS_PROXY)"
)

OPENAI_REFUSED: dict[str, str] = {
    "use_responses_api": _RESPONSES,
    "use_previous_response_id": _RESPONSES,
    "default_query": (
        "query parameters are not supported on Portkey's routes: use default_headers or config"
    ),
    "openai_api_base": "use base_url for Portkey's URL and custom_host for the provider's",
    "openai_organization": "use default_headers={'OpenAI-Organization': ...}",
    "openai_proxy": _OWN_CONNECTION,
    "http_client": _OWN_CONNECTION,
    "http_async_client": _OWN_CONNECTION,
    "tiktoken_model_name": "not supported: token counts come from the response's usage",
    "include_response_headers": (
        "not supported: Portkey's response headers are in response_metadata"
    ),
    "disabled_params": "not supported: pass only the parameters to send",
    "openai_api_type": _AZURE,
    "openai_api_version": _AZURE,
    "azure_endpoint": _AZURE,
    "azure_deployment": _AZURE,
    "azure_ad_token": _AZURE,
}
"""ChatOpenAI-only keywords with no Portkey field, and what to use instead."""


def translate_openai_keywords(
    owner: str, known: Collection[str], data: Mapping[str, Any], unknown: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """``data`` with ChatOpenAI's keywords among ``unknown`` (keywords that are no field
    of the class ``owner``) renamed, ``extra_body`` merged into ``model_kwargs``, and the
    refused ones raising; returns the new data and the keywords still unknown."""
    out = dict(data)
    rest: list[str] = []
    for key in unknown:
        target = OPENAI_RENAMED.get(key)
        if target is not None and target in known:
            value = out.pop(key)
            if out.get(target) is not None and out[target] != value:
                raise PortkeyConfigError(
                    f"{owner} got both {key}= and {target}=: pass {target}= only "
                    f"({key} is ChatOpenAI's name for it)"
                )
            out[target] = value
        elif key == "extra_body":
            out["model_kwargs"] = _merge_extra_body(owner, out.pop(key), out.get("model_kwargs"))
        elif key in OPENAI_REFUSED:
            raise PortkeyConfigError(f"{owner} does not take {key}=: {OPENAI_REFUSED[key]}")
        else:
            rest.append(key)
    return out, rest


def _merge_extra_body(owner: str, extra: Any, model_kwargs: Any) -> dict[str, Any]:
    if extra is None:
        return dict(model_kwargs or {})
    if not isinstance(extra, Mapping):
        raise PortkeyConfigError(
            f"{owner}'s extra_body must be a dict of body keys, got {type(extra).__name__}"
        )
    merged = dict(model_kwargs or {})
    for name, value in extra.items():
        if name in merged and merged[name] != value:
            raise PortkeyConfigError(
                f"{owner} got {name!r} in both extra_body and model_kwargs with different "
                "values: pass it once"
            )
        merged[name] = value
    return merged


def route_unknown_keywords(cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """A constructor keyword that is no field is never dropped: a near miss of a field
    name raises, anything else is warned about and sent as a hyperparameter (as
    ``ChatOpenAI`` does with ``model_kwargs``)."""
    known: set[str] = set()
    for name, info in cls.model_fields.items():
        known.add(name)
        if info.alias:
            known.add(info.alias)
    unknown = [key for key in data if key not in known]
    if not unknown:
        return data
    # ChatOpenAI's own keywords: renamed to their Portkey field, merged or refused.
    data, unknown = translate_openai_keywords(cls.__name__, known, data, unknown)
    if not unknown:
        return data
    import difflib  # only unknown keywords need it: not part of the import

    extra = dict(data.get("model_kwargs") or {})
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
        if close:
            raise PortkeyConfigError(
                f"{cls.__name__} got an unknown keyword {key!r}; did you mean {close[0]!r}? "
                "(other hyperparameters go in model_kwargs)"
            )
        warnings.warn(
            f"{key!r} is not a field of {cls.__name__}: it was moved to model_kwargs and "
            "is sent at the request body's root",
            UserWarning,
            stacklevel=4,
        )
        extra[key] = data.pop(key)
    data["model_kwargs"] = extra
    return data
