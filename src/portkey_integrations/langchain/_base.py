"""What ``PortkeyChatModel`` and ``PortkeyPromptLLM`` share beyond the core settings:
streaming flags, LangChain serialization and identity, and request finishing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, Field

from .._client import DEFAULT_TIMEOUT
from .._settings import PortkeySettings

__all__ = ["LC_SECRETS", "PortkeyLangChainBase"]

LC_SECRETS = {
    "api_key": "PORTKEY_API_KEY",
    "virtual_key": "PORTKEY_VIRTUAL_KEY",
    "provider_api_key": "PORTKEY_PROVIDER_API_KEY",
}


class PortkeyLangChainBase(PortkeySettings):
    """Fields and LangChain plumbing common to both LangChain classes."""

    timeout: float | None = Field(default=DEFAULT_TIMEOUT, alias="request_timeout")
    """Read timeout in seconds; ``request_timeout`` is ChatOpenAI's name for it. (The
    gateway's own timeout is ``gateway_timeout_ms``.)"""
    streaming: bool = False
    """Stream every call, ``invoke`` included (callbacks get tokens as they arrive)."""
    stream_usage: bool = True
    """Ask for usage in streams (``stream_options: {"include_usage": true}``)."""

    # defer_build: the validator is built on first instantiation, not at import.
    model_config = ConfigDict(
        populate_by_name=True,
        protected_namespaces=(),
        arbitrary_types_allowed=True,
        defer_build=True,
    )

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return cls.__module__.split(".")

    @property
    def lc_secrets(self) -> dict[str, str]:
        return dict(LC_SECRETS)

    @property
    def lc_attributes(self) -> dict[str, Any]:
        # The mapper is no JSON value, yet it changes every request: naming it in the
        # serialized model keeps LLM caches (keyed on that) from mixing two mappers up.
        if self.variables_mapper is None:
            return {}
        return {"variables_mapper": callable_identity(self.variables_mapper)}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_id": self.full_prompt_id, **self.default_params()}

    def _with_stream_usage(
        self, request: dict[str, Any], stream_usage: bool | None
    ) -> dict[str, Any]:
        """Ask for the usage chunk unless the call or the model said otherwise."""
        if stream_usage is None:
            stream_usage = self.stream_usage
        if stream_usage and "stream_options" not in request:
            request["stream_options"] = {"include_usage": True}
        return request


def callable_identity(fn: Callable[..., Any]) -> str:
    """A stable name for a function: where it is defined and a digest of its code, so
    two lambdas of one module differ, and the same function matches across processes."""
    target = getattr(fn, "__func__", fn)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    code = getattr(target, "__code__", None)
    if code is None:
        return name
    digest = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16]
    return f"{name}:{digest}"
