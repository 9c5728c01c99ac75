"""The fields both framework adapters share.

:class:`PortkeyClientSettings` holds the connection and routing options, the same
names as the clients' (see :data:`~._options.OPTION_NAMES`), and builds the clients
from them. :class:`PortkeySettings` adds the prompt, its variables and the generation
parameters. The LangChain and LlamaIndex models inherit one of them beside their
framework base, so every option has one name, one default and one meaning. Building a
call from these fields is the job of :mod:`.._call` (``prompt_call`` and ``direct_call``).
"""

# No ``from __future__ import annotations`` here: pydantic would evaluate these fields'
# annotations from strings again for every model class built on them (~1 ms a class).
import copy
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_serializer,
    model_validator,
)

from .._client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncPortkeyClient,
    PortkeyClient,
)
from .._errors import PortkeyConfigError
from .._options import CONNECTION_OPTIONS, MODEL_FIELD_ALIASES, OPTION_NAMES, ClientOptions
from .._secrets import mask_config, mask_headers
from .convert import conversation_variables
from .keywords import route_unknown_keywords

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CLIENT_FIELDS", "GENERATION_FIELDS", "PortkeyClientSettings", "PortkeySettings"]

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

CLIENT_FIELDS: tuple[str, ...] = (
    *(MODEL_FIELD_ALIASES.get(name, name) for name in OPTION_NAMES),
    *CONNECTION_OPTIONS,
)
"""The model fields the clients are built from: every routing option and connection
setting, under the model's name for it."""

_CLIENT_ARGUMENT = {MODEL_FIELD_ALIASES.get(n, n): n for n in OPTION_NAMES}
_CLIENT_ARGUMENT["default_headers"] = "default_headers"

VariablesMapper = Callable[[Sequence[Mapping[str, Any]]], Mapping[str, Any]]


def _env_secret(name: str) -> Callable[[], SecretStr | None]:
    def factory() -> SecretStr | None:
        value = os.environ.get(name)
        return SecretStr(value) if value else None

    return factory


