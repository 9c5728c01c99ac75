"""Routing options: what goes into ``x-portkey-*`` headers, per client and per call.

:class:`RequestOptions` is the one declaration of the routing options. The clients take
its fields as keyword arguments, the model classes of both frameworks expose them as
fields (a test holds the names together), and a call may pass another instance whose set
fields win.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from pydantic import SecretStr

from ._errors import PortkeyConfigError
from ._request import bool_header, config_header, forward_headers_header, metadata_header
from ._secrets import MASK, is_secret_header, mask_config, mask_headers

__all__ = [
    "CONNECTION_OPTIONS",
    "MODEL_FIELD_ALIASES",
    "OPTION_ENV",
    "OPTION_NAMES",
    "ClientOptions",
    "RequestOptions",
    "options_from_env",
]

SECRET_OPTIONS = ("api_key", "virtual_key", "provider_api_key")


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


# RFC 9110 token: what HTTP allows in a header name.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters other than tab, which HTTP forbids in a header value.
_BAD_VALUE_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


# Printable ASCII and tab: a value the slow checks below would all let through.
_CLEAN_VALUE = re.compile(r"[\t\x20-\x7e]*")
_GOOD_NAMES: set[str] = set()
"""Header names found valid: a call's trace headers repeat the same few names."""


def _check_header_value(name: str, value: str) -> str:
    # A call's options are checked on every call (trace ids change each time): a known
    # name and a clean value cost one set lookup and one regex match.
    if (
        name in _GOOD_NAMES
        and type(value) is str
        and _CLEAN_VALUE.fullmatch(value)
        and MASK not in value
    ):
        return value
    _check_header_slowly(name, value)
    if len(_GOOD_NAMES) >= 1024:
        _GOOD_NAMES.clear()
    _GOOD_NAMES.add(name)
    return value


def _check_header_slowly(name: str, value: str) -> None:
    # A bad name or value would otherwise fail at send time as a UnicodeEncodeError, or
    # as a protocol error that looks like (and is retried as) a network failure.
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise PortkeyConfigError(
            f"header name {name!r} is not a valid HTTP header name (ASCII letters, digits "
            "and !#$%&'*+-.^_`|~ only; no spaces, colons or line breaks)"
        )
    if not isinstance(value, str):
        raise PortkeyConfigError(
            f"header {name!r} must have a string value, got {type(value).__name__}"
        )
    # A CR or LF in a value would let an option inject headers of its own.
    if "\r" in value or "\n" in value or "\x00" in value:
        raise PortkeyConfigError(f"option {name!r} must not contain line breaks")
    if _BAD_VALUE_CHAR.search(value):
        raise PortkeyConfigError(f"option {name!r} must not contain control characters")
    # httpx encodes header values as ASCII and would raise a bare UnicodeEncodeError.
    if not value.isascii():
        # The value is not shown: it may be a credential.
        bad = next(i for i, c in enumerate(value) if not c.isascii())
        raise PortkeyConfigError(
            f"option {name!r} must be ASCII (a non-ASCII character at position {bad})"
        )
    if MASK in value and (is_secret_header(name) or name == "x-portkey-config"):
        # A model rebuilt from a dump (model_dump, to_dict, dumps) holds masks, not keys.
        raise PortkeyConfigError(
            f"header {name!r} holds a masked secret ({MASK!r}): serialized models never "
            "keep their secrets, pass them again"
        )


