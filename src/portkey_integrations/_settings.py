"""The fields and call building both framework adapters share.

:class:`PortkeySettings` is a pydantic mixin: the LangChain and LlamaIndex models
inherit it beside their framework base, so every option has one name, one default and
one meaning, and a call's variables and hyperparameters are assembled in one place.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from ._client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncPortkeyClient,
    PortkeyClient,
)
from ._convert import conversation_variables
from ._errors import PortkeyConfigError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["GENERATION_FIELDS", "PortkeyCall", "PortkeySettings"]

# Fields sent as hyperparameters at the body's root when set.
GENERATION_FIELDS = (
    "model",
    "temperature",
    "max_tokens",
    "top_p",
    "stop",
    "n",
    "seed",
    "logprobs",
    "top_logprobs",
    "frequency_penalty",
    "presence_penalty",
    "response_format",
)

VariablesMapper = Callable[[Sequence[Mapping[str, Any]]], Mapping[str, Any]]


def _env_secret(name: str) -> Callable[[], SecretStr | None]:
    def factory() -> SecretStr | None:
        value = os.environ.get(name)
        return SecretStr(value) if value else None

    return factory


@dataclasses.dataclass(slots=True)
class PortkeyCall:
    """One prompt-route call, ready for the client: id, variables and hyperparameters."""

    prompt_id: str | None
    variables: dict[str, Any]
    raw_variables: frozenset[str]
    params: dict[str, Any]

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``PortkeyClient.complete`` / ``stream`` (prompt route)."""
        return {
            "prompt_id": self.prompt_id,
            "variables": self.variables,
            "raw_variables": self.raw_variables,
            **self.params,
        }