class PortkeyClientSettings(BaseModel):
    """Connection and routing options of every Portkey model class.

    The names are the clients' own, except ``portkey_metadata`` (``metadata`` belongs
    to the frameworks) and ``default_headers``.
    """

    # defer_build: the schema is built with the first instance of each model class, not
    # at import (~7 ms); subclasses inherit it.
    model_config = ConfigDict(
        protected_namespaces=(), arbitrary_types_allowed=True, defer_build=True
    )

    api_key: SecretStr | None = Field(default_factory=_env_secret("PORTKEY_API_KEY"))
    """Portkey API key; read from ``PORTKEY_API_KEY`` when not given."""
    base_url: str | None = None
    """Portkey base URL: ``PORTKEY_BASE_URL``, else ``https://api.portkey.ai/v1`` with a
    key; ``"local"`` is the embedded local server. With neither a key nor a URL the first
    call raises ``PortkeyConfigError``."""
    virtual_key: SecretStr | None = None
    """A Portkey virtual key (``x-portkey-virtual-key``)."""
    config: str | dict[str, Any] | None = None
    """A Portkey config id (``pc-...``) or an inline config dict."""
    provider: str | None = None
    """Provider slug or ``@integration`` (``x-portkey-provider``)."""
    provider_api_key: SecretStr | None = None
    """Sent as ``Authorization: Bearer ...`` with ``provider``."""
    custom_host: str | None = None
    """An OpenAI-compatible host for the provider (``x-portkey-custom-host``)."""
    trace_id: str | None = None
    """Portkey trace id (``x-portkey-trace-id``)."""
    portkey_metadata: dict[str, str] | None = None
    """Portkey request metadata (``x-portkey-metadata``): string values, 128 chars max."""
    cache_force_refresh: bool | None = None
    """Bypass and refresh Portkey's cache."""
    cache_namespace: str | None = None
    """Portkey cache namespace."""
    gateway_timeout_ms: int | None = None
    """Gateway-side timeout in milliseconds (``x-portkey-request-timeout``)."""
    forward_headers: list[str] | None = None
    """Header names the gateway forwards to the provider."""
    strict_open_ai_compliance: bool | None = None
    """``False`` lets provider-specific response fields through."""
    default_headers: dict[str, str] | None = None
    """Any other request headers."""
    timeout: float | None = DEFAULT_TIMEOUT
    """Read timeout in seconds."""
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT
    """Connect timeout in seconds."""
    max_retries: int = DEFAULT_MAX_RETRIES
    """Retries on connection errors, 408, 409, 429 and 5xx."""

    _clients: tuple[PortkeyClient, AsyncPortkeyClient] | None = PrivateAttr(default=None)
    _clients_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in CLIENT_FIELDS:
            # The connection follows the fields: the next call builds clients anew.
            self._clients = None

    def __copy__(self) -> "Self":
        copied = super().__copy__()
        # model_copy(update=...) writes the copy's fields after this: never share
        # clients built from the original's.
        object.__setattr__(copied, "__pydantic_private__", None)
        copied._init_private()
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> "Self":
        # Clients hold a lock, which cannot be copied: the copy builds its own.
        cls = type(self)
        fields = {name: copy.deepcopy(getattr(self, name), memo) for name in cls.model_fields}
        return cast("Self", cls.model_construct(_fields_set=set(self.model_fields_set), **fields))

    def __init__(self, **data: Any) -> None:
        # Every concrete subclass has model_kwargs (PortkeySettings, the embeddings).
        try:
            super().__init__(**route_unknown_keywords(type(self), data))
        except ValidationError as exc:
            # A validator's PortkeyConfigError is the error, not one of pydantic's.
            for error in exc.errors():
                cause = (error.get("ctx") or {}).get("error")
                if isinstance(cause, PortkeyConfigError):
                    raise cause from None
            raise

    # -- secrets: masked on every surface, sent as given ---------------------------------

    @field_serializer("config", "default_headers", when_used="always")
    def _masked(self, value: Any, info: Any) -> Any:
        # model_dump(_json), LlamaIndex's to_dict / to_json and its events' model_dict:
        # the secrets a config or a header carries show as '**********', as the keys do.
        return mask_headers(value) if info.field_name == "default_headers" else mask_config(value)

    def __repr_args__(self) -> Any:
        # repr / str (and LangChain's repr of an unserializable model).
        for name, value in super().__repr_args__():
            if name == "config":
                value = mask_config(value)
            elif name == "default_headers":
                value = mask_headers(value)
            yield name, value

    def __getstate__(self) -> dict[Any, Any]:
        # Clients and their lock stay behind: a pickled model (multiprocessing, Ray,
        # LangGraph checkpoints) builds its own on first use. BaseModel's own state:
        # LlamaIndex's BaseComponent would try to pickle the lock (and log that it can't).
        return {**BaseModel.__getstate__(self), "__pydantic_private__": None}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        BaseModel.__setstate__(self, state)
        self._init_private()

    def _init_private(self) -> None:
        # Every private attribute at its default (a subclass may declare more).
        private: dict[str, Any] = {}
        for name, attr in self.__private_attributes__.items():
            factory = cast("Callable[[], Any] | None", attr.default_factory)  # no argument
            private[name] = attr.default if factory is None else factory()
        object.__setattr__(self, "__pydantic_private__", private)

    def client_kwargs(self) -> ClientOptions:
        """The keyword arguments the clients are built with."""
        kwargs = {_CLIENT_ARGUMENT.get(name, name): getattr(self, name) for name in CLIENT_FIELDS}
        return cast("ClientOptions", kwargs)

    def _ensure_clients(self) -> tuple[PortkeyClient, AsyncPortkeyClient]:
        # The private dict, not ``self._clients``: an attribute read of a private goes
        # through pydantic's ``__getattr__`` fallback, about 1.5 us on every call.
        clients: tuple[PortkeyClient, AsyncPortkeyClient] | None
        clients = self.__pydantic_private__["_clients"]  # type: ignore[index]
        if clients is None:
            with self._clients_lock:
                clients = self._clients
                if clients is None:
                    kwargs = self.client_kwargs()
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

    def close(self) -> None:
        """Release the model's connections (the next call opens them again)."""
        clients, self._clients = self._clients, None
        if clients is not None:
            clients[0].close()

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        clients, self._clients = self._clients, None
        if clients is not None:
            clients[0].close()
            await clients[1].aclose()


