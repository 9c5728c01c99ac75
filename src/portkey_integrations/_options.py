"""Routing options: what goes into ``x-portkey-*`` headers, per client and per call."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import SecretStr

from ._request import bool_header, config_header, forward_headers_header, metadata_header

__all__ = ["RequestOptions", "options_from_env"]


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


@dataclasses.dataclass(frozen=True)
class RequestOptions:
    """Portkey routing options; every field is optional and ``None`` means "not set".

    A client holds one of these; a call may pass another whose set fields win.
    Secrets are :class:`pydantic.SecretStr`, so ``repr`` never shows them.
    """

    api_key: SecretStr | None = None
    virtual_key: SecretStr | None = None
    config: str | Mapping[str, Any] | None = None
    provider: str | None = None
    provider_api_key: SecretStr | None = None
    custom_host: str | None = None
    trace_id: str | None = None
    metadata: Mapping[str, str] | None = None
    cache_force_refresh: bool | None = None
    cache_namespace: str | None = None
    request_timeout: int | None = None
    forward_headers: str | Iterable[str] | None = None
    strict_open_ai_compliance: bool | None = None
    extra_headers: Mapping[str, str] | None = None

    @classmethod
    def make(cls, **fields: Any) -> RequestOptions:
        """Build options, wrapping plain-string secrets in ``SecretStr``."""
        for name in ("api_key", "virtual_key", "provider_api_key"):
            if name in fields:
                fields[name] = _secret(fields[name])
        return cls(**fields)

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

    def headers(self) -> dict[str, str]:
        """The request headers these options stand for. Raises on invalid metadata."""
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
        if self.request_timeout is not None:
            h["x-portkey-request-timeout"] = str(int(self.request_timeout))
        if self.forward_headers is not None:
            h["x-portkey-forward-headers"] = forward_headers_header(self.forward_headers)
        if self.strict_open_ai_compliance is not None:
            h["x-portkey-strict-open-ai-compliance"] = bool_header(
                self.strict_open_ai_compliance
            )
        if self.extra_headers:
            h.update({k.lower(): v for k, v in self.extra_headers.items()})
        return h


_ENV = {
    "api_key": "PORTKEY_API_KEY",
    "virtual_key": "PORTKEY_VIRTUAL_KEY",
    "config": "PORTKEY_CONFIG",
    "provider": "PORTKEY_PROVIDER",
    "custom_host": "PORTKEY_CUSTOM_HOST",
    "provider_api_key": "PORTKEY_PROVIDER_API_KEY",
}


def options_from_env() -> dict[str, Any]:
    """The routing options set in the environment (``PORTKEY_API_KEY`` and friends)."""
    return {name: os.environ[var] for name, var in _ENV.items() if os.environ.get(var)}