class PortkeySettings(BaseModel):
    """Options shared by every Portkey model class.

    Routing: ``prompt_id`` (``"pp-abc"``, ``"pp-abc@12"``, ``"pp-abc@production"``) with an
    optional ``prompt_version`` (a number or a label) runs that Portkey prompt; without
    it, models call the OpenAI-compatible chat or text route with ``model``.
    """

    model_config = ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)

    prompt_id: str | None = None
    """Portkey prompt id, optionally with ``@version`` or ``@label``."""
    prompt_version: int | str | None = None
    """Version number or label appended to ``prompt_id`` (``12``, ``"latest"``, a label)."""
    model: str | None = None
    """Model name; on prompt routes it overrides the prompt's saved model when set."""

    api_key: SecretStr | None = Field(default_factory=_env_secret("PORTKEY_API_KEY"))
    """Portkey API key; read from ``PORTKEY_API_KEY`` when not given."""
    base_url: str | None = None
    """Portkey base URL; ``PORTKEY_BASE_URL`` or ``https://api.portkey.ai/v1``."""
    virtual_key: SecretStr | None = None
    config: str | dict[str, Any] | None = None
    """A Portkey config id (``pc-...``) or an inline config dict."""
    provider: str | None = None
    provider_api_key: SecretStr | None = None
    """Sent as ``Authorization: Bearer ...`` with ``provider``."""
    custom_host: str | None = None
    trace_id: str | None = None
    portkey_metadata: dict[str, str] | None = None
    """Portkey request metadata (``x-portkey-metadata``): string values, 128 chars max."""
    cache_force_refresh: bool | None = None
    cache_namespace: str | None = None
    request_timeout: int | None = None
    """Gateway-side timeout in milliseconds (``x-portkey-request-timeout``)."""
    forward_headers: list[str] | None = None
    default_headers: dict[str, str] | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    """Read timeout in seconds."""
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | str | None = None
    n: int | None = None
    seed: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    response_format: dict[str, Any] | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Any other hyperparameter, sent at the body's root."""

    variables: dict[str, Any] = Field(default_factory=dict)
    """Prompt variables sent with every call; per-call variables win."""
    input_variable: str = "input"
    """The variable that receives a string input or the last user message's text."""
    history_variable: str | None = "chat_history"
    """The variable that receives the messages before the last user message (raw list)."""
    scratchpad_variable: str | None = "agent_scratchpad"
    """The variable that receives the messages after the last user message (tool calls
    and tool results of an agent loop), as a raw list."""
    variables_mapper: VariablesMapper | None = Field(default=None, exclude=True)
    """Replaces the default mapping of OpenAI-format messages to variables."""

    _clients: tuple[PortkeyClient, AsyncPortkeyClient] | None = PrivateAttr(default=None)
    _clients_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        # Clients hold connection pools and a lock, which cannot be copied: the copy
        # builds its own on first use.
        cls = type(self)
        fields = {name: copy.deepcopy(getattr(self, name), memo) for name in cls.model_fields}
        return cast("Self", cls.model_construct(_fields_set=set(self.model_fields_set), **fields))

    @property
    def full_prompt_id(self) -> str | None:
        """``prompt_id`` with ``prompt_version`` appended (unless the id already has one)."""
        if self.prompt_id is None:
            return None
        if self.prompt_version is None or "@" in self.prompt_id:
            return self.prompt_id
        return f"{self.prompt_id}@{self.prompt_version}"

    @property
    def prompt_ref(self) -> tuple[str, str | None] | None:
        """``(prompt id, version or label)`` for response metadata; the version is
        ``None`` for the published one (Portkey does not say which version ran)."""
        full = self.full_prompt_id
        if full is None:
            return None
        prompt_id, _, version = full.partition("@")
        return prompt_id, version or None

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "virtual_key": self.virtual_key,
            "config": self.config,
            "provider": self.provider,
            "provider_api_key": self.provider_api_key,
            "custom_host": self.custom_host,
            "trace_id": self.trace_id,
            "metadata": self.portkey_metadata,
            "cache_force_refresh": self.cache_force_refresh,
            "cache_namespace": self.cache_namespace,
            "request_timeout": self.request_timeout,
            "forward_headers": self.forward_headers,
            "default_headers": self.default_headers,
            "timeout": self.timeout,
            "connect_timeout": self.connect_timeout,
            "max_retries": self.max_retries,
        }

    def _ensure_clients(self) -> tuple[PortkeyClient, AsyncPortkeyClient]:
        clients = self._clients
        if clients is None:
            with self._clients_lock:
                clients = self._clients
                if clients is None:
                    kwargs = self._client_kwargs()
                    clients = (PortkeyClient(**kwargs), AsyncPortkeyClient(**kwargs))
                    self._clients = clients
        return clients

    @property
    def client(self) -> PortkeyClient:
        """The sync core client, built once from these settings."""
        return self._ensure_clients()[0]

    @property
    def async_client(self) -> AsyncPortkeyClient:
        """The async core client, built once from these settings."""
        return self._ensure_clients()[1]

    def default_params(self) -> dict[str, Any]:
        """The hyperparameters set on the model (``None`` fields left out)."""
        params = {name: getattr(self, name) for name in GENERATION_FIELDS}
        params = {k: v for k, v in params.items() if v is not None}
        params.update(self.model_kwargs)
        return _clean_stop(params)

    def merge_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The model's hyperparameters overridden by a call's."""
        merged = self.default_params()
        if params:
            merged.update(params)
            _clean_stop(merged)
        return merged

    def messages_to_variables(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Map OpenAI-format messages onto variables (the mapper, or the default rule)."""
        if self.variables_mapper is not None:
            return dict(self.variables_mapper(messages))
        return conversation_variables(
            messages,
            input_variable=self.input_variable,
            history_variable=self.history_variable,
            scratchpad_variable=self.scratchpad_variable,
        )

    def request_kwargs(
        self,
        target: Callable[[], Mapping[str, Any]],
        input_variables: Callable[[], Mapping[str, Any]],
        *,
        explicit_variables: bool = False,
        bound_variables: Mapping[str, Any] | None = None,
        call_variables: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for the core client's ``complete`` / ``stream``.

        With a ``prompt_id``: the prompt route, with ``input_variables()`` merged as in
        :meth:`build_call`. Without: the route ``target()`` names (``{"messages": ...}``
        or ``{"prompt": ...}``) with the merged hyperparameters; variables there are an
        error, since only prompts have them. Both are callables so that only the side
        in use is computed.
        """
        if self.full_prompt_id is None:
            if explicit_variables or call_variables or bound_variables or self.variables:
                raise PortkeyConfigError(
                    "prompt variables (a dict input or variables=...) need a prompt_id; "
                    "without one the model calls the OpenAI-compatible route"
                )
            request = self.merge_params(params)
            request.update(target())
            return request
        return self.build_call(
            input_variables=input_variables(),
            bound_variables=bound_variables,
            call_variables=call_variables,
            params=params,
        ).client_kwargs()

    def build_call(
        self,
        *,
        input_variables: Mapping[str, Any] | None = None,
        bound_variables: Mapping[str, Any] | None = None,
        call_variables: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> PortkeyCall:
        """Merge variables (model < input < bound < call) and hyperparameters
        (model fields < ``params``) for one prompt-route call."""
        variables = {**self.variables}
        for layer in (input_variables, bound_variables, call_variables):
            if layer:
                variables.update(layer)
        raw = frozenset(
            name
            for name in (self.history_variable, self.scratchpad_variable)
            if name is not None and isinstance(variables.get(name), list)
        )
        return PortkeyCall(
            prompt_id=self.full_prompt_id,
            variables=variables,
            raw_variables=raw,
            params=self.merge_params(params),
        )


def _clean_stop(params: dict[str, Any]) -> dict[str, Any]:
    # One stop string is a list of one; an empty one is no stop at all (as ChatOpenAI).
    if "stop" in params:
        stop = params["stop"]
        if not stop:
            del params["stop"]
        elif isinstance(stop, str):
            params["stop"] = [stop]
    return params