@dataclasses.dataclass(frozen=True)
class RequestOptions:
    """Portkey routing options; every field is optional and ``None`` means "not set".

    A client holds one of these; a call may pass another whose set fields win.
    The key fields are :class:`pydantic.SecretStr`, and ``repr`` masks the secrets of
    ``config`` and ``extra_headers`` too (see :mod:`._secrets`).
    """

    api_key: SecretStr | None = None
    """Portkey API key (``x-portkey-api-key``)."""
    virtual_key: SecretStr | None = None
    """A Portkey virtual key (``x-portkey-virtual-key``)."""
    config: str | Mapping[str, Any] | None = None
    """A config id (``pc-...``) or an inline config dict (``x-portkey-config``)."""
    provider: str | None = None
    """Provider slug or ``@integration`` (``x-portkey-provider``)."""
    provider_api_key: SecretStr | None = None
    """The provider's key, sent as ``Authorization: Bearer ...`` with ``provider``."""
    custom_host: str | None = None
    """An OpenAI-compatible host for the provider (``x-portkey-custom-host``)."""
    trace_id: str | None = None
    """Portkey trace id (``x-portkey-trace-id``)."""
    metadata: Mapping[str, str] | None = None
    """Request metadata (``x-portkey-metadata``): string values of at most 128 chars."""
    cache_force_refresh: bool | None = None
    """Bypass and refresh Portkey's cache (``x-portkey-cache-force-refresh``)."""
    cache_namespace: str | None = None
    """Portkey cache namespace (``x-portkey-cache-namespace``)."""
    gateway_timeout_ms: int | None = None
    """Gateway-side timeout in milliseconds (``x-portkey-request-timeout``)."""
    forward_headers: str | Iterable[str] | None = None
    """Header names the gateway forwards to the provider (``x-portkey-forward-headers``)."""
    strict_open_ai_compliance: bool | None = None
    """``x-portkey-strict-open-ai-compliance``: ``False`` lets provider fields through."""
    extra_headers: Mapping[str, str] | None = None
    """Any other headers (``default_headers`` on clients and models)."""

    def __post_init__(self) -> None:
        # A plain string passed for a key (untyped code) is wrapped here, so it is masked
        # in every repr and sent like a SecretStr, instead of failing at send time.
        for name in SECRET_OPTIONS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, SecretStr):
                object.__setattr__(self, name, _secret(value))

    def __repr__(self) -> str:
        # Only the set fields: the others are None. Keys show as SecretStr('**********').
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        shown["config"] = mask_config(self.config)
        shown["extra_headers"] = mask_headers(self.extra_headers)
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items() if v is not None)
        return f"{type(self).__name__}({args})"

    @classmethod
    def make(cls, **fields: Any) -> RequestOptions:
        """Build options from keywords (plain-string keys are wrapped in ``SecretStr``).

        An unknown name raises :class:`PortkeyConfigError` naming it.
        """
        unknown = [name for name in fields if name not in OPTION_NAMES]
        if unknown:
            raise PortkeyConfigError(unknown_option_message(unknown[0], OPTION_NAMES))
        return cls(**fields)

    @classmethod
    def _traced(
        cls,
        trace_id: str | None,
        metadata: Mapping[str, str] | None,
        extra_headers: Mapping[str, str] | None,
    ) -> RequestOptions:
        """The options of one traced call (no secret among them), set without the
        dataclass ``__init__``: its fourteen frozen assignments and the secrets' check
        were most of the cost of every traced call's options. Values are checked when
        sent, as every option's are."""
        options = object.__new__(cls)
        options.__dict__.update(_NOTHING_SET)
        options.__dict__.update(trace_id=trace_id, metadata=metadata, extra_headers=extra_headers)
        return options

    def merged(self, other: RequestOptions | None) -> RequestOptions:
        """These options with every field that ``other`` sets taking precedence."""
        if other is None:
            return self
        changes = {
            f.name: getattr(other, f.name)
            for f in dataclasses.fields(other)
            if getattr(other, f.name) is not None
        }
        if self.extra_headers and other.extra_headers:
            changes["extra_headers"] = {**self.extra_headers, **other.extra_headers}
        return dataclasses.replace(self, **changes) if changes else self

    @property
    def routed(self) -> bool:
        """Whether these options say where a call goes: a provider, a config or a
        virtual key (else a prompt call runs on the prompt's saved routing)."""
        return bool(self.provider or self.config or self.virtual_key is not None)

    def headers(self) -> dict[str, str]:
        """The request headers these options stand for. Raises on invalid values."""
        h: dict[str, str] = {}
        if self.api_key is not None:
            h["x-portkey-api-key"] = self.api_key.get_secret_value()
        if self.virtual_key is not None:
            h["x-portkey-virtual-key"] = self.virtual_key.get_secret_value()
        if self.config is not None:
            h["x-portkey-config"] = config_header(self.config)
        if self.provider is not None:
            h["x-portkey-provider"] = self.provider
        if self.provider_api_key is not None:
            h["authorization"] = f"Bearer {self.provider_api_key.get_secret_value()}"
        if self.custom_host is not None:
            h["x-portkey-custom-host"] = self.custom_host
        if self.trace_id is not None:
            h["x-portkey-trace-id"] = self.trace_id
        if self.metadata is not None:
            h["x-portkey-metadata"] = metadata_header(self.metadata)
        if self.cache_force_refresh is not None:
            h["x-portkey-cache-force-refresh"] = bool_header(self.cache_force_refresh)
        if self.cache_namespace is not None:
            h["x-portkey-cache-namespace"] = self.cache_namespace
        if self.gateway_timeout_ms is not None:
            h["x-portkey-request-timeout"] = str(int(self.gateway_timeout_ms))
        if self.forward_headers is not None:
            h["x-portkey-forward-headers"] = forward_headers_header(self.forward_headers)
        if self.strict_open_ai_compliance is not None:
            h["x-portkey-strict-open-ai-compliance"] = bool_header(self.strict_open_ai_compliance)
        if self.extra_headers:
            h.update({k.lower(): v for k, v in self.extra_headers.items()})
        for name, value in h.items():
            _check_header_value(name, value)
        return h


OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RequestOptions))
"""Every routing option, in declaration order."""

_NOTHING_SET = dict.fromkeys(OPTION_NAMES)

MODEL_FIELD_ALIASES: dict[str, str] = {
    # LangChain's and LlamaIndex's models have a ``metadata`` of their own.
    "metadata": "portkey_metadata",
    "extra_headers": "default_headers",
}
"""Where a model class names an option differently (the framework owns the name)."""

OPTION_ENV: dict[str, str] = {
    "api_key": "PORTKEY_API_KEY",
    "virtual_key": "PORTKEY_VIRTUAL_KEY",
    "config": "PORTKEY_CONFIG",
    "provider": "PORTKEY_PROVIDER",
    "custom_host": "PORTKEY_CUSTOM_HOST",
    "provider_api_key": "PORTKEY_PROVIDER_API_KEY",
}
"""The environment variables options fall back to."""


def options_from_env() -> dict[str, Any]:
    """The routing options set in the environment (``PORTKEY_API_KEY`` and friends)."""
    return {name: os.environ[var] for name, var in OPTION_ENV.items() if os.environ.get(var)}


def unknown_option_message(name: str, known: Iterable[str]) -> str:
    """``unknown option 'x'`` with the closest known names, for a typo."""
    import difflib  # only a typo needs it: not part of the import

    close = difflib.get_close_matches(name, list(known), n=2)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown option {name!r}{hint}"


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of :class:`~portkey_integrations.PortkeyClient` and
    :class:`~portkey_integrations.AsyncPortkeyClient` (besides ``http_client``).

    The routing options are :class:`RequestOptions`' fields, here as the caller may pass
    them (secrets as plain strings too); the rest configure the connection. A test holds
    these keys, :class:`RequestOptions`' fields and the model classes' settings fields
    together.
    """

    api_key: str | SecretStr | None
    """Portkey API key (``x-portkey-api-key``); ``PORTKEY_API_KEY`` when not given."""
    virtual_key: str | SecretStr | None
    """A Portkey virtual key (``x-portkey-virtual-key``); ``PORTKEY_VIRTUAL_KEY``."""
    config: str | Mapping[str, Any] | None
    """A config id (``pc-...``) or an inline config dict; ``PORTKEY_CONFIG``."""
    provider: str | None
    """Provider slug or ``@integration`` (``x-portkey-provider``); ``PORTKEY_PROVIDER``."""
    provider_api_key: str | SecretStr | None
    """The provider's key, sent as ``Authorization: Bearer ...``; ``PORTKEY_PROVIDER_API_KEY``."""
    custom_host: str | None
    """An OpenAI-compatible host for the provider; ``PORTKEY_CUSTOM_HOST``."""
    trace_id: str | None
    """Portkey trace id (``x-portkey-trace-id``)."""
    metadata: Mapping[str, str] | None
    """Request metadata (``x-portkey-metadata``): string values of at most 128 chars."""
    cache_force_refresh: bool | None
    """Bypass and refresh Portkey's cache (``x-portkey-cache-force-refresh``)."""
    cache_namespace: str | None
    """Portkey cache namespace (``x-portkey-cache-namespace``)."""
    gateway_timeout_ms: int | None
    """Gateway-side timeout in milliseconds (``x-portkey-request-timeout``)."""
    forward_headers: str | Iterable[str] | None
    """Header names the gateway forwards to the provider (``x-portkey-forward-headers``)."""
    strict_open_ai_compliance: bool | None
    """``x-portkey-strict-open-ai-compliance``: ``False`` lets provider fields through."""
    extra_headers: Mapping[str, str] | None
    """Any other headers; ``default_headers`` is the same option under httpx's name."""
    default_headers: Mapping[str, str] | None
    """Any other headers sent with every request (wins over ``extra_headers``)."""
    base_url: str | None
    """Portkey base URL: ``PORTKEY_BASE_URL``, else ``https://api.portkey.ai/v1`` with a
    key; ``"local"`` is the embedded local server."""
    timeout: float | None
    """Read timeout in seconds (``None``: no timeout)."""
    connect_timeout: float | None
    """Connect timeout in seconds."""
    max_retries: int
    """Retries on connection errors, 408, 409, 429 and 5xx."""


CONNECTION_OPTIONS: tuple[str, ...] = ("base_url", "timeout", "connect_timeout", "max_retries")
"""The client options that configure the connection rather than the request headers."""