class PortkeySettings(PortkeyClientSettings):
    """Options shared by every Portkey model class.

    Routing: ``prompt_id`` (``"pp-abc"``, ``"pp-abc@12"``, ``"pp-abc@production"``) with an
    optional ``prompt_version`` (a number or a label) runs that Portkey prompt; without
    it, models call the OpenAI-compatible chat or text route with ``model``.
    """

    prompt_id: str | None = None
    """Portkey prompt id, optionally with ``@version`` or ``@label``."""
    prompt_version: int | str | None = None
    """Version number or label appended to ``prompt_id`` (``12``, ``"latest"``, a label)."""
    model: str | None = None
    """Model name; on prompt routes it overrides the prompt's saved model when set."""

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

    # The generation fields that are set, by name: built at the first call, dropped when
    # one is assigned. model_kwargs is read on every call: a dict changed in place.
    _generation: dict[str, Any] | None = PrivateAttr(default=None)

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
    check_variables: Literal["warn", "error", "off"] | None = None
    """Compare each call with the prompt's saved template (fetched once per process
    through the prompt API) before sending.

    Content the framework hands the model must reach it: the user's text, the system
    message, earlier turns, an agent's tool calls and results, images and other parts,
    framework-added message lists, a chat engine's ``system_prompt``, an output parser's
    format instructions, a built-in template's own variables.

    - ``None`` (the default): such a piece with no slot in the template raises
      ``PromptMappingError`` naming it, the prompt and the slot to add; your own
      variables warn (``PromptVariablesWarning``) when the template never reads one or
      reads one the call does not send.
    - ``"warn"``: everything warns, nothing raises (a loss accepted knowingly).
    - ``"error"``: everything raises: a lost piece ``PromptMappingError``, a missing
      variable ``MissingVariableError``.
    - ``"off"``: no check, and no template fetch.

    When the template cannot be read (a key without ``prompts.read``), the text still
    goes to ``input_variable`` and every other piece fails the same way on every call.
    A variable the mapping rule judged is not warned about again by the variables
    check. :attr:`variables_check` is what the core's check runs with,
    :attr:`mapping_check` what the mapping rule runs with."""

    @property
    def variables_check(self) -> Literal["warn", "error", "off"]:
        """The core's variables check for this model's calls (the default warns)."""
        return self.check_variables or "warn"

    @property
    def mapping_check(self) -> Literal["warn", "error", "off"]:
        """How a framework piece with no slot in the template is met (the default raises)."""
        return self.check_variables or "error"

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

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        private = self.__pydantic_private__
        if name in GENERATION_FIELDS and private is not None:  # None: still validating
            private["_generation"] = None

    def default_params(self) -> dict[str, Any]:
        """The hyperparameters set on the model (``None`` fields left out)."""
        private = self.__pydantic_private__  # not self._generation: see _ensure_clients
        fields: dict[str, Any] | None = private["_generation"]  # type: ignore[index]
        if fields is None:
            fields = {name: getattr(self, name) for name in GENERATION_FIELDS}
            fields = {k: v for k, v in fields.items() if v is not None}
            private["_generation"] = fields  # type: ignore[index]
        return clean_stop({**fields, **self.model_kwargs})

    def merge_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The model's hyperparameters overridden by a call's."""
        merged = self.default_params()
        if params:
            merged.update(params)
            clean_stop(merged)
        return merged

    @model_validator(mode="after")
    def _one_version_given(self) -> "Self":
        # Raised as a PortkeyConfigError by PortkeyClientSettings.__init__ (pydantic
        # wraps it in a ValidationError).
        _one_version(self.prompt_id, self.prompt_version)
        return self

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


def _one_version(prompt_id: str | None, prompt_version: int | str | None) -> None:
    """A version given twice, as ``prompt_id``'s suffix and as ``prompt_version``, must
    agree: ``pp-x@2`` with ``prompt_version=1`` would run ``@2`` without a word."""
    if prompt_id is None or prompt_version is None or "@" not in prompt_id:
        return
    suffix = prompt_id.partition("@")[2]
    if suffix != str(prompt_version):
        raise PortkeyConfigError(
            f"prompt_id={prompt_id!r} names version {suffix!r} but prompt_version="
            f"{prompt_version!r}: give the version once, or the same in both"
        )


def clean_stop(params: dict[str, Any]) -> dict[str, Any]:
    """One stop string is a list of one; an empty one is no stop at all (as ChatOpenAI)."""
    if "stop" in params:
        stop = params["stop"]
        if not stop:
            del params["stop"]
        elif isinstance(stop, str):
            params["stop"] = [stop]
    return params
